/**
 * What the front door knows of each model: where its requests go (Service host, versions or
 * subset, port), the families of public paths it answers and how each is rewritten for its
 * server, its traffic policy, its per-path overrides, and who may call it. Pure; the route table
 * (doorRoutes.ts), its checks (doorSpec.ts) and `mlmesh routes` all read these.
 */
import { BRIDGE_HOST, BRIDGE_SERVICE_PORT, bridgeSubset, invocationsPath, predictPath } from "../sagemaker/bridgeManifests";
import { endpointNameOf } from "../sagemaker/sagemakerSpec";
import { KSERVE_CANARY_NAME, KSERVE_PREDICTOR_PORT, kservePredictorHost, standardCanary } from "../serving/kserveModel";
import { DEFAULT_DEPLOYMENT_MODE, effectiveTraffic, type ModelSpec, type PathOverride, type RequiredClaims, type RetryPolicy } from "../serving/modelSpec";
import { kserveApis, tfServingApis, type Probe, type ServedApi } from "../serving/servedApis";
import { TF_SERVING_GRPC_PORT, TF_SERVING_REST_PORT } from "../serving/tfServingModel";
import type { FamilyMatch, RouteFamily, RouteOptions } from "../serving/trafficPolicy";

/** The protocol a family speaks, for deciding which families two models of a split share. */
export type DoorProtocol = ServedApi["name"] | "sagemaker";

/** One family of a model's public paths: how they are matched, rewritten and authorized. */
export interface DoorFamily extends RouteFamily {
    readonly protocol: DoorProtocol;
    /** AuthorizationPolicy path patterns of the public paths (before any rewrite). */
    readonly authzPaths: readonly string[];
    readonly methods: readonly string[];
    /** Requests a client makes at the door, for the route table and its tests. */
    readonly probes: readonly Probe[];
    /** The server-side prefix a public prefix match is rewritten to, for translating per-path overrides. */
    readonly serverPrefix?: string;
}

/** A served model as the front door routes it. */
export interface DoorTarget {
    readonly name: string;
    readonly namespace: string;
    readonly backend: ModelSpec["backend"];
    /** Host, versions (or the bridge subset), timeout and retries: the model's own routes. */
    readonly options: RouteOptions & { readonly timeout: string; readonly retries: Required<RetryPolicy> };
    readonly families: readonly DoorFamily[];
    readonly overrides: readonly PathOverride[];
    readonly principals: readonly string[];
    readonly claims: RequiredClaims;
    /** What a client calls the backend in messages and the route table, e.g. `TF Serving`. */
    readonly serverName: string;
}

/** Route names carry the namespace and model, so Envoy's stats and `mlmesh routes` name them. */
export function familyName(namespace: string, model: string, api: string): string {
    return `${namespace}.${model}.${api}`;
}

/** An Istio AuthorizationPolicy path pattern for a URI match: the exact path, or the prefix with `*`. */
function authzPattern(match: FamilyMatch): string {
    return "exact" in match.uri ? match.uri.exact : `${match.uri.prefix}*`;
}

function apiFamily(spec: ModelSpec, api: ServedApi, port: number): DoorFamily {
    const matches: FamilyMatch[] = api.gatewayMatches.map((uri) => ({ uri, ...(api.gatewayHeaders ? { headers: api.gatewayHeaders } : {}) }));
    return {
        name: familyName(spec.namespace, spec.name, api.name),
        protocol: api.name,
        matches,
        ...(api.gatewayRewrite ? { rewrite: api.gatewayRewrite, serverPrefix: api.gatewayRewrite } : {}),
        port,
        authzPaths: matches.map(authzPattern),
        methods: api.grpc ? ["POST"] : ["GET", "POST"],
        probes: api.probes,
    };
}

/** The one path a SageMaker model answers at the door, rewritten to its endpoint's invocations. */
function sageMakerFamily(spec: ModelSpec & { backend: "sagemaker" }, clusterName: string): DoorFamily {
    const path = predictPath(spec);
    const match: FamilyMatch = { uri: { exact: path }, method: "POST" };
    return {
        name: familyName(spec.namespace, spec.name, "sagemaker"),
        protocol: "sagemaker",
        matches: [match],
        rewrite: invocationsPath(endpointNameOf(spec, clusterName)),
        port: BRIDGE_SERVICE_PORT,
        authzPaths: [path],
        methods: ["POST"],
        probes: [{ method: "POST", path }],
    };
}

/**
 * A served model as the door routes it. KServe's Knative mode is not routed: the platform does
 * not install Knative Serving, so a Knative model never gets this far (the model checks refuse it).
 */
export function doorTarget(spec: ModelSpec, clusterName: string): DoorTarget {
    const traffic = effectiveTraffic(spec);
    const common = {
        name: spec.name,
        namespace: spec.namespace,
        backend: spec.backend,
        overrides: spec.paths ?? [],
        principals: spec.allowedPrincipals ?? [],
        claims: spec.requireClaims ?? {},
    };
    if (spec.backend === "tfserving") {
        return {
            ...common,
            serverName: "TF Serving",
            options: { name: spec.name, namespace: spec.namespace, host: `${spec.name}.${spec.namespace}.svc.cluster.local`, versions: spec.versions, ...traffic },
            families: tfServingApis(spec.name).map((api) => apiFamily(spec, api, api.grpc ? TF_SERVING_GRPC_PORT : TF_SERVING_REST_PORT)),
        };
    }
    if (spec.backend === "kserve") {
        if ((spec.deploymentMode ?? DEFAULT_DEPLOYMENT_MODE) !== "Standard") {
            throw new Error(`model ${spec.namespace}/${spec.name}: the front door routes KServe's Standard mode only; Knative Serving is not installed`);
        }
        const host = kservePredictorHost(spec.name, spec.namespace);
        const canary = standardCanary(spec);
        const versions = canary
            ? [{ name: "stable", weight: 100 - canary.percent, host }, { name: KSERVE_CANARY_NAME, weight: canary.percent, host: kservePredictorHost(spec.name, spec.namespace, KSERVE_CANARY_NAME) }]
            : [];
        return {
            ...common,
            serverName: `KServe (${spec.modelFormat})`,
            options: { name: spec.name, namespace: spec.namespace, host, versions, ...traffic },
            families: kserveApis(spec.modelFormat, spec.name).map((api) => apiFamily(spec, api, KSERVE_PREDICTOR_PORT)),
        };
    }
    return {
        ...common,
        serverName: "SageMaker",
        options: { name: spec.name, namespace: spec.namespace, host: BRIDGE_HOST, subset: bridgeSubset(spec), versions: [], ...traffic },
        families: [sageMakerFamily(spec, clusterName)],
    };
}

/** The family of `target` a per-path override falls under, the route matches it needs, and the rewrite that keeps the server's path. */
export interface ResolvedOverride {
    readonly family: DoorFamily;
    readonly matches: readonly FamilyMatch[];
    readonly rewrite?: string;
}

/**
 * Where an override's prefix lands, per family it reaches. The prefix may be written as the
 * server sees it (`/openai/v1/chat/completions`) or as a client sends it to the door
 * (`/openai/<model>/v1/chat/completions`). Either it lies under one of a family's prefix
 * matches (its route matches the prefix itself, rewritten to the server's form), or it covers
 * some of a family's matches (`/v1/models/resnet` covers `/v1/models/resnet:` and the rest),
 * which its routes then take whole. Empty when no route of the model can reach it.
 */
export function resolveOverride(target: DoorTarget, prefix: string): ResolvedOverride[] {
    const covered = (family: DoorFamily, path: string) => family.matches.filter((m) => ("prefix" in m.uri ? m.uri.prefix : m.uri.exact).startsWith(path));
    const server = target.families.find((f) => f.serverPrefix !== undefined && prefix.startsWith(f.serverPrefix) && covered(f, prefix).length === 0
        && !f.matches.some((m) => "prefix" in m.uri && prefix.startsWith(m.uri.prefix)));
    // A server path (`/openai/v1/...`) is the client's path under the family's public prefix.
    const publicPrefix = server ? server.matches.map((m) => ("prefix" in m.uri ? m.uri.prefix : "")).find((p) => p !== "")! + prefix.slice(server.serverPrefix!.length) : prefix;
    for (const family of target.families) {
        const under = family.matches.find((m) => "prefix" in m.uri && publicPrefix.startsWith(m.uri.prefix));
        if (under && "prefix" in under.uri) {
            const rewrite = family.serverPrefix !== undefined ? family.serverPrefix + publicPrefix.slice(under.uri.prefix.length) : undefined;
            return [{ family, matches: [{ ...under, uri: { prefix: publicPrefix } }], ...(rewrite ? { rewrite } : {}) }];
        }
    }
    return target.families.flatMap((family) => {
        const matches = covered(family, publicPrefix);
        return matches.length > 0 ? [{ family, matches, ...(family.rewrite ? { rewrite: family.rewrite } : {}) }] : [];
    });
}

/** The prefixes an override may lie under, for the message when it lies under none. */
export function overridablePrefixes(target: DoorTarget): string[] {
    return target.families.flatMap((family) => family.matches.map((m) => ("prefix" in m.uri ? m.uri.prefix : m.uri.exact)));
}
