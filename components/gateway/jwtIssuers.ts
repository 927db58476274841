/**
 * The OIDC issuers whose tokens the ingress gateway accepts, and their checks. Pure.
 */
import type { PropertyErrors } from "../propertyErrors";

const HTTPS_URL = /^https:\/\/[^\s/]+(\/\S*)?$/;

/**
 * An OIDC issuer whose tokens the ingress gateway accepts.
 * @see https://istio.io/latest/docs/reference/config/security/request_authentication/
 */
export interface JwtIssuer {
    /** The token's `iss`, exactly as the issuer writes it, e.g. `https://example.okta.com/oauth2/default`. */
    issuer: string;
    /** Where istiod fetches the issuer's signing keys (HTTPS). */
    jwksUri: string;
    /**
     * Accepted `aud` values; a token for another application of the same issuer is refused. Empty
     * only for issuers whose tokens carry no audience (Cognito access tokens): every model must
     * then ask a claim that tells your application's tokens apart, e.g. `client_id`.
     */
    audiences: string[];
}

/** The issuers' shape: HTTPS issuer and JWKS URIs, at least one audience, no issuer twice. */
export function validateJwtIssuers(jwt: readonly JwtIssuer[], errors: PropertyErrors, at: string): void {
    jwt.forEach((rule, i) => {
        errors.check(`${at}[${i}].issuer`, rule.issuer, !HTTPS_URL.test(rule.issuer) ? "must be the issuer's HTTPS URL, exactly as tokens carry it in `iss`"
            : jwt.findIndex((other) => other.issuer === rule.issuer) < i ? "is listed twice; give each issuer one entry with all its audiences" : undefined);
        errors.check(`${at}[${i}].jwksUri`, rule.jwksUri, HTTPS_URL.test(rule.jwksUri) ? undefined : "must be an HTTPS URL of the issuer's JSON Web Key Set, e.g. https://example.okta.com/oauth2/default/v1/keys");
        // An empty list is allowed (Cognito's access tokens carry no `aud`); the models must then ask a claim.
        errors.check(`${at}[${i}].audiences`, rule.audiences, rule.audiences.some((a) => a.trim() === "") ? "has a blank audience; list the `aud` values tokens are issued for" : undefined);
    });
}
