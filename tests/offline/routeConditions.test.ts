import * as assert from "node:assert/strict";
import type { AuthzAttributes } from "../../offline/routeAuthz";
import { claimAt, claimMatches, compileWhen, headerPattern, requestPrincipalMatches, type VerifiedJwt } from "../../offline/routeConditions";

const ISSUER = "https://login.example.com/";
const jwt = (claims: Record<string, unknown>): VerifiedJwt => ({ claims });
const ALICE = jwt({ iss: ISSUER, sub: "alice" });

describe("requestPrincipals patterns, split at the last / into issuer and subject as Istio compiles them", () => {
    const cases: [string, VerifiedJwt | undefined, boolean][] = [
        [`${ISSUER}/alice`, ALICE, true],
        [`${ISSUER}/bob`, ALICE, false],
        ["*", ALICE, true],
        ["*", jwt({ iss: ISSUER }), false],
        ["*", undefined, false],
        [`${ISSUER}/*`, ALICE, true],
        [`${ISSUER}/al*`, ALICE, true],
        ["https://login.example.com/*", ALICE, false],
        ["lo*", jwt({ iss: "login", sub: "x" }), true],
        ["*/alice", ALICE, true],
        ["*.example.org//alice", ALICE, false],
        ["*example.com//alice", ALICE, true],
        ["*ice", ALICE, true],
        // The last / of `https://` splits it: issuer `https:/`, subject prefix `login`.
        ["https://login*", ALICE, false],
        ["https://login.example.com/*", jwt({ iss: "https://login.example.com", sub: "x" }), true],
        [ISSUER, ALICE, false],
    ];
    for (const [pattern, token, matches] of cases) {
        it(`${matches ? "matches" : "does not match"} ${token ? JSON.stringify(token.claims) : "no token"} with ${pattern}`, () => assert.equal(requestPrincipalMatches(pattern, token), matches));
    }
});

describe("claim and header values", () => {
    const claims: [string, unknown, boolean][] = [
        ["fraud-analysts", "fraud-analysts", true],
        ["fraud-analysts", ["churn-analysts", "fraud-analysts"], true],
        ["fraud-analysts", ["churn-analysts"], false],
        ["fraud-*", ["fraud-analysts"], true],
        ["*", "", false],
        ["true", true, false],
        ["fraud-analysts", undefined, false],
    ];
    for (const [pattern, value, matches] of claims) {
        it(`${matches ? "matches" : "does not match"} claim ${JSON.stringify(value)} with ${pattern}`, () => assert.equal(claimMatches(pattern, value), matches));
    }

    it("reads a nested claim and nothing through a non-object", () => {
        assert.deepEqual([claimAt({ realm: { roles: ["a"] } }, ["realm", "roles"]), claimAt({ realm: "x" }, ["realm", "roles"])], [["a"], undefined]);
    });

    const headers: [string, string | undefined, boolean][] = [["*", "", true], ["*", undefined, false], ["team-*", "team-ml", true], ["ML", "ml", false]];
    for (const [pattern, value, matches] of headers) {
        it(`${matches ? "matches" : "does not match"} header ${JSON.stringify(value)} with ${pattern}`, () => assert.equal(headerPattern(pattern, value), matches));
    }
});

describe("`when` conditions", () => {
    const base: AuthzAttributes = { path: "/v1/models/fraud:predict", method: "POST", authority: "inference.example.com", port: 443, principal: "cluster.local/ns/crm/sa/scorer" };
    const holds = (when: Record<string, unknown>, attributes: Partial<AuthzAttributes>) => compileWhen(when, "AuthorizationPolicy ns/p", "spec.rules[0].when[0]").every((p) => p({ ...base, ...attributes }));
    const groups = (value: unknown) => ({ jwt: jwt({ iss: ISSUER, sub: "alice", groups: value }) });
    const cases: [string, Record<string, unknown>, Partial<AuthzAttributes>, boolean][] = [
        ["a list claim holding the value", { key: "request.auth.claims[groups]", values: ["fraud-analysts"] }, groups(["a", "fraud-analysts"]), true],
        ["a list claim without it", { key: "request.auth.claims[groups]", values: ["fraud-analysts"] }, groups(["a"]), false],
        ["no token at all", { key: "request.auth.claims[groups]", values: ["fraud-analysts"] }, {}, false],
        ["notValues on an absent claim (Istio negates the match, so absence passes)", { key: "request.auth.claims[groups]", notValues: ["banned"] }, {}, true],
        ["notValues on a list claim holding the value", { key: "request.auth.claims[groups]", notValues: ["banned"] }, groups(["x", "banned"]), false],
        ["a nested claim", { key: "request.auth.claims[realm][roles]", values: ["admin"] }, { jwt: jwt({ realm: { roles: ["admin"] } }) }, true],
        ["the request principal", { key: "request.auth.principal", values: [`${ISSUER}/alice`] }, { jwt: ALICE }, true],
        ["an audience in the aud list", { key: "request.auth.audiences", values: ["mlmesh"] }, { jwt: jwt({ aud: ["x", "mlmesh"] }) }, true],
        ["the presenter", { key: "request.auth.presenter", values: ["web-*"] }, { jwt: jwt({ azp: "web-app" }) }, true],
        ["a request header", { key: "request.headers[X-Team]", values: ["ml"] }, { headers: new Map([["x-team", "ml"]]) }, true],
        ["an absent request header", { key: "request.headers[x-team]", values: ["*"] }, {}, false],
        ["the source principal", { key: "source.principal", values: ["*/ns/crm/*"] }, {}, false],
        ["the source principal's suffix", { key: "source.principal", values: ["*/sa/scorer"] }, {}, true],
        ["the destination port", { key: "destination.port", values: ["443"] }, {}, true],
        ["another destination port", { key: "destination.port", notValues: ["443"] }, {}, false],
    ];
    for (const [what, when, attributes, expected] of cases) {
        it(`${expected ? "holds" : "does not hold"} for ${what}`, () => assert.equal(holds(when, attributes), expected));
    }

    const errors: [string, Record<string, unknown>, RegExp][] = [
        ["an unmodelled key", { key: "source.ip", values: ["10.0.0.0/8"] }, /`spec\.rules\[0\]\.when\[0\]\.key` source\.ip is not modelled: only request\.auth\.claims\[<claim>\]/],
        ["a claim key without brackets", { key: "request.auth.claims.groups", values: ["a"] }, /`spec\.rules\[0\]\.when\[0\]\.key` needs \[<claim>\]/],
        ["the Authorization header", { key: "request.headers[authorization]", values: ["*"] }, /bearer token are not request headers here/],
        ["a port that is not a number", { key: "destination.port", values: ["https"] }, /must list port numbers, got https/],
    ];
    for (const [what, when, error] of errors) {
        it(`throws on ${what}`, () => assert.throws(() => compileWhen(when, "AuthorizationPolicy ns/p", "spec.rules[0].when[0]"), error));
    }
});
