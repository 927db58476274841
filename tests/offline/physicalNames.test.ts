import * as assert from "node:assert/strict";
import { PlanMocks } from "../../offline/mockOutputs";
import { PhysicalNameError } from "../../offline/physicalNames";

describe("physical names in the offline engine", () => {
    const mocks = new PlanMocks({ region: "us-west-2", accountId: "123456789012", partition: "aws" });
    const create = (type: string, name: string, inputs: Record<string, unknown> = {}) => mocks.newResource({ type, name, inputs });
    const long = (length: number) => "n".repeat(length);

    const TOO_LONG: [string, string, string, Record<string, unknown>, number][] = [
        ["an IAM role whose generated name (56 + 8) passes 64", "aws:iam/role:Role", long(57), {}, 64],
        ["an IAM role named with 65 characters", "aws:iam/role:Role", "r", { name: long(65) }, 64],
        ["an inline policy whose generated name passes 128", "aws:iam/rolePolicy:RolePolicy", long(125), {}, 128],
        ["a node group named with 64 characters, which the provider itself lets through", "aws:eks/nodeGroup:NodeGroup", "ng", { nodeGroupName: long(64) }, 63],
        ["a node group whose generated name passes 63", "aws:eks/nodeGroup:NodeGroup", long(60), {}, 63],
        ["a launch template whose generated name passes 128", "aws:ec2/launchTemplate:LaunchTemplate", long(125), {}, 128],
        ["an eks cluster whose own control-plane role (<name>-eksRole-role-<7>) passes 64", "eks:index:Cluster", long(44), { name: "short" }, 64],
        ["an EKS cluster named with 101 characters", "eks:index:Cluster", "c", { name: long(101), serviceRole: "[resource]" }, 100],
        ["a Service named with 64 characters", "kubernetes:core/v1:Service", "svc", { metadata: { name: long(64) } }, 63],
        ["a Namespace named with 64 characters", "kubernetes:core/v1:Namespace", "ns", { metadata: { name: long(64) } }, 63],
        ["a ConfigMap named with 254 characters", "kubernetes:core/v1:ConfigMap", "cm", { metadata: { name: long(254) } }, 253],
        ["a label value of 64 characters", "kubernetes:apps/v1:Deployment", "d", { metadata: { name: "d", labels: { app: long(64) } } }, 63],
        ["a Helm release whose generated name (45 + 9) passes 53", "kubernetes:helm.sh/v3:Release", long(45), { chart: "x" }, 53],
    ];
    for (const [what, type, name, inputs, limit] of TOO_LONG) {
        it(`refuses ${what}, naming the resource and the limit`, () => {
            assert.throws(() => create(type, name, inputs), (error) => {
                assert.ok(error instanceof PhysicalNameError, String(error));
                assert.equal(error.limit, limit);
                assert.match(error.message, new RegExp(`^${type.replace(/[/.]/g, "\\$&")} ${name}: .* allow at most ${limit}$`));
                return true;
            });
        });
    }

    const FITTING: [string, string, string, Record<string, unknown>, string, string][] = [
        ["a generated IAM role name, as <name>-<7 hex>", "aws:iam/role:Role", long(56), {}, "name", `${long(56)}-`],
        ["an explicit node group name of 63", "aws:eks/nodeGroup:NodeGroup", "ng", { nodeGroupName: long(63) }, "nodeGroupName", long(63)],
    ];
    for (const [what, type, name, inputs, property, prefix] of FITTING) {
        it(`answers with ${what}`, () => {
            const state = create(type, name, inputs).state as Record<string, string>;
            assert.ok(state[property].startsWith(prefix) && state[property].length <= 64, state[property]);
        });
    }

    it("answers an IAM role's id with its physical name, as AWS does", () => {
        const result = create("aws:iam/role:Role", "r", { name: "mlmesh-dev-nodes-1a2b3c4d" });
        assert.equal(result.id, "mlmesh-dev-nodes-1a2b3c4d");
    });
});
