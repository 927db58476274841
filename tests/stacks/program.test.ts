import * as assert from "node:assert/strict";
import { waitsFor } from "../../offline/installOrder";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { plan, type PlanResult } from "../../offline/plan";
import type { RecordedResource } from "../../offline/recorder";

describe("the stack program through the offline engine", () => {
    let work: string;
    const plans: Record<string, PlanResult> = {};
    const find = (stack: string, type: string): RecordedResource[] => plans[stack].resources.filter((r) => r.type === type);

    before(async () => {
        work = mkdtempSync(path.join(tmpdir(), "mlmesh-program-"));
        for (const stack of ["dev", "prod"]) {
            plans[stack] = await plan({ stack, outDir: path.join(work, stack) });
        }
    });
    after(() => rmSync(work, { recursive: true, force: true }));

    it("protects the prod cluster and its secrets key, and keeps the key if it is ever deleted", () => {
        const [cluster] = find("prod", "eks:index:Cluster");
        const key = find("prod", "aws:kms/key:Key").find((k) => k.name === "mlmesh-prod-cluster-secrets-key")!;
        assert.equal(cluster.options.transforms, 2, "withoutCreatorAdmin and protectControlPlane");
        assert.equal(cluster.inputs.deletionProtection, true);
        assert.equal(key.options.protect, true);
        assert.equal(key.options.retainOnDelete, true);
    });

    it("leaves dev resources unprotected so the stack can be torn down; only KServe's CRD release outlives it (its CRDs hold every InferenceService)", () => {
        for (const resource of plans.dev.resources) {
            assert.notEqual(resource.options.protect, true, resource.urn);
        }
        assert.deepEqual(plans.dev.resources.filter((r) => r.options.retainOnDelete === true).map((r) => r.name), ["mlmesh-dev-kserve-kserve-crd"]);
    });

    it("creates one GPU node group per configured group, with the stack's AMI types", () => {
        const amiTypes = (stack: string) => find(stack, "aws:eks/nodeGroup:NodeGroup")
            .filter((group) => (group.inputs.labels as Record<string, string>)["mlmesh.io/gpu"] === "true")
            .map((group) => group.inputs.amiType).sort();
        assert.deepEqual(amiTypes("dev"), ["AL2023_x86_64_NVIDIA"]);
        assert.deepEqual(amiTypes("prod"), ["AL2023_x86_64_NVIDIA", "BOTTLEROCKET_x86_64_NVIDIA"]);
    });

    it("installs every Istio chart with pods only after the system nodes and add-ons exist, and none after the GPU groups, as the engine orders them", () => {
        // The engine orders by each resource's own dependencies: a component's dependsOn reaches
        // its children only because mlmesh passes it on.
        const graph = waitsFor(plans.dev.resources);
        const groups = find("dev", "aws:eks/nodeGroup:NodeGroup");
        const isSystem = (r: RecordedResource) => (r.inputs.labels as Record<string, string> | undefined)?.["mlmesh.io/node-role"] === "system";
        const clusterParts = [...groups.filter(isSystem), ...find("dev", "aws:eks/addon:Addon")].map((r) => r.urn);
        const gpuGroups = groups.filter((r) => !isSystem(r)).map((r) => r.urn);
        assert.ok(gpuGroups.length > 0);
        const istio = find("dev", "kubernetes:helm.sh/v3:Release").filter((r) => ["base", "istiod", "gateway"].includes(String(r.inputs.chart)));
        assert.equal(istio.length, 3);
        for (const release of istio) {
            // base holds only CRDs and roles: it runs no pods and waits for no node.
            const needs = release.inputs.chart === "base" ? [] : clusterParts;
            assert.deepEqual(needs.filter((urn) => !graph.get(release.urn)!.has(urn)), [], release.name);
            assert.deepEqual(gpuGroups.filter((urn) => graph.get(release.urn)!.has(urn)), [], `${release.name} waits for a GPU group it does not run on`);
        }
    });

    it("runs one NAT gateway in dev and one per zone in prod", () => {
        assert.equal(find("dev", "aws:ec2/natGateway:NatGateway").length, 1);
        assert.equal(find("prod", "aws:ec2/natGateway:NatGateway").length, 3);
    });

    it("publishes the outputs app teams read, with the kubeconfig as a secret", () => {
        const outputs = plans.prod.outputs;
        // The contract (components/platform/contract.ts) and its deprecated aliases.
        assert.deepEqual(Object.keys(outputs).sort(), [
            "appTeams", "clusterCertificateAuthority", "clusterEndpoint", "clusterName", "contractVersion", "environment", "gatewayHost", "gatewayName", "gatewayServiceHost", "gpuNodeGroups",
            "inferenceHost", "kubeconfig", "meshHost", "meshNamespaces", "meshRevision", "models", "oidcProviderArn", "oidcProviderUrl",
            "privateSubnetIds", "region", "sagemakerVpcEndpointDns", "vpcId",
        ]);
        assert.equal(outputs.kubeconfig, "[secret]");
        assert.equal(outputs.clusterName, "mlmesh-prod");
        assert.deepEqual((outputs.gpuNodeGroups as { name: string }[]).map((g) => g.name), ["a10g", "l4-spot"]);
    });
});
