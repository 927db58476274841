import * as assert from "node:assert/strict";
import { gpuInstance, type GpuInstance } from "../../../components/cluster/gpuInstances";
import { GPU_TAINT, LABELS, gpuNodeGroupPlacement } from "../../../components/cluster/gpuPlacement";
import { containerResources, gpuScheduling, s3ReadPolicy, versionReplicas } from "../../../components/serving/workloadPlacement";

/** Policy statements read loosely: the tests check their shape. */
type Loose = Record<string, any>;

const a10g = gpuNodeGroupPlacement({ name: "a10g", amiType: "AL2023_x86_64_NVIDIA", instance: gpuInstance("g5.2xlarge") as GpuInstance });

describe("gpuScheduling", () => {
    it("leaves a CPU pod (no group) without a selector or tolerations", () => {
        assert.deepEqual(gpuScheduling(undefined), {});
    });

    it("selects the group's nodes by their node-group label", () => {
        assert.deepEqual(gpuScheduling(a10g).nodeSelector, { "mlmesh.io/node-group": "a10g" });
        assert.equal(a10g.labels[LABELS.nodeGroup], "a10g");
    });

    it("tolerates the nvidia.com/gpu=true:NoSchedule taint with an Equal toleration", () => {
        assert.deepEqual(gpuScheduling(a10g).tolerations, [{ key: "nvidia.com/gpu", operator: "Equal", value: "true", effect: "NoSchedule" }]);
    });

    it("has a toleration matching each of the group's taints exactly", () => {
        const tolerations = gpuScheduling(a10g).tolerations ?? [];
        assert.deepEqual(a10g.taints, [GPU_TAINT]);
        assert.equal(tolerations.length, a10g.taints.length);
        for (const taint of a10g.taints) {
            assert.ok(tolerations.some((t) => t.key === taint.key && t.operator === "Equal" && t.value === taint.value && t.effect === taint.effect),
                `no toleration matches ${JSON.stringify(taint)}`);
        }
    });
});

describe("containerResources", () => {
    const table: [string, { cpu?: string; memory?: string } | undefined, number, Record<string, string>][] = [
        ["the defaults for a CPU container", undefined, 0, { cpu: "1", memory: "2Gi" }],
        ["the defaults plus one GPU", undefined, 1, { cpu: "1", memory: "2Gi", "nvidia.com/gpu": "1" }],
        ["the given cpu with the default memory", { cpu: "4" }, 0, { cpu: "4", memory: "2Gi" }],
        ["the given memory with the default cpu", { memory: "16Gi" }, 0, { cpu: "1", memory: "16Gi" }],
        ["the given amounts and four GPUs", { cpu: "8", memory: "32Gi" }, 4, { cpu: "8", memory: "32Gi", "nvidia.com/gpu": "4" }],
    ];
    for (const [what, resources, gpus, expected] of table) {
        it(`requests and limits ${what} (gpus ${gpus})`, () => {
            const result = containerResources(resources, gpus);
            assert.deepEqual(result.requests, expected);
            assert.deepEqual(result.limits, expected);
        });
    }

    it("returns requests and limits as separate objects", () => {
        const result = containerResources(undefined, 1);
        assert.notEqual(result.requests, result.limits);
    });
});

describe("versionReplicas", () => {
    // [model range, version weights, floor, each version's range]: the versions together run exactly
    // range.min pods and at most range.max, every one keeps the floor, the rest goes by weight.
    const table: [{ min: number; max: number }, number[], number | undefined, { min: number; max: number }[]][] = [
        [{ min: 2, max: 10 }, [90, 10], undefined, [{ min: 1, max: 8 }, { min: 1, max: 2 }]],
        [{ min: 4, max: 10 }, [90, 10], undefined, [{ min: 3, max: 8 }, { min: 1, max: 2 }]],
        [{ min: 2, max: 10 }, [100, 0], undefined, [{ min: 1, max: 9 }, { min: 1, max: 1 }]],
        [{ min: 2, max: 10 }, [100], undefined, [{ min: 2, max: 10 }]],
        [{ min: 1, max: 1 }, [100], undefined, [{ min: 1, max: 1 }]],
        [{ min: 3, max: 9 }, [34, 33, 33], undefined, [{ min: 1, max: 3 }, { min: 1, max: 3 }, { min: 1, max: 3 }]],
        // A tier's floor (staging, prod: 2) holds for every version, however small its share.
        [{ min: 4, max: 12 }, [95, 5], 2, [{ min: 2, max: 10 }, { min: 2, max: 2 }]],
        [{ min: 6, max: 20 }, [90, 10], 2, [{ min: 4, max: 17 }, { min: 2, max: 3 }]],
        [{ min: 4, max: 4 }, [50, 50], 2, [{ min: 2, max: 2 }, { min: 2, max: 2 }]],
    ];
    for (const [range, weights, floor, expected] of table) {
        it(`splits {${range.min}, ${range.max}} over weights ${weights.join("/")}${floor ? ` with a floor of ${floor}` : ""} as ${JSON.stringify(expected)}`, () => {
            const ranges = versionReplicas(range, weights, floor);
            assert.deepEqual(ranges, expected);
            assert.equal(ranges.reduce((sum, r) => sum + r.min, 0), Math.max(range.min, (floor ?? 1) * weights.length), "the versions run exactly the model's minimum");
            assert.ok(ranges.reduce((sum, r) => sum + r.max, 0) <= Math.max(range.max, (floor ?? 1) * weights.length), "and never more than its maximum");
        });
    }
});


describe("s3ReadPolicy", () => {
    const uris = ["s3://models/resnet/v1", "s3://models/resnet/v2/"];
    const access = (given: string[], partition = "aws") => ({ uris: given, partition });
    const policy = s3ReadPolicy(access(uris));
    const statements = policy.Statement as Loose[];
    const getStatements = statements.filter((s) => s.Action.includes("s3:GetObject"));
    const listStatements = statements.filter((s) => s.Action.includes("s3:ListBucket") && s.Condition.StringLike);

    it("is a 2012-10-17 policy of Allow statements", () => {
        assert.equal(policy.Version, "2012-10-17");
        assert.ok(statements.every((s) => s.Effect === "Allow"));
    });

    it("allows GetObject only under each version's prefix, not bucket-wide", () => {
        assert.equal(getStatements.length, 1);
        assert.deepEqual(getStatements[0].Action, ["s3:GetObject"]);
        assert.deepEqual(getStatements[0].Resource, ["arn:aws:s3:::models/resnet/v1/*", "arn:aws:s3:::models/resnet/v2/*"]);
        assert.ok(!getStatements[0].Resource.includes("arn:aws:s3:::models/*"));
    });

    it("allows ListBucket on the bucket only within the version prefixes", () => {
        assert.equal(listStatements.length, 1);
        assert.deepEqual(listStatements[0].Action, ["s3:ListBucket"]);
        assert.deepEqual(listStatements[0].Resource, ["arn:aws:s3:::models"]);
        assert.deepEqual(listStatements[0].Condition, { StringLike: { "s3:prefix": ["resnet/v1/", "resnet/v1/*", "resnet/v2/", "resnet/v2/*"] } });
    });

    it("allows HeadBucket, a ListBucket request without a prefix, on exactly the model buckets", () => {
        const head = (s3ReadPolicy(access(["s3://models/resnet/v1", "s3://archive/bert/v3"])).Statement as Loose[]).filter((s) => s.Condition?.Null);
        assert.deepEqual(head.map((s) => [s.Action, s.Resource, s.Condition]), [
            [["s3:ListBucket"], ["arn:aws:s3:::models", "arn:aws:s3:::archive"], { Null: { "s3:prefix": "true" } }],
        ]);
    });

    it("writes one list statement per bucket, each limited to its own prefixes", () => {
        const lists = (s3ReadPolicy(access(["s3://models/resnet/v1", "s3://archive/bert/v3"])).Statement as Loose[]).filter((s) => s.Action.includes("s3:ListBucket") && s.Condition.StringLike);
        assert.deepEqual(lists.map((s) => [s.Resource, s.Condition.StringLike["s3:prefix"]]), [
            [["arn:aws:s3:::models"], ["resnet/v1/", "resnet/v1/*"]],
            [["arn:aws:s3:::archive"], ["bert/v3/", "bert/v3/*"]],
        ]);
        assert.equal(new Set(lists.map((s) => s.Sid)).size, 2, "statement ids must be unique");
    });

    const partitions: [string, string[]][] = [
        ["aws", uris],
        ["aws-us-gov", uris],
        ["aws-cn", ["s3://models/resnet/v1", "s3://archive/bert/v3"]],
    ];
    for (const [partition, given] of partitions) {
        it(`uses the ${partition} partition in every ARN`, () => {
            const resources = (s3ReadPolicy(access(given, partition)).Statement as Loose[]).flatMap((s) => s.Resource as string[]);
            assert.ok(resources.length >= 3);
            for (const arn of resources) {
                assert.ok(arn.startsWith(`arn:${partition}:s3:::`), arn);
            }
        });
    }

    const shapes: [string, string[]][] = [["one bucket", uris], ["two buckets", ["s3://models/resnet/v1", "s3://archive/bert/v3/"]]];
    for (const [what, given] of shapes) {
        it(`grants no s3:* action and no "*" resource for ${what}`, () => {
            for (const statement of s3ReadPolicy(access(given, "aws-us-gov")).Statement as Loose[]) {
                const actions: string[] = [statement.Action].flat();
                const resources: string[] = [statement.Resource].flat();
                assert.ok(!actions.some((a) => a === "*" || a === "s3:*"), JSON.stringify(actions));
                assert.ok(!resources.includes("*"), JSON.stringify(resources));
                assert.deepEqual(actions.filter((a) => a !== "s3:GetObject" && a !== "s3:ListBucket"), []);
            }
        });
    }
});
