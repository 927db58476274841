import * as assert from "node:assert/strict";
import { validateFrontDoor, type FrontDoorContext } from "../../../components/gateway/doorSpec";
import { doorTarget, resolveOverride } from "../../../components/gateway/doorTargets";
import { sharedProtocols, splitProtocols, type SplitProtocol } from "../../../components/gateway/doorRoutes";
import type { JwtIssuer } from "../../../components/gateway/jwtIssuers";
import type { FamilyMatch } from "../../../components/serving/trafficPolicy";
import type {
    KServeModelSpec, ModelEntry, ModelSpec, PathOverride, RequiredClaims, SplitModelSpec, TfServingModelSpec,
} from "../../../components/serving/modelSpec";
import type { SageMakerModelSpec } from "../../../components/sagemaker/sagemakerSpec";

const CLUSTER = "mlmesh-dev";
const ISSUER: JwtIssuer = { issuer: "https://example.okta.com/oauth2/default", jwksUri: "https://example.okta.com/oauth2/default/v1/keys", audiences: ["api://mlmesh"] };
/** No issuers, no public hosts: the in-mesh door only. */
const IN_MESH: FrontDoorContext = { jwt: [], hosts: [], clusterName: CLUSTER };
const WITH_JWT: FrontDoorContext = { jwt: [ISSUER], hosts: ["inference.example.com"], clusterName: CLUSTER };
const JWT_NO_HOSTS: FrontDoorContext = { jwt: [ISSUER], hosts: [], clusterName: CLUSTER };

const sagemaker = (overrides: Partial<SageMakerModelSpec> = {}): SageMakerModelSpec =>
    ({ backend: "sagemaker", name: "fraud-sm", namespace: "ml-serving", endpointName: "fraud-2024", ...overrides });
const sklearn = (overrides: Partial<KServeModelSpec> = {}): KServeModelSpec =>
    ({ backend: "kserve", name: "fraud-ks", namespace: "ml-serving", modelFormat: "sklearn", storageUri: "s3://models/fraud/v2", ...overrides });
const llm = (overrides: Partial<KServeModelSpec> = {}): KServeModelSpec =>
    ({ backend: "kserve", name: "llm", namespace: "ml-serving", modelFormat: "huggingface", storageUri: "s3://models/llama/v1", gpus: 1, ...overrides });
const resnet = (overrides: Partial<TfServingModelSpec> = {}): TfServingModelSpec =>
    ({ backend: "tfserving", name: "resnet", namespace: "ml-serving", versions: [{ name: "v1", modelUri: "s3://models/resnet/v1", weight: 100 }], ...overrides });
const onnx = (overrides: Partial<KServeModelSpec> = {}): KServeModelSpec =>
    ({ backend: "kserve", name: "detector", namespace: "ml-serving", modelFormat: "onnx", storageUri: "s3://models/detector/v1", ...overrides });
const split = (overrides: Partial<SplitModelSpec> = {}): SplitModelSpec => ({
    backend: "split", name: "fraud", namespace: "ml-serving",
    routes: [{ model: "fraud-sm", weight: 90 }, { model: "fraud-ks", weight: 10 }],
    ...overrides,
});

/** The served models every case starts from, at models[0..4]; a case's split is models[5]. */
function served(change: { sm?: Partial<SageMakerModelSpec>; ks?: Partial<KServeModelSpec>; llm?: Partial<KServeModelSpec>; resnet?: Partial<TfServingModelSpec>; onnx?: Partial<KServeModelSpec> } = {}): ModelSpec[] {
    return [sagemaker(change.sm), sklearn(change.ks), llm(change.llm), resnet(change.resnet), onnx(change.onnx)];
}
const withSplit = (overrides: Partial<SplitModelSpec> = {}): ModelEntry[] => [...served(), split(overrides)];
const llmPaths = (...paths: PathOverride[]): ModelEntry[] => served({ llm: { paths } });
const resnetPaths = (...paths: PathOverride[]): ModelEntry[] => served({ resnet: { paths } });
const resnetClaims = (requireClaims: RequiredClaims): ModelEntry[] => served({ resnet: { requireClaims } });

const LLM_PREFIXES = "/v1/models/llm, /v1/models/llm/, /v1/models/llm:, /v2/models/llm, /v2/models/llm/, /openai/llm/";

/** One expected problem: path, value, and a distinctive part of the reason. */
type Expected = [path: string, value: unknown, reason: string];
type Case = [what: string, entries: ModelEntry[], context: FrontDoorContext, expected: Expected[]];

const CASES: Case[] = [
    // Splits.
    ["a split of a SageMaker and a KServe model", withSplit(), IN_MESH, []],
    ["a split of a TF Serving and a KServe sklearn model (v1)", withSplit({ routes: [{ model: "resnet", weight: 50 }, { model: "fraud-ks", weight: 50 }] }), IN_MESH, []],
    ["a split of a huggingface and an onnx model, which share v2", withSplit({ routes: [{ model: "llm", weight: 20 }, { model: "detector", weight: 80 }] }), IN_MESH, []],
    ["a split with weights 100 and 0", withSplit({ routes: [{ model: "fraud-sm", weight: 100 }, { model: "fraud-ks", weight: 0 }] }), IN_MESH, []],
    ["a split's weights adding up to 90", withSplit({ routes: [{ model: "fraud-sm", weight: 80 }, { model: "fraud-ks", weight: 10 }] }), IN_MESH,
        [["models[5].routes", ["fraud-sm:80", "fraud-ks:10"], "have weights adding up to 90; they must add up to 100"]]],
    ["a split leg naming a model that is not in the list", withSplit({ routes: [{ model: "fraud-sm", weight: 90 }, { model: "fraud-xgb", weight: 10 }] }), IN_MESH,
        [["models[5].routes[1].model", "fraud-xgb", "is not a model of the list; use one of: fraud-sm, fraud-ks, llm, resnet, detector"]]],
    ["a split leg naming another split", [...withSplit(), split({ name: "fraud-ab", routes: [{ model: "fraud-sm", weight: 50 }, { model: "fraud", weight: 50 }] })], IN_MESH,
        [["models[6].routes[1].model", "fraud", "is itself a split; list its legs here directly (splits do not nest)"]]],
    ["a split naming itself as a leg", withSplit({ routes: [{ model: "fraud-sm", weight: 50 }, { model: "fraud", weight: 50 }] }), IN_MESH,
        [["models[5].routes[1].model", "fraud", "is this split itself"]]],
    ["a split naming one model twice", withSplit({ routes: [{ model: "fraud-sm", weight: 50 }, { model: "fraud-sm", weight: 50 }] }), IN_MESH,
        [["models[5].routes[1].model", "fraud-sm", "is named twice; give each model one leg with its whole weight"]]],
    ["a split with only one leg", withSplit({ routes: [{ model: "fraud-sm", weight: 100 }] }), IN_MESH,
        [["models[5].routes", [{ model: "fraud-sm", weight: 100 }], "must list at least two models"]]],
    ["a split of an onnx model (v2 only) and a SageMaker model (:predict only)", withSplit({ routes: [{ model: "detector", weight: 50 }, { model: "fraud-sm", weight: 50 }] }), IN_MESH,
        [["models[5].routes", ["detector", "fraud-sm"], "share no protocol a split can carry"]]],
    ["a split of a TF Serving model (v1) and an onnx model (v2)", withSplit({ routes: [{ model: "resnet", weight: 50 }, { model: "detector", weight: 50 }] }), IN_MESH,
        [["models[5].routes", ["resnet", "detector"], "resnet (v1), detector (v2)"]]],
    ["a split leg weighing 101", withSplit({ routes: [{ model: "fraud-sm", weight: 101 }, { model: "fraud-ks", weight: 0 }] }), IN_MESH, [
        ["models[5].routes[0].weight", 101, "must be a whole number from 0 to 100"],
        ["models[5].routes", ["fraud-sm:101", "fraud-ks:0"], "adding up to 101"],
    ]],
    ["a split leg with a fractional weight", withSplit({ routes: [{ model: "fraud-sm", weight: 89.5 }, { model: "fraud-ks", weight: 10.5 }] }), IN_MESH, [
        ["models[5].routes[0].weight", 89.5, "must be a whole number from 0 to 100"],
        ["models[5].routes[1].weight", 10.5, "must be a whole number from 0 to 100"],
    ]],
    ["a split whose timeout is shorter than the default perTryTimeout", withSplit({ timeout: "5s" }), IN_MESH,
        [["models[5].timeout", "5s", "is shorter than `retries.perTryTimeout` (10s by default)"]]],
    ["a split leg on a KServe model in Knative mode", [sagemaker(), sklearn({ deploymentMode: "Knative" }), split()], IN_MESH,
        [["models[2].routes[1].model", "fraud-ks", "is not routed by the front door (KServe Knative mode)"]]],

    // Per-path overrides.
    ["an override of a huggingface model's chat completions, written as the server sees it", llmPaths({ prefix: "/openai/v1/chat/completions", timeout: "600s" }), IN_MESH, []],
    ["an override of a huggingface model's chat completions, written as the client sends it", llmPaths({ prefix: "/openai/llm/v1/chat/completions", timeout: "600s" }), IN_MESH, []],
    ["an override of a TF Serving model's REST predict", resnetPaths({ prefix: "/v1/models/resnet:predict", timeout: "60s", retries: { perTryTimeout: "20s" } }), IN_MESH, []],
    ["an override of a TF Serving model's gRPC Predict method", resnetPaths({ prefix: "/tensorflow.serving.PredictionService/Predict", timeout: "60s" }), IN_MESH, []],
    ["an override of a SageMaker model's predict path", served({ sm: { paths: [{ prefix: "/v1/models/fraud-sm:predict", timeout: "50s" }] } }), IN_MESH, []],
    ["an override of another model's path", llmPaths({ prefix: "/v1/models/other:predict" }), IN_MESH,
        [["models[2].paths[0].prefix", "/v1/models/other:predict", `is not under a path llm answers, so no route can reach it; use a prefix under one of: ${LLM_PREFIXES}`]]],
    ["an override prefix without a leading /", llmPaths({ prefix: "openai/v1/embeddings" }), IN_MESH,
        [["models[2].paths[0].prefix", "openai/v1/embeddings", "must be a path starting with /"]]],
    ["an override prefix listed twice", llmPaths({ prefix: "/openai/v1/embeddings", timeout: "10s" }, { prefix: "/openai/v1/embeddings", timeout: "20s" }), IN_MESH,
        [["models[2].paths[1].prefix", "/openai/v1/embeddings", "is listed twice; give each prefix one entry"]]],
    ["an override whose perTryTimeout exceeds its timeout", resnetPaths({ prefix: "/v1/models/resnet:predict", timeout: "5s", retries: { perTryTimeout: "8s" } }), IN_MESH,
        [["models[3].paths[0].retries.perTryTimeout", "8s", "is longer than `timeout` (5s); no retry could finish"]]],
    ["an override whose timeout is shorter than the model's default perTryTimeout", resnetPaths({ prefix: "/v1/models/resnet:predict", timeout: "2s" }), IN_MESH,
        [["models[3].paths[0].timeout", "2s", "is shorter than `retries.perTryTimeout` (10s by default)"]]],
    ["an override timeout that is not a duration", resnetPaths({ prefix: "/v1/models/resnet:predict", timeout: "soon" }), IN_MESH,
        [["models[3].paths[0].timeout", "soon", "is not a duration"]]],
    ["an override perTryTimeout on a huggingface model, whose retries are off by default", llmPaths({ prefix: "/openai/v1/completions", retries: { perTryTimeout: "60s" } }), IN_MESH,
        [["models[2].paths[0].retries.perTryTimeout", "60s", "has no effect with `attempts: 0`"]]],
    ["an override with 11 retry attempts", resnetPaths({ prefix: "/v1/models/resnet:predict", retries: { attempts: 11 } }), IN_MESH,
        [["models[3].paths[0].retries.attempts", 11, "must be a whole number from 0 to 10"]]],
    ["paths on a KServe model in Knative mode", served({ ks: { deploymentMode: "Knative", paths: [{ prefix: "/v1/models/fraud-ks:predict" }] } }), IN_MESH,
        [["models[1].paths", [{ prefix: "/v1/models/fraud-ks:predict" }], "has no effect: the front door does not route KServe's Knative mode"]]],

    // Required claims.
    ["claims a caller's token must carry", resnetClaims({ groups: ["vision-team"], "cognito:groups": ["admins", "ops"] }), WITH_JWT, []],
    ["claims on a split", withSplit({ requireClaims: { groups: ["fraud-analysts"] } }), WITH_JWT, []],
    ["claims without JWT issuers", resnetClaims({ groups: ["vision-team"] }), IN_MESH,
        [["models[3].requireClaims", { groups: ["vision-team"] }, "needs JWT issuers (mlmesh:mesh.ingressGateway.jwt)"]]],
    ["claims on a split without JWT issuers", withSplit({ requireClaims: { groups: ["fraud-analysts"] } }), IN_MESH,
        [["models[5].requireClaims", { groups: ["fraud-analysts"] }, "needs JWT issuers"]]],
    ["claims with issuers but no public hosts", resnetClaims({ groups: ["vision-team"] }), JWT_NO_HOSTS,
        [["models[3].requireClaims", { groups: ["vision-team"] }, "has no effect: the ingress gateway has no public hosts"]]],
    ["an empty claims object", resnetClaims({}), WITH_JWT,
        [["models[3].requireClaims", {}, "names no claim"]]],
    ["a claim with no values", resnetClaims({ groups: [] }), WITH_JWT,
        [["models[3].requireClaims.groups", [], "must list the values that admit a caller"]]],
    ["a claim with a blank value", resnetClaims({ groups: ["vision-team", " "] }), WITH_JWT,
        [["models[3].requireClaims.groups", ["vision-team", " "], "must list the values that admit a caller"]]],
    ["a claim name Istio cannot hold", resnetClaims({ "groups[0]": ["vision-team"] }), WITH_JWT,
        [["models[3].requireClaims.groups[0]", ["vision-team"], "names a claim with characters Istio's `request.auth.claims[...]` cannot hold"]]],
    // A split reaches its legs as the ingress gateway, which every model admits: it may not open a leg wider than the leg's own rules.
    ["a split admitting an in-mesh caller its legs do not", withSplit({ allowedPrincipals: ["cluster.local/ns/crm/sa/scorer"] }), IN_MESH,
        [["models[5].allowedPrincipals[0]", "cluster.local/ns/crm/sa/scorer", "is not in the allowedPrincipals of fraud-sm, fraud-ks"]]],
    ["a split whose callers every leg admits", [...served({ sm: { allowedPrincipals: ["cluster.local/ns/crm/sa/scorer"] }, ks: { allowedPrincipals: ["cluster.local/ns/crm/sa/scorer"] } }), split({ allowedPrincipals: ["cluster.local/ns/crm/sa/scorer"] })], IN_MESH, []],
    ["a split asking fewer claims than a leg", [...served({ sm: { requireClaims: { groups: ["fraud-analysts"] } } }), split()], WITH_JWT,
        [["models[5].requireClaims", undefined, "must ask at least what fraud-sm asks (groups ∈ {fraud-analysts})"]]],
    ["a split admitting a claim value a leg does not", [...served({ sm: { requireClaims: { groups: ["fraud-analysts"] } } }), split({ requireClaims: { groups: ["fraud-analysts", "marketing"] } })], WITH_JWT,
        [["models[5].requireClaims", { groups: ["fraud-analysts", "marketing"] }, "must ask at least what fraud-sm asks (groups ∈ {fraud-analysts})"]]],
    ["a split whose claims cover its legs'", [...served({ sm: { requireClaims: { groups: ["fraud-analysts"] } } }), split({ requireClaims: { groups: ["fraud-analysts"] } })], WITH_JWT, []],
    ["a split retrying on conditions a leg does not", [...served({ sm: { retries: { attempts: 2, retryOn: "reset" } } }), split({ retries: { retryOn: "5xx,reset" } })], IN_MESH,
        [["models[5].retries.retryOn", "5xx,reset", "fraud-sm retries only on reset"]]],
    ["a split retrying more than a leg allows", [...served({ sm: { retries: { attempts: 0 } } }), split({ retries: { attempts: 2 } })], IN_MESH,
        [["models[5].retries.attempts", 2, "fraud-sm allows 0"]]],
    // Cognito's access tokens carry no `aud`: an issuer without audiences needs every model to tell its tokens apart by a claim.
    ["an issuer without audiences, and a model asking no claim", [resnet(), resnet({ name: "vision", requireClaims: { client_id: ["app-1"] } })], { ...WITH_JWT, jwt: [{ ...ISSUER, audiences: [] }] },
        [["models[0].requireClaims", undefined, "issuer https://example.okta.com/oauth2/default accepts tokens for any audience"]]],
];

describe("validateFrontDoor", () => {
    for (const [what, entries, context, expected] of CASES) {
        const verdict = expected.length === 0 ? "accepts" : `reports ${expected.map(([path]) => path).join(" and ")} for`;
        it(`${verdict} ${what}`, () => {
            const problems = validateFrontDoor(entries, context).list;
            assert.deepEqual(problems.map((p) => p.path), expected.map(([path]) => path), JSON.stringify(problems, null, 1));
            expected.forEach(([, value, reason], i) => {
                assert.deepEqual(problems[i].value, value);
                assert.ok(problems[i].reason.includes(reason), `reason "${problems[i].reason}" should include "${reason}"`);
            });
        });
    }

    it("names each leg's protocols when a split's legs share none", () => {
        const [problem] = validateFrontDoor(withSplit({ routes: [{ model: "detector", weight: 50 }, { model: "fraud-sm", weight: 50 }] }), IN_MESH).list;
        assert.ok(problem.reason.includes("detector (v2), fraud-sm (predict)"), problem.reason);
    });

    it("puts problems under the path it is given", () => {
        const problems = validateFrontDoor(withSplit({ routes: [{ model: "fraud-sm", weight: 100 }] }), IN_MESH, undefined, "mlmesh:models").list;
        assert.deepEqual(problems.map((p) => p.path), ["mlmesh:models[5].routes"]);
    });
});

describe("splitProtocols and sharedProtocols", () => {
    const target = (spec: ModelSpec) => doorTarget(spec, CLUSTER);
    const spoken: [string, ModelSpec, SplitProtocol[]][] = [
        ["a TF Serving model speaks v1 (REST; gRPC cannot be split)", resnet(), ["v1"]],
        ["a KServe sklearn model speaks v1 and v2", sklearn(), ["v1", "v2"]],
        ["a huggingface model speaks v1 and v2 (OpenAI cannot be split)", llm(), ["v1", "v2"]],
        ["an onnx model speaks v2", onnx(), ["v2"]],
        ["a SageMaker model speaks :predict", sagemaker(), ["predict"]],
    ];
    for (const [what, spec, protocols] of spoken) {
        it(what, () => assert.deepEqual(splitProtocols(target(spec)), protocols));
    }

    const shared: [string, ModelSpec[], SplitProtocol[]][] = [
        ["a SageMaker leg narrows a split with a v1 server to :predict", [sagemaker(), sklearn()], ["predict"]],
        ["two SageMaker legs share :predict", [sagemaker(), sagemaker({ name: "fraud-sm2", endpointName: "fraud-2025" })], ["predict"]],
        ["a SageMaker leg and a v2-only leg share nothing", [sagemaker(), onnx()], []],
        ["two v1-and-v2 servers share both", [sklearn(), llm()], ["v1", "v2"]],
        ["a TF Serving and an sklearn model share v1", [resnet(), sklearn()], ["v1"]],
        ["a TF Serving and an onnx model share nothing", [resnet(), onnx()], []],
    ];
    for (const [what, specs, protocols] of shared) {
        it(what, () => assert.deepEqual(sharedProtocols(specs.map(target)), protocols));
    }
});

/** Whether a request path takes one of the route matches. */
function covers(matches: readonly FamilyMatch[], path: string): boolean {
    return matches.some((m) => ("exact" in m.uri ? m.uri.exact === path : path.startsWith(m.uri.prefix)));
}

describe("resolveOverride", () => {
    const llmTarget = doorTarget(llm(), CLUSTER);
    const resnetTarget = doorTarget(resnet(), CLUSTER);

    for (const prefix of ["/openai/v1/chat/completions", "/openai/llm/v1/chat/completions"]) {
        it(`routes a huggingface override written ${prefix} at /openai/llm/v1/chat/completions, rewritten to the server's /openai/v1/chat/completions`, () => {
            const [resolved] = resolveOverride(llmTarget, prefix);
            assert.ok(resolved);
            assert.equal(resolved.family.protocol, "openai");
            assert.deepEqual(resolved.matches.map((m) => m.uri), [{ prefix: "/openai/llm/v1/chat/completions" }]);
            assert.equal(resolved.rewrite, "/openai/v1/chat/completions");
        });
    }

    it("keeps a TF Serving REST override's path as it is: no rewrite", () => {
        const [resolved] = resolveOverride(resnetTarget, "/v1/models/resnet:predict");
        assert.ok(resolved);
        assert.equal(resolved.family.protocol, "tfserving-rest");
        assert.deepEqual(resolved.matches.map((m) => m.uri), [{ prefix: "/v1/models/resnet:predict" }]);
        assert.equal("rewrite" in resolved, false);
    });

    it("matches a gRPC method override exactly, with the model header", () => {
        const [resolved] = resolveOverride(resnetTarget, "/tensorflow.serving.PredictionService/Predict");
        assert.ok(resolved);
        assert.equal(resolved.family.protocol, "tfserving-grpc");
        assert.deepEqual(resolved.matches, [{ uri: { exact: "/tensorflow.serving.PredictionService/Predict" }, headers: { "x-model-name": "resnet" } }]);
        assert.equal(resolved.rewrite, undefined);
    });

    it("rewrites a SageMaker override to its endpoint's invocations", () => {
        const [resolved] = resolveOverride(doorTarget(sagemaker(), CLUSTER), "/v1/models/fraud-sm:predict");
        assert.ok(resolved);
        assert.equal(resolved.rewrite, "/endpoints/fraud-2024/invocations");
    });

    it("finds no route for another model's path", () => {
        assert.deepEqual(resolveOverride(llmTarget, "/v1/models/other:predict"), []);
    });

    // The resolved routes must take the requests the prefix covers, else the override is accepted but never applies.
    const reach: [model: string, prefix: string, request: string][] = [
        ["llm", "/openai/", "/openai/llm/v1/embeddings"],
        ["llm", "/openai/v1", "/openai/llm/v1/chat/completions"],
        ["llm", "/openai/llm/", "/openai/llm/v1/chat/completions"],
        ["llm", "/openai/llm", "/openai/llm/v1/chat/completions"],
        ["resnet", "/tensorflow.serving.PredictionService/", "/tensorflow.serving.PredictionService/Predict"],
        ["resnet", "/v1/models/resnet:", "/v1/models/resnet:predict"],
        ["resnet", "/v1/models/resnet", "/v1/models/resnet:predict"],
    ];
    for (const [model, prefix, request] of reach) {
        it(`applies an override at ${prefix} of ${model} to ${request}`, () => {
            const resolved = resolveOverride(model === "llm" ? llmTarget : resnetTarget, prefix);
            assert.ok(resolved.length > 0, `${prefix} should resolve`);
            assert.ok(covers(resolved.flatMap((r) => r.matches), request), `matches ${JSON.stringify(resolved.flatMap((r) => r.matches).map((m) => m.uri))} do not take ${request}`);
        });
    }
});
