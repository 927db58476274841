import * as assert from "node:assert/strict";
import { parsePlatformConfig } from "../../stacks/config";
import { type BadConfig, changed, inProd, mesh, model, type Raw, rejectsExactlyOne, SAGEMAKER } from "./fixtures/rawConfig";

describe("parsePlatformConfig front door settings", () => {
    const ISSUER = { issuer: "https://example.okta.com/oauth2/default", jwksUri: "https://example.okta.com/oauth2/default/v1/keys", audiences: ["api://mlmesh"] };
    const FRAUD_SPLIT = { name: "fraud", backend: "split", routes: [{ model: "resnet", weight: 90 }, { model: "fraud-sm", weight: 10 }] };
    /** Lists the TF Serving model, the SageMaker model and the split at models[0..2], with one change to the split. */
    const withSplit = (change: (split: Raw) => void = () => undefined) => (r: Raw) => {
        model(r);
        const split = structuredClone(FRAUD_SPLIT);
        change(split);
        r["mlmesh:models"].push(structuredClone(SAGEMAKER), split);
    };
    const internetFacing = (r: Raw) => Object.assign(mesh(r).ingressGateway, { scheme: "internet-facing", hosts: ["inference.example.com"] });

    it("keeps a split between a TF Serving and a SageMaker model, in the default namespace", () => {
        const config = parsePlatformConfig(changed(withSplit()), "dev");
        assert.deepEqual(config.models.map((m) => [m.name, m.backend]), [["resnet", "tfserving"], ["fraud-sm", "sagemaker"], ["fraud", "split"]]);
        assert.deepEqual(config.models[2], { ...FRAUD_SPLIT, namespace: "ml-serving" });
    });

    it("keeps JWT issuers, per-path overrides and required claims", () => {
        const raw = changed((r) => {
            Object.assign(mesh(r).ingressGateway, { jwt: [ISSUER] });
            Object.assign(model(r), { paths: [{ prefix: "/v1/models/resnet:predict", timeout: "60s" }], requireClaims: { groups: ["vision-team"] } });
        });
        const config = parsePlatformConfig(raw, "dev");
        assert.deepEqual(config.mesh.ingressGateway.jwt, [ISSUER]);
        assert.ok(config.models[0].backend === "tfserving");
        assert.deepEqual(config.models[0].paths, [{ prefix: "/v1/models/resnet:predict", timeout: "60s" }]);
        assert.deepEqual(config.models[0].requireClaims, { groups: ["vision-team"] });
    });

    it("accepts a prod internet-facing gateway with a JWT issuer", () => {
        const raw = changed(inProd((r) => { internetFacing(r); mesh(r).ingressGateway.jwt = [ISSUER]; }));
        assert.equal(parsePlatformConfig(raw, "prod").mesh.ingressGateway.scheme, "internet-facing");
    });

    const BAD_FRONT_DOOR: readonly BadConfig[] = [
        { change: "GPUs on a split", mutate: withSplit((s) => { s.gpus = 1; }), path: "mlmesh:models[2].gpus", value: 1, reason: "is not a known setting" },
        { change: "paths on a split", mutate: withSplit((s) => { s.paths = [{ prefix: "/v1/models/fraud:predict" }]; }), path: "mlmesh:models[2].paths", value: [{ prefix: "/v1/models/fraud:predict" }], reason: "is not a known setting" },
        { change: "a prod internet-facing gateway without JWT issuers", mutate: inProd(internetFacing), path: "mlmesh:mesh.ingressGateway.jwt", value: [], reason: "must list at least one issuer in prod" },
        { change: "a JWT issuer over http://", mutate: (r) => { mesh(r).ingressGateway.jwt = [{ ...ISSUER, issuer: "http://example.okta.com/oauth2/default" }]; }, path: "mlmesh:mesh.ingressGateway.jwt[0].issuer", value: "http://example.okta.com/oauth2/default", reason: "must be the issuer's HTTPS URL" },
        {
            change: "a JWT issuer without audiences while a model asks no claim",
            mutate: (r) => { model(r); mesh(r).ingressGateway = { ...mesh(r).ingressGateway, jwt: [{ ...ISSUER, audiences: [] }] }; },
            path: "mlmesh:models[0].requireClaims", value: undefined, reason: "accepts tokens for any audience",
        },
        { change: "a misspelt JWT issuer key", mutate: (r) => { mesh(r).ingressGateway.jwt = [{ ...ISSUER, jwks: "x" }]; }, path: "mlmesh:mesh.ingressGateway.jwt[0].jwks", value: "x", reason: "is not a known setting" },
        { change: "a split whose weights add up to 90", mutate: withSplit((s) => { s.routes = [{ model: "resnet", weight: 70 }, { model: "fraud-sm", weight: 20 }]; }), path: "mlmesh:models[2].routes", value: ["resnet:70", "fraud-sm:20"], reason: "adding up to 90; they must add up to 100" },
        { change: "required claims without JWT issuers", mutate: (r) => { model(r).requireClaims = { groups: ["vision-team"] }; }, path: "mlmesh:models[0].requireClaims", value: { groups: ["vision-team"] }, reason: "needs JWT issuers" },
        { change: "a path override no route reaches", mutate: (r) => { model(r).paths = [{ prefix: "/v1/models/other:predict" }]; }, path: "mlmesh:models[0].paths[0].prefix", value: "/v1/models/other:predict", reason: "no route can reach it" },
        {
            change: "two models with one name in different namespaces",
            mutate: (r) => { mesh(r).namespaces = ["ml-serving", "ml-batch"]; r["mlmesh:models"].push({ ...structuredClone(model(r)), namespace: "ml-batch" }); },
            path: "mlmesh:models[1].name", value: "resnet", reason: "model names must be unique across namespaces",
        },
    ];
    BAD_FRONT_DOOR.forEach(rejectsExactlyOne);
});
