import * as assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { InferenceGateway, type InferenceGatewayArgs } from "../../../components/gateway/inferenceGateway";
import { frontDoorAuthorization } from "../../../components/gateway/doorManifests";
import { doorTable } from "../../../components/gateway/doorRoutes";
import type { KServeModelSpec, ModelEntry, TfServingModelSpec } from "../../../components/serving/modelSpec";
import type { SageMakerModelSpec } from "../../../components/sagemaker/sagemakerSpec";
import { INGRESS_GATEWAY_PRINCIPAL } from "../../../components/serving/trafficPolicy";
import type { RecordedResource, RecordedRun } from "../../../offline/recorder";
import { recordOffline } from "../../offline/fixtures/offlineRun";

const INGRESS = { gateway: "istio-ingress/p-mesh-gateway", hosts: ["inference.example.com"] };
const JWT = [{ issuer: "https://login.example.com/", jwksUri: "https://login.example.com/keys", audiences: ["mlmesh"] }];
const TF: TfServingModelSpec = { backend: "tfserving", name: "resnet", namespace: "ml-serving", versions: [{ name: "v1", modelUri: "s3://m/r/1", weight: 100 }], requireClaims: { groups: ["vision"] } };
const CRM = ["cluster.local/ns/crm/sa/scorer"];
const KS: KServeModelSpec = { backend: "kserve", name: "churn-kserve", namespace: "ml-tabular", modelFormat: "xgboost", storageUri: "s3://m/churn", allowedPrincipals: CRM };
const SM: SageMakerModelSpec = { backend: "sagemaker", name: "churn-sm", namespace: "ml-tabular", endpointName: "churn-xgb-2024", allowedPrincipals: CRM };
const SPLIT: ModelEntry = { backend: "split", name: "churn", namespace: "ml-tabular", routes: [{ model: "churn-sm", weight: 80 }, { model: "churn-kserve", weight: 20 }], allowedPrincipals: ["cluster.local/ns/crm/sa/scorer"] };

function door(args: Partial<InferenceGatewayArgs> = {}): Promise<RecordedRun> {
    return recordOffline(() => {
        const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });
        return new InferenceGateway("door", { cluster: { provider }, mesh: { ingress: INGRESS }, models: [TF, KS, SM, SPLIT], clusterName: "p", jwt: JWT, ...args });
    });
}
const byKind = (run: RecordedRun, kind: string) => run.resources.filter((r) => (r.inputs as { kind?: string }).kind === kind || r.type.endsWith(`:${kind}`));
const names = (list: RecordedResource[]) => list.map((r) => (r.inputs.metadata as { name: string }).name).sort();
const spec = (r: RecordedResource) => r.inputs.spec as Record<string, any>;

describe("InferenceGateway", () => {
    it("spreads the door's authorization over policies of at most 512 rules (the CRD's maxItems), each rule kept once", async () => {
        // 300 TF Serving models: their rules are past what one AuthorizationPolicy may hold.
        const many = Array.from({ length: 300 }, (_, i): TfServingModelSpec => ({ ...TF, name: `m-${i}`, requireClaims: undefined }));
        const big = await door({ models: many });
        const policies = byKind(big, "AuthorizationPolicy").sort((a, b) => names([a])[0].localeCompare(names([b])[0]));
        const rules = policies.flatMap((p) => spec(p).rules as unknown[]);
        assert.ok(policies.length > 1, `${policies.length} policy`);
        assert.ok(policies.every((p) => (spec(p).rules as unknown[]).length <= 512), policies.map((p) => (spec(p).rules as unknown[]).length).join(", "));
        assert.equal(names(policies)[0], "mlmesh-front-door", "the first keeps its name, so a stack that fits in one is unchanged");
        assert.deepEqual(rules, JSON.parse(JSON.stringify(frontDoorAuthorization(doorTable(many, "p"), true).spec.rules)), "the same rules, in order");
        assert.ok(policies.every((p) => spec(p).action === "ALLOW" && spec(p).selector.matchLabels.istio === "ingressgateway"));
        const routes = byKind(big, "VirtualService").find((r) => names([r])[0] === "mlmesh-front-door")!;
        assert.ok(policies.every((p) => routes.dependencies.includes(p.urn)), "the routes open only once every policy admits");
    });

    let run: RecordedRun;
    before(async () => {
        run = await door();
    });

    it("creates the door's objects in the gateway's namespace: routes for both doors, the split's listener, JWT and authorization", () => {
        assert.deepEqual(names(byKind(run, "VirtualService")), ["inference", "mlmesh-front-door", "mlmesh-split-legs"]);
        assert.deepEqual(names(byKind(run, "Service")), ["inference", "mlmesh-split"]);
        assert.deepEqual([names(byKind(run, "Gateway")), names(byKind(run, "DestinationRule")), names(byKind(run, "RequestAuthentication")), names(byKind(run, "AuthorizationPolicy"))],
            [["mlmesh-split"], ["mlmesh-split"], ["mlmesh-jwt"], ["mlmesh-front-door"]]);
        const objects = run.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:") && !r.type.startsWith("pulumi:providers"));
        assert.deepEqual([...new Set(objects.map((r) => (r.inputs.metadata as { namespace?: string }).namespace))], ["istio-ingress"]);
    });

    it("binds the public table to the mesh's Gateway and hosts, and the in-mesh table to the inference host", () => {
        const vs = Object.fromEntries(byKind(run, "VirtualService").map((r) => [(r.inputs.metadata as { name: string }).name, spec(r)]));
        assert.deepEqual([vs["mlmesh-front-door"].gateways, vs["mlmesh-front-door"].hosts], [[INGRESS.gateway], INGRESS.hosts]);
        assert.deepEqual([vs.inference.gateways, vs.inference.hosts], [["mesh"], ["inference.istio-ingress.svc.cluster.local"]]);
        assert.deepEqual(vs.inference.http, vs["mlmesh-front-door"].http, "one table, two doors");
    });

    it("keeps the split's listener off the load balancer: a ClusterIP Service on its own port, mTLS enforced by its DestinationRule", () => {
        const service = spec(byKind(run, "Service").find((r) => (r.inputs.metadata as { name: string }).name === "mlmesh-split")!);
        assert.deepEqual([service.type, service.ports.map((p: { port: number }) => p.port), service.selector], ["ClusterIP", [9443], { istio: "ingressgateway" }]);
        assert.deepEqual(spec(byKind(run, "DestinationRule")[0]).trafficPolicy, { tls: { mode: "ISTIO_MUTUAL", sni: "split.mlmesh.internal" } });
        assert.deepEqual(spec(byKind(run, "Gateway")[0]).servers[0].tls, { mode: "ISTIO_MUTUAL" });
    });

    it("needs a valid token on every public model path, narrows resnet to its group, and admits only the gateway and the split's callers on the internal listener", () => {
        const rules = spec(byKind(run, "AuthorizationPolicy")[0]).rules as Record<string, any>[];
        const publicRules = rules.filter((r) => r.to[0].operation.ports[0] === "443");
        assert.ok(publicRules.every((r) => JSON.stringify(r.from) === JSON.stringify([{ source: { requestPrincipals: ["*"] } }])));
        const resnet = publicRules.filter((r) => r.to[0].operation.paths.some((p: string) => p.startsWith("/v1/models/resnet")));
        assert.deepEqual(resnet[0].when, [{ key: "request.auth.claims[groups]", values: ["vision"] }]);
        const grpc = publicRules.find((r) => r.to[0].operation.paths.includes("/tensorflow.serving.PredictionService/Predict"));
        assert.deepEqual(grpc?.when, [{ key: "request.auth.claims[groups]", values: ["vision"] }, { key: "request.headers[x-model-name]", values: ["resnet"] }]);
        const internal = rules.filter((r) => r.to[0].operation.ports?.[0] === "9443");
        assert.deepEqual(internal.map((r) => [r.from[0].source.principals, r.to[0].operation.paths]), [[[INGRESS_GATEWAY_PRINCIPAL, "cluster.local/ns/crm/sa/scorer"], ["/v1/models/churn:predict"]]]);
    });

    it("does not forward end users' tokens to the models", () => {
        assert.deepEqual(spec(byKind(run, "RequestAuthentication")[0]).jwtRules, [{ ...JWT[0], forwardOriginalToken: false }]);
    });

    it("opens the routes only after the authorization policy is in place", () => {
        const access = byKind(run, "AuthorizationPolicy")[0].urn;
        for (const vs of byKind(run, "VirtualService").filter((r) => (r.inputs.metadata as { name: string }).name !== "mlmesh-split-legs")) {
            assert.ok(vs.dependencies.includes(access), vs.urn);
        }
    });

    it("admits tokens only once the gateway can validate them: the authorization policy waits for the RequestAuthentication", () => {
        assert.ok(byKind(run, "AuthorizationPolicy")[0].dependencies.includes(byKind(run, "RequestAuthentication")[0].urn));
    });

    it("opens the split's first hop only once its listener, Service, mTLS rule and leg routes exist", () => {
        const listener = [...byKind(run, "Gateway"), ...byKind(run, "DestinationRule"), ...byKind(run, "Service").filter((r) => (r.inputs.metadata as { name: string }).name === "mlmesh-split"),
            ...byKind(run, "VirtualService").filter((r) => (r.inputs.metadata as { name: string }).name === "mlmesh-split-legs")].map((r) => r.urn);
        for (const vs of byKind(run, "VirtualService").filter((r) => (r.inputs.metadata as { name: string }).name !== "mlmesh-split-legs")) {
            assert.deepEqual(listener.filter((urn) => !vs.dependencies.includes(urn)), [], vs.urn);
        }
    });

    it("makes only the routes wait for the models' routing: token validation and admission never wait behind a rollout", async () => {
        const model = await recordOffline(() => {
            const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });
            const rollout = new k8s.core.v1.ConfigMap("rollout", { data: {} }, { provider });
            return new InferenceGateway("door", { cluster: { provider }, mesh: { ingress: INGRESS }, models: [TF, KS, SM, SPLIT], clusterName: "p", jwt: JWT, routesAfter: [rollout] });
        });
        const rollout = model.resources.find((r) => r.type.endsWith(":ConfigMap"))!.urn;
        const waiting = model.resources.filter((r) => r.dependencies.includes(rollout)).map((r) => (r.inputs.metadata as { name: string }).name).sort();
        // The split's leg routes name the models' hosts and the bridge's subsets, so they wait too.
        assert.deepEqual(waiting, ["inference", "mlmesh-front-door", "mlmesh-split-legs"].sort());
        assert.ok(byKind(model, "VirtualService").every((r) => r.dependencies.includes(rollout)));
    });

    it("creates no VirtualService when there is nothing to route: Istio's webhook refuses one without routes", async () => {
        const empty = await door({ models: [], jwt: [] });
        assert.deepEqual([byKind(empty, "VirtualService").length, names(byKind(empty, "AuthorizationPolicy"))], [0, ["mlmesh-front-door"]]);
    });

    it("makes no split listener without a split, no JWT objects without issuers, and no public routes without public hosts", async () => {
        const bare = await door({ models: [{ ...TF, requireClaims: undefined }], jwt: [], mesh: {} });
        assert.deepEqual([names(byKind(bare, "VirtualService")), names(byKind(bare, "Service")), byKind(bare, "Gateway").length, byKind(bare, "RequestAuthentication").length],
            [["inference"], ["inference"], 0, 0]);
    });

    it("refuses a bad split before creating anything, naming the field", async () => {
        const bad = { ...SPLIT, routes: [{ model: "churn-sm", weight: 80 }, { model: "nope", weight: 10 }] } as ModelEntry;
        await assert.rejects(door({ models: [TF, KS, SM, bad] }), (error: Error) => {
            assert.ok(pulumi.InputPropertiesError.isInstance(error), String(error));
            assert.match(error.message, /`models\[3\]\.routes\[1\]\.model` \("nope"\) is not a model of the list/);
            assert.match(error.message, /adding up to 90/);
            return true;
        });
    });
});
