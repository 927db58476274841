/**
 * Where an HTTP request goes through rendered Istio objects, and whether it is authorized there,
 * as Istio 1.30 and Envoy decide it: Gateway server, RequestAuthentication, VirtualService binding
 * and route, header operations, DestinationRule subsets and TLS, and the AuthorizationPolicies of
 * the ingress gateway and of every pod reached, hop after hop when a destination is a gateway's own
 * listener. Pure. It never approximates: a kind, field or case it does not model throws an Error
 * naming the object and the field. Choices the Istio reference leaves open:
 * - A destination that cannot be reached (no DestinationRule subset, no Backend, no pods, no TLS
 *   handshake) is reported with `authorized: false` and the reason, not as a no-route, so a canary's
 *   broken subset shows next to the healthy one. Weights are percent of the route's total; 0 stays 0.
 * - Ingress gateway pods run in their Gateway's namespace and are known by its selector labels; a
 *   policy selecting them by another label throws. Their clients are plaintext (no principal).
 * - A request the ingress gateway refuses (401 for a bad token, 403 from its policies) is still
 *   routed, every destination unauthorized with a reason starting `401` or `403`; with no route, it
 *   is a no-route with that reason.
 * - Policy `ports` compare the service port, taken to equal the pod's target port.
 * - A destination whose pods a Gateway selects, on a port one of its servers listens on, is that
 *   gateway's listener: the request enters it as a new request (`RoutedDestination.next`).
 * - Tokens are taken as validly signed and current (see routeJwt.ts).
 * @see https://istio.io/latest/docs/ops/best-practices/traffic-management/#cross-namespace-configuration
 */
import { assertOutboundOnly, SERVICE_ENTRY_KIND, SIDECAR_KIND } from "./egressCheck";
import { decide, policiesFor, type AuthzAttributes, type Decision, type Workload } from "./routeAuthz";
import { clientTls, destinationRule } from "./routeDestinationRule";
import { connect, describeServer, GATEWAY_KIND, gatewayServers, gatewaysSelecting, serverFor, serverMode, type GatewayServer } from "./routeGateway";
import { applyHeaderOperations, headerOperations, removesToken, rewrittenAuthority } from "./routeHeaders";
import { authenticate, jwtRulesFor, REQUEST_AUTHENTICATION_KIND, type RequestToken } from "./routeJwt";
import {
    compareHostSpecificity, gatewayVirtualHosts, hostMatches, httpMatch, meshHost, normalizePath, pathOnly, resolveShortName, rewritePath, withoutPort,
    type HttpRequestView, type MatchResult,
} from "./routeMatch";
import { exportedTo, formatLabels, groupKind, labelsMatch, list, namespaceOf, notModelled, ownerOf, record, type IstioObject } from "./routeObjects";
import { checkVirtualService, httpRoutesFor, virtualServices, type VirtualService } from "./routeVirtualService";
import type { Backend, RoutedDestination, RouteOutcome, RouteRequest } from "./routeTypes";
export type { IstioObject, RequestToken };
export type { Backend, RoutedDestination, RouteOutcome, RouteRequest };
export { finalLegs, type RouteHop, type RouteLeg } from "./routeLegs";

export const DEFAULT_GATEWAY_PORT = 443;
/** Routing decisions one request may take (the first, then one per gateway listener re-entered) before it counts as a loop. */
export const MAX_HOPS = 4;

/** Kinds read here, or that never change a route or a decision. Other kinds of these API groups throw. */
const KNOWN_KINDS = new Set([
    GATEWAY_KIND, "networking.istio.io/VirtualService", "networking.istio.io/DestinationRule", "security.istio.io/AuthorizationPolicy", REQUEST_AUTHENTICATION_KIND,
    "security.istio.io/PeerAuthentication", "telemetry.istio.io/Telemetry", "networking.istio.io/ProxyConfig", SERVICE_ENTRY_KIND, SIDECAR_KIND,
]);
const ROUTING_GROUPS = /(^|\.)istio\.io$|^gateway\.networking\.k8s\.io$|^inference\.networking\.(x-)?k8s\.io$/;

const noRoute = (reason: string): RouteOutcome => ({ kind: "no-route", reason });

/** One request as one proxy receives it. */
interface Hop {
    /** The authority as sent. */
    readonly host: string;
    /** Normalized, with the query string. */
    readonly path: string;
    readonly method: string;
    /** Lower-case names, `Authorization` excluded (the token is `token`). */
    readonly headers: ReadonlyMap<string, string>;
    readonly port?: number;
    readonly token?: RequestToken;
}

interface Run {
    readonly objects: readonly IstioObject[];
    readonly backends: readonly Backend[];
    readonly request: RouteRequest;
    /** The selector of the Gateway the request entered by: its pods send on as `request.sourcePrincipal`. */
    readonly ingressSelector?: Readonly<Record<string, string>>;
}

/** The principal the destinations see, or why it is unknown (thrown only when needed). */
type Sender = { readonly principal: string } | { readonly unknown: string };

interface Context {
    readonly run: Run;
    /** After the routing proxy's own authentication (a token it does not forward is gone). */
    readonly hop: Hop;
    readonly view: HttpRequestView;
    /** The routing proxy's namespace (exportTo, DestinationRule lookup). */
    readonly clientNamespace: string;
    readonly sender: Sender;
    readonly gatewayDenial?: string;
    /** The gateway listeners entered so far, for loop detection. */
    readonly trail: readonly string[];
}

interface Target {
    readonly host: string;
    readonly subset?: string;
    readonly port?: number;
    readonly weight: number;
    readonly path: string;
    readonly authority: string;
    readonly headers: ReadonlyMap<string, string>;
    readonly token?: RequestToken;
    /** The route taken, for loop messages. */
    readonly route: string;
}

const principalOf = (sender: Sender): string => {
    if ("unknown" in sender) {
        throw new Error(sender.unknown);
    }
    return sender.principal;
};

/**
 * One workload's jwt_authn filter, then its RBAC filter: `rejected` is why the token got 401; else
 * the RBAC decision. And the token it forwards.
 */
function admit(objects: readonly IstioObject[], workload: Workload, hop: Hop, attributes: AuthzAttributes): { rejected?: string; decision: Decision; token?: RequestToken } {
    const authn = authenticate(jwtRulesFor(objects, workload), { token: hop.token, path: hop.path, method: hop.method, headers: hop.headers });
    if (authn.kind === "rejected") {
        return { rejected: authn.reason, decision: { allowed: false, reason: `401 ${authn.reason}` } };
    }
    const jwt = authn.kind === "verified" ? { jwt: authn.jwt } : {};
    const token = authn.kind === "verified" && !authn.forwarded ? {} : { token: hop.token };
    return { decision: decide(policiesFor(objects, workload), { ...attributes, ...jwt, headers: hop.headers }), ...token };
}

/** The pods a destination reaches and the decision of each pod label set's policies, or the gateway listener it enters. */
function reach(ctx: Context, target: Target): RoutedDestination {
    const { host, subset, port, weight, path } = target;
    const base = { host, ...(subset !== undefined ? { subset } : {}), ...(port !== undefined ? { port } : {}), weight, pods: [] as Record<string, string>[], path };
    const unreachable = (reason: string): RoutedDestination => ({ ...base, authorized: false, reason });
    const backend = ctx.run.backends.find((b) => b.host.toLowerCase() === host);
    const rule = destinationRule(ctx.run.objects, ctx.clientNamespace, host, backend?.namespace ?? host.split(".")[1] ?? ctx.clientNamespace);
    const selector = subset === undefined ? {} : rule?.subsets.get(subset)?.labels;
    if (selector === undefined) {
        return unreachable(`no subset ${subset} in ${rule ? `DestinationRule ${rule.ids.join(", ")}` : "any DestinationRule"} for host ${host}`);
    }
    if (backend === undefined) {
        return unreachable(`no Backend for host ${host}`);
    }
    if (backend.ports !== undefined && backend.ports.length > 1 && (port === undefined || !backend.ports.includes(port))) {
        return unreachable(`no port ${port} on ${host} (ports ${backend.ports.join(", ")}); the route must name the destination port`);
    }
    const pods = backend.pods.filter((p) => labelsMatch(selector, p.labels));
    if (pods.length === 0) {
        return unreachable(subset !== undefined ? `no pods of ${host} match subset ${subset} ${formatLabels(selector)}` : `no pods behind ${host}`);
    }
    const reached = { ...base, pods: pods.map((p) => ({ ...p.labels })) };
    if (ctx.gatewayDenial !== undefined) {
        return { ...reached, authorized: false, reason: ctx.gatewayDenial };
    }
    const distinct = [...new Map(pods.map((p) => [JSON.stringify(Object.entries(p.labels).sort()), p])).values()];
    if (distinct.some((p) => gatewaysSelecting(ctx.run.objects, p.labels).length > 0)) {
        if (distinct.length > 1) {
            throw new Error(`Backend ${host}: gateway pods among several pod label sets are not modelled by the route evaluator`);
        }
        return { ...reached, ...enterListener(ctx, target, backend, distinct[0], rule) };
    }
    const attributes = { principal: principalOf(ctx.sender), path: pathOnly(path), method: ctx.hop.method, authority: target.authority, port };
    const hop: Hop = { ...ctx.hop, host: target.authority, path, headers: target.headers, token: target.token };
    const decisions = distinct.map(({ labels }) => ({
        labels,
        decision: admit(ctx.run.objects, { namespace: backend.namespace, labels, labelsComplete: true, description: `pods ${formatLabels(labels)}` }, hop, attributes).decision,
    }));
    const prefix = (labels: Readonly<Record<string, string>>): string => (decisions.length > 1 ? `pods ${formatLabels(labels)}: ` : "");
    const denied = decisions.find((d) => !d.decision.allowed);
    if (denied) {
        return { ...reached, authorized: false, reason: prefix(denied.labels) + denied.decision.reason };
    }
    return { ...reached, authorized: true, reason: [...new Set(decisions.map((d) => d.decision.reason))].join("; ") };
}

/** A hairpin: the destination's pods are a gateway's, so the request enters that gateway's listener on the destination port. */
function enterListener(
    ctx: Context, target: Target, backend: Backend, pod: Backend["pods"][number], rule: ReturnType<typeof destinationRule>,
): Pick<RoutedDestination, "authorized" | "reason" | "next"> {
    const { host, subset, port } = target;
    if (port === undefined) {
        throw new Error(`request to ${host}: the gateway pods behind it need a destination port; give the request or the route destination a port`);
    }
    const selecting = gatewaysSelecting(ctx.run.objects, pod.labels);
    const connection = connect(gatewayServers(ctx.run.objects).filter((s) => selecting.includes(s.gateway)), port, clientTls(rule, subset, port), { host, subset });
    if (connection.kind === "refused") {
        return { authorized: false, reason: connection.reason };
    }
    const here = `${target.route} → ${host}:${port}`;
    if (ctx.trail.length + 2 > MAX_HOPS) {
        throw new Error(`route loop: ${[...ctx.trail, here].join(", then ")}; stopped after ${MAX_HOPS} hops`);
    }
    const sender: Sender = pod.principal !== undefined
        ? { principal: pod.principal }
        : ctx.run.ingressSelector !== undefined && labelsMatch(ctx.run.ingressSelector, pod.labels)
            ? { principal: ctx.run.request.sourcePrincipal }
            : { unknown: `Backend ${host}: its gateway pods ${formatLabels(pod.labels)} send the request on; give their \`principal\` so the next hop can authorize it` };
    const entered = enterGateway(ctx.run, {
        servers: connection.servers,
        port,
        workload: { namespace: backend.namespace, labels: pod.labels, labelsComplete: true, description: `gateway pods ${formatLabels(pod.labels)}` },
        hop: { host: target.authority, path: target.path, method: ctx.hop.method, headers: target.headers, port, token: target.token },
        peer: connection.mtls ? principalOf(ctx.sender) : undefined,
        sender,
        trail: [...ctx.trail, here],
    });
    return { authorized: entered.admitted.allowed, reason: entered.admitted.reason, next: entered.outcome };
}

function followRoute(ctx: Context, route: { vs: VirtualService; index: number; spec: Record<string, unknown> }, matched: MatchResult, notes: readonly string[]): RouteOutcome {
    const { vs, spec } = route;
    const at = `spec.http[${route.index}]`;
    const name = typeof spec.name === "string" ? `route ${spec.name}` : at;
    if (spec.redirect !== undefined || spec.directResponse !== undefined) {
        const answer = spec.redirect !== undefined ? "a redirect" : "a direct response";
        return noRoute(ctx.gatewayDenial ?? `${vs.id} ${name} answers with ${answer}`);
    }
    if (spec.corsPolicy !== undefined && ctx.hop.method.toUpperCase() === "OPTIONS") {
        throw notModelled(vs.owner, `${at}.corsPolicy`, "answers CORS preflight requests, which is not modelled");
    }
    const rewrite = record(spec.rewrite, vs.owner, `${at}.rewrite`);
    const path = rewrite.uri !== undefined ? rewritePath(ctx.view.path, String(rewrite.uri), matched) : ctx.view.path;
    const routeOps = headerOperations(spec.headers, vs.owner, `${at}.headers`);
    const entries = list(spec.route, vs.owner, `${at}.route`) as { destination: { host: string; subset?: string; port?: { number?: number } }; weight?: number; headers?: unknown }[];
    const total = entries.reduce((sum, e) => sum + (e.weight ?? 0), 0);
    if (entries.length > 1 && total <= 0) {
        throw notModelled(vs.owner, `${at}.route`, "has weights that sum to 0");
    }
    const destinations = entries.map((entry, j) => {
        const field = `${at}.route[${j}].headers`;
        const ops = headerOperations(entry.headers, vs.owner, field);
        return reach(ctx, {
            host: resolveShortName(entry.destination.host, vs.namespace),
            subset: entry.destination.subset,
            port: entry.destination.port?.number ?? ctx.view.port,
            weight: entries.length === 1 ? 100 : ((entry.weight ?? 0) * 100) / total,
            path,
            authority: rewrittenAuthority(ctx.hop.host, typeof rewrite.authority === "string" ? rewrite.authority : undefined, routeOps, ops),
            headers: applyHeaderOperations(ctx.hop.headers, routeOps, ops, entries.length > 1, vs.owner, field),
            ...(removesToken(routeOps, ops) ? {} : { token: ctx.hop.token }),
            route: `${vs.id} ${name}`,
        });
    });
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
    const routes = services.flatMap((vs) => httpRoutesFor(vs, ctx.view.path));
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
    return noRoute(ctx.gatewayDenial ?? `404 NR: no http route of ${names} matches ${ctx.hop.method} ${ctx.view.path}`);
}

/** The request as its first proxy receives it. */
function firstHop(request: RouteRequest, port: number | undefined): Hop {
    const headers = new Map(Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    if (headers.has("authorization")) {
        throw new Error("request headers: give a bearer token as `jwt`; an Authorization header is not modelled by the route evaluator");
    }
    return { host: request.host, path: request.path, method: request.method, headers, ...(port !== undefined ? { port } : {}), ...(request.jwt ? { token: request.jwt } : {}) };
}

const viewOf = (hop: Hop, gateway: string): HttpRequestView => {
    const { path, query } = normalizePath(hop.path);
    return { path: path + query, method: hop.method, headers: hop.headers, port: hop.port, gateway };
};

interface GatewayEntry {
    /** The servers the connection reached (one TLS chain, or every plaintext server on the port). */
    readonly servers: readonly GatewayServer[];
    readonly port: number;
    readonly workload: Workload;
    readonly hop: Hop;
    /** The client's mTLS principal; undefined for plaintext. */
    readonly peer?: string;
    /** The identity the gateway sends on with. */
    readonly sender: Sender;
    readonly trail: readonly string[];
}

/** A request entering a gateway listener: jwt_authn, then RBAC, then the server's routes. */
function enterGateway(run: Run, entry: GatewayEntry): { admitted: Decision; outcome: RouteOutcome } {
    const { hop, workload } = entry;
    const host = withoutPort(hop.host);
    const server = serverFor(entry.servers, entry.port, host) ?? entry.servers[0];
    const view = viewOf(hop, server.id);
    const attributes = { principal: entry.peer, path: pathOnly(view.path), method: hop.method, authority: hop.host, port: entry.port };
    const { rejected, decision, token } = admit(run.objects, workload, { ...hop, path: view.path }, attributes);
    const denial = rejected !== undefined ? `401 at the ingress gateway: ${rejected}` : decision.allowed ? undefined : `403 at the ingress gateway: ${decision.reason}`;
    const how = entry.peer !== undefined ? `over Istio mTLS as ${entry.peer}` : "in plaintext";
    const admitted = denial !== undefined ? { allowed: false, reason: denial } : { allowed: true, reason: `enters ${describeServer(server)} on port ${entry.port} ${how}: ${decision.reason}` };
    if (!server.hosts.some((h) => hostMatches(h.host, host))) {
        return { admitted, outcome: noRoute(denial ?? `404 NR: ${describeServer(server)} does not serve host ${host}`) };
    }
    if (serverMode(server) === "HTTPS_REDIRECT") {
        return { admitted, outcome: noRoute(denial ?? "redirect to https") };
    }
    // Envoy picks the most specific virtual host, and VirtualServices sharing it are merged.
    const bound = virtualServices(run.objects)
        .filter((vs) => vs.gateways.includes(server.id) && exportedTo(vs.object, workload.namespace))
        .map((vs) => ({ vs, keys: gatewayVirtualHosts(server.hosts, vs.namespace, vs.hosts, host) }))
        .filter((b) => b.keys.length > 0);
    if (bound.length === 0) {
        return { admitted, outcome: noRoute(denial ?? `404 NR: no VirtualService bound to Gateway ${server.id} serves host ${host}`) };
    }
    const best = bound.flatMap((b) => b.keys).sort(compareHostSpecificity)[0];
    const ctx: Context = {
        run, view, clientNamespace: workload.namespace, sender: entry.sender, trail: entry.trail,
        hop: { ...hop, path: view.path, token },
        ...(denial !== undefined ? { gatewayDenial: denial } : {}),
    };
    return { admitted, outcome: routeThrough(ctx, bound.filter((b) => b.keys.includes(best)).map((b) => b.vs), []) };
}

function viaGateway(run: Run, request: RouteRequest): RouteOutcome {
    const port = request.port ?? DEFAULT_GATEWAY_PORT;
    const host = withoutPort(request.host);
    const server = serverFor(gatewayServers(run.objects), port, host);
    if (server === undefined) {
        return noRoute(`no Gateway server on port ${port} serves host ${host}`);
    }
    if (serverMode(server) === "ISTIO_MUTUAL") {
        return noRoute(`${describeServer(server)} on port ${port} has tls.mode ISTIO_MUTUAL: it requires an Istio mTLS client certificate, which a client outside the mesh does not have`);
    }
    const namespace = namespaceOf(server.gateway);
    const workload: Workload = { namespace, labels: server.selector, labelsComplete: false, description: `the pods of ${ownerOf(server.gateway)}, known only by its selector` };
    const entered = enterGateway({ ...run, ingressSelector: server.selector }, { servers: [server], port, workload, hop: firstHop(request, port), sender: { principal: request.sourcePrincipal }, trail: [] });
    return entered.outcome;
}

function viaMesh(run: Run, request: RouteRequest): RouteOutcome {
    const namespace = /^[^/]+\/ns\/([^/]+)\/sa\/[^/]+$/.exec(request.sourcePrincipal)?.[1];
    if (namespace === undefined) {
        throw new Error(`sourcePrincipal ${request.sourcePrincipal} must look like <trust domain>/ns/<namespace>/sa/<account>, without spiffe://`);
    }
    const portInHost = /:(\d+)$/.exec(request.host)?.[1];
    const port = request.port ?? (portInHost !== undefined ? Number(portInHost) : undefined);
    const host = meshHost(withoutPort(request.host), namespace, new Set(run.backends.map((b) => b.host.toLowerCase())));
    const hop = firstHop(request, port);
    const ctx: Context = { run, hop, view: viewOf(hop, "mesh"), clientNamespace: namespace, sender: { principal: request.sourcePrincipal }, trail: [] };
    const candidates = virtualServices(run.objects)
        .filter((vs) => vs.gateways.includes("mesh") && exportedTo(vs.object, namespace))
        .map((vs) => ({ vs, best: vs.hosts.filter((h) => hostMatches(h, host)).sort(compareHostSpecificity)[0] }))
        .filter((c) => c.best !== undefined);
    if (candidates.length === 0) {
        if (!run.backends.some((b) => b.host.toLowerCase() === host)) {
            return noRoute(`no Backend or VirtualService for host ${host}`);
        }
        return { kind: "routed", destinations: [reach(ctx, { host, port, weight: 100, path: ctx.view.path, authority: request.host, headers: hop.headers, token: hop.token, route: "default routing" })] };
    }
    const best = candidates.map((c) => c.best).sort(compareHostSpecificity)[0];
    const used = candidates.find((c) => c.best === best)!.vs;
    const notes = candidates.filter((c) => c.vs !== used).map((c) => `${c.vs.id} also matches host ${host} and is ignored: a sidecar uses one VirtualService per host (${used.id})`);
    return routeThrough(ctx, [used], notes);
}

/** Where the request goes and whether each destination authorizes it; throws on what it does not model. */
export function evaluateRequest(objects: readonly IstioObject[], backends: readonly Backend[], request: RouteRequest): RouteOutcome {
    checkObjects(objects, backends);
    const run: Run = { objects, backends, request };
    return request.via === "gateway" ? viaGateway(run, request) : viaMesh(run, request);
}

const checked = new WeakMap<readonly IstioObject[], WeakSet<readonly Backend[]>>();

/** The objects' kinds and the sidecars' egress, checked once per set of objects and backends (not per request). */
function checkObjects(objects: readonly IstioObject[], backends: readonly Backend[]): void {
    if (checked.get(objects)?.has(backends)) {
        return;
    }
    const unknown = objects.find((o) => ROUTING_GROUPS.test(o.apiVersion.split("/")[0]) && !KNOWN_KINDS.has(groupKind(o)));
    if (unknown) {
        throw new Error(`${ownerOf(unknown)}: kind ${unknown.apiVersion} ${unknown.kind} is not modelled by the route evaluator`);
    }
    assertOutboundOnly(objects, backends.map((b) => b.host));
    checked.set(objects, (checked.get(objects) ?? new WeakSet()).add(backends));
}
