import * as assert from "node:assert/strict";
import { GPU_FAMILIES } from "../../../components/cluster/gpuInstances";
import { allocatable, DAEMONSET_ALLOWANCE, fitProblems, groupCapacities, MAX_PODS, tfServingImageProblem } from "../../../components/serving/modelFit";

describe("groupCapacities", () => {
    // [instance types, nodes]: vCPUs, memory and the max pods the EKS AMIs allow (which sets what they reserve)
    const TABLE: [string[], { instanceType: string; vcpus: number; memoryGiB: number; maxPods: number }[]][] = [
        [["g5.2xlarge", "g5.4xlarge"], [{ instanceType: "g5.2xlarge", vcpus: 8, memoryGiB: 32, maxPods: 58 }, { instanceType: "g5.4xlarge", vcpus: 16, memoryGiB: 64, maxPods: 234 }]],
        [["g6e.xlarge"], [{ instanceType: "g6e.xlarge", vcpus: 4, memoryGiB: 32, maxPods: 58 }]],
        [["g4dn.metal"], [{ instanceType: "g4dn.metal", vcpus: 96, memoryGiB: 384, maxPods: 737 }]],
        [["p5.48xlarge"], [{ instanceType: "p5.48xlarge", vcpus: 192, memoryGiB: 2048, maxPods: 100 }]],
        [["p4d.24xlarge"], [{ instanceType: "p4d.24xlarge", vcpus: 96, memoryGiB: 1152, maxPods: 737 }]],
        [["g5g.xlarge"], [{ instanceType: "g5g.xlarge", vcpus: 4, memoryGiB: 8, maxPods: 58 }]],
        [["m6i.large"], []],
    ];
    for (const [types, nodes] of TABLE) {
        it(`${types.join(", ")} → ${nodes.map((n) => `${n.vcpus} vCPU/${n.memoryGiB} GiB/${n.maxPods} pods`).join(", ") || "nothing known"}`, () => assert.deepEqual(groupCapacities(types), nodes));
    }
    it("knows the max pods of every GPU instance type mlmesh accepts", () => {
        for (const [family, { gpusBySize }] of Object.entries(GPU_FAMILIES)) {
            for (const size of Object.keys(gpusBySize)) {
                assert.ok(MAX_PODS[`${family}.${size}`] !== undefined, `${family}.${size}`);
            }
        }
    });
});

describe("allocatable", () => {
    // EKS's kube-reserved: 8 vCPU → 60 + 10 + 10 + 10 = 90m; memory 11 × 58 + 255 = 893 MiB, plus 100 MiB eviction.
    it("takes what EKS reserves and the DaemonSet allowance off a g5.2xlarge", () => {
        assert.deepEqual(allocatable({ instanceType: "g5.2xlarge", vcpus: 8, memoryGiB: 32, maxPods: 58 }), { cpuMillis: 8000 - 90 - DAEMONSET_ALLOWANCE.cpuMillis, memoryMiB: 32768 - 993 - DAEMONSET_ALLOWANCE.memoryMiB });
    });
    it("reserves 6% of a single core, and memory for every pod the node allows", () => {
        assert.equal(allocatable({ instanceType: "x", vcpus: 1, memoryGiB: 4, maxPods: 8 }).cpuMillis, 1000 - 60 - DAEMONSET_ALLOWANCE.cpuMillis);
        assert.equal(allocatable({ instanceType: "g5.12xlarge", vcpus: 48, memoryGiB: 192, maxPods: 737 }).memoryMiB, 192 * 1024 - (11 * 737 + 255 + 100) - DAEMONSET_ALLOWANCE.memoryMiB);
    });
});

describe("fitProblems", () => {
    const node = groupCapacities(["g5.2xlarge"]);
    const sidecar = { cpu: "500m", memory: "512Mi" };
    const TABLE: [string, { cpu: string; memory: string }, string[]][] = [
        ["a pod that fits", { cpu: "4", memory: "16Gi" }, []],
        ["7 cores: with the sidecar above the 7.41 left", { cpu: "7", memory: "8Gi" }, ["cpu"]],
        ["30.5 GiB: above the 30.5 left with the sidecar", { cpu: "2", memory: "30.5Gi" }, ["memory"]],
        ["both too big", { cpu: "16", memory: "64Gi" }, ["cpu", "memory"]],
    ];
    for (const [what, model, fields] of TABLE) {
        it(what, () => assert.deepEqual(Object.keys(fitProblems(model, sidecar, node, "a10g")).sort(), fields));
    }
    it("names the node, what is left for pods, and the fix", () => {
        assert.equal(fitProblems({ cpu: "2", memory: "31Gi" }, sidecar, node, "a10g").memory,
            "with the sidecar's 512Mi, asks for more memory than a g5.2xlarge node of group a10g has for pods (30.5 of its 32 GiB, after what EKS and the node's DaemonSets reserve); lower it or use larger instance types");
    });
    it("must fit every instance type of the group, the one with the least room included", () => {
        // A g5.12xlarge reserves 8.4 GiB for its 737 pods; 185 GiB fits 192 GiB nominally but not there.
        const big = groupCapacities(["g5.12xlarge"]);
        assert.deepEqual(Object.keys(fitProblems({ cpu: "2", memory: "184Gi" }, sidecar, big, "big")), ["memory"]);
        assert.deepEqual(Object.keys(fitProblems({ cpu: "2", memory: "180Gi" }, sidecar, big, "big")), []);
        assert.deepEqual(Object.keys(fitProblems({ cpu: "7", memory: "8Gi" }, sidecar, groupCapacities(["g5.4xlarge", "g5.2xlarge"]), "mixed")), ["cpu"]);
    });
});

describe("tfServingImageProblem", () => {
    const TABLE: [string | undefined, number, RegExp | undefined][] = [
        ["tensorflow/serving:2.20.0-gpu", 1, undefined],
        ["tensorflow/serving:2.20.0", 0, undefined],
        ["tensorflow/serving:2.20.0", 1, /is TF Serving's CPU build, but the model asks for 1 GPU\(s\); use the -gpu tag \(e\.g\. tensorflow\/serving:2\.20\.0-gpu\) or set gpus: 0/],
        ["docker.io/tensorflow/serving:2.20.0-gpu", 0, /is TF Serving's GPU build, but the model asks for no GPU/],
        ["123456789012.dkr.ecr.us-west-2.amazonaws.com/ml/tfserving-fraud:2.20.0-r3", 1, undefined],
        [undefined, 1, undefined],
    ];
    for (const [image, gpus, problem] of TABLE) {
        it(`${image ?? "(default image)"} with ${gpus} GPU(s): ${problem ? "refused" : "fine"}`, () => {
            const reason = tfServingImageProblem(image, gpus);
            if (problem) {
                assert.match(String(reason), problem);
            } else {
                assert.equal(reason, undefined);
            }
        });
    }
});
