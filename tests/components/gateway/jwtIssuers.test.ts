import * as assert from "node:assert/strict";
import { validateJwtIssuers, type JwtIssuer } from "../../../components/gateway/jwtIssuers";
import { PropertyErrors } from "../../../components/propertyErrors";

const OKTA: JwtIssuer = {
    issuer: "https://example.okta.com/oauth2/default",
    jwksUri: "https://example.okta.com/oauth2/default/v1/keys",
    audiences: ["api://mlmesh"],
};
const COGNITO: JwtIssuer = {
    issuer: "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_AbCdEf123",
    jwksUri: "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_AbCdEf123/.well-known/jwks.json",
    audiences: ["7h2k9example"],
};

function problemsOf(jwt: readonly JwtIssuer[]) {
    const errors = new PropertyErrors();
    validateJwtIssuers(jwt, errors, "jwt");
    return errors.list;
}

describe("validateJwtIssuers", () => {
    const valid: [string, JwtIssuer[]][] = [
        ["no issuers at all", []],
        ["one HTTPS issuer with its keys and an audience", [OKTA]],
        ["two different issuers", [OKTA, COGNITO]],
        ["an issuer with several audiences", [{ ...OKTA, audiences: ["api://mlmesh", "api://fraud"] }]],
        // Cognito access tokens carry no `aud`; the models must then ask a claim (checked by validateFrontDoor).
        ["an issuer whose tokens carry no audience", [{ ...COGNITO, audiences: [] }]],
    ];
    for (const [what, jwt] of valid) {
        it(`accepts ${what}`, () => assert.deepEqual(problemsOf(jwt), []));
    }

    const bad: [what: string, jwt: JwtIssuer[], path: string, value: unknown, reason: string][] = [
        ["an http:// issuer", [{ ...OKTA, issuer: "http://example.okta.com/oauth2/default" }], "jwt[0].issuer", "http://example.okta.com/oauth2/default", "must be the issuer's HTTPS URL"],
        ["an issuer that is not a URL", [{ ...OKTA, issuer: "example.okta.com" }], "jwt[0].issuer", "example.okta.com", "must be the issuer's HTTPS URL"],
        ["a jwksUri over http://", [{ ...OKTA, jwksUri: "http://example.okta.com/keys" }], "jwt[0].jwksUri", "http://example.okta.com/keys", "HTTPS URL of the issuer's JSON Web Key Set"],
        ["a jwksUri with a space in it", [{ ...OKTA, jwksUri: "https://example.okta.com/oauth2/default/v1 keys" }], "jwt[0].jwksUri", "https://example.okta.com/oauth2/default/v1 keys", "HTTPS URL of the issuer's JSON Web Key Set"],
        ["a blank audience beside a real one", [{ ...OKTA, audiences: ["api://mlmesh", "  "] }], "jwt[0].audiences", ["api://mlmesh", "  "], "has a blank audience"],
        ["one issuer listed twice", [OKTA, COGNITO, { ...OKTA, audiences: ["api://fraud"] }], "jwt[2].issuer", OKTA.issuer, "is listed twice; give each issuer one entry"],
    ];
    for (const [what, jwt, path, value, reason] of bad) {
        it(`reports ${what} as one problem at ${path}`, () => {
            const problems = problemsOf(jwt);
            assert.equal(problems.length, 1, JSON.stringify(problems));
            assert.equal(problems[0].path, path);
            assert.deepEqual(problems[0].value, value);
            assert.ok(problems[0].reason.includes(reason), `reason "${problems[0].reason}" should include "${reason}"`);
        });
    }

    it("reports every bad field of every issuer, under the path it is given", () => {
        const errors = new PropertyErrors();
        validateJwtIssuers([OKTA, { issuer: "http://a", jwksUri: "keys", audiences: [""] }], errors, "mlmesh:mesh.ingressGateway.jwt");
        assert.deepEqual(errors.list.map((p) => p.path), [
            "mlmesh:mesh.ingressGateway.jwt[1].issuer",
            "mlmesh:mesh.ingressGateway.jwt[1].jwksUri",
            "mlmesh:mesh.ingressGateway.jwt[1].audiences",
        ]);
    });
});
