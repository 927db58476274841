import * as assert from "node:assert/strict";
import { doorHttpRoutes, doorTable, LEG_HEADER, sharedProtocols, SPLIT_LISTENER, splitLegRoutes, splitProtocols } from "../../../components/gateway/doorRoutes";
import { doorTarget } from "../../../components/gateway/doorTargets";
import type { KServeModelSpec, ModelEntry, SplitModelSpec, TfServingModelSpec } from "../../../components/serving/modelSpec";
import type { SageMakerModelSpec } from "../../../components/sagemaker/sagemakerSpec";

const NS = "ml-tabular";
const SM: SageMakerModelSpec = { backend: "sagemaker", name: "churn-sm", namespace: NS, endpointName: "churn-xgb-2024", timeout: "20s" };
const KS: KServeModelSpec = { backend: "kserve", name: "churn-kserve", namespace: NS, modelFormat: "xgboost", storageUri: "s3://m/churn", timeout: "15s" };
const TF: TfServingModelSpec = { backend: "tfserving", name: "resnet", namespace: NS, versions: [{ name: "v1", modelUri: "s3://m/r/1", weight: 90 }, { name: "v2", modelUri: "s3://m/r/2", weight: 10 }] };
const ONNX: KServeModelSpec = { backend: "kserve", name: "vision", namespace: NS, modelFormat: "onnx", storageUri: "s3://m/vision" };
const LLM: KServeModelSpec = {
    backend: "kserve", name: "assistant", namespace: NS, modelFormat: "huggingface", storageUri: "s3://m/llm",
    paths: [{ prefix: "/openai/v1/embeddings", timeout: "30s" }, { prefix: "/openai/v1/chat/completions", timeout: "120s", retries: { attempts: 2, perTryTimeout: "60s" } }],
};
const SPLIT: SplitModelSpec = { backend: "split", name: "churn", namespace: NS, routes: [{ model: "churn-sm", weight: 80 }, { model: "churn-kserve", weight: 20 }], timeout: "25s" };
const ENTRIES: ModelEntry[] = [SM, KS, TF, ONNX, LLM, SPLIT];

type Route = { name: string; match?: Record<string, unknown>[]; route: { destination: Record<string, unknown>; weight?: number; headers?: unknown }[]; rewrite?: Record<string, string>; timeout: string; retries: unknown };
const routes = (entries: ModelEntry[] = ENTRIES) => doorHttpRoutes(doorTable(entries, "dev")) as Route[];
const named = (list: Route[], name: string) => list.find((r) => r.name === name) ?? assert.fail(`no route ${name} in ${list.map((r) => r.name).join(", ")}`);

describe("the protocols a split can carry", () => {
    const cases: [string, ModelEntry[], string[]][] = [
        ["SageMaker and KServe xgboost: only :predict", [SM, KS], ["predict"]],
        ["KServe xgboost and TF Serving: v1 (TF Serving REST is v1)", [KS, TF], ["v1"]],
        ["two KServe xgboost models: v1 and v2", [KS, { ...KS, name: "b" }], ["v1", "v2"]],
        ["KServe onnx (v2 only) and TF Serving (v1 only): none", [ONNX, TF], []],
        ["KServe onnx and SageMaker: none", [ONNX, SM], []],
    ];
    for (const [what, models, expected] of cases) {
        it(what, () => assert.deepEqual(sharedProtocols(models.map((m) => doorTarget(m as never, "dev"))), expected));
    }
    it("leaves gRPC and OpenAI out: they name the model in the body", () => {
        assert.deepEqual([splitProtocols(doorTarget(TF, "dev")), splitProtocols(doorTarget(LLM, "dev"))], [["v1"], ["v1", "v2"]]);
    });
});

describe("the front door's route table", () => {
    it("sends the split's predict to the internal listener 80/20, each leg marked, with the split's timeout and retries", () => {
        const weighted = named(routes(), "ml-tabular.churn.predict-weighted");
        assert.deepEqual(weighted.match, [{ uri: { exact: "/v1/models/churn:predict" }, method: { exact: "POST" } }]);
        assert.deepEqual(weighted.route.map((r) => [r.destination, r.weight, r.headers]), [
            [{ host: SPLIT_LISTENER.serviceHost, port: { number: SPLIT_LISTENER.port } }, 80, { request: { set: { [LEG_HEADER]: "churn-sm" } } }],
            [{ host: SPLIT_LISTENER.serviceHost, port: { number: SPLIT_LISTENER.port } }, 20, { request: { set: { [LEG_HEADER]: "churn-kserve" } } }],
        ]);
        assert.deepEqual([weighted.rewrite, weighted.timeout, weighted.retries], [{ authority: SPLIT_LISTENER.host }, "25s", { attempts: 3, perTryTimeout: "10s", retryOn: "5xx,reset,connect-failure" }]);
    });
    it("drops any Authorization header on a split's first hop, so the internal listener never judges an in-mesh caller's token", () => {
        const weighted = named(routes(), "ml-tabular.churn.predict-weighted") as Route & { headers?: unknown };
        assert.deepEqual(weighted.headers, { request: { remove: ["authorization"] } });
    });
    it("gives a split without its own policy the longest timeout and the fewest retries of its legs", () => {
        const split: SplitModelSpec = { ...SPLIT, timeout: undefined, routes: [{ model: "churn-sm", weight: 50 }, { model: "assistant", weight: 50 }] };
        const llm: KServeModelSpec = { ...LLM, modelFormat: "xgboost", timeout: "45s", retries: { attempts: 1, perTryTimeout: "40s" } };
        const weighted = named(routes([SM, llm, split]), "ml-tabular.churn.predict-weighted");
        assert.deepEqual([weighted.timeout, weighted.retries], ["45s", { attempts: 1, perTryTimeout: "40s", retryOn: "5xx,reset,connect-failure" }]);
    });
    it("retries a split only on conditions every retried leg allows, and not at all when they share none", () => {
        const split: SplitModelSpec = { ...SPLIT, timeout: undefined };
        const sm: SageMakerModelSpec = { ...SM, retries: { attempts: 2, retryOn: "connect-failure,refused-stream" } };
        const ks = (retryOn: string): KServeModelSpec => ({ ...KS, retries: { attempts: 1, retryOn } });
        const retries = (legs: ModelEntry[]) => named(routes([...legs, split]), "ml-tabular.churn.predict-weighted").retries;
        assert.deepEqual(retries([sm, ks("5xx,reset,connect-failure")]), { attempts: 1, perTryTimeout: "10s", retryOn: "connect-failure" });
        assert.deepEqual(retries([sm, ks("5xx,reset")]), { attempts: 0 });
    });
    it("gives a split's tries the longest per-try timeout of its legs, so no try cuts the slowest leg short", () => {
        const split: SplitModelSpec = { ...SPLIT, timeout: undefined, routes: [{ model: "churn-sm", weight: 50 }, { model: "fast", weight: 50 }] };
        const fast: KServeModelSpec = { ...KS, name: "fast", timeout: "10s", retries: { attempts: 2, perTryTimeout: "5s" } };
        const slow: SageMakerModelSpec = { ...SM, timeout: "120s", retries: { attempts: 3, perTryTimeout: "60s" } };
        const weighted = named(routes([slow, fast, split]), "ml-tabular.churn.predict-weighted");
        assert.deepEqual([weighted.timeout, weighted.retries], ["120s", { attempts: 2, perTryTimeout: "60s", retryOn: "5xx,reset,connect-failure" }]);
    });
    it("pins a leg with x-model-version: <leg>", () => {
        const pin = named(routes(), "ml-tabular.churn.predict-pin-churn-kserve");
        assert.deepEqual([(pin.match![0].headers as Record<string, unknown>)["x-model-version"], pin.route.length, pin.route[0].headers], [{ exact: "churn-kserve" }, 1, { request: { set: { [LEG_HEADER]: "churn-kserve" } } }]);
    });
    it("puts per-path overrides before the model's own routes, the longer prefix first, rewritten to the server's path", () => {
        const list = routes([LLM]);
        const names = list.map((r) => r.name);
        assert.deepEqual(names.slice(0, 2), ["ml-tabular.assistant.openai.paths1-weighted", "ml-tabular.assistant.openai.paths0-weighted"]);
        const chat = list[0];
        assert.deepEqual([chat.match, chat.rewrite, chat.timeout, chat.retries], [
            [{ uri: { prefix: "/openai/assistant/v1/chat/completions" } }], { uri: "/openai/v1/chat/completions" }, "120s", { attempts: 2, perTryTimeout: "60s", retryOn: "5xx,reset,connect-failure" },
        ]);
        assert.equal(named(list, "ml-tabular.assistant.openai.paths0-weighted").timeout, "30s");
        assert.equal(named(list, "ml-tabular.assistant.openai-weighted").timeout, "300s", "the model's own routes keep the LLM default");
    });
    it("routes TF Serving's gRPC by the x-model-name header, to the gRPC port", () => {
        const grpc = named(routes([TF]), "ml-tabular.resnet.tfserving-grpc-weighted");
        assert.deepEqual(grpc.match![0], { uri: { exact: "/tensorflow.serving.PredictionService/Classify" }, headers: { "x-model-name": { exact: "resnet" } } });
        assert.deepEqual(grpc.route.map((r) => [r.destination.port, r.weight]), [[{ number: 8500 }, 90], [{ number: 8500 }, 10]]);
    });
    it("sends a SageMaker model's predict to its bridge subset, rewritten to its endpoint's invocations", () => {
        const sm = named(routes([SM]), "ml-tabular.churn-sm.sagemaker-weighted");
        assert.deepEqual([sm.rewrite, sm.route[0].destination, sm.timeout], [{ uri: "/endpoints/churn-xgb-2024/invocations" }, {
            host: "sagemaker-bridge.mlmesh-sagemaker.svc.cluster.local", subset: "ml-tabular-churn-sm", port: { number: 80 },
        }, "20s"]);
    });
});

describe("the second hop of a split", () => {
    const legs = splitLegRoutes(doorTable(ENTRIES, "dev")) as Route[];
    it("rewrites each marked leg to the path its backend answers, with the leg's timeout and no second retry", () => {
        assert.deepEqual(legs.map((r) => [r.name, (r.match![0].headers as Record<string, unknown>)[LEG_HEADER], r.rewrite, r.timeout, r.retries]), [
            ["ml-tabular.churn.predict.churn-sm-weighted", { exact: "churn-sm" }, { uri: "/endpoints/churn-xgb-2024/invocations" }, "20s", { attempts: 0 }],
            ["ml-tabular.churn.predict.churn-kserve-weighted", { exact: "churn-kserve" }, { uri: "/v1/models/churn-kserve:predict" }, "15s", { attempts: 0 }],
        ]);
    });
    it("keeps a TF Serving leg's own versions and pins, for each public match of a v1 split", () => {
        const split: SplitModelSpec = { ...SPLIT, routes: [{ model: "resnet", weight: 50 }, { model: "churn-kserve", weight: 50 }] };
        const tf = (splitLegRoutes(doorTable([TF, KS, split], "dev")) as Route[]).filter((r) => r.name.includes(".resnet"));
        assert.deepEqual(tf.map((r) => [r.name, r.rewrite?.uri]), [
            ["ml-tabular.churn.v1.resnet.0-pin-v1", "/v1/models/resnet"], ["ml-tabular.churn.v1.resnet.0-pin-v2", "/v1/models/resnet"], ["ml-tabular.churn.v1.resnet.0-weighted", "/v1/models/resnet"],
            ["ml-tabular.churn.v1.resnet.1-pin-v1", "/v1/models/resnet/"], ["ml-tabular.churn.v1.resnet.1-pin-v2", "/v1/models/resnet/"], ["ml-tabular.churn.v1.resnet.1-weighted", "/v1/models/resnet/"],
            ["ml-tabular.churn.v1.resnet.2-pin-v1", "/v1/models/resnet:"], ["ml-tabular.churn.v1.resnet.2-pin-v2", "/v1/models/resnet:"], ["ml-tabular.churn.v1.resnet.2-weighted", "/v1/models/resnet:"],
        ]);
        assert.deepEqual(tf.at(-1)!.route.map((r) => [r.destination.subset, r.destination.port, r.weight]), [["v1", { number: 8501 }, 90], ["v2", { number: 8501 }, 10]]);
    });
});
