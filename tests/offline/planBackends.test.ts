import * as assert from "node:assert/strict";
import type { PlanResult } from "../../offline/plan";
import { planBackends } from "../../offline/planBackends";
import type { Backend } from "../../offline/routes";
import { plannedStack } from "./fixtures/plannedStack";

describe("planBackends on the planned dev stack", () => {
    let backends: Backend[];
    before(async () => {
        const result: PlanResult = await plannedStack("dev");
        backends = planBackends(result.resources);
    });
    const at = (host: string) => backends.find((b) => b.host === host) ?? assert.fail(`no backend ${host}: ${backends.map((b) => b.host).join(", ")}`);

    it("puts each TF Serving version's pods behind the model's Service, on its gRPC and REST ports", () => {
        const resnet = at("resnet.ml-serving.svc.cluster.local");
        assert.deepEqual([resnet.ports, resnet.pods.map((p) => p.labels.version).sort()], [[8500, 8501], ["v1", "v2"]]);
    });
    it("adds the predictor Services KServe's controller creates, the canary's too", () => {
        assert.deepEqual(at("bert-canary-predictor.ml-serving.svc.cluster.local").pods, [{ labels: { "serving.kserve.io/inferenceservice": "bert", component: "predictor", app: "isvc.bert-canary-predictor" } }]);
        assert.deepEqual(at("churn-kserve-predictor.ml-tabular.svc.cluster.local").ports, [80]);
    });
    it("puts the gateway chart's pods, with the gateway's identity, behind the split's internal listener", () => {
        assert.deepEqual(at("mlmesh-split.istio-ingress.svc.cluster.local").pods, [{
            labels: { app: "istio-ingressgateway", istio: "ingressgateway" }, principal: "cluster.local/ns/istio-ingress/sa/istio-ingressgateway",
        }]);
    });
    it("leaves Services without a selector without pods: the inference host and SageMaker models are routed by their callers", () => {
        assert.deepEqual([at("inference.istio-ingress.svc.cluster.local").pods, at("churn-sm.ml-tabular.svc.cluster.local").pods], [[], []]);
    });
});
