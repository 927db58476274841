/**
 * The matching rules the route evaluator applies, the way Envoy applies what Istio generates:
 * host patterns, and VirtualService request matches and rewrites (AuthorizationPolicy rules are
 * in routeAuthz.ts).
 * Pure. Every function throws on a field it does not model instead of guessing.
 * @see https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPMatchRequest
 */

import { fields, notModelled, record } from "./routeObjects";

export const CLUSTER_DOMAIN = "cluster.local";

/** `resnet` in namespace `ml` → `resnet.ml.svc.cluster.local`; names with a dot, and `*`, are kept (as Istio does). */
export function resolveShortName(host: string, namespace: string): string {
    const lower = host.toLowerCase();
    return lower === "*" || lower.includes(".") ? lower : `${lower}.${namespace}.svc.${CLUSTER_DOMAIN}`;
}

/** The authority without its `:port`. */
export function withoutPort(authority: string): string {
    if (authority.startsWith("[")) {
        throw new Error(`request host ${authority}: IPv6 authorities are not modelled by the route evaluator`);
    }
    return authority.replace(/:\d+$/, "").toLowerCase();
}

/** Envoy domain matching: exact, `*` for everything, or `*suffix` (the `*` matches at least one character). */
export function hostMatches(pattern: string, host: string): boolean {
    const [p, h] = [pattern.toLowerCase(), host.toLowerCase()];
    if (p.startsWith("*")) {
        return p === "*" || (h.length >= p.length && h.endsWith(p.slice(1)));
    }
    return p === h;
}

/** Whether pattern `a` matches every host pattern `b` matches. */
export function hostCovers(a: string, b: string): boolean {
    return b.startsWith("*") ? a === "*" || (a.startsWith("*") && b.slice(1).endsWith(a.slice(1))) : hostMatches(a, b);
}

/** The hosts both patterns match, as Istio computes a Gateway virtual host; undefined when they are disjoint. */
export function hostIntersection(a: string, b: string): string | undefined {
    return hostCovers(a, b) ? b : hostCovers(b, a) ? a : undefined;
}

/**
 * The virtual hosts of a Gateway server a VirtualService adds that match `host`: Istio builds one
 * per server host ∩ VirtualService host, for server hosts whose `namespace` (`*` or one) allows the VirtualService's.
 */
export function gatewayVirtualHosts(serverHosts: readonly { namespace: string; host: string }[], vsNamespace: string, vsHosts: readonly string[], host: string): string[] {
    return serverHosts
        .filter((h) => (h.namespace === "*" || h.namespace === vsNamespace) && hostMatches(h.host, host))
        .flatMap((h) => vsHosts.map((vh) => hostIntersection(h.host, vh)))
        .filter((k): k is string => k !== undefined && hostMatches(k, host));
}

/** What a sidecar's request for `host` reaches: DNS search from the source namespace first (ndots 5), as a known Service host. */
export function meshHost(host: string, namespace: string, knownHosts: ReadonlySet<string>): string {
    const searched = host.split(".").length <= 5 ? [`${host}.${namespace}.svc.${CLUSTER_DOMAIN}`, `${host}.svc.${CLUSTER_DOMAIN}`, `${host}.${CLUSTER_DOMAIN}`] : [];
    return searched.find((candidate) => knownHosts.has(candidate)) ?? (host.includes(".") ? host : searched[0]);
}

/** Negative when `a` is the more specific pattern: exact names, then longer wildcards, then `*`. */
export function compareHostSpecificity(a: string, b: string): number {
    const rank = (p: string): number => (p === "*" ? 0 : p.startsWith("*") ? 1 : 2);
    return rank(b) - rank(a) || b.length - a.length;
}

/** The path without its query string. */
export function pathOnly(path: string): string {
    const at = path.indexOf("?");
    return at < 0 ? path : path.slice(0, at);
}

/** Splits off the query (with its `?`) and normalizes the path as Istio's default `BASE` normalization does (RFC 3986 dot segments). */
export function normalizePath(raw: string): { readonly path: string; readonly query: string } {
    const path = pathOnly(raw);
    if (!path.startsWith("/")) {
        throw new Error(`request path ${raw} must start with /`);
    }
    if (/[%\\]/.test(path)) {
        throw new Error(`request path ${raw}: percent-encoded and backslash paths are not modelled by the route evaluator`);
    }
    const segments = path.split("/").slice(1);
    const out: string[] = [];
    segments.forEach((segment, i) => {
        if (segment === "..") {
            out.pop();
        }
        if (segment !== "." && segment !== "..") {
            out.push(segment);
        } else if (i === segments.length - 1) {
            out.push("");
        }
    });
    return { path: `/${out.join("/")}`, query: raw.slice(path.length) };
}

type StringMatchKind = "exact" | "prefix" | "regex";

function fullRegex(pattern: unknown, owner: string, field: string): RegExp {
    try {
        return new RegExp(`^(?:${String(pattern)})$`);
    } catch {
        throw notModelled(owner, field, `is an RE2 pattern the evaluator cannot run as a JavaScript RegExp: ${String(pattern)}`);
    }
}

/** An Istio StringMatch; an empty one (`{}`) means "present" where `presence` allows it. */
function stringMatch(m: unknown, value: string | undefined, kinds: readonly StringMatchKind[], owner: string, field: string, options: { ignoreCase?: boolean; presence?: boolean } = {}): boolean {
    const spec = fields(m, kinds, owner, field);
    const [kind, ...extra] = Object.keys(spec) as StringMatchKind[];
    if (extra.length > 0) {
        throw notModelled(owner, field, "must have exactly one of exact, prefix or regex");
    }
    if (kind === undefined) {
        if (!options.presence) {
            throw notModelled(owner, field, "is empty");
        }
        return value !== undefined;
    }
    if (value === undefined) {
        return false;
    }
    const fold = (s: string): string => (options.ignoreCase ? s.toLowerCase() : s);
    switch (kind) {
        case "exact":
            return fold(value) === fold(String(spec.exact));
        case "prefix":
            return fold(value).startsWith(fold(String(spec.prefix)));
        case "regex":
            return fullRegex(spec.regex, owner, `${field}.regex`).test(value);
    }
}

export interface HttpRequestView {
    /** The normalized `:path`, with its query string. */
    readonly path: string;
    readonly method: string;
    /** Lower-case header names. */
    readonly headers: ReadonlyMap<string, string>;
    /** The port the request is addressed to (the Gateway port, or the service port in the mesh). */
    readonly port?: number;
    /** `mesh`, or the `<namespace>/<name>` of the Gateway the request came through. */
    readonly gateway: string;
}

export interface MatchResult {
    /** The uri prefix Envoy matched (`/` when the match has no uri), which a rewrite replaces; undefined for exact and regex. */
    readonly uriPrefix?: string;
}

export const MATCH_FIELDS = ["name", "uri", "headers", "method", "port", "ignoreUriCase", "queryParams", "statPrefix"];

/** `gw` in a VirtualService of namespace `ns` → `ns/gw`; `mesh` stays. */
export function gatewayReference(reference: string, namespace: string, owner: string, field: string): string {
    if (reference === "mesh" || reference.includes("/")) {
        return reference;
    }
    if (reference.includes(".")) {
        throw notModelled(owner, field, `uses the deprecated FQDN gateway form ${reference}; use <namespace>/<name>`);
    }
    return `${namespace}/${reference}`;
}

/** Whether one HTTPMatchRequest matches: all its conditions hold. */
export function httpMatch(m: unknown, request: HttpRequestView, owner: string, field: string): MatchResult | undefined {
    const spec = fields(m, MATCH_FIELDS, owner, field);
    const ignoreCase = spec.ignoreUriCase === true;
    const path = pathOnly(request.path);
    let uriPrefix: string | undefined = "/";
    if (spec.uri !== undefined) {
        const uri = fields(spec.uri, ["exact", "prefix", "regex"], owner, `${field}.uri`);
        // Envoy compares a prefix with the whole :path and an exact path or regex with the path without its query;
        // ignoreUriCase does not apply to regexes.
        const subject = uri.prefix !== undefined ? request.path : path;
        if (!stringMatch(uri, subject, ["exact", "prefix", "regex"], owner, `${field}.uri`, { ignoreCase: ignoreCase && uri.regex === undefined })) {
            return undefined;
        }
        uriPrefix = uri.prefix !== undefined ? String(uri.prefix) : undefined;
    }
    for (const [name, match] of Object.entries(record(spec.headers, owner, `${field}.headers`))) {
        if (name.startsWith(":")) {
            throw notModelled(owner, `${field}.headers.${name}`, "matches a pseudo-header, which is not modelled");
        }
        if (!stringMatch(match, request.headers.get(name.toLowerCase()), ["exact", "prefix", "regex"], owner, `${field}.headers.${name}`, { presence: true })) {
            return undefined;
        }
    }
    if (spec.method !== undefined && !stringMatch(spec.method, request.method, ["exact"], owner, `${field}.method`)) {
        return undefined;
    }
    if (spec.port !== undefined) {
        if (request.port === undefined) {
            throw notModelled(owner, `${field}.port`, "needs the request port: give `port` in the request");
        }
        if (spec.port !== request.port) {
            return undefined;
        }
    }
    const queryParams = Object.entries(record(spec.queryParams, owner, `${field}.queryParams`));
    const query = queryParams.length > 0 ? new URLSearchParams(request.path.slice(path.length)) : undefined;
    for (const [name, match] of queryParams) {
        if (!stringMatch(match, query?.get(name) ?? undefined, ["exact", "regex"], owner, `${field}.queryParams.${name}`, { presence: true })) {
            return undefined;
        }
    }
    return { uriPrefix };
}

/**
 * Istio turns `rewrite.uri` into Envoy's `prefix_rewrite`: after a prefix match (a match without
 * a uri is the prefix `/`) the matched prefix is replaced; after an exact or regex match the
 * whole path is. The query string is kept.
 */
export function rewritePath(path: string, rewriteUri: string, matched: MatchResult): string {
    if (matched.uriPrefix !== undefined) {
        return rewriteUri + path.slice(matched.uriPrefix.length);
    }
    return rewriteUri + path.slice(pathOnly(path).length);
}
