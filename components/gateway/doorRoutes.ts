/**
 * The front door's route table: every model's public paths, per-path overrides first, and the
 * splits between models of different backends. Pure; InferenceGateway renders it, the route
 * simulator and `mlmesh routes` evaluate the rendered objects.
 *
 * A split cannot rewrite per weighted destination: Istio rewrites per route, Envoy's weighted
 * clusters change headers and host but not the path, and Istio 1.30 refuses Gateway API
 * backend-level URLRewrite (../shared/facts/SPLIT.md; istio/api
 * networking/v1alpha3/virtual_service.proto@1.30.3 `HTTPRouteDestination.headers`). So a split
 * takes two hops, both on the ingress gateway's pods:
 * 1. the public route (or an in-mesh caller's sidecar) picks a leg by weight and marks it with a
 *    per-destination header, sending the request to the gateway's internal listener;
 * 2. that listener's routes match the mark and rewrite the path to the one the leg's backend
 *    answers (`/endpoints/<endpoint>/invocations`, `/v1/models/<member>:predict`), to the leg's
 *    own versions, weights and timeout.
 * KServe's Knative mode hairpins the same way (ingress gateway → knative-local-gateway).
 */
import { ISTIO_INGRESS_NAMESPACE } from "../mesh/istioCharts";
import { DEFAULT_RETRIES, DEFAULT_TIMEOUT, parseDuration, type ModelEntry, type ModelSpec, type RequiredClaims, type RetryPolicy, type SplitModelSpec } from "../serving/modelSpec";
import type { Probe } from "../serving/servedApis";
import { familyRoutes, retryPolicy, VERSION_HEADER, type FamilyMatch, type RouteOptions } from "../serving/trafficPolicy";
import { doorTarget, familyName, resolveOverride, type DoorProtocol, type DoorTarget } from "./doorTargets";

/** The internal listener on the gateway pods that the second hop of a split enters. */
export const SPLIT_LISTENER = {
    /** Gateway, Service and DestinationRule name, in the gateway's namespace. */
    name: "mlmesh-split",
    /** A port of its own: sharing 443 with another target port is special-cased for Knative only (istio/istio:pilot/pkg/model/gateway.go@1.30.3). */
    port: 9443,
    /** Only the door's routes use it; clients cannot resolve it. */
    host: "split.mlmesh.internal",
    serviceHost: `mlmesh-split.${ISTIO_INGRESS_NAMESPACE}.svc.cluster.local`,
} as const;

/** The per-destination header that marks a split's leg for the second hop. */
export const LEG_HEADER = "x-mlmesh-leg";

/** The one host in-mesh callers address every model by: `http://inference.istio-ingress/v1/models/<name>:predict`. */
export const INFERENCE_SERVICE = { name: "inference", port: 80, host: `inference.${ISTIO_INGRESS_NAMESPACE}.svc.cluster.local` } as const;

/** The protocols a split can carry: v1 and v2 REST, or only `:predict` when a leg is SageMaker. */
export type SplitProtocol = "v1" | "v2" | "predict";

/** One public match of a split, and the path each leg's server answers it on. */
export interface SplitMatch {
    readonly match: FamilyMatch;
    /** The leg's path for a request this match takes: exact paths replace the whole path, prefixes the prefix. */
    readonly legPath: (leg: DoorTarget) => string;
}

export interface SplitFamily {
    readonly protocol: SplitProtocol;
    readonly name: string;
    readonly matches: readonly SplitMatch[];
    readonly authzPaths: readonly string[];
    readonly methods: readonly string[];
    readonly probes: readonly Probe[];
}

export interface DoorSplit {
    readonly name: string;
    readonly namespace: string;
    readonly legs: readonly { readonly target: DoorTarget; readonly weight: number }[];
    readonly families: readonly SplitFamily[];
    readonly timeout: string;
    readonly retries: Required<RetryPolicy>;
    readonly principals: readonly string[];
    readonly claims: RequiredClaims;
}

export interface DoorTable {
    readonly targets: readonly DoorTarget[];
    readonly splits: readonly DoorSplit[];
}

/** The split protocols a model speaks: TF Serving REST and KServe v1 are one protocol; gRPC and OpenAI name the model in the body, so they cannot be split by path. */
export function splitProtocols(target: DoorTarget): SplitProtocol[] {
    const map: Partial<Record<DoorProtocol, SplitProtocol>> = { "tfserving-rest": "v1", v1: "v1", v2: "v2", sagemaker: "predict" };
    return [...new Set(target.families.flatMap((f) => (map[f.protocol] ? [map[f.protocol]!] : [])))];
}

/** The protocols every leg speaks; a SageMaker leg narrows the split to `:predict`, which every v1 server answers. */
export function sharedProtocols(legs: readonly DoorTarget[]): SplitProtocol[] {
    const sets = legs.map(splitProtocols);
    if (sets.some((set) => set.includes("predict"))) {
        return sets.every((set) => set.includes("predict") || set.includes("v1")) ? ["predict"] : [];
    }
    return (["v1", "v2"] as const).filter((protocol) => sets.every((set) => set.includes(protocol)));
}

function legBase(leg: DoorTarget, version: "v1" | "v2"): string {
    return `/${version}/models/${leg.name}`;
}

function splitFamily(split: Pick<SplitModelSpec, "name" | "namespace">, protocol: SplitProtocol): SplitFamily {
    const name = familyName(split.namespace, split.name, protocol);
    if (protocol === "predict") {
        const path = `/v1/models/${split.name}:predict`;
        // A SageMaker leg's family is its one exact path, rewritten whole to its invocations.
        const legPath = (leg: DoorTarget) => (leg.backend === "sagemaker" ? leg.families[0].rewrite! : `${legBase(leg, "v1")}:predict`);
        return { protocol, name, matches: [{ match: { uri: { exact: path }, method: "POST" }, legPath }], authzPaths: [path], methods: ["POST"], probes: [{ method: "POST", path }] };
    }
    const base = `/${protocol}/models/${split.name}`;
    const separators = protocol === "v1" ? ["/", ":"] : ["/"];
    const matches: SplitMatch[] = [
        { match: { uri: { exact: base } }, legPath: (leg) => legBase(leg, protocol) },
        ...separators.map((sep): SplitMatch => ({ match: { uri: { prefix: `${base}${sep}` } }, legPath: (leg) => `${legBase(leg, protocol)}${sep}` })),
    ];
    const probes: Probe[] = protocol === "v1"
        ? [{ method: "GET", path: base }, { method: "POST", path: `${base}:predict` }]
        : [{ method: "GET", path: base }, { method: "POST", path: `${base}/infer` }];
    return { protocol, name, matches, authzPaths: [base, ...separators.map((sep) => `${base}${sep}*`)], methods: ["GET", "POST"], probes };
}

/**
 * A split's first-hop timeout and retries: its own, else what its legs allow together: the
 * longest leg timeout; the fewest attempts, on the conditions every retried leg allows (none in
 * common: no retries), so a leg that must not be retried, such as an LLM's, is not retried
 * through the split either; and the longest per-try timeout, so no try cuts the slowest leg short.
 */
export function splitTraffic(split: Pick<SplitModelSpec, "timeout" | "retries">, legs: readonly DoorTarget[]): { timeout: string; retries: Required<RetryPolicy> } {
    const longest = (durations: string[]) => [...durations].sort((a, b) => durationMs(b) - durationMs(a))[0];
    const conditions = (retryOn: string) => retryOn.split(",").map((c) => c.trim()).filter((c) => c !== "");
    const retried = legs.filter((leg) => leg.options.retries.attempts > 0).map((leg) => conditions(leg.options.retries.retryOn));
    const shared = retried.length === 0 ? [] : retried[0].filter((c) => retried.every((set) => set.includes(c)));
    const attempts = legs.length === 0 ? DEFAULT_RETRIES.attempts : Math.min(...legs.map((leg) => leg.options.retries.attempts));
    return {
        timeout: split.timeout ?? longest(legs.map((leg) => leg.options.timeout)) ?? DEFAULT_TIMEOUT,
        retries: {
            attempts: shared.length === 0 ? 0 : attempts,
            perTryTimeout: longest(legs.map((leg) => leg.options.retries.perTryTimeout)) ?? DEFAULT_RETRIES.perTryTimeout,
            retryOn: shared.join(",") || DEFAULT_RETRIES.retryOn,
            ...split.retries,
        },
    };
}

function durationMs(text: string): number {
    const parsed = parseDuration(text);
    return typeof parsed === "number" ? parsed : 0;
}

/** A split as the door routes it. Assumes validated entries (members exist and share a protocol). */
export function doorSplit(split: SplitModelSpec, targets: readonly DoorTarget[]): DoorSplit {
    const legs = split.routes.map((route) => ({ target: targets.find((t) => t.name === route.model)!, weight: route.weight }));
    const traffic = splitTraffic(split, legs.map((leg) => leg.target));
    return {
        name: split.name,
        namespace: split.namespace,
        legs,
        families: sharedProtocols(legs.map((leg) => leg.target)).map((protocol) => splitFamily(split, protocol)),
        ...traffic,
        principals: split.allowedPrincipals ?? [],
        claims: split.requireClaims ?? {},
    };
}

/** The whole table of a platform's models. */
export function doorTable(entries: readonly ModelEntry[], clusterName: string): DoorTable {
    const targets = entries.filter((e): e is ModelSpec => e.backend !== "split").map((spec) => doorTarget(spec, clusterName));
    const splits = entries.filter((e): e is SplitModelSpec => e.backend === "split").map((split) => doorSplit(split, targets));
    return { targets, splits };
}

/** A model's routes: its per-path overrides (longest prefix first, as first match wins), then each family's. */
function targetRoutes(target: DoorTarget): Record<string, unknown>[] {
    const overrides = target.overrides
        .map((override, i) => ({ override, i }))
        .sort((a, b) => b.override.prefix.length - a.override.prefix.length)
        .flatMap(({ override, i }) => resolveOverride(target, override.prefix).flatMap((resolved) => familyRoutes(
            { ...target.options, timeout: override.timeout ?? target.options.timeout, retries: { ...target.options.retries, ...override.retries } },
            { ...resolved.family, name: `${resolved.family.name}.paths${i}`, matches: resolved.matches, rewrite: resolved.rewrite },
        )));
    return [...overrides, ...target.families.flatMap((family) => familyRoutes(target.options, family))];
}

/**
 * The first hop of a split: a pin per leg (`x-model-version: <leg>`), then the weighted route,
 * each leg marked for the second hop. An `Authorization` header goes no further: the gateway has
 * already judged a public caller's token, and an in-mesh caller is judged by its identity (the
 * listener's token check would refuse another issuer's token with 401).
 */
function splitRoutes(split: DoorSplit): Record<string, unknown>[] {
    const policy = {
        rewrite: { authority: SPLIT_LISTENER.host },
        headers: { request: { remove: ["authorization"] } },
        timeout: split.timeout,
        retries: retryPolicy(split.retries),
    };
    const toLeg = (leg: DoorTarget) => ({
        destination: { host: SPLIT_LISTENER.serviceHost, port: { number: SPLIT_LISTENER.port } },
        headers: { request: { set: { [LEG_HEADER]: leg.name } } },
    });
    return split.families.flatMap((family) => {
        const matches = family.matches.map((m) => routeMatch(m.match));
        return [
            ...split.legs.map((leg) => ({
                name: `${family.name}-pin-${leg.target.name}`,
                match: matches.map((m) => ({ ...m, headers: { [VERSION_HEADER]: { exact: leg.target.name } } })),
                route: [toLeg(leg.target)],
                ...policy,
            })),
            { name: `${family.name}-weighted`, match: matches, route: split.legs.map((leg) => ({ ...toLeg(leg.target), weight: leg.weight })), ...policy },
        ];
    });
}

function routeMatch(match: FamilyMatch): Record<string, unknown> {
    return { uri: match.uri, ...(match.method ? { method: { exact: match.method } } : {}) };
}

/** Every public route, for the ingress Gateway's hosts and for the in-mesh inference host alike. */
export function doorHttpRoutes(table: DoorTable): Record<string, unknown>[] {
    return [...table.targets.flatMap(targetRoutes), ...table.splits.flatMap(splitRoutes)];
}

/**
 * The second hop's routes: per split, leg and public match, the leg's own routes (its version
 * pins and weights, its timeout) for requests carrying the leg's mark, rewritten to the path the
 * leg's server answers. Retries stay with the first hop (Envoy picks the weighted leg once per
 * request, so they retry the same leg) and are not repeated here.
 */
export function splitLegRoutes(table: DoorTable): Record<string, unknown>[] {
    return table.splits.flatMap((split) => split.families.flatMap((family) => split.legs.flatMap(({ target }) => {
        const port = legPort(target, family.protocol);
        const options: RouteOptions = { ...target.options, retries: { attempts: 0 } };
        return family.matches.flatMap((m, i) => familyRoutes(options, {
            name: `${family.name}.${target.name}${family.matches.length > 1 ? `.${i}` : ""}`,
            matches: [{ ...m.match, headers: { [LEG_HEADER]: target.name } }],
            rewrite: m.legPath(target),
            port,
        }));
    })));
}

/** The Service port a leg answers the split's protocol on. */
function legPort(target: DoorTarget, protocol: SplitProtocol): number {
    const family = target.families.find((f) => (protocol === "predict" ? ["sagemaker", "tfserving-rest", "v1"] : protocol === "v1" ? ["tfserving-rest", "v1"] : ["v2"]).includes(f.protocol));
    return family!.port;
}
