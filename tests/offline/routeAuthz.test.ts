import * as assert from "node:assert/strict";
import { compilePolicy, decide, type AuthzAttributes } from "../../offline/routeAuthz";

const ISSUER = "https://login.example.com/";
const ALICE = { principal: `${ISSUER}/alice`, claims: { iss: ISSUER, sub: "alice", aud: "mlmesh", groups: ["fraud-analysts"] } };
const REQUEST: AuthzAttributes = { path: "/v1/models/fraud:predict", method: "POST", authority: "inference.example.com", port: 443 };
const allowed = (rule: Record<string, unknown>, attributes: Partial<AuthzAttributes>) => decide([compilePolicy("ns/p", { rules: [rule] })], { ...REQUEST, ...attributes }).allowed;

describe("request principals in AuthorizationPolicy sources", () => {
    const cases: [string, Record<string, unknown>, Partial<AuthzAttributes>, boolean][] = [
        ["allows any verified token with requestPrincipals *", { from: [{ source: { requestPrincipals: ["*"] } }] }, { jwt: ALICE }, true],
        ["refuses a request without a verified token", { from: [{ source: { requestPrincipals: ["*"] } }] }, {}, false],
        ["allows a listed subject", { from: [{ source: { requestPrincipals: [`${ISSUER}/alice`] } }] }, { jwt: ALICE }, true],
        ["refuses a token notRequestPrincipals lists", { from: [{ source: { notRequestPrincipals: [`${ISSUER}/*`] } }] }, { jwt: ALICE }, false],
        ["passes notRequestPrincipals without a token (Istio negates the match)", { from: [{ source: { notRequestPrincipals: ["*"] } }] }, {}, true],
        ["wants a peer principal and a token together when a source lists both", { from: [{ source: { principals: ["*"], requestPrincipals: ["*"] } }] }, { jwt: ALICE }, false],
    ];
    for (const [behaviour, rule, attributes, expected] of cases) {
        it(behaviour, () => assert.equal(allowed(rule, attributes), expected));
    }
});

describe("`when` in AuthorizationPolicy rules", () => {
    const rule = {
        from: [{ source: { requestPrincipals: ["*"] } }],
        to: [{ operation: { ports: ["443"], paths: ["/v1/models/fraud:*"] } }],
        when: [{ key: "request.auth.claims[groups]", values: ["fraud-analysts"] }, { key: "request.headers[x-model]", values: ["fraud"] }],
    };
    const headers = new Map([["x-model", "fraud"]]);
    const cases: [string, Partial<AuthzAttributes>, boolean][] = [
        ["allows when from, to and every condition match", { jwt: ALICE, headers }, true],
        ["refuses when one condition fails", { jwt: ALICE }, false],
        ["refuses when the claim is missing", { jwt: { ...ALICE, claims: { ...ALICE.claims, groups: [] } }, headers }, false],
        ["refuses when `to` fails even if the conditions hold", { jwt: ALICE, headers, port: 80 }, false],
    ];
    for (const [behaviour, attributes, expected] of cases) {
        it(behaviour, () => assert.equal(allowed(rule, attributes), expected));
    }

    it("denies with a DENY rule whose condition holds", () => {
        const deny = compilePolicy("ns/deny", { action: "DENY", rules: [{ when: [{ key: "request.auth.claims[groups]", notValues: ["fraud-analysts"] }] }] });
        assert.deepEqual([decide([deny], REQUEST).allowed, decide([deny], { ...REQUEST, jwt: ALICE }).allowed], [false, true]);
    });

    it("validates a condition of a rule that an earlier rule already decides", () => {
        assert.throws(() => compilePolicy("ns/p", { rules: [{}, { when: [{ key: "connection.sni", values: ["x"] }] }] }), /`spec\.rules\[1\]\.when\[0\]\.key` connection\.sni is not modelled/);
    });
});

describe("authorization rules indexed by path", () => {
    const policy = compilePolicy("ns/p", { rules: [{ to: [{ operation: { ports: ["443"], paths: ["/a"] } }] }] });
    it("decides a request whose path no rule names, even when the rules need a port it lacks", () => {
        assert.equal(decide([policy], { ...REQUEST, path: "/b", port: undefined }).allowed, false);
    });
    it("still refuses to guess a port for a rule whose path matches", () => {
        assert.throws(() => decide([policy], { ...REQUEST, path: "/a", port: undefined }), /needs the destination port/);
    });
    it("keeps the first matching rule's index in the reason", () => {
        const rules = compilePolicy("ns/q", { rules: [{ to: [{ operation: { paths: ["/x*"] } }] }, { to: [{ operation: { paths: ["/a"] } }] }, {}] });
        assert.match(decide([rules], { ...REQUEST, path: "/a" }).reason, /rules\[1\]/);
        assert.match(decide([rules], { ...REQUEST, path: "/z" }).reason, /rules\[2\]/);
    });
});
