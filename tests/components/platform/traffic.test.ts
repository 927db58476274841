/**
 * Traffic reaches what it should: the rendered Gateway, VirtualServices, DestinationRules and
 * AuthorizationPolicies of a whole platform, evaluated as Istio would, for every request each
 * model's server really answers, through the ingress Gateway and from an allowed caller.
 */
import * as assert from "node:assert/strict";
import { MlPlatform } from "../../../components/platform/mlPlatform";
import { kservePredictorHost } from "../../../components/serving/kserveModel";
import type { KServeModelSpec, TfServingModelSpec } from "../../../components/serving/modelSpec";
import { TF_SERVING_GRPC_PORT } from "../../../components/serving/tfServingModel";
import { kserveApis, tfServingApis, type ServedApi } from "../../../components/serving/servedApis";
import { INGRESS_GATEWAY_PRINCIPAL, VERSION_HEADER } from "../../../components/serving/trafficPolicy";
import type { RecordedRun } from "../../../offline/recorder";
import { evaluateRequest, type Backend, type IstioObject, type RouteOutcome } from "../../../offline/routes";
import { planBackends } from "../../../offline/planBackends";
import { recordOffline } from "../../offline/fixtures/offlineRun";

const HOST = "inference.example.com";
const NS = "ml-serving";
const FRONTEND = "cluster.local/ns/ml-frontend/sa/frontend";
const STRANGER = "cluster.local/ns/ml-batch/sa/batch";
const common = { namespace: NS, allowedPrincipals: [FRONTEND] };

const RESNET: TfServingModelSpec = {
    ...common, backend: "tfserving", name: "resnet",
    versions: [{ name: "v1", modelUri: "s3://models/resnet/v1", weight: 90 }, { name: "v2", modelUri: "s3://models/resnet/v2", weight: 10 }],
};
const BERT: KServeModelSpec = { ...common, backend: "kserve", name: "bert", modelFormat: "tensorflow", storageUri: "s3://models/bert/v3", canaryStorageUri: "s3://models/bert/v4", canaryTrafficPercent: 10 };
const LLM: KServeModelSpec = { ...common, backend: "kserve", name: "llm", modelFormat: "huggingface", storageUri: "s3://models/llm/v1" };
const SCORER: KServeModelSpec = { ...common, backend: "kserve", name: "scorer", modelFormat: "sklearn", storageUri: "s3://models/scorer/v1" };
const MODELS: (TfServingModelSpec | KServeModelSpec)[] = [RESNET, BERT, LLM, SCORER];

/** The Istio objects the plan creates. */
function istioObjects(run: RecordedRun): IstioObject[] {
    return run.resources.filter((r) => /\.istio\.io\//.test(r.type)).map((r) => r.inputs as unknown as IstioObject);
}

const serviceHost = (model: TfServingModelSpec | KServeModelSpec) => model.backend === "tfserving" ? `${model.name}.${NS}.svc.cluster.local` : kservePredictorHost(model.name, NS);
const port = (model: TfServingModelSpec | KServeModelSpec) => model.backend === "tfserving" ? 8501 : 80;
const apisOf = (model: TfServingModelSpec | KServeModelSpec): ServedApi[] => model.backend === "tfserving" ? tfServingApis(model.name) : kserveApis(model.modelFormat, model.name);
/** The path the server sees for a gateway probe (after the gateway's rewrite). */
const serverPath = (api: ServedApi, path: string) => {
    const prefix = api.gatewayMatches.map((m) => ("prefix" in m ? m.prefix : "")).find((p) => p && path.startsWith(p));
    return api.gatewayRewrite && prefix ? `${api.gatewayRewrite}${path.slice(prefix.length)}` : path;
};

function routed(outcome: RouteOutcome): Extract<RouteOutcome, { kind: "routed" }> {
    assert.equal(outcome.kind, "routed", outcome.kind === "no-route" ? outcome.reason : "");
    return outcome as Extract<RouteOutcome, { kind: "routed" }>;
}
const shares = (outcome: RouteOutcome) => routed(outcome).destinations.map((d) => [d.host.split(".")[0] + (d.subset ? `/${d.subset}` : ""), d.weight]);

describe("traffic through a whole platform, evaluated as Istio would", () => {
    let objects: IstioObject[];
    let services: Backend[];
    before(async () => {
        const run = await recordOffline(() => new MlPlatform("p", {
            environment: "dev",
            network: { create: { cidrBlock: "10.40.0.0/16" } },
            cluster: { clusterName: "p" },
            mesh: { ingressGateway: { hosts: [HOST] } },
            models: MODELS,
            kserve: true,
        }));
        objects = istioObjects(run);
        services = planBackends(run.resources);
    });
    const gateway = (path: string, method: string, headers?: Record<string, string>) =>
        evaluateRequest(objects, services, { via: "gateway", host: HOST, path, method, headers, sourcePrincipal: INGRESS_GATEWAY_PRINCIPAL });
    const mesh = (model: TfServingModelSpec | KServeModelSpec, path: string, method: string, from = FRONTEND, servicePort = port(model)) =>
        evaluateRequest(objects, services, { via: "mesh", host: serviceHost(model), port: servicePort, path, method, sourcePrincipal: from });

    for (const model of MODELS) {
        for (const api of apisOf(model)) {
            for (const probe of api.probes) {
                it(`${model.name}: ${probe.method} ${probe.path} through the gateway reaches every version and is allowed`, () => {
                    const outcome = routed(gateway(probe.path, probe.method, probe.headers));
                    assert.deepEqual(outcome.destinations.filter((d) => !d.authorized).map((d) => d.reason), []);
                    assert.equal(outcome.destinations.reduce((sum, d) => sum + d.weight, 0), 100);
                    assert.ok(outcome.destinations.every((d) => d.path === serverPath(api, probe.path)), outcome.destinations.map((d) => d.path).join(", "));
                });
                it(`${model.name}: ${probe.method} ${serverPath(api, probe.path)} from an allowed caller in the mesh is allowed, and refused to anyone else`, () => {
                    const servicePort = api.grpc ? TF_SERVING_GRPC_PORT : port(model);
                    const allowed = routed(mesh(model, serverPath(api, probe.path), probe.method, FRONTEND, servicePort));
                    assert.deepEqual(allowed.destinations.filter((d) => !d.authorized).map((d) => d.reason), []);
                    assert.ok(routed(mesh(model, serverPath(api, probe.path), probe.method, STRANGER, servicePort)).destinations.every((d) => !d.authorized));
                });
            }
        }
    }

    it("splits resnet 90/10 between v1 and v2 at the gateway, and pins x-model-version: v2", () => {
        assert.deepEqual(shares(gateway("/v1/models/resnet:predict", "POST")), [["resnet/v1", 90], ["resnet/v2", 10]]);
        assert.deepEqual(shares(gateway("/v1/models/resnet:predict", "POST", { [VERSION_HEADER]: "v2" })), [["resnet/v2", 100]]);
    });

    it("gives bert's KServe canary its 10% through the gateway and in the mesh", () => {
        assert.deepEqual(shares(gateway("/v1/models/bert:predict", "POST")), [["bert-predictor", 90], ["bert-canary-predictor", 10]]);
        assert.deepEqual(shares(mesh(BERT, "/v1/models/bert:predict", "POST")), [["bert-predictor", 90], ["bert-canary-predictor", 10]]);
    });

    const REFUSED: [string, () => RouteOutcome][] = [
        ["TF Serving's HandleReloadConfigRequest", () => mesh(RESNET, "/tensorflow.serving.ModelService/HandleReloadConfigRequest", "POST")],
        ["KServe's v2 repository load API", () => mesh(SCORER, "/v2/repository/models/scorer/load", "POST")],
        ["another model's path on the scorer", () => mesh(SCORER, "/v1/models/resnet:predict", "POST")],
    ];
    for (const [what, send] of REFUSED) {
        it(`refuses ${what} even to an allowed caller`, () => {
            const outcome = send();
            assert.ok(outcome.kind === "no-route" || outcome.destinations.every((d) => !d.authorized), JSON.stringify(outcome));
        });
    }

    it("allows TF Serving's gRPC Predict to an allowed caller", () => {
        const outcome = evaluateRequest(objects, services, { via: "mesh", host: serviceHost(RESNET), port: 8500, path: "/tensorflow.serving.PredictionService/Predict", method: "POST", sourcePrincipal: FRONTEND });
        assert.ok(routed(outcome).destinations.every((d) => d.authorized));
    });

    it("routes no path of a model to another: /v1/models/resnet50 is not resnet's", () => {
        assert.equal(gateway("/v1/models/resnet50:predict", "POST").kind, "no-route");
    });
});
