/**
 * The matching rules the route evaluator applies, the way Envoy applies what Istio generates:
 * host patterns, VirtualService request matches and rewrites, and AuthorizationPolicy rules.
 * Pure. Every function throws on a field it does not model instead of guessing.
 * @see https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPMatchRequest
 * @see https://istio.io/latest/docs/reference/config/security/authorization-policy/
 */

export const CLUSTER_DOMAIN = "cluster.local";

type Fields = Record<string, unknown>;

/** The error for a field the evaluator does not model; names the object and the field. */
export function notModelled(owner: string, field: string, why = "is not modelled by the route evaluator"): Error {
    return new Error(`${owner}: \`${field}\` ${why}`);
}

/** The value as an object whose keys are all in `known`; throws on any other key. */
export function fields(value: unknown, known: readonly string[], owner: string, field: string): Fields {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
        throw notModelled(owner, field, `must be an object, got ${JSON.stringify(value)}`);
    }
    for (const key of Object.keys(value)) {
        if (!known.includes(key)) {
            throw notModelled(owner, `${field}.${key}`);
        }
    }
    return value as Fields;
}

/** The value as an object with any keys (absent is empty). */
export function record(value: unknown, owner: string, field: string): Fields {
    const keys = value !== null && typeof value === "object" ? Object.keys(value) : [];
    return value === undefined ? {} : fields(value, keys, owner, field);
}

/** The value as a list (absent is empty). */
export function list(value: unknown, owner: string, field: string): unknown[] {
    if (value !== undefined && !Array.isArray(value)) {
        throw notModelled(owner, field, "must be a list");
    }
    return (value ?? []) as unknown[];
}

/** The value as a list of strings (absent is empty). */
export function strings(value: unknown, owner: string, field: string): string[] {
    const values = list(value, owner, field);
    values.forEach((v, i) => {
        if (typeof v !== "string") {
            throw notModelled(owner, `${field}[${i}]`, "must be a string");
        }
    });
    return values as string[];
}

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
    const query = new URLSearchParams(request.path.slice(path.length));
    for (const [name, match] of Object.entries(record(spec.queryParams, owner, `${field}.queryParams`))) {
        if (!stringMatch(match, query.get(name) ?? undefined, ["exact", "regex"], owner, `${field}.queryParams.${name}`, { presence: true })) {
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

export interface AuthzAttributes {
    /** The peer's SPIFFE principal without `spiffe://`; undefined for a plaintext peer (a client of the ingress gateway). */
    readonly principal?: string;
    /** The path without its query string. */
    readonly path: string;
    readonly method: string;
    readonly authority: string;
    /** The destination port; undefined when neither the request nor the route gives one. */
    readonly port?: number;
}

type Predicate = (attributes: AuthzAttributes) => boolean;

/** Istio's value patterns: `*` (any non-empty value), `prefix*`, `*suffix` or exact. */
export function authzPattern(pattern: string, value: string | undefined, ignoreCase = false): boolean {
    if (value === undefined) {
        return false;
    }
    const [p, v] = ignoreCase ? [pattern.toLowerCase(), value.toLowerCase()] : [pattern, value];
    if (p === "*") {
        return v.length > 0;
    }
    if (p.startsWith("*")) {
        return v.endsWith(p.slice(1));
    }
    if (p.endsWith("*")) {
        return v.startsWith(p.slice(0, -1));
    }
    return v === p;
}

/** Istio matches a namespace as the regex `.*\/ns/<value>/.*` on the principal, `*` becoming `.*`. */
function namespacePattern(pattern: string, principal: string | undefined): boolean {
    const escaped = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*");
    return principal !== undefined && new RegExp(`^.*/ns/${escaped}/.*$`).test(principal);
}

/** values: any matches; notValues: none matches. Empty lists are no condition, as in Istio. */
function condition(spec: Fields, key: string, owner: string, field: string, test: (value: string, attributes: AuthzAttributes) => boolean): Predicate[] {
    const negated = `not${key[0].toUpperCase()}${key.slice(1)}`;
    const values = strings(spec[key], owner, `${field}.${key}`);
    const notValues = strings(spec[negated], owner, `${field}.${negated}`);
    return [
        ...(values.length > 0 ? [(a: AuthzAttributes) => values.some((v) => test(v, a))] : []),
        ...(notValues.length > 0 ? [(a: AuthzAttributes) => !notValues.some((v) => test(v, a))] : []),
    ];
}

function compileSource(entry: unknown, owner: string, field: string): Predicate {
    const source = fields(fields(entry, ["source"], owner, field).source ?? {}, ["principals", "notPrincipals", "namespaces", "notNamespaces"], owner, `${field}.source`);
    const checks = [
        ...condition(source, "principals", owner, `${field}.source`, (v, a) => authzPattern(v, a.principal)),
        ...condition(source, "namespaces", owner, `${field}.source`, (v, a) => namespacePattern(v, a.principal)),
    ];
    return (a) => checks.every((check) => check(a));
}

function compileOperation(entry: unknown, owner: string, field: string): Predicate {
    const at = `${field}.operation`;
    const operation = fields(fields(entry, ["operation"], owner, field).operation ?? {}, ["hosts", "notHosts", "ports", "notPorts", "methods", "notMethods", "paths", "notPaths"], owner, at);
    const invalid = (key: string, test: (value: string) => boolean, why: string): void => {
        for (const k of [key, `not${key[0].toUpperCase()}${key.slice(1)}`]) {
            strings(operation[k], owner, `${at}.${k}`).forEach((v, i) => {
                if (test(v)) {
                    throw notModelled(owner, `${at}.${k}[${i}]`, `${why}: ${v}`);
                }
            });
        }
    };
    invalid("paths", (p) => p.includes("{"), "is a path template, which is not modelled");
    invalid("ports", (p) => !/^\d+$/.test(p), "must be a port number");
    const port = (v: string, a: AuthzAttributes): boolean => {
        if (a.port === undefined) {
            throw notModelled(owner, `${at}.ports`, "needs the destination port: give the request or the route destination a port");
        }
        return Number(v) === a.port;
    };
    const checks = [
        ...condition(operation, "hosts", owner, at, (v, a) => authzPattern(v, a.authority, true)),
        ...condition(operation, "ports", owner, at, port),
        ...condition(operation, "methods", owner, at, (v, a) => authzPattern(v, a.method)),
        ...condition(operation, "paths", owner, at, (v, a) => authzPattern(v, a.path)),
    ];
    return (a) => checks.every((check) => check(a));
}

/** A rule matches when one `from` entry and one `to` entry match (absent lists match anything). */
export function compileRule(rule: unknown, owner: string, field: string): Predicate {
    const spec = fields(rule, ["from", "to"], owner, field);
    const from = list(spec.from, owner, `${field}.from`).map((e, i) => compileSource(e, owner, `${field}.from[${i}]`));
    const to = list(spec.to, owner, `${field}.to`).map((e, i) => compileOperation(e, owner, `${field}.to[${i}]`));
    return (a) => (from.length === 0 || from.some((m) => m(a))) && (to.length === 0 || to.some((m) => m(a)));
}

export interface CompiledPolicy {
    /** `<namespace>/<name>`. */
    readonly name: string;
    readonly action: "ALLOW" | "DENY";
    readonly rules: readonly Predicate[];
}

/** Validates the whole policy (every rule), so an unmodelled field fails even when an earlier rule decides. */
export function compilePolicy(name: string, spec: unknown): CompiledPolicy {
    const owner = `AuthorizationPolicy ${name}`;
    const body = fields(spec ?? {}, ["selector", "action", "rules"], owner, "spec");
    const action = body.action ?? "ALLOW";
    if (action !== "ALLOW" && action !== "DENY") {
        throw notModelled(owner, "spec.action", `${String(action)} is not modelled`);
    }
    return { name, action, rules: list(body.rules, owner, "spec.rules").map((rule, i) => compileRule(rule, owner, `spec.rules[${i}]`)) };
}

export interface Decision {
    readonly allowed: boolean;
    readonly reason: string;
}

/** DENY policies first (any matching rule denies), then ALLOW policies (if any apply, one rule must match). */
export function decide(policies: readonly CompiledPolicy[], attributes: AuthzAttributes): Decision {
    if (policies.length === 0) {
        return { allowed: true, reason: "no AuthorizationPolicy applies" };
    }
    for (const policy of policies.filter((p) => p.action === "DENY")) {
        const rule = policy.rules.findIndex((matches) => matches(attributes));
        if (rule >= 0) {
            return { allowed: false, reason: `denied by DENY policy ${policy.name} (rules[${rule}])` };
        }
    }
    const allow = policies.filter((p) => p.action === "ALLOW");
    if (allow.length === 0) {
        return { allowed: true, reason: "no DENY policy matches and no ALLOW policy applies" };
    }
    for (const policy of allow) {
        const rule = policy.rules.findIndex((matches) => matches(attributes));
        if (rule >= 0) {
            return { allowed: true, reason: `allowed by ${policy.name} (rules[${rule}])` };
        }
    }
    const why = allow.map((p) => (p.rules.length === 0 ? `${p.name} allows nothing` : `${p.name} has no matching rule`));
    return { allowed: false, reason: `denied: no ALLOW policy matches (${why.join("; ")})` };
}
