import * as assert from "node:assert/strict";
import { allocatable, DAEMONSET_ALLOWANCE, fitProblems, groupCapacity, tfServingImageProblem } from "../../../components/serving/modelFit";

describe("groupCapacity", () => {
    // [instance types, smallest node]
    const TABLE: [string[], { instanceType: string; vcpus: number; memoryGiB: number } | undefined][] = [
        [["g5.2xlarge", "g5.4xlarge"], { instanceType: "g5.2xlarge", vcpus: 8, memoryGiB: 32 }],
        [["g6e.xlarge"], { instanceType: "g6e.xlarge", vcpus: 4, memoryGiB: 32 }],
        [["g4dn.metal"], { instanceType: "g4dn.metal", vcpus: 96, memoryGiB: 384 }],
        [["p5.48xlarge"], { instanceType: "p5.48xlarge", vcpus: 192, memoryGiB: 2048 }],
        [["p4d.24xlarge"], { instanceType: "p4d.24xlarge", vcpus: 96, memoryGiB: 1152 }],
        [["g5g.xlarge", "g5g.2xlarge"], { instanceType: "g5g.xlarge", vcpus: 4, memoryGiB: 8 }],
        [["m6i.large"], undefined],
    ];
    for (const [types, capacity] of TABLE) {
        it(`${types.join(", ")} → ${capacity ? `${capacity.vcpus} vCPU, ${capacity.memoryGiB} GiB` : "unknown"}`, () => assert.deepEqual(groupCapacity(types), capacity));
    }
});

describe("allocatable", () => {
    // EKS's kube-reserved: 8 vCPU → 60 + 10 + 10 + 10 = 90m; memory 11 × 110 + 255 = 1465 MiB, plus 100 MiB eviction.
    it("takes what EKS reserves and the DaemonSet allowance off an 8 vCPU, 32 GiB node", () => {
        assert.deepEqual(allocatable({ instanceType: "g5.2xlarge", vcpus: 8, memoryGiB: 32 }), { cpuMillis: 8000 - 90 - DAEMONSET_ALLOWANCE.cpuMillis, memoryMiB: 32768 - 1565 - DAEMONSET_ALLOWANCE.memoryMiB });
    });
    it("reserves 6% of a single core", () => {
        assert.equal(allocatable({ instanceType: "x", vcpus: 1, memoryGiB: 4 }).cpuMillis, 1000 - 60 - DAEMONSET_ALLOWANCE.cpuMillis);
    });
});

describe("fitProblems", () => {
    const node = { instanceType: "g5.2xlarge", vcpus: 8, memoryGiB: 32 };
    const sidecar = { cpu: "500m", memory: "512Mi" };
    const TABLE: [string, { cpu: string; memory: string }, string[]][] = [
        ["a pod that fits", { cpu: "4", memory: "16Gi" }, []],
        ["7 cores: with the sidecar above the 7.41 left", { cpu: "7", memory: "8Gi" }, ["cpu"]],
        ["30 GiB: above the 29.97 left", { cpu: "2", memory: "30Gi" }, ["memory"]],
        ["both too big", { cpu: "16", memory: "64Gi" }, ["cpu", "memory"]],
    ];
    for (const [what, model, fields] of TABLE) {
        it(what, () => assert.deepEqual(Object.keys(fitProblems(model, sidecar, node, "a10g")).sort(), fields));
    }
    it("names the node, what is left for pods, and the fix", () => {
        assert.equal(fitProblems({ cpu: "2", memory: "30Gi" }, sidecar, node, "a10g").memory,
            "with the sidecar's 512Mi, asks for more memory than a g5.2xlarge node of group a10g has for pods (30.0 of its 32 GiB, after what EKS and the node's DaemonSets reserve); lower it or use larger instance types");
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
