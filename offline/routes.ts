/**
 * Where an HTTP request goes through rendered Istio objects, and whether it is authorized there,
 * as Istio 1.30 and Envoy decide it: Gateway server, VirtualService binding and route,
 * DestinationRule subsets, and the AuthorizationPolicies of the ingress gateway and of every pod
 * reached. Pure. It never approximates: a kind, field or case it does not model throws an Error
 * naming the object and the field. Choices the Istio reference leaves open:
 * - A destination that cannot be reached (no DestinationRule subset, no Backend, no pods) is
 *   reported with `authorized: false` and the reason, not as a no-route, so a canary's broken
 *   subset shows next to the healthy one. Weights are percent of the route's total; 0 stays 0.
 * - Ingress gateway pods run in their Gateway's namespace and are known by its selector labels; a
 *   policy selecting them by another label throws. Their clients are plaintext (no principal).
 * - A request the ingress gateway denies is still routed, every destination unauthorized with a
 *   reason starting `403`; with no route, it is a no-route with that reason.
 * - Policy `ports` compare the service port, taken to equal the pod's target port.
 * @see https://istio.io/latest/docs/ops/best-practices/traffic-management/#cross-namespace-configuration
 */
import { ISTIO_ROOT_NAMESPACE } from "../components/mesh/istioCharts";
import { decide, policiesFor, type AuthzAttributes, type Decision, type Workload } from "./routeAuthz";
import {
    compareHostSpecificity, gatewayReference, gatewayVirtualHosts, hostMatches, httpMatch, MATCH_FIELDS, meshHost, normalizePath, pathOnly,
    resolveShortName, rewritePath, withoutPort, type HttpRequestView, type MatchResult,
} from "./routeMatch";
import { assertOutboundOnly, SERVICE_ENTRY_KIND, SIDECAR_KIND } from "./egressCheck";
import { fields, groupKind, idOf, list, namespaceOf, notModelled, ofKind, ownerOf, record, strings, type IstioObject } from "./routeObjects";
export type { IstioObject };

/** A Kubernetes Service host and the pods behind it (one entry per distinct pod label set). */
export interface Backend {
    /** FQDN, e.g. `resnet.ml-serving.svc.cluster.local`. */
    readonly host: string;
    readonly namespace: string;
    readonly pods: readonly { readonly labels: Readonly<Record<string, string>> }[];
    /**
     * The Service's ports. A route that names no port reaches a one-port Service on that port,
     * and a several-port Service on the listener's port (the Gateway server's, e.g. 443), which
     * usually does not exist (istio/istio:pilot/pkg/networking/core/route/route.go@1.30.3; IST0112).
     */
    readonly ports?: readonly number[];
}

export interface RouteRequest {
    /** `gateway`: enters through an ingress Gateway; `mesh`: sent by a sidecar. */
    readonly via: "gateway" | "mesh";
    /** Host/:authority: the public host through a gateway; a service host (FQDN or short name) in the mesh. */
    readonly host: string;
    /** May include a query string, which matching ignores. */
    readonly path: string;
    readonly method: string;
    readonly headers?: Readonly<Record<string, string>>;
    /** The Gateway port, or the service port in the mesh. @default 443 through a gateway */
    readonly port?: number;
    /** SPIFFE principal without `spiffe://`; through a gateway, the gateway's own (the hop that reaches the model). */
    readonly sourcePrincipal: string;
}

export interface RoutedDestination {
    host: string;
    subset?: string;
    port?: number;
    /** Percent of the route's traffic. */
    weight: number;
    /** Label sets of the pods reached. */
    pods: Record<string, string>[];
    /** After rewrite, with the query string. */
    path: string;
    authorized: boolean;
    /** The policy and rule that allowed, or why the request is denied or cannot arrive. */
    reason: string;
}

export type RouteOutcome =
    | {
        kind: "routed";
        /** `<namespace>/<name>`; undefined for default Kubernetes routing. */
        virtualService?: string;
        /** The http route's name. */
        route?: string;
        timeout?: string;
        retries?: unknown;
        destinations: RoutedDestination[];
        /** Configuration Istio ignores for this request, such as a second VirtualService for a mesh host. */
        notes?: string[];
    }
    | { kind: "no-route"; reason: string };

export const DEFAULT_GATEWAY_PORT = 443;

/** Kinds read here, or that never change a route or a decision. Other kinds of these API groups throw. */
const KNOWN_KINDS = new Set([
    "networking.istio.io/Gateway", "networking.istio.io/VirtualService", "networking.istio.io/DestinationRule",
    "security.istio.io/AuthorizationPolicy", "security.istio.io/PeerAuthentication", "telemetry.istio.io/Telemetry", "networking.istio.io/ProxyConfig", SERVICE_ENTRY_KIND, SIDECAR_KIND,
]);
const ROUTING_GROUPS = /(^|\.)istio\.io$|^gateway\.networking\.k8s\.io$|^inference\.networking\.(x-)?k8s\.io$/;

const noRoute = (reason: string): RouteOutcome => ({ kind: "no-route", reason });

interface Context {
    readonly objects: readonly IstioObject[];
    readonly backends: readonly Backend[];
    readonly request: RouteRequest;
    readonly view: HttpRequestView;
    /** The client proxy's namespace (exportTo, DestinationRule lookup). */
    readonly clientNamespace: string;
    readonly gatewayDenial?: string;
}

interface VirtualService {
    readonly object: IstioObject;
    readonly id: string;
    readonly owner: string;
    readonly namespace: string;
    readonly hosts: readonly string[];
    /** Resolved `<namespace>/<name>` references, or `mesh`. */
    readonly gateways: readonly string[];
}

function exportedTo(o: IstioObject, namespace: string): boolean {
    const exportTo = strings(o.spec?.exportTo, ownerOf(o), "spec.exportTo");
    return exportTo.length === 0 || exportTo.some((e) => e === "*" || e === namespace || (e === "." && namespaceOf(o) === namespace));
}

function virtualServices(objects: readonly IstioObject[]): VirtualService[] {
    return ofKind(objects, "networking.istio.io/VirtualService").map((object) => {
        const owner = ownerOf(object);
        const namespace = namespaceOf(object);
        const gateways = strings(object.spec?.gateways, owner, "spec.gateways");
        return {
            object, owner, namespace, id: idOf(object),
            hosts: strings(object.spec?.hosts, owner, "spec.hosts").map((h) => resolveShortName(h, namespace)),
            gateways: gateways.length === 0 ? ["mesh"] : gateways.map((g, i) => gatewayReference(g, namespace, owner, `spec.gateways[${i}]`)),
        };
    });
}

/** The whole VirtualService's shape, so an unmodelled field fails even in a route this request does not take. */
function checkVirtualService(vs: VirtualService): void {
    const spec = fields(vs.object.spec, ["hosts", "gateways", "http", "exportTo"], vs.owner, "spec");
    list(spec.http, vs.owner, "spec.http").forEach((entry, i) => {
        const at = `spec.http[${i}]`;
        const route = fields(entry, ["name", "match", "route", "redirect", "directResponse", "rewrite", "timeout", "retries", "headers", "corsPolicy"], vs.owner, at);
        list(route.match, vs.owner, `${at}.match`).forEach((m, j) => fields(m, MATCH_FIELDS, vs.owner, `${at}.match[${j}]`));
        fields(route.rewrite ?? {}, ["uri", "authority"], vs.owner, `${at}.rewrite`);
        const destinations = list(route.route, vs.owner, `${at}.route`);
        destinations.forEach((d, j) => {
            const destination = fields(fields(d, ["destination", "weight", "headers"], vs.owner, `${at}.route[${j}]`).destination, ["host", "subset", "port"], vs.owner, `${at}.route[${j}].destination`);
            fields(destination.port ?? {}, ["number"], vs.owner, `${at}.route[${j}].destination.port`);
        });
        if (destinations.length === 0 && route.redirect === undefined && route.directResponse === undefined) {
            throw notModelled(vs.owner, at, "has no route, redirect or directResponse");
        }
    });
}

function checkTls(policy: unknown, owner: string, field: string): void {
    const spec = record(policy, owner, field);
    const levels = [spec, ...list(spec.portLevelSettings, owner, `${field}.portLevelSettings`)] as { tls?: { mode?: string } }[];
    levels.forEach((level, i) => {
        if (level.tls !== undefined && level.tls.mode !== "ISTIO_MUTUAL") {
            const at = i === 0 ? field : `${field}.portLevelSettings[${i - 1}]`;
            throw notModelled(owner, `${at}.tls.mode`, `${String(level.tls.mode)} replaces Istio mutual TLS, which is not modelled`);
        }
    });
}

/** Istio looks in the client's namespace, then the service's, then the root namespace; the most specific host wins and equal hosts merge. */
function destinationRule(ctx: Context, host: string, serviceNamespace: string): { ids: string[]; subsets: Map<string, Record<string, string>> } | undefined {
    const rules = ofKind(ctx.objects, "networking.istio.io/DestinationRule");
    for (const namespace of [...new Set([ctx.clientNamespace, serviceNamespace, ISTIO_ROOT_NAMESPACE])]) {
        const candidates = rules
            .filter((o) => namespaceOf(o) === namespace && (namespace === ctx.clientNamespace || exportedTo(o, ctx.clientNamespace)))
            .map((o) => ({ o, pattern: resolveShortName(String(o.spec?.host), namespace) }))
            .filter((c) => hostMatches(c.pattern, host));
        if (candidates.length === 0) {
            continue;
        }
        const best = candidates.map((c) => c.pattern).sort(compareHostSpecificity)[0];
        const chosen = candidates.filter((c) => c.pattern === best).map((c) => c.o);
        const subsets = new Map<string, Record<string, string>>();
        for (const o of chosen) {
            const owner = ownerOf(o);
            const spec = fields(o.spec, ["host", "subsets", "trafficPolicy", "exportTo"], owner, "spec");
            checkTls(spec.trafficPolicy, owner, "spec.trafficPolicy");
            list(spec.subsets, owner, "spec.subsets").forEach((s, i) => {
                const subset = fields(s, ["name", "labels", "trafficPolicy"], owner, `spec.subsets[${i}]`);
                checkTls(subset.trafficPolicy, owner, `spec.subsets[${i}].trafficPolicy`);
                if (!subsets.has(String(subset.name))) {
                    subsets.set(String(subset.name), record(subset.labels, owner, `spec.subsets[${i}].labels`) as Record<string, string>);
                }
            });
        }
        return { ids: chosen.map(idOf), subsets };
    }
    return undefined;
}

const formatLabels = (labels: Readonly<Record<string, string>>): string => `{${Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(", ")}}`;

/** The pods a destination reaches and the decision of each pod label set's policies. */
function reach(ctx: Context, target: { host: string; subset?: string; port?: number; weight: number; path: string; authority: string }): RoutedDestination {
    const { host, subset, port, weight, path } = target;
    const base = { host, ...(subset !== undefined ? { subset } : {}), ...(port !== undefined ? { port } : {}), weight, pods: [] as Record<string, string>[], path };
    const unreachable = (reason: string): RoutedDestination => ({ ...base, authorized: false, reason });
    const backend = ctx.backends.find((b) => b.host.toLowerCase() === host);
    const rule = destinationRule(ctx, host, backend?.namespace ?? host.split(".")[1] ?? ctx.clientNamespace);
    const selector = subset === undefined ? {} : rule?.subsets.get(subset);
    if (selector === undefined) {
        return unreachable(`no subset ${subset} in ${rule ? `DestinationRule ${rule.ids.join(", ")}` : "any DestinationRule"} for host ${host}`);
    }
    if (backend === undefined) {
        return unreachable(`no Backend for host ${host}`);
    }
    if (backend.ports !== undefined && backend.ports.length > 1 && (port === undefined || !backend.ports.includes(port))) {
        return unreachable(`no port ${port} on ${host} (ports ${backend.ports.join(", ")}); the route must name the destination port`);
    }
    const pods = backend.pods.filter((p) => Object.entries(selector).every(([k, v]) => p.labels[k] === v)).map((p) => ({ ...p.labels }));
    if (pods.length === 0) {
        return unreachable(subset !== undefined ? `no pods of ${host} match subset ${subset} ${formatLabels(selector)}` : `no pods behind ${host}`);
    }
    const reached = { ...base, pods };
    if (ctx.gatewayDenial !== undefined) {
        return { ...reached, authorized: false, reason: ctx.gatewayDenial };
    }
    const attributes: AuthzAttributes = { principal: ctx.request.sourcePrincipal, path: pathOnly(path), method: ctx.request.method, authority: target.authority, port };
    const distinct = [...new Map(pods.map((labels) => [JSON.stringify(Object.entries(labels).sort()), labels])).values()];
    const decisions = distinct.map((labels) => ({
        labels,
        decision: decide(policiesFor(ctx.objects, { namespace: backend.namespace, labels, labelsComplete: true, description: `pods ${formatLabels(labels)}` }), attributes),
    }));
    const prefix = (labels: Readonly<Record<string, string>>): string => (decisions.length > 1 ? `pods ${formatLabels(labels)}: ` : "");
    const denied = decisions.find((d) => !d.decision.allowed);
    if (denied) {
        return { ...reached, authorized: false, reason: prefix(denied.labels) + denied.decision.reason };
    }
    return { ...reached, authorized: true, reason: [...new Set(decisions.map((d) => d.decision.reason))].join("; ") };
}

function followRoute(ctx: Context, route: { vs: VirtualService; index: number; spec: Record<string, unknown> }, matched: MatchResult, notes: readonly string[]): RouteOutcome {
    const { vs, spec } = route;
    const at = `spec.http[${route.index}]`;
    if (spec.redirect !== undefined || spec.directResponse !== undefined) {
        const answer = spec.redirect !== undefined ? "a redirect" : "a direct response";
        return noRoute(ctx.gatewayDenial ?? `${vs.id} ${typeof spec.name === "string" ? `route ${spec.name}` : at} answers with ${answer}`);
    }
    if (spec.corsPolicy !== undefined && ctx.request.method.toUpperCase() === "OPTIONS") {
        throw notModelled(vs.owner, `${at}.corsPolicy`, "answers CORS preflight requests, which is not modelled");
    }
    const rewrite = record(spec.rewrite, vs.owner, `${at}.rewrite`);
    const path = rewrite.uri !== undefined ? rewritePath(ctx.view.path, String(rewrite.uri), matched) : ctx.view.path;
    const authority = rewrite.authority !== undefined ? String(rewrite.authority) : ctx.request.host;
    const entries = list(spec.route, vs.owner, `${at}.route`) as { destination: { host: string; subset?: string; port?: { number?: number } }; weight?: number }[];
    const total = entries.reduce((sum, e) => sum + (e.weight ?? 0), 0);
    if (entries.length > 1 && total <= 0) {
        throw notModelled(vs.owner, `${at}.route`, "has weights that sum to 0");
    }
    const destinations = entries.map((entry) => reach(ctx, {
        host: resolveShortName(entry.destination.host, vs.namespace),
        subset: entry.destination.subset,
        port: entry.destination.port?.number ?? ctx.view.port,
        weight: entries.length === 1 ? 100 : ((entry.weight ?? 0) * 100) / total,
        path,
        authority,
    }));
    return {
        kind: "routed",
        virtualService: vs.id,
        ...(typeof spec.name === "string" ? { route: spec.name } : {}),
        ...(spec.timeout !== undefined ? { timeout: String(spec.timeout) } : {}),
        ...(spec.retries !== undefined ? { retries: spec.retries } : {}),
        destinations,
        ...(notes.length > 0 ? { notes: [...notes] } : {}),
    };
}

/** The first http route, in the VirtualServices' order, with a matching `match` entry (or none). */
function routeThrough(ctx: Context, services: readonly VirtualService[], notes: readonly string[]): RouteOutcome {
    services.forEach(checkVirtualService);
    const routes = services.flatMap((vs) => list(vs.object.spec.http, vs.owner, "spec.http").map((spec, index) => ({ vs, index, spec: spec as Record<string, unknown> })));
    for (const route of routes) {
        const matches = list(route.spec.match, route.vs.owner, `spec.http[${route.index}].match`);
        const matched = matches.length === 0
            ? { uriPrefix: "/" }
            : matches.map((m, j) => httpMatch(m, ctx.view, route.vs.owner, `spec.http[${route.index}].match[${j}]`)).find((r) => r !== undefined);
        if (matched !== undefined) {
            return followRoute(ctx, route, matched, notes);
        }
    }
    const names = services.map((vs) => vs.id).join(", ");
    return noRoute(ctx.gatewayDenial ?? `404 NR: no http route of ${names} matches ${ctx.request.method} ${ctx.view.path}`);
}

function requestView(request: RouteRequest, gateway: string, port: number | undefined): HttpRequestView {
    const { path, query } = normalizePath(request.path);
    const headers = new Map(Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    return { path: path + query, method: request.method, headers, port, gateway };
}

/** Every Gateway server; a host's `namespace` is `*` or the one namespace whose VirtualServices may bind it. */
function gatewayServers(objects: readonly IstioObject[]) {
    return ofKind(objects, "networking.istio.io/Gateway").flatMap((gateway) => {
        const owner = ownerOf(gateway);
        const spec = fields(gateway.spec, ["selector", "servers"], owner, "spec");
        return list(spec.servers, owner, "spec.servers").map((entry, i) => {
            const field = `spec.servers[${i}]`;
            const server = fields(entry, ["port", "hosts", "tls", "name"], owner, field);
            const port = fields(server.port, ["number", "name", "protocol", "targetPort"], owner, `${field}.port`);
            const hosts = strings(server.hosts, owner, `${field}.hosts`).map((h) => {
                const [namespace, host] = h.includes("/") ? [h.slice(0, h.indexOf("/")), h.slice(h.indexOf("/") + 1)] : ["*", h];
                return { namespace: namespace === "." ? namespaceOf(gateway) : namespace, host: host.toLowerCase() };
            });
            return { gateway, field, spec: server, port: Number(port.number), hosts };
        });
    });
}

/** Whether the server redirects to HTTPS; throws for protocols and TLS modes other than plaintext HTTP and SIMPLE HTTPS. */
function redirectsToHttps(server: ReturnType<typeof gatewayServers>[number]): boolean {
    const owner = ownerOf(server.gateway);
    const protocol = String(record(server.spec.port, owner, `${server.field}.port`).protocol ?? "").toUpperCase();
    const tls = record(server.spec.tls, owner, `${server.field}.tls`);
    if (protocol === "HTTPS") {
        if (tls.mode !== "SIMPLE") {
            throw notModelled(owner, `${server.field}.tls.mode`, `${String(tls.mode ?? "PASSTHROUGH")} is not modelled: only SIMPLE TLS termination is`);
        }
        return false;
    }
    if (!["HTTP", "HTTP2", "GRPC"].includes(protocol)) {
        throw notModelled(owner, `${server.field}.port.protocol`, `${protocol} is not modelled: only HTTP, HTTP2, GRPC and HTTPS servers are`);
    }
    return tls.httpsRedirect === true;
}

function viaGateway(objects: readonly IstioObject[], backends: readonly Backend[], request: RouteRequest): RouteOutcome {
    const port = request.port ?? DEFAULT_GATEWAY_PORT;
    const host = withoutPort(request.host);
    const servers = gatewayServers(objects).filter((s) => s.port === port && s.hosts.some((h) => hostMatches(h.host, host)));
    if (servers.length === 0) {
        return noRoute(`no Gateway server on port ${port} serves host ${host}`);
    }
    if (servers.length > 1) {
        const names = servers.map((s) => `${ownerOf(s.gateway)} \`${s.field}\``).join(" and ");
        throw new Error(`${names} all serve host ${host} on port ${port}; overlapping Gateway servers are not modelled by the route evaluator`);
    }
    const [server] = servers;
    const gateway = idOf(server.gateway);
    const namespace = namespaceOf(server.gateway);
    const view = requestView(request, gateway, port);
    const owner = ownerOf(server.gateway);
    const workload: Workload = { namespace, labels: record(server.gateway.spec.selector, owner, "spec.selector") as Record<string, string>, labelsComplete: false, description: `the pods of ${owner}, known only by its selector` };
    const atGateway: Decision = decide(policiesFor(objects, workload), { path: pathOnly(view.path), method: request.method, authority: request.host, port });
    const gatewayDenial = atGateway.allowed ? undefined : `403 at the ingress gateway: ${atGateway.reason}`;
    if (redirectsToHttps(server)) {
        return noRoute(gatewayDenial ?? "redirect to https");
    }
    // Envoy picks the most specific virtual host, and VirtualServices sharing it are merged.
    const bound = virtualServices(objects)
        .filter((vs) => vs.gateways.includes(gateway) && exportedTo(vs.object, namespace))
        .map((vs) => ({ vs, keys: gatewayVirtualHosts(server.hosts, vs.namespace, vs.hosts, host) }))
        .filter((b) => b.keys.length > 0);
    if (bound.length === 0) {
        return noRoute(gatewayDenial ?? `404 NR: no VirtualService bound to Gateway ${gateway} serves host ${host}`);
    }
    const best = bound.flatMap((b) => b.keys).sort(compareHostSpecificity)[0];
    const ctx: Context = { objects, backends, request, view, clientNamespace: namespace, gatewayDenial };
    return routeThrough(ctx, bound.filter((b) => b.keys.includes(best)).map((b) => b.vs), []);
}

function viaMesh(objects: readonly IstioObject[], backends: readonly Backend[], request: RouteRequest): RouteOutcome {
    const namespace = /^[^/]+\/ns\/([^/]+)\/sa\/[^/]+$/.exec(request.sourcePrincipal)?.[1];
    if (namespace === undefined) {
        throw new Error(`sourcePrincipal ${request.sourcePrincipal} must look like <trust domain>/ns/<namespace>/sa/<account>, without spiffe://`);
    }
    const portInHost = /:(\d+)$/.exec(request.host)?.[1];
    const port = request.port ?? (portInHost !== undefined ? Number(portInHost) : undefined);
    const host = meshHost(withoutPort(request.host), namespace, new Set(backends.map((b) => b.host.toLowerCase())));
    const ctx: Context = { objects, backends, request, view: requestView(request, "mesh", port), clientNamespace: namespace };
    const candidates = virtualServices(objects)
        .filter((vs) => vs.gateways.includes("mesh") && exportedTo(vs.object, namespace))
        .map((vs) => ({ vs, best: vs.hosts.filter((h) => hostMatches(h, host)).sort(compareHostSpecificity)[0] }))
        .filter((c) => c.best !== undefined);
    if (candidates.length === 0) {
        if (!backends.some((b) => b.host.toLowerCase() === host)) {
            return noRoute(`no Backend or VirtualService for host ${host}`);
        }
        return { kind: "routed", destinations: [reach(ctx, { host, port, weight: 100, path: ctx.view.path, authority: request.host })] };
    }
    const best = candidates.map((c) => c.best).sort(compareHostSpecificity)[0];
    const used = candidates.find((c) => c.best === best)!.vs;
    const notes = candidates.filter((c) => c.vs !== used).map((c) => `${c.vs.id} also matches host ${host} and is ignored: a sidecar uses one VirtualService per host (${used.id})`);
    return routeThrough(ctx, [used], notes);
}

/** Where the request goes and whether each destination authorizes it; throws on what it does not model. */
export function evaluateRequest(objects: readonly IstioObject[], backends: readonly Backend[], request: RouteRequest): RouteOutcome {
    const unknown = objects.find((o) => ROUTING_GROUPS.test(o.apiVersion.split("/")[0]) && !KNOWN_KINDS.has(groupKind(o)));
    if (unknown) {
        throw new Error(`${ownerOf(unknown)}: kind ${unknown.apiVersion} ${unknown.kind} is not modelled by the route evaluator`);
    }
    assertOutboundOnly(objects, backends.map((b) => b.host));
    return request.via === "gateway" ? viaGateway(objects, backends, request) : viaMesh(objects, backends, request);
}
