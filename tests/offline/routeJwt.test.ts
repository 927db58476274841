import * as assert from "node:assert/strict";
import { authenticate, jwtRulesFor, tokenPayload, type AuthnRequest, type JwtRule, type RequestToken } from "../../offline/routeJwt";
import type { IstioObject } from "../../offline/routeObjects";

const ISSUER = "https://login.example.com/";
const rule = (overrides: Partial<JwtRule> = {}): JwtRule => ({ owner: "RequestAuthentication istio-ingress/mlmesh-jwt", issuer: ISSUER, audiences: ["mlmesh"], forwardOriginalToken: false, ...overrides });
const request = (token: RequestToken | undefined, overrides: Partial<AuthnRequest> = {}): AuthnRequest => ({ token, path: "/v1/models/churn:predict", method: "POST", headers: new Map(), ...overrides });
const TOKEN: RequestToken = { iss: ISSUER, sub: "alice", aud: "mlmesh" };

describe("RequestAuthentication at a workload", () => {
    const cases: [string, JwtRule[], AuthnRequest, string][] = [
        ["lets a token through a workload without rules, with no principal", [], request(TOKEN), "anonymous"],
        ["lets a request without a token through, with no principal", [rule()], request(undefined), "anonymous"],
        ["verifies a token of a configured issuer whose audience the rule accepts", [rule()], request(TOKEN), "verified"],
        ["verifies any audience when the rule lists none", [rule({ audiences: [] })], request({ ...TOKEN, aud: "other" }), "verified"],
        ["verifies a token whose audience list intersects the rule's", [rule()], request({ ...TOKEN, aud: ["billing", "mlmesh"] }), "verified"],
        ["rejects a token of an issuer no rule names", [rule()], request({ ...TOKEN, iss: "https://other/" }), "rejected"],
        ["rejects a token for another audience", [rule()], request({ ...TOKEN, aud: "billing" }), "rejected"],
        ["rejects a token without an audience where the rule lists some", [rule()], request({ iss: ISSUER, sub: "alice" }), "rejected"],
        ["accepts a token any rule for its issuer accepts", [rule({ audiences: ["billing"] }), rule({ audiences: ["mlmesh"] })], request(TOKEN), "verified"],
        ["skips a CORS preflight, as Istio's bypass_cors_preflight does", [rule()], request({ ...TOKEN, aud: "billing" }, { method: "OPTIONS", headers: new Map([["origin", "https://app"], ["access-control-request-method", "POST"]]) }), "anonymous"],
    ];
    for (const [behaviour, rules, req, kind] of cases) {
        it(behaviour, () => assert.equal(authenticate(rules, req).kind, kind));
    }

    it("gives the request principal <iss>/<sub> and the claims, and drops the token unless forwardOriginalToken", () => {
        const verified = authenticate([rule()], request({ ...TOKEN, claims: { groups: ["a"] } }));
        assert.deepEqual(verified, { kind: "verified", jwt: { principal: `${ISSUER}/alice`, claims: { groups: ["a"], iss: ISSUER, sub: "alice", aud: "mlmesh" } }, forwarded: false });
        assert.equal((authenticate([rule({ forwardOriginalToken: true })], request(TOKEN)) as { forwarded: boolean }).forwarded, true);
    });

    it("names the issuer and the rules' audiences when it rejects", () => {
        assert.deepEqual(authenticate([rule()], request({ ...TOKEN, aud: "billing" })), {
            kind: "rejected", reason: `Audiences in Jwt are not allowed: billing, where RequestAuthentication istio-ingress/mlmesh-jwt accept mlmesh for ${ISSUER}`,
        });
    });

    it("refuses to guess which rule forwards a token when rules for its issuer disagree", () => {
        assert.throws(() => authenticate([rule(), rule({ forwardOriginalToken: true })], request(TOKEN)), /disagree on `forwardOriginalToken`/);
    });

    it("refuses a token in the access_token query parameter, where Envoy also looks", () => {
        assert.throws(() => authenticate([rule()], request(undefined, { path: "/v1/models/churn:predict?access_token=x" })), /access_token query parameter/);
    });

    it("splits the space-delimited scope and permission claims into lists, as Envoy does by default", () => {
        assert.deepEqual(tokenPayload({ iss: ISSUER, claims: { scope: "read write", permission: "a", groups: "x y" } }), { iss: ISSUER, scope: ["read", "write"], permission: ["a"], groups: "x y" });
    });

    it("wants iss, sub and aud as the token's own fields", () => {
        assert.throws(() => tokenPayload({ iss: ISSUER, claims: { sub: "alice" } }), /give `sub` as jwt\.sub/);
    });
});

describe("RequestAuthentication selection", () => {
    const gateway = { namespace: "istio-ingress", labels: { app: "istio-ingressgateway", istio: "ingressgateway" }, labelsComplete: true, description: "gateway pods" };
    const ra = (namespace: string, spec: Record<string, unknown>): IstioObject => ({ apiVersion: "security.istio.io/v1", kind: "RequestAuthentication", metadata: { name: "jwt", namespace }, spec });
    const jwtRules = [{ issuer: ISSUER, audiences: ["mlmesh"], jwksUri: `${ISSUER}keys` }];

    const selections: [string, IstioObject, number][] = [
        ["selects the workload by labels in its namespace", ra("istio-ingress", { selector: { matchLabels: { istio: "ingressgateway" } }, jwtRules }), 1],
        ["applies a root-namespace rule everywhere", ra("istio-system", { jwtRules }), 1],
        ["ignores another namespace's rule", ra("ml-serving", { jwtRules }), 0],
        ["ignores a rule whose selector does not match", ra("istio-ingress", { selector: { matchLabels: { istio: "egressgateway" } }, jwtRules }), 0],
    ];
    for (const [behaviour, object, count] of selections) {
        it(behaviour, () => assert.equal(jwtRulesFor([object], gateway).length, count));
    }

    const unmodelled: [string, Record<string, unknown>, RegExp][] = [
        ["a token location", { jwtRules: [{ issuer: ISSUER, fromHeaders: [{ name: "x-jwt" }] }] }, /`spec\.jwtRules\[0\]\.fromHeaders` is not modelled/],
        ["claims copied to headers", { jwtRules: [{ issuer: ISSUER, outputClaimToHeaders: [{ header: "x-sub", claim: "sub" }] }] }, /`spec\.jwtRules\[0\]\.outputClaimToHeaders` is not modelled/],
        ["inline keys", { jwtRules: [{ issuer: ISSUER, jwks: "{}" }] }, /`spec\.jwtRules\[0\]\.jwks` is not modelled/],
        ["a rule without an issuer", { jwtRules: [{ jwksUri: "https://x/keys" }] }, /`spec\.jwtRules\[0\]\.issuer` must be a non-empty string/],
        ["targetRefs", { targetRefs: [{ kind: "Gateway", name: "inference-gw" }], jwtRules }, /`spec\.targetRefs` is not modelled/],
    ];
    for (const [what, spec, error] of unmodelled) {
        it(`throws on ${what}, naming the object and field`, () => assert.throws(() => jwtRulesFor([ra("istio-ingress", spec)], gateway), error));
    }
});
