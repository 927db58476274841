import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import fc from "fast-check";
import { GpuCluster, type GpuClusterArgs } from "../../../components/cluster/gpuCluster";
import { desiredSizeToSend, kubernetesVersionProblem, liveDesiredSize, type ScalingRange } from "../../../components/cluster/liveState";
import { liveResourcesOf } from "../../../offline/liveResources";
import type { RecordedResource } from "../../../offline/recorder";
import { recordOffline } from "../../offline/fixtures/offlineRun";

const RUNS = { numRuns: 1000 };

describe("kubernetesVersionProblem", () => {
    const TABLE: [unknown, unknown, RegExp | undefined][] = [
        ["1.33", "1.33", undefined],
        ["1.33", "1.34", undefined],
        ["1.32", "1.34", /skips from Kubernetes 1\.32 to 1\.34: EKS upgrades one minor version at a time; go to 1\.33 first/],
        ["1.34", "1.33", /goes back from Kubernetes 1\.34 to 1\.33: EKS cannot downgrade a cluster; keep 1\.34/],
        [undefined, "1.33", undefined],
    ];
    for (const [before, after, problem] of TABLE) {
        it(`${String(before)} → ${String(after)}: ${problem ? "refused" : "allowed"}`, () => {
            const reason = kubernetesVersionProblem(before, after);
            if (problem) {
                assert.match(String(reason), problem);
            } else {
                assert.equal(reason, undefined);
            }
        });
    }

    const minor = fc.integer({ min: 0, max: 60 });
    it("refuses 1.x → 1.y exactly when y < x or y > x + 1, naming both versions (properties)", () => {
        fc.assert(fc.property(minor, fc.oneof(minor, minor.map((n) => n + 1)), (x, y) => {
            const problem = kubernetesVersionProblem(`1.${x}`, `1.${y}`);
            assert.equal(problem !== undefined, y < x || y > x + 1, `1.${x} → 1.${y}: ${problem}`);
            if (problem) {
                assert.ok(problem.includes(`1.${x}`) && problem.includes(`1.${y}`), problem);
            }
        }), RUNS);
    });

    it("says nothing when either side is not a 1.x version string (properties)", () => {
        const notVersion = fc.oneof(fc.string({ maxLength: 6 }).filter((s) => !/^1\.\d+$/.test(s)), fc.integer(), fc.constant(undefined), fc.constant(null));
        fc.assert(fc.property(notVersion, minor, fc.boolean(), (bad, n, badFirst) => {
            const good = `1.${n}`;
            assert.equal(badFirst ? kubernetesVersionProblem(bad, good) : kubernetesVersionProblem(good, bad), undefined);
        }), RUNS);
    });
});

describe("desiredSizeToSend", () => {
    // [live desired size (undefined: the group does not exist yet), range, sent]
    const TABLE: [number | undefined, ScalingRange, number][] = [
        [undefined, { minSize: 2, maxSize: 8 }, 2],
        [undefined, { minSize: 0, maxSize: 8, initial: 1 }, 1],
        [5, { minSize: 2, maxSize: 8 }, 5],
        [2, { minSize: 3, maxSize: 8 }, 3],
        [0, { minSize: 1, maxSize: 8, initial: 0 }, 1],
        [9, { minSize: 2, maxSize: 6 }, 6],
        [5, { minSize: 2, maxSize: 12, initial: 2 }, 5],
    ];
    for (const [live, range, sent] of TABLE) {
        it(`live ${String(live)}, range ${range.minSize}..${range.maxSize}${range.initial === undefined ? "" : ` (initial ${range.initial})`}: sends ${sent}`, () => {
            assert.equal(desiredSizeToSend(live, range), sent);
        });
    }

    it("always sends a size EKS accepts with the new range, and keeps the autoscaler's when it is within it (properties)", () => {
        const size = fc.integer({ min: 0, max: 100 });
        fc.assert(fc.property(fc.option(size, { nil: undefined }), size, size, fc.option(size, { nil: undefined }), (live, a, b, initial) => {
            const range = { minSize: Math.min(a, b), maxSize: Math.max(a, b), initial };
            const sent = desiredSizeToSend(live, range);
            assert.ok(range.minSize <= sent && sent <= range.maxSize, JSON.stringify({ live, range, sent }));
            if (live !== undefined && live >= range.minSize && live <= range.maxSize) {
                assert.equal(sent, live);
            }
        }), RUNS);
    });
});

describe("GpuCluster reads the live cluster", () => {
    const ARGS: GpuClusterArgs = {
        clusterName: "mlmesh-test",
        kubernetesVersion: "1.33",
        network: { vpcId: "vpc-0123456789abcdef0", privateSubnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"] },
        systemNodes: { minSize: 2, maxSize: 4 },
        gpuNodeGroups: [{ name: "a10g", instanceTypes: ["g5.2xlarge"], minSize: 0, maxSize: 8 }],
    };
    const program = (args: GpuClusterArgs) => () => { new GpuCluster("c", args); };
    const groups = (resources: readonly RecordedResource[]) => Object.fromEntries(resources.filter((r) => r.type === "aws:eks/nodeGroup:NodeGroup")
        .map((r) => [r.name, r.inputs.scalingConfig as Record<string, number>]));
    /** The first deploy's resources, with the autoscaler having moved each group to `desired`. */
    async function deployed(desired: Record<string, number>, version = "1.33"): Promise<RecordedResource[]> {
        const first = await recordOffline(program({ ...ARGS, kubernetesVersion: version as GpuClusterArgs["kubernetesVersion"] }));
        return first.resources.map((r) => (r.type === "aws:eks/nodeGroup:NodeGroup"
            ? { ...r, inputs: { ...r.inputs, scalingConfig: { ...(r.inputs.scalingConfig as object), desiredSize: desired[r.name] } } } : r));
    }

    it("starts a group that does not exist yet at its minimum (or its desiredSize), and asks nothing to ignore", async () => {
        const run = await recordOffline(program({ ...ARGS, gpuNodeGroups: [{ ...ARGS.gpuNodeGroups![0], desiredSize: 1 }] }));
        assert.deepEqual(groups(run.resources), {
            "c-system-ng": { minSize: 2, maxSize: 4, desiredSize: 2 },
            "c-gpu-a10g-ng": { minSize: 0, maxSize: 8, desiredSize: 1 },
        });
        assert.ok(run.resources.filter((r) => r.type === "aws:eks/nodeGroup:NodeGroup").every((r) => (r.options.ignoreChanges ?? []).length === 0));
    });

    it("reads nothing when the cluster is gone but its name is known (a first up that failed, or a deleted cluster): the group starts anew", async () => {
        // In a preview after a failed first up, the names come from state while no cluster exists.
        const run = await recordOffline(() => ({ desired: liveDesiredSize("mlmesh-gone", "c-system-0a1b2c3d", { minSize: 2, maxSize: 4 }, {}) }));
        assert.equal(run.outputs.desired, 2);
    });

    it("(finding 2) sends back the autoscaler's live size, raised to a new minimum: EKS never sees min > desired", async () => {
        const live = liveResourcesOf(await deployed({ "c-system-ng": 3, "c-gpu-a10g-ng": 2 }));
        const raised = await recordOffline(program({ ...ARGS, systemNodes: { minSize: 4, maxSize: 6 }, gpuNodeGroups: [{ ...ARGS.gpuNodeGroups![0], minSize: 1, maxSize: 12 }] }), {}, live);
        assert.deepEqual(groups(raised.resources), {
            "c-system-ng": { minSize: 4, maxSize: 6, desiredSize: 4 },
            "c-gpu-a10g-ng": { minSize: 1, maxSize: 12, desiredSize: 2 },
        });
        const lowered = await recordOffline(program({ ...ARGS, gpuNodeGroups: [{ ...ARGS.gpuNodeGroups![0], maxSize: 1 }] }), {}, live);
        assert.equal(groups(lowered.resources)["c-gpu-a10g-ng"].desiredSize, 1);
    });

    it("starts a group replaced under a new hashed name (new instance types) at the size of the group it replaces", async () => {
        const live = liveResourcesOf(await deployed({ "c-system-ng": 3, "c-gpu-a10g-ng": 5 }));
        const replaced = await recordOffline(program({ ...ARGS, gpuNodeGroups: [{ ...ARGS.gpuNodeGroups![0], instanceTypes: ["g5.4xlarge"] }] }), {}, live);
        const group = replaced.resources.find((r) => r.name === "c-gpu-a10g-ng")!;
        const before = [...live.nodeGroups.get("mlmesh-test")!.keys()];
        assert.ok(!before.includes(String(group.inputs.nodeGroupName)), "the replacement has a new name");
        assert.equal((group.inputs.scalingConfig as Record<string, number>).desiredSize, 5);
    });

    it("(finding 6) stops at the preview when the version would skip a minor version or go back from the live one", async () => {
        for (const [from, to, message] of [["1.32", "1.34", /cluster\.kubernetesVersion: the live cluster mlmesh-test runs 1\.32; the new setting skips from Kubernetes 1\.32 to 1\.34: .*go to 1\.33 first/], ["1.34", "1.33", /runs 1\.34; the new setting goes back from Kubernetes 1\.34 to 1\.33/]] as const) {
            const live = liveResourcesOf(await deployed({}, from));
            await assert.rejects(recordOffline(program({ ...ARGS, kubernetesVersion: to }), {}, live), (error: unknown) => pulumi.RunError.isInstance(error as Error) && message.test((error as Error).message));
        }
        const live = liveResourcesOf(await deployed({}, "1.32"));
        const next = await recordOffline(program({ ...ARGS, kubernetesVersion: "1.33" }), {}, live);
        assert.equal(next.resources.find((r) => r.type === "eks:index:Cluster")?.inputs.version, "1.33");
    });
});
