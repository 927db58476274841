/**
 * RequestAuthentication as a workload's Envoy jwt_authn filter applies it, before authorization:
 * a token whose issuer no jwtRule names, or whose `aud` misses a rule's audiences, gets 401; a
 * valid token gives the request principal `<iss>/<sub>` and its claims; a request without a token
 * passes with no principal. Pure; throws on what it does not model.
 *
 * A token is a bearer token in `Authorization` (the default location). The evaluator does not check
 * signatures, expiry or JWKS: a token is taken to be correctly signed by its issuer's keys and
 * current, so only the issuer and audiences decide.
 * @see istio/istio:pilot/pkg/security/authn/policy_applier.go@1.30.3 (convertToEnvoyJwtConfig)
 * @see https://istio.io/latest/docs/reference/config/security/request_authentication/
 */
import { selectsWorkload, type Workload } from "./routeAuthz";
import type { VerifiedJwt } from "./routeConditions";
import { fields, idOf, list, notModelled, ofKind, ownerOf, strings, type IstioObject } from "./routeObjects";

export const REQUEST_AUTHENTICATION_KIND = "security.istio.io/RequestAuthentication";

/** A bearer token the request carries in `Authorization`, taken as validly signed by its issuer. */
export interface RequestToken {
    readonly iss: string;
    readonly sub?: string;
    readonly aud?: string | readonly string[];
    /** Other claims, e.g. `groups`, `scope` (space-separated, as issuers send it) or `azp`. */
    readonly claims?: Readonly<Record<string, unknown>>;
}

export interface JwtRule {
    /** `RequestAuthentication <namespace>/<name>`. */
    readonly owner: string;
    readonly issuer: string;
    /** Empty: any audience. */
    readonly audiences: readonly string[];
    /** Whether the verified token stays in `Authorization` for the next hop. */
    readonly forwardOriginalToken: boolean;
}

/** The jwtRules of every RequestAuthentication selecting the workload (selected as AuthorizationPolicies are). */
export function jwtRulesFor(objects: readonly IstioObject[], workload: Workload): JwtRule[] {
    return ofKind(objects, REQUEST_AUTHENTICATION_KIND).filter((o) => selectsWorkload(o, workload)).flatMap((o) => {
        const owner = ownerOf(o);
        const spec = fields(o.spec ?? {}, ["selector", "jwtRules"], owner, "spec");
        return list(spec.jwtRules, owner, "spec.jwtRules").map((entry, i) => {
            const field = `spec.jwtRules[${i}]`;
            // jwks, fromHeaders, fromParams, fromCookies, outputPayloadToHeader, outputClaimToHeaders, spaceDelimitedClaims
            // and timeout change where the token is read, what the next hop receives, or how claims read: not modelled.
            const rule = fields(entry, ["issuer", "audiences", "jwksUri", "forwardOriginalToken"], owner, field);
            if (typeof rule.issuer !== "string" || rule.issuer === "") {
                throw notModelled(owner, `${field}.issuer`, "must be a non-empty string");
            }
            return { owner: `RequestAuthentication ${idOf(o)}`, issuer: rule.issuer, audiences: strings(rule.audiences, owner, `${field}.audiences`), forwardOriginalToken: rule.forwardOriginalToken === true };
        });
    });
}

/** Claims Envoy splits at spaces into lists by default (istio/istio:pilot/pkg/security/authn/policy_applier.go@1.30.3, buildSpaceDelimitedClaims). */
const SPACE_DELIMITED_CLAIMS = ["scope", "permission"];

/** The payload Envoy stores for RBAC: the token's claims with iss, sub and aud, space-delimited claims split. */
export function tokenPayload(token: RequestToken): Record<string, unknown> {
    const clash = ["iss", "sub", "aud"].find((k) => token.claims?.[k] !== undefined);
    if (clash !== undefined) {
        throw new Error(`request jwt: give \`${clash}\` as jwt.${clash}, not in jwt.claims`);
    }
    const payload: Record<string, unknown> = { ...token.claims, iss: token.iss };
    if (token.sub !== undefined) {
        payload.sub = token.sub;
    }
    if (token.aud !== undefined) {
        payload.aud = token.aud;
    }
    for (const name of SPACE_DELIMITED_CLAIMS) {
        const value = payload[name];
        if (typeof value === "string") {
            payload[name] = value.split(" ").filter((part) => part !== "");
        }
    }
    return payload;
}

/** The request as the jwt_authn filter sees it. */
export interface AuthnRequest {
    readonly token?: RequestToken;
    /** With its query string. */
    readonly path: string;
    readonly method: string;
    /** Lower-case names. */
    readonly headers: ReadonlyMap<string, string>;
}

export type Authentication =
    /** No rules, no token, or a CORS preflight: the request goes on unchanged, without a request principal. */
    | { readonly kind: "anonymous" }
    /** Envoy answers 401; `reason` is Envoy's message and why, without the status. */
    | { readonly kind: "rejected"; readonly reason: string }
    /** `forwarded`: whether the token stays in `Authorization` for the next hop. */
    | { readonly kind: "verified"; readonly jwt: VerifiedJwt; readonly forwarded: boolean };

const audiencesOf = (token: RequestToken): string[] => (token.aud === undefined ? [] : typeof token.aud === "string" ? [token.aud] : [...token.aud]);

/**
 * What the workload's jwt_authn filter does with the request. Istio requires, per rule, "that
 * provider or no token", and ORs each provider alone, so a token passes when some rule for its
 * issuer accepts its audience and fails (401) otherwise (istio/istio:pilot/pkg/security/authn/policy_applier.go@1.30.3).
 */
export function authenticate(rules: readonly JwtRule[], request: AuthnRequest): Authentication {
    if (rules.length === 0) {
        return { kind: "anonymous" };
    }
    const query = request.path.includes("?") ? request.path.slice(request.path.indexOf("?")) : "";
    if (new URLSearchParams(query).has("access_token")) {
        throw new Error(`request path ${request.path}: a token in the access_token query parameter, where ${rules[0].owner} also reads tokens, is not modelled; give it as \`jwt\``);
    }
    // Istio sets bypass_cors_preflight: a preflight is not checked.
    if (request.method.toUpperCase() === "OPTIONS" && request.headers.has("origin") && request.headers.has("access-control-request-method")) {
        return { kind: "anonymous" };
    }
    const token = request.token;
    if (token === undefined) {
        return { kind: "anonymous" };
    }
    const owners = [...new Set(rules.map((r) => r.owner))].join(", ");
    const forIssuer = rules.filter((r) => r.issuer === token.iss);
    if (forIssuer.length === 0) {
        return { kind: "rejected", reason: `Jwt issuer is not configured: ${token.iss} is not the issuer of any jwtRule of ${owners}` };
    }
    const audiences = audiencesOf(token);
    const accepting = forIssuer.filter((r) => r.audiences.length === 0 || r.audiences.some((a) => audiences.includes(a)));
    if (accepting.length === 0) {
        const wanted = [...new Set(forIssuer.flatMap((r) => r.audiences))].join(", ");
        return { kind: "rejected", reason: `Audiences in Jwt are not allowed: ${audiences.length > 0 ? audiences.join(", ") : "none"}, where ${owners} accept ${wanted} for ${token.iss}` };
    }
    const forwards = new Set(accepting.map((r) => r.forwardOriginalToken));
    if (forwards.size > 1) {
        throw new Error(`${owners}: jwtRules for issuer ${token.iss} disagree on \`forwardOriginalToken\`; which one Envoy applies is not modelled`);
    }
    const claims = tokenPayload(token);
    return {
        kind: "verified",
        jwt: { ...(token.sub !== undefined ? { principal: `${token.iss}/${token.sub}` } : {}), claims },
        forwarded: [...forwards][0],
    };
}
