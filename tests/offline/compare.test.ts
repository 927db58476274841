import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { renderReplaceTable } from "../../offline/replaceFields";
import { classify, comparePlans, TRAFFIC_BEARING, type PlannedResource } from "../../offline/compare";

const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
const group = (inputs: Record<string, unknown>, options: PlannedResource["options"] = { ignoreChanges: ["scalingConfig.desiredSize"] }): PlannedResource => ({
    urn: "urn:pulumi:prod::mlmesh::mlmesh:cluster:GpuNodeGroup$aws:eks/nodeGroup:NodeGroup::gpu-a10g-ng",
    type: NODE_GROUP,
    name: "gpu-a10g-ng",
    inputs: { nodeGroupName: "gpu-a10g-0a1b2c3d", instanceTypes: ["g5.2xlarge"], amiType: "AL2023_x86_64_NVIDIA", capacityType: "ON_DEMAND", scalingConfig: { minSize: 2, maxSize: 8, desiredSize: 2 }, labels: { a: "1" }, ...inputs },
    options,
});

describe("classify", () => {
    // [what changed, the new inputs, the kind, the fields that force replacement]
    const TABLE: [string, Record<string, unknown>, string, string[]][] = [
        ["nothing", {}, "same", []],
        ["a label (updated in place)", { labels: { a: "2" } }, "update", []],
        ["the scaling range (updated in place)", { scalingConfig: { minSize: 3, maxSize: 8, desiredSize: 2 } }, "update", []],
        ["only the desired size, where ignoreChanges names it", { scalingConfig: { minSize: 2, maxSize: 8, desiredSize: 5 } }, "same", []],
        ["the instance types", { instanceTypes: ["g5.4xlarge"] }, "replace", ["instanceTypes"]],
        ["the AMI type", { amiType: "BOTTLEROCKET_x86_64_NVIDIA" }, "replace", ["amiType"]],
        ["the capacity type", { capacityType: "SPOT" }, "replace", ["capacityType"]],
        ["the subnets", { subnetIds: ["subnet-1", "subnet-4"] }, "replace", ["subnetIds"]],
    ];
    for (const [what, inputs, kind, replacedBy] of TABLE) {
        it(`a node group whose ${what} changed: ${kind}`, () => {
            const change = classify(group({}), group(inputs));
            assert.deepEqual([change.kind, change.replacedBy], [kind, replacedBy]);
        });
    }

    it("creates what only the new plan has and deletes what only the old one had", () => {
        assert.equal(classify(undefined, group({})).kind, "create");
        assert.equal(classify(group({}), undefined).kind, "delete");
    });

    it("replaces on a field the resource's own replaceOnChanges names", () => {
        const options = { replaceOnChanges: ["labels"] };
        assert.deepEqual(classify(group({}, options), group({ labels: { a: "2" } }, options)).replacedBy, ["labels.a"]);
    });
});

describe("comparePlans", () => {
    const cluster = (version: string): PlannedResource => ({ urn: "urn:c", type: "eks:index:Cluster", name: "mlmesh-prod-cluster-eks", inputs: { version }, options: { protect: true } });
    const vpc = (cidrBlock: string): PlannedResource => ({ urn: "urn:v", type: "aws:ec2/vpc:Vpc", name: "mlmesh-prod-network-vpc", inputs: { cidrBlock }, options: { protect: true } });

    it("refuses replacing a serving node group in prod, saying how to do it blue/green", () => {
        const { problems } = comparePlans([group({})], [group({ instanceTypes: ["g5.4xlarge"] })], { environment: "prod" });
        assert.equal(problems.length, 1);
        assert.match(problems[0].message, /gpu-a10g-ng \(aws:eks\/nodeGroup:NodeGroup\) would be replaced \(instanceTypes changed\) in prod/);
        assert.match(problems[0].message, /add a group beside it under a new name/);
    });

    it("lets the same replacement through outside prod, and in prod when it is allowed by name", () => {
        for (const options of [{ environment: "dev" }, { environment: "staging" }, { environment: "prod", allow: ["gpu-a10g-ng"] }, { environment: "prod", allow: ["gpu-*"] }]) {
            const { changes, problems } = comparePlans([group({})], [group({ instanceTypes: ["g5.4xlarge"] })], options);
            assert.deepEqual([changes.map((c) => c.kind), problems], [["replace"], []], JSON.stringify(options));
        }
    });

    it("refuses deleting or replacing what prod protects, whatever its type", () => {
        const { problems } = comparePlans([vpc("10.60.0.0/16")], [vpc("10.61.0.0/16")], { environment: "prod" });
        assert.match(problems[0].message, /mlmesh-prod-network-vpc \(aws:ec2\/vpc:Vpc\) would be replaced \(cidrBlock changed\), and prod protects it/);
        assert.match(comparePlans([vpc("10.60.0.0/16")], [], { environment: "prod" }).problems[0].message, /would be deleted, and prod protects it/);
    });

    it("refuses a Kubernetes version that skips a minor version, in every environment", () => {
        for (const environment of ["dev", "prod"]) {
            assert.match(comparePlans([cluster("1.32")], [cluster("1.34")], { environment }).problems[0].message, /skips from Kubernetes 1\.32 to 1\.34/);
        }
        assert.deepEqual(comparePlans([cluster("1.33")], [cluster("1.34")], { environment: "prod" }).problems, []);
    });

    it("pairs a renamed resource with its old URN through its aliases: an update, not a delete and a create", () => {
        const old = group({});
        const renamed = { ...group({ labels: { a: "2" } }), urn: old.urn.replace("::gpu-a10g-ng", "::gpu-a10g-v2-ng"), name: "gpu-a10g-v2-ng", options: { aliases: [old.urn], ignoreChanges: ["scalingConfig.desiredSize"] } };
        const { changes, problems } = comparePlans([old], [renamed], { environment: "prod" });
        assert.deepEqual([changes.map((c) => `${c.kind} ${c.name}`), problems], [["update gpu-a10g-v2-ng"], []]);
        assert.deepEqual(comparePlans([old], [{ ...renamed, options: {} }], { environment: "prod" }).changes.map((c) => c.kind).sort(), ["create", "delete"]);
    });

    it("leaves unchanged resources out of the changes", () => {
        assert.deepEqual(comparePlans([group({})], [group({})]).changes, []);
    });

    it("explains every traffic-bearing type with the safe way", () => {
        for (const [type, reason] of Object.entries(TRAFFIC_BEARING)) {
            assert.ok(reason.length > 40, type);
        }
    });
});

describe("the README's Day 2 section", () => {
    it("keeps the table of fields that force replacement verbatim", () => {
        const readme = readFileSync(path.join(__dirname, "..", "..", "README.md"), "utf8");
        assert.ok(readme.includes(renderReplaceTable()), "README.md's replacement table is out of date; paste renderReplaceTable()'s output");
    });
});
