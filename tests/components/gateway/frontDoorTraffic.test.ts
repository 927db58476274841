/**
 * The front door of the committed dev stack (TF Serving, KServe and SageMaker models, a split
 * across SageMaker and KServe, an LLM with per-path overrides, JWT), judged by the route
 * simulator on the rendered objects: every hop, every leg, every denial.
 */
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { INFERENCE_SERVICE, LEG_HEADER, SPLIT_LISTENER } from "../../../components/gateway/doorRoutes";
import { INGRESS_GATEWAY_PRINCIPAL, VERSION_HEADER } from "../../../components/serving/trafficPolicy";
import type { PlanResult } from "../../../offline/plan";
import { planBackends } from "../../../offline/planBackends";
import { evaluateRequest, finalLegs, type Backend, type IstioObject, type RequestToken, type RouteOutcome } from "../../../offline/routes";
import { plannedStack } from "../../offline/fixtures/plannedStack";

const HOST = "inference.dev.example.com";
const ISSUER = "https://login.dev.example.com/oauth2/default";
const TOKEN: RequestToken = { iss: ISSUER, sub: "alice", aud: "mlmesh-dev" };
const CRM = "cluster.local/ns/crm/sa/scorer";
const FRONTEND = "cluster.local/ns/ml-frontend/sa/frontend-sa";
const STRANGER = "cluster.local/ns/ml-batch/sa/batch";

describe("the dev stack's front door, evaluated as Istio would", () => {
    let result: PlanResult;
    let objects: IstioObject[];
    let backends: Backend[];
    before(async () => {
        result = await plannedStack("dev");
        objects = result.resources.filter((r) => /\.istio\.io\//.test(r.type)).map((r) => r.inputs as unknown as IstioObject);
        backends = planBackends(result.resources);
    });
    const door = (pathname: string, options: { method?: string; jwt?: RequestToken | null; headers?: Record<string, string>; port?: number } = {}) => evaluateRequest(objects, backends, {
        via: "gateway", host: HOST, path: pathname, method: options.method ?? "POST", headers: options.headers, port: options.port,
        sourcePrincipal: INGRESS_GATEWAY_PRINCIPAL, ...(options.jwt === null ? {} : { jwt: options.jwt ?? TOKEN }),
    });
    const inMesh = (pathname: string, from: string, method = "POST") => evaluateRequest(objects, backends, {
        via: "mesh", host: INFERENCE_SERVICE.host, port: INFERENCE_SERVICE.port, path: pathname, method, sourcePrincipal: from,
    });
    const legs = (outcome: RouteOutcome) => finalLegs(outcome).map((l) => [l.host.split(".")[0] + (l.subset ? `/${l.subset}` : ""), l.weight, l.path, l.authorized]);
    const refusal = (outcome: RouteOutcome) => outcome.kind === "no-route" ? outcome.reason : finalLegs(outcome).map((l) => (l.authorized ? "allowed" : l.reason)).join(" | ");

    it("splits churn 80/20 between SageMaker and KServe, each leg receiving the path its backend serves, through the internal listener", () => {
        assert.deepEqual(legs(door("/v1/models/churn:predict")), [
            ["sagemaker-bridge/ml-tabular-churn-sm", 80, "/endpoints/churn-xgb-2024/invocations", true],
            ["churn-kserve-predictor", 20, "/v1/models/churn-kserve:predict", true],
        ]);
        const hops = finalLegs(door("/v1/models/churn:predict")).map((l) => l.hops.map((h) => h.virtualService));
        assert.deepEqual(hops[0], ["istio-ingress/mlmesh-front-door", "istio-ingress/mlmesh-split-legs"]);
    });
    it("pins a split's leg with x-model-version: <leg>", () => {
        assert.deepEqual(legs(door("/v1/models/churn:predict", { headers: { [VERSION_HEADER]: "churn-kserve" } })), [["churn-kserve-predictor", 100, "/v1/models/churn-kserve:predict", true]]);
    });
    it("does not let a client choose a leg: the first hop overwrites the leg mark", () => {
        assert.deepEqual(legs(door("/v1/models/churn:predict", { headers: { [LEG_HEADER]: "churn-kserve" } })).map((l) => l[1]), [80, 20]);
    });
    it("keeps resnet's version weights and its version pin at the door", () => {
        assert.deepEqual(legs(door("/v1/models/resnet:predict")).map((l) => [l[0], l[1]]), [["resnet/v1", 90], ["resnet/v2", 10]]);
        assert.deepEqual(legs(door("/v1/models/resnet:predict", { headers: { [VERSION_HEADER]: "v2" } })).map((l) => [l[0], l[1]]), [["resnet/v2", 100]]);
    });
    it("routes TF Serving gRPC by x-model-name to the gRPC port", () => {
        const outcome = door("/tensorflow.serving.PredictionService/Predict", { headers: { "x-model-name": "resnet" } });
        assert.deepEqual(finalLegs(outcome).map((l) => [l.subset, l.port, l.authorized]), [["v1", 8500, true], ["v2", 8500, true]]);
    });
    it("gives the LLM's chat completions 120 s with two retries and its embeddings 30 s, rewritten to the server's OpenAI paths", () => {
        const chat = door("/openai/assistant/v1/chat/completions");
        const embeddings = door("/openai/assistant/v1/embeddings");
        assert.ok(chat.kind === "routed" && embeddings.kind === "routed");
        assert.deepEqual([chat.timeout, chat.retries, legs(chat)[0][2]], ["120s", { attempts: 2, perTryTimeout: "60s", retryOn: "5xx,reset" }, "/openai/v1/chat/completions"]);
        assert.deepEqual([embeddings.timeout, legs(embeddings)[0][2]], ["30s", "/openai/v1/embeddings"]);
        assert.equal((door("/openai/assistant/v1/completions") as { timeout?: string }).timeout, "300s");
    });
    it("reaches a SageMaker model by name, rewritten to its endpoint", () => {
        assert.deepEqual(legs(door("/v1/models/churn-sm:predict")), [["sagemaker-bridge/ml-tabular-churn-sm", 100, "/endpoints/churn-xgb-2024/invocations", true]]);
    });

    it("refuses a request without a token with 403, and a token of another issuer or audience with 401", () => {
        assert.match(refusal(door("/v1/models/resnet:predict", { jwt: null })), /^403/);
        assert.match(refusal(door("/v1/models/resnet:predict", { jwt: { ...TOKEN, iss: "https://evil.example.com/" } })), /^401/);
        assert.match(refusal(door("/v1/models/resnet:predict", { jwt: { ...TOKEN, aud: "another-app" } })), /^401/);
    });
    it("narrows fraud to the fraud-analysts group", () => {
        assert.match(refusal(door("/v1/models/fraud:predict")), /^403/);
        assert.match(refusal(door("/v1/models/fraud:predict", { jwt: { ...TOKEN, claims: { groups: ["marketing"] } } })), /^403/);
        assert.equal(refusal(door("/v1/models/fraud:predict", { jwt: { ...TOKEN, claims: { groups: ["marketing", "fraud-analysts"] } } })), "allowed");
    });
    it("cannot be told to skip fraud's group check with another model's gRPC header", () => {
        assert.match(refusal(door("/tensorflow.serving.PredictionService/Predict", { headers: { "x-model-name": "fraud" } })), /^403/);
    });
    it("admits nothing that is not a model's path", () => {
        assert.equal(door("/v2/repository/models/churn-kserve/load").kind, "no-route");
        assert.match(refusal(door("/v2/repository/models/churn-kserve/load")), /^403/);
    });
    it("is closed on the internal listener's port to clients from outside the mesh", () => {
        assert.equal(door("/v1/models/churn:predict", { port: SPLIT_LISTENER.port }).kind, "no-route");
    });

    it("lets an allowed in-mesh caller reach every model by name on the inference host, the split's legs included", () => {
        assert.deepEqual(legs(inMesh("/v1/models/churn:predict", CRM)), [
            ["sagemaker-bridge/ml-tabular-churn-sm", 80, "/endpoints/churn-xgb-2024/invocations", true],
            ["churn-kserve-predictor", 20, "/v1/models/churn-kserve:predict", true],
        ]);
        assert.ok(finalLegs(inMesh("/v1/models/resnet:predict", FRONTEND)).every((l) => l.authorized));
    });
    it("refuses a mesh identity that is not in allowedPrincipals, at the model and at the split's listener", () => {
        assert.ok(finalLegs(inMesh("/v1/models/resnet:predict", STRANGER)).every((l) => !l.authorized));
        const split = finalLegs(inMesh("/v1/models/churn:predict", STRANGER));
        assert.ok(split.length === 2 && split.every((l) => !l.authorized && /mlmesh-front-door/.test(l.reason)), JSON.stringify(split));
    });

    it("opens a model's door routes only once its own routing objects exist, so a new version's weight never lands on a subset that is not there yet", () => {
        const door = result.resources.find((r) => r.type.endsWith("VirtualService") && (r.inputs.metadata as { name: string }).name === "mlmesh-front-door")!;
        const rules = result.resources.filter((r) => r.type.endsWith("DestinationRule") && ["resnet", "sagemaker-bridge"].includes((r.inputs.metadata as { name: string }).name)).map((r) => r.urn);
        assert.equal(rules.length, 2);
        assert.deepEqual(rules.filter((urn) => !door.dependencies.includes(urn)), []);
    });
    it("keeps the public Gateway's hosts bindable from the models' namespaces during this release, so the old per-model routes serve until the door's exist", () => {
        const gateway = result.resources.find((r) => r.type.endsWith("networking.istio.io/v1:Gateway") && (r.inputs.metadata as { name: string }).name.endsWith("-mesh-gateway"))!;
        assert.deepEqual((gateway.inputs.spec as { servers: { hosts: string[] }[] }).servers.map((s) => s.hosts), [[HOST], [HOST]]);
    });
    it("writes routes.md with the table and a Mermaid diagram of the split's weights", () => {
        const markdown = readFileSync(path.join(result.outDir, "routes.md"), "utf8");
        assert.match(markdown, /\| ml-tabular\/churn \| split \| `POST \/v1\/models\/churn:predict` \| 80% → sagemaker-bridge/);
        assert.match(markdown, /```mermaid\nflowchart LR/);
        assert.match(markdown, /m_ml_tabular_churn -- 80% --> m_ml_tabular_churn_sm/);
        assert.match(markdown, /Every path reaches a server that admits it\./);
    });
    it("plans with exit 0: every manifest valid, every route admitted", () => {
        assert.deepEqual([result.exitCode, result.manifests.filter((m) => m.check.status !== "valid").map((m) => m.fileName), result.routes.filter((r) => r.problems.length > 0).map((r) => r.path)], [0, [], []]);
    });
});
