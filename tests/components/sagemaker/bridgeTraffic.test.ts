import * as assert from "node:assert/strict";
import { BRIDGE_HOST, BRIDGE_LABELS, BRIDGE_NAMESPACE } from "../../../components/sagemaker/bridgeManifests";
import { INGRESS_GATEWAY_PRINCIPAL } from "../../../components/serving/trafficPolicy";
import type { PlanResult } from "../../../offline/plan";
import { evaluateRequest, type Backend, type IstioObject, type RouteOutcome } from "../../../offline/routes";
import { plannedStack } from "../../offline/fixtures/plannedStack";

const SCORER = "cluster.local/ns/payments/sa/scorer";
const CRM = "cluster.local/ns/crm/sa/scorer";
const GATEWAY_HOST = "inference.dev.example.com";

/** The bridge's pods, and the SageMaker models' Services, which have none of their own. */
const BACKENDS: Backend[] = [
    { host: BRIDGE_HOST, namespace: BRIDGE_NAMESPACE, ports: [80], pods: [{ labels: { ...BRIDGE_LABELS } }] },
    { host: "fraud-sm.ml-tabular.svc.cluster.local", namespace: "ml-tabular", ports: [80], pods: [] },
    { host: "churn-sm.ml-tabular.svc.cluster.local", namespace: "ml-tabular", ports: [80], pods: [] },
];

describe("SageMaker models in the planned dev stack, evaluated as Istio would", () => {
    let objects: IstioObject[];
    let fraudEndpoint: string;
    before(async () => {
        const result: PlanResult = await plannedStack("dev");
        objects = result.resources.filter((r) => /\.istio\.io\//.test(r.type)).map((r) => r.inputs as unknown as IstioObject);
        fraudEndpoint = String(result.resources.find((r) => r.type === "aws:sagemaker/endpoint:Endpoint")?.inputs.name);
    });
    const mesh = (host: string, path: string, from: string, method = "POST") => evaluateRequest(objects, BACKENDS, { via: "mesh", host, port: 80, path, method, sourcePrincipal: from });
    // The dev stack's door asks for a token from its issuer.
    const gateway = (path: string, method = "POST") => evaluateRequest(objects, BACKENDS, {
        via: "gateway", host: GATEWAY_HOST, path, method, sourcePrincipal: INGRESS_GATEWAY_PRINCIPAL,
        jwt: { iss: "https://login.dev.example.com/oauth2/default", sub: "alice", aud: "mlmesh-dev" },
    });
    const only = (outcome: RouteOutcome) => {
        assert.equal(outcome.kind, "routed", outcome.kind === "no-route" ? outcome.reason : "");
        const destinations = (outcome as Extract<RouteOutcome, { kind: "routed" }>).destinations;
        assert.equal(destinations.length, 1);
        return destinations[0];
    };

    it("sends an allowed caller's :predict on the model's own host to the bridge as the endpoint's invocations, authorized", () => {
        const d = only(mesh("fraud-sm.ml-tabular.svc.cluster.local", "/v1/models/fraud-sm:predict", SCORER));
        assert.deepEqual([d.host, d.subset, d.path, d.authorized], [BRIDGE_HOST, "ml-tabular-fraud-sm", `/endpoints/${fraudEndpoint}/invocations`, true]);
    });
    it("carries the model's timeout and retries on that route", () => {
        const outcome = mesh("fraud-sm.ml-tabular.svc.cluster.local", "/v1/models/fraud-sm:predict", SCORER) as Extract<RouteOutcome, { kind: "routed" }>;
        assert.deepEqual([outcome.timeout, outcome.retries], ["30s", { attempts: 3, perTryTimeout: "10s", retryOn: "5xx,reset,connect-failure" }]);
    });
    it("bridges the existing endpoint under its own name", () => {
        const d = only(mesh("churn-sm.ml-tabular.svc.cluster.local", "/v1/models/churn-sm:predict", CRM));
        assert.deepEqual([d.path, d.authorized], ["/endpoints/churn-xgb-2024/invocations", true]);
    });
    it("refuses a caller another model allows: each endpoint's path admits only its own model's principals", () => {
        assert.equal(only(mesh("fraud-sm.ml-tabular.svc.cluster.local", "/v1/models/fraud-sm:predict", CRM)).authorized, false);
        assert.equal(only(mesh("churn-sm.ml-tabular.svc.cluster.local", "/v1/models/churn-sm:predict", SCORER)).authorized, false);
    });
    it("serves the same path through the ingress gateway, whose identity the bridge admits", () => {
        const d = only(gateway("/v1/models/fraud-sm:predict"));
        assert.deepEqual([d.host, d.path, d.authorized], [BRIDGE_HOST, `/endpoints/${fraudEndpoint}/invocations`, true]);
    });
    it("routes nothing else to the bridge: a GET, or another path, finds no route", () => {
        assert.equal(mesh("fraud-sm.ml-tabular.svc.cluster.local", "/v1/models/fraud-sm:predict", SCORER, "GET").kind, "no-route");
        assert.equal(mesh("fraud-sm.ml-tabular.svc.cluster.local", "/endpoints/churn-xgb-2024/invocations", SCORER).kind, "no-route");
    });
    it("refuses a caller that reaches the bridge directly for an endpoint it is not allowed", () => {
        assert.equal(only(mesh(BRIDGE_HOST, "/endpoints/churn-xgb-2024/invocations", SCORER)).authorized, false);
    });
});
