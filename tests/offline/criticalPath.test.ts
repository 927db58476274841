import * as assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { createDuration, requestsGpus } from "../../offline/createDurations";
import { criticalPath, deployEstimate, deployLines, slottedSeconds } from "../../offline/criticalPath";
import { plan, type PlanResult } from "../../offline/plan";
import type { RecordedResource } from "../../offline/recorder";

const ROOT = path.join(__dirname, "..", "..");

function resource(name: string, type: string, extra: Partial<RecordedResource> = {}): RecordedResource {
    return { urn: `urn:pulumi:test::p::${type}::${name}`, type, name, custom: true, inputs: {}, outputs: {}, options: {}, dependencies: [], inputDependencies: [], ...extra };
}
const TYPES: Record<string, string> = { vpc: "aws:ec2/vpc:Vpc", cluster: "eks:index:Cluster", role: "aws:iam/role:Role", grant: "aws:iam/rolePolicyAttachment:RolePolicyAttachment", ns: "kubernetes:core/v1:Namespace", istiod: "kubernetes:helm.sh/v3:Release" };
const dep = (...names: string[]) => names.map((n) => `urn:pulumi:test::p::${TYPES[n]}::${n}`);

describe("deploy critical path", () => {
    const vpc = resource("vpc", "aws:ec2/vpc:Vpc");
    const nat = resource("nat", "aws:ec2/natGateway:NatGateway", { dependencies: dep("vpc"), inputDependencies: dep("vpc") });
    const cluster = resource("cluster", "eks:index:Cluster", { custom: false, options: { remote: true }, dependencies: dep("vpc"), inputDependencies: dep("vpc") });
    const endpoint = resource("endpoint", "aws:sagemaker/endpoint:Endpoint", { dependencies: dep("vpc"), inputDependencies: dep("vpc") });

    it("is the longest chain by create duration, with each step's finish", () => {
        const path = criticalPath([vpc, nat, cluster], (r) => r.dependencies, (r) => createDuration(r)!.seconds);
        assert.equal(path.seconds, 603);
        assert.deepEqual(path.steps.map((s) => [s.name, s.finishesAt]), [["vpc", 3], ["cluster", 603]]);
    });

    it("names an explicit wait that is not needed and what it costs, and the ideal without it", () => {
        // The endpoint told to wait for the cluster (dependsOn), though it reads only the VPC.
        const waiting = { ...endpoint, dependencies: dep("vpc", "cluster") };
        const estimate = deployEstimate([vpc, nat, cluster, waiting]);
        assert.equal(estimate.actual.seconds, 963);
        assert.equal(estimate.ideal.seconds, 603);
        assert.equal(estimate.ratio.toFixed(2), "1.60");
        assert.deepEqual(estimate.serialising, [{ from: waiting.urn, waitsFor: cluster.urn, costSeconds: 360 }]);
        assert.match(deployLines(estimate).join("\n"), /serialises: endpoint waits for cluster without needing it \(360 s longer\)/);
    });

    it("counts as inherent what an input reads, a role's grants, a namespace, and an install-order prerequisite", () => {
        const role = resource("role", "aws:iam/role:Role");
        const grant = resource("grant", "aws:iam/rolePolicyAttachment:RolePolicyAttachment", { dependencies: dep("role"), inputDependencies: dep("role") });
        const ns = resource("ns", "kubernetes:core/v1:Namespace", { inputs: { metadata: { name: "ml" } } });
        const istiod = resource("istiod", "kubernetes:helm.sh/v3:Release", { inputs: { chart: "istiod" } });
        const model = resource("model", "kubernetes:apps/v1:Deployment", { inputs: { metadata: { namespace: "ml" } }, dependencies: dep("role", "grant", "ns", "istiod"), inputDependencies: dep("role") });
        const estimate = deployEstimate([role, grant, ns, istiod, model]);
        assert.equal(estimate.ratio, 1);
        assert.deepEqual(estimate.serialising, []);
        assert.equal(estimate.ideal.seconds, estimate.actual.seconds);
    });

    it("makes a resource wait for its ancestor components' dependencies, as the SDK registers them", () => {
        const component = resource("bridge", "mlmesh:sagemaker:SageMakerBridge", { custom: false, dependencies: [cluster.urn] });
        const child = resource("vpce", "aws:ec2/vpcEndpoint:VpcEndpoint", { inputs: { vpcEndpointType: "Interface" }, parent: component.urn, dependencies: [vpc.urn], inputDependencies: [vpc.urn] });
        const estimate = deployEstimate([vpc, cluster, component, child]);
        assert.equal(estimate.actual.seconds, 603 + 90);
        assert.equal(estimate.ideal.seconds, 603);
        assert.deepEqual(estimate.serialising.map((e) => [e.from, e.waitsFor]), [[child.urn, cluster.urn]]);
    });

    it("reports a need the deploy does not wait for: pods before their namespace's default deny", () => {
        const ns = resource("ns", "kubernetes:core/v1:Namespace", { inputs: { metadata: { name: "ml" } } });
        const deny = resource("deny", "kubernetes:security.istio.io/v1:AuthorizationPolicy", { inputs: { metadata: { name: "deny", namespace: "ml" }, spec: {} }, dependencies: [ns.urn] });
        const pods = resource("pods", "kubernetes:apps/v1:Deployment", { inputs: { metadata: { namespace: "ml" } }, dependencies: [ns.urn] });
        const estimate = deployEstimate([ns, deny, pods]);
        assert.deepEqual(estimate.missingWaits, [{ from: pods.urn, needs: deny.urn }]);
        assert.match(deployLines(estimate).join("\n"), /missing wait: pods does not wait for deny, which it needs/);
        assert.deepEqual(deployEstimate([ns, deny, { ...pods, dependencies: [ns.urn, deny.urn] }]).missingWaits, []);
    });

    it("estimates the deploy with a limited number of parallel slots", () => {
        const roles = Array.from({ length: 10 }, (_, i) => resource(`r${i}`, "aws:sagemaker/endpoint:Endpoint"));
        const edges = () => [];
        const seconds = () => 360;
        assert.equal(slottedSeconds(roles, edges, seconds, 10), 360);
        assert.equal(slottedSeconds(roles, edges, seconds, 8), 720);
        assert.equal(slottedSeconds(roles, edges, seconds, 1), 3600);
    });

    it("gives a GPU workload the time a GPU node and its image take, after the GPU groups and device plugin", () => {
        const gpuGroup = resource("gpu-ng", "aws:eks/nodeGroup:NodeGroup", { inputs: { labels: { "mlmesh.io/node-role": "gpu" } } });
        const model = resource("resnet", "kubernetes:apps/v1:Deployment", { inputs: { spec: { template: { spec: { containers: [{ resources: { limits: { "nvidia.com/gpu": "1" } } }] } } } } });
        assert.equal(createDuration(model)!.seconds, 480);
        const estimate = deployEstimate([gpuGroup, model]);
        assert.equal(estimate.actual.seconds, 240 + 480);
        assert.equal(estimate.ratio, 1);
    });

    it("counts as a GPU workload only containers that request or limit GPUs, not a toleration", () => {
        const tolerates = resource("cpu", "kubernetes:apps/v1:Deployment", { inputs: { spec: { template: { spec: { tolerations: [{ key: "nvidia.com/gpu", operator: "Exists" }], containers: [{ resources: { limits: { cpu: "1" } } }] } } } } });
        const predictor = resource("isvc", "kubernetes:serving.kserve.io/v1beta1:InferenceService", { inputs: { spec: { predictor: { model: { resources: { requests: { "nvidia.com/gpu": "1" } } } } } } });
        assert.equal(requestsGpus(tolerates), false);
        assert.equal(createDuration(tolerates)!.seconds, 45);
        assert.equal(requestsGpus(predictor), true);
    });

    it("assumes a few seconds for a type it has no figure for, and says so", () => {
        const estimate = deployEstimate([resource("x", "acme:index:Widget")]);
        assert.deepEqual(estimate.unknownTypes, ["acme:index:Widget"]);
        assert.match(deployLines(estimate).join("\n"), /assumed 5 s each .*acme:index:Widget/);
    });

    describe("the committed stacks", () => {
        const results: Record<string, PlanResult> = {};
        const out = mkdtempSync(path.join(tmpdir(), "mlmesh-deploy-"));
        before(async () => {
            for (const stack of ["dev", "staging", "prod"]) {
                results[stack] = await plan({ stack, projectDir: ROOT, outDir: path.join(out, stack) });
            }
        });
        after(() => rmSync(out, { recursive: true, force: true }));

        for (const stack of ["dev", "staging", "prod"]) {
            it(`${stack}: every resource type has a duration, and the critical path equals its ideal`, () => {
                const { deploy } = results[stack];
                assert.deepEqual(deploy.unknownTypes, []);
                assert.deepEqual(deploy.serialising, []);
                assert.deepEqual(deploy.missingWaits, []);
                assert.equal(deploy.actual.seconds, deploy.ideal.seconds);
            });
        }

        it("prod: a SageMaker endpoint waits only for what it reads, not the cluster or the mesh", () => {
            const { resources } = results.prod;
            const endpoint = resources.find((r) => r.type === "aws:sagemaker/endpoint:Endpoint")!;
            const types = new Set(endpoint.dependencies.map((urn) => resources.find((r) => r.urn === urn)?.type));
            assert.ok(![...types].some((t) => t?.startsWith("kubernetes:") || t === "eks:index:Cluster" || t === "aws:eks/nodeGroup:NodeGroup"), [...types].join(", "));
        });

        it("prod: a model's Deployment waits for istiod and its namespace, not for the ingress gateway", () => {
            const { resources } = results.prod;
            const deployment = resources.find((r) => r.type === "kubernetes:apps/v1:Deployment" && r.urn.includes("TfServingModel"))!;
            const waitedFor = deployment.dependencies.map((urn) => resources.find((r) => r.urn === urn)!);
            const charts = waitedFor.filter((r) => r.type === "kubernetes:helm.sh/v3:Release").map((r) => r.inputs.chart);
            assert.deepEqual(charts.sort(), ["cni", "istiod"], "the injector and the CNI node agent, not the gateway");
            assert.ok(waitedFor.some((r) => r.type === "kubernetes:core/v1:Namespace" && (r.inputs.metadata as { name: string }).name === "ml-serving"));
        });
    });
});
