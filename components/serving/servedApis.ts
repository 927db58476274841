/**
 * What each model server really answers, so that authorization admits exactly that and the
 * ingress Gateway routes exactly that. Pure; the route tests probe every request listed here.
 * - TF Serving REST: tensorflow/serving:tensorflow_serving/g3doc/api_rest.md@2.20.0
 * - KServe Python servers (v1, v2, OpenAI): kserve/kserve:python/kserve/kserve/protocol/rest/server.py@v0.20.0
 *   and .../protocol/rest/openai/endpoints.py@v0.20.0 (prefix `/openai`)
 * - Runtimes per format: kserve/kserve:config/runtimes/*.yaml@v0.20.0
 */
import type { KServeModelFormat } from "./modelSpec";

/** An Istio HTTP URI match. */
export type UriMatch = { readonly exact: string } | { readonly prefix: string };

/** One request a client sends, for the route tests and the route table. */
export interface Probe {
    readonly method: "GET" | "POST";
    readonly path: string;
    readonly headers?: Readonly<Record<string, string>>;
}

/** The header a gRPC client names its model with at the front door: gRPC paths carry only the method. */
export const GRPC_MODEL_HEADER = "x-model-name";

/**
 * The gRPC methods a client of TF Serving needs: predict, classify, regress, metadata and model
 * status. ModelService/HandleReloadConfigRequest (which unloads every model it is not given) is
 * left out on purpose.
 * @see tensorflow/serving:tensorflow_serving/apis/prediction_service.proto@2.20.0
 * @see tensorflow/serving:tensorflow_serving/apis/model_service.proto@2.20.0
 */
export const TF_SERVING_CLIENT_METHODS = [
    ...["Classify", "Regress", "Predict", "MultiInference", "GetModelMetadata"].map((method) => `/tensorflow.serving.PredictionService/${method}`),
    "/tensorflow.serving.ModelService/GetModelStatus",
] as const;

/** One API a model server speaks. */
export interface ServedApi {
    readonly name: "tfserving-rest" | "tfserving-grpc" | "v1" | "v2" | "openai";
    /** Istio authorization path patterns the server answers (after any gateway rewrite). */
    readonly serverPaths: readonly string[];
    /** How the ingress Gateway matches the API's requests for this model. */
    readonly gatewayMatches: readonly UriMatch[];
    /** The gateway rewrites the matched prefix to this, so the server sees its own paths. */
    readonly gatewayRewrite?: string;
    /** Headers every gateway match also requires (gRPC names the model in one). */
    readonly gatewayHeaders?: Readonly<Record<string, string>>;
    /** Served on the server's gRPC port rather than its REST port. */
    readonly grpc?: boolean;
    /** Requests a client makes at the gateway (before any rewrite). */
    readonly probes: readonly Probe[];
}

/** `/v1/models/<m>` and what hangs under it, with TF Serving's or KServe's verbs. */
function v1Api(name: ServedApi["name"], model: string, verbs: readonly string[]): ServedApi {
    const base = `/v1/models/${model}`;
    return {
        name,
        serverPaths: [base, `${base}/*`, `${base}:*`],
        gatewayMatches: [{ exact: base }, { prefix: `${base}/` }, { prefix: `${base}:` }],
        probes: [{ method: "GET", path: base }, ...verbs.map((verb) => ({ method: "POST" as const, path: `${base}:${verb}` }))],
    };
}

function tfServingRest(model: string): ServedApi {
    const api = v1Api("tfserving-rest", model, ["predict", "classify", "regress"]);
    return {
        ...api,
        probes: [...api.probes, { method: "GET", path: `/v1/models/${model}/metadata` }, { method: "POST", path: `/v1/models/${model}/versions/1:predict` }],
    };
}

/** The Open Inference Protocol for one model; the repository load/unload API is left out on purpose. */
function v2Api(model: string): ServedApi {
    const base = `/v2/models/${model}`;
    return {
        name: "v2",
        serverPaths: [base, `${base}/*`],
        gatewayMatches: [{ exact: base }, { prefix: `${base}/` }],
        probes: [{ method: "GET", path: base }, { method: "GET", path: `${base}/ready` }, { method: "POST", path: `${base}/infer` }],
    };
}

/**
 * KServe's OpenAI-compatible routes. The model is named in the body, not the path, so the
 * gateway gives each model its own prefix, `/openai/<model>/v1/...`, and rewrites it to `/openai/`.
 */
function openAiApi(model: string): ServedApi {
    const gatewayPrefix = `/openai/${model}/`;
    return {
        name: "openai",
        serverPaths: ["/openai/v1/*"],
        gatewayMatches: [{ prefix: gatewayPrefix }],
        gatewayRewrite: "/openai/",
        probes: [
            ...["chat/completions", "completions", "embeddings", "rerank"].map((call): Probe => ({ method: "POST", path: `${gatewayPrefix}v1/${call}` })),
            { method: "GET", path: `${gatewayPrefix}v1/models` },
        ],
    };
}

/** The inference protocol each KServe model format's runtime speaks. */
export const KSERVE_PROTOCOLS: Readonly<Record<KServeModelFormat, readonly ("v1" | "v2" | "openai")[]>> = {
    tensorflow: ["v1"],
    sklearn: ["v1", "v2"],
    xgboost: ["v1", "v2"],
    pytorch: ["v1", "v2"],
    onnx: ["v2"],
    triton: ["v2"],
    huggingface: ["v1", "v2", "openai"],
};

/** The APIs a KServe model answers. */
export function kserveApis(format: KServeModelFormat, model: string): ServedApi[] {
    return KSERVE_PROTOCOLS[format].map((protocol) => protocol === "v2" ? v2Api(model)
        : protocol === "openai" ? openAiApi(model)
        : format === "tensorflow" ? tfServingRest(model) : v1Api("v1", model, ["predict", "explain"]));
}

/**
 * TF Serving's gRPC API for one model. The model is named in the request body, so the front door
 * routes by a header the client adds (gRPC metadata `x-model-name: <model>`).
 */
function tfServingGrpc(model: string): ServedApi {
    const headers = { [GRPC_MODEL_HEADER]: model };
    return {
        name: "tfserving-grpc",
        serverPaths: [...TF_SERVING_CLIENT_METHODS],
        gatewayMatches: TF_SERVING_CLIENT_METHODS.map((exact) => ({ exact })),
        gatewayHeaders: headers,
        grpc: true,
        probes: [{ method: "POST", path: "/tensorflow.serving.PredictionService/Predict", headers }, { method: "POST", path: "/tensorflow.serving.ModelService/GetModelStatus", headers }],
    };
}

/** The APIs a TF Serving model answers: REST and gRPC. */
export function tfServingApis(model: string): ServedApi[] {
    return [tfServingRest(model), tfServingGrpc(model)];
}
