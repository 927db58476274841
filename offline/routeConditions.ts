/**
 * The matchers Istio compiles AuthorizationPolicy values into, as Envoy's RBAC filter evaluates
 * them: value patterns, request principals, JWT claims and headers, and the rule-level `when`
 * keys the route evaluator models. Pure; throws on a key or value it does not model.
 * @see istio/istio:pilot/pkg/security/authz/model/generator.go@1.30.3
 * @see https://istio.io/latest/docs/reference/config/security/conditions/
 */
import type { AuthzAttributes } from "./routeAuthz";
import { fields, notModelled, strings } from "./routeObjects";

export type Predicate = (attributes: AuthzAttributes) => boolean;

/** The JWT a workload's RequestAuthentication verified. */
export interface VerifiedJwt {
    /** `<iss>/<sub>`; undefined when the token has no `sub`. */
    readonly principal?: string;
    /** The payload as Envoy's jwt_authn filter stores it for RBAC: iss, sub, aud and the other claims. */
    readonly claims: Readonly<Record<string, unknown>>;
}

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

/** An Envoy string matcher on a metadata value: only a string value can match. */
const stringClaim = (pattern: string, value: unknown): boolean => typeof value === "string" && authzPattern(pattern, value);

/**
 * A claim condition. Istio matches a claim with an OR of a list matcher (`one_of`) and the string
 * matcher, so a list claim matches when any element does and a string claim when it does; an absent
 * claim, or one of another type, never matches (istio/istio:pilot/pkg/security/authz/matcher/metadata.go@1.30.3).
 */
export function claimMatches(pattern: string, value: unknown): boolean {
    return Array.isArray(value) ? value.some((element) => stringClaim(pattern, element)) : stringClaim(pattern, value);
}

/** The claim at `path` (`[a][b]` is claim `b` inside object claim `a`); undefined when a step is missing or not an object. */
export function claimAt(claims: Readonly<Record<string, unknown>> | undefined, path: readonly string[]): unknown {
    let value: unknown = claims;
    for (const key of path) {
        if (value === null || typeof value !== "object" || Array.isArray(value)) {
            return undefined;
        }
        value = (value as Record<string, unknown>)[key];
    }
    return value;
}

/**
 * A `requestPrincipals` value, the way Istio compiles it: split at its last `/` into an issuer and a
 * subject pattern, each matched against the token's `iss` and `sub` claims (`*` alone needs both
 * non-empty). No verified token never matches. (istio/istio:pilot/pkg/security/authz/model/generator.go@1.30.3, requestPrincipalGenerator)
 */
export function requestPrincipalMatches(pattern: string, jwt: VerifiedJwt | undefined): boolean {
    if (jwt === undefined) {
        return false;
    }
    const [iss, sub] = [jwt.claims.iss, jwt.claims.sub];
    const any = (v: unknown): boolean => typeof v === "string" && v.length > 0;
    const exact = (v: unknown, p: string): boolean => v === p;
    const at = pattern.lastIndexOf("/");
    const [issuer, subject] = at >= 0 ? [pattern.slice(0, at), pattern.slice(at + 1)] : [pattern, ""];
    if (pattern === "*") {
        return any(iss) && any(sub);
    }
    if (pattern.startsWith("*")) {
        return at >= 0
            ? (issuer === "*" ? any(iss) : typeof iss === "string" && iss.endsWith(issuer.slice(1))) && exact(sub, subject)
            : any(iss) && typeof sub === "string" && sub.endsWith(pattern.slice(1));
    }
    if (pattern.endsWith("*")) {
        return at >= 0
            ? exact(iss, issuer) && (subject === "*" ? any(sub) : typeof sub === "string" && sub.startsWith(subject.slice(0, -1)))
            : typeof iss === "string" && iss.startsWith(pattern.slice(0, -1)) && any(sub);
    }
    return exact(iss, issuer) && exact(sub, subject);
}

/** Istio's header matcher: `*` is presence (an empty value counts), then `*suffix`, `prefix*` or exact, case-sensitive. */
export function headerPattern(pattern: string, value: string | undefined): boolean {
    return pattern === "*" ? value !== undefined : authzPattern(pattern, value);
}

/** `values`: one must match; `notValues`: none may. An empty list is no condition, as in Istio. */
export function valuesCondition(values: readonly string[], notValues: readonly string[], test: (value: string, attributes: AuthzAttributes) => boolean): Predicate[] {
    return [
        ...(values.length > 0 ? [(a: AuthzAttributes) => values.some((v) => test(v, a))] : []),
        // Istio negates the whole OR, so a claim or header that is absent satisfies notValues.
        ...(notValues.length > 0 ? [(a: AuthzAttributes) => !notValues.some((v) => test(v, a))] : []),
    ];
}

/** The names in `[a][b]…` after a key's prefix; throws on any other shape (Istio skips such a rule). */
function bracketed(rest: string, owner: string, field: string, nested: boolean): string[] {
    const shape = nested ? /^(\[[^[\]]+\])+$/ : /^\[[^[\]]+\]$/;
    if (!shape.test(rest)) {
        throw notModelled(owner, field, `needs ${nested ? "[<claim>] or nested [<claim>][<claim>]" : "[<header>]"} after the attribute, got ${JSON.stringify(rest)}`);
    }
    return [...rest.matchAll(/\[([^[\]]+)\]/g)].map((m) => m[1]);
}

const CLAIMS = "request.auth.claims";
const HEADERS = "request.headers";
export const WHEN_KEYS = [`${CLAIMS}[<claim>]`, "request.auth.principal", "request.auth.audiences", "request.auth.presenter", `${HEADERS}[<name>]`, "source.principal", "destination.port"];

/** What one `when` value tests for the key, per istio/istio:pilot/pkg/security/authz/model/model.go@1.30.3. */
function whenTest(key: string, owner: string, field: string): (value: string, a: AuthzAttributes) => boolean {
    const claim = (path: readonly string[]) => (v: string, a: AuthzAttributes) => claimMatches(v, claimAt(a.jwt?.claims, path));
    if (key.startsWith(CLAIMS)) {
        return claim(bracketed(key.slice(CLAIMS.length), owner, `${field}.key`, true));
    }
    if (key.startsWith(HEADERS)) {
        const [name] = bracketed(key.slice(HEADERS.length), owner, `${field}.key`, false).map((n) => n.toLowerCase());
        if (name.startsWith(":") || name === "host" || name === "authorization") {
            throw notModelled(owner, `${field}.key`, `${key} is not modelled: pseudo-headers, Host and the bearer token are not request headers here`);
        }
        return (v, a) => headerPattern(v, a.headers?.get(name));
    }
    switch (key) {
        case "request.auth.principal":
            return (v, a) => requestPrincipalMatches(v, a.jwt);
        case "request.auth.audiences":
            return claim(["aud"]);
        case "request.auth.presenter":
            return claim(["azp"]);
        case "source.principal":
            return (v, a) => authzPattern(v, a.principal);
        case "destination.port":
            return (v, a) => {
                if (a.port === undefined) {
                    throw notModelled(owner, field, "needs the destination port: give the request or the route destination a port");
                }
                return Number(v) === a.port;
            };
        default:
            throw notModelled(owner, `${field}.key`, `${key} is not modelled: only ${WHEN_KEYS.join(", ")} are`);
    }
}

/** One `when` entry as predicates that all must hold (Istio ANDs each condition into every `from` and `to`). */
export function compileWhen(entry: unknown, owner: string, field: string): Predicate[] {
    const spec = fields(entry, ["key", "values", "notValues"], owner, field);
    if (typeof spec.key !== "string") {
        throw notModelled(owner, `${field}.key`, "must be a string");
    }
    const test = whenTest(spec.key, owner, field);
    const [values, notValues] = [strings(spec.values, owner, `${field}.values`), strings(spec.notValues, owner, `${field}.notValues`)];
    const notPort = [...values, ...notValues].find((v) => !/^\d+$/.test(v));
    if (spec.key === "destination.port" && notPort !== undefined) {
        throw notModelled(owner, field, `must list port numbers, got ${notPort}`);
    }
    return valuesCondition(values, notValues, test);
}
