import * as assert from "node:assert/strict";
import {
    AMI_TRAITS,
    GPU_AMI_TYPES,
    GPU_FAMILIES,
    gpuInstance,
    instanceTypeProblems,
    type CpuArchitecture,
    type GpuAmiType,
} from "../../../components/cluster/gpuInstances";

describe("gpuInstance", () => {
    // [instance type, architecture, accelerator, GPUs]: a row or two per supported family.
    const supported: [string, CpuArchitecture, string, number][] = [
        ["g4dn.xlarge", "x86_64", "nvidia-t4", 1],
        ["g4dn.12xlarge", "x86_64", "nvidia-t4", 4],
        ["g4dn.metal", "x86_64", "nvidia-t4", 8],
        ["g5.xlarge", "x86_64", "nvidia-a10g", 1],
        ["g5.2xlarge", "x86_64", "nvidia-a10g", 1],
        ["g5.12xlarge", "x86_64", "nvidia-a10g", 4],
        ["g5.48xlarge", "x86_64", "nvidia-a10g", 8],
        ["g6.4xlarge", "x86_64", "nvidia-l4", 1],
        ["g6.24xlarge", "x86_64", "nvidia-l4", 4],
        ["gr6.4xlarge", "x86_64", "nvidia-l4", 1],
        ["gr6.8xlarge", "x86_64", "nvidia-l4", 1],
        ["g6e.2xlarge", "x86_64", "nvidia-l40s", 1],
        ["g6e.48xlarge", "x86_64", "nvidia-l40s", 8],
        ["p4d.24xlarge", "x86_64", "nvidia-a100", 8],
        ["p4de.24xlarge", "x86_64", "nvidia-a100-80gb", 8],
        ["p5.4xlarge", "x86_64", "nvidia-h100", 1],
        ["p5.48xlarge", "x86_64", "nvidia-h100", 8],
        ["p5e.48xlarge", "x86_64", "nvidia-h200", 8],
        ["p5en.48xlarge", "x86_64", "nvidia-h200", 8],
        ["g5g.xlarge", "arm64", "nvidia-t4g", 1],
        ["g5g.16xlarge", "arm64", "nvidia-t4g", 2],
    ];
    for (const [instanceType, architecture, accelerator, gpus] of supported) {
        it(`knows ${instanceType} as ${gpus} ${accelerator} GPU(s) on ${architecture}`, () => {
            const family = instanceType.split(".")[0];
            const { vcpus, memoryGiB, ...known } = gpuInstance(instanceType) as Exclude<ReturnType<typeof gpuInstance>, string>;
            assert.deepEqual(known, { instanceType, family, architecture, accelerator, gpus });
            assert.ok(vcpus >= 4 && memoryGiB >= 8, `${vcpus} vCPUs, ${memoryGiB} GiB`);
        });
    }

    it("has a table row for every family it supports", () => {
        const covered = new Set(supported.map(([type]) => type.split(".")[0]));
        assert.deepEqual([...covered].sort(), Object.keys(GPU_FAMILIES).sort());
    });

    // `constructor.xlarge` and `g5.constructor` (below) pass the stack config's instance-type syntax
    // check, but name a member of Object.prototype instead of a family or a size.
    const cpuOrUnknown = ["m6i.large", "c7g.xlarge", "t3.medium", "inf2.xlarge", "constructor.xlarge"];
    for (const instanceType of cpuOrUnknown) {
        it(`rejects ${instanceType} because it has no NVIDIA GPU, naming the GPU families`, () => {
            const result = gpuInstance(instanceType);
            assert.equal(typeof result, "string");
            assert.match(result as string, /^has no NVIDIA GPU/);
            for (const family of Object.keys(GPU_FAMILIES)) {
                assert.ok((result as string).includes(family), `the reason should name ${family}`);
            }
        });
    }

    const badSizes: [string, string[]][] = [
        ["g5.3xlarge", ["g5.xlarge", "g5.2xlarge", "g5.12xlarge", "g5.48xlarge"]],
        ["p4d.12xlarge", ["p4d.24xlarge"]],
        ["g5g.12xlarge", ["g5g.xlarge", "g5g.16xlarge", "g5g.metal"]],
        ["g5", ["g5.xlarge"]],
        ["g5.constructor", ["g5.xlarge"]],
    ];
    for (const [instanceType, someValid] of badSizes) {
        it(`rejects the unknown size ${instanceType} and lists the valid sizes of its family`, () => {
            const result = gpuInstance(instanceType);
            assert.equal(typeof result, "string", `expected a reason, got ${JSON.stringify(result)}`);
            const family = instanceType.split(".")[0];
            assert.match(result as string, new RegExp(`^is not a ${family} size; use one of `));
            for (const valid of someValid) {
                assert.ok((result as string).split(/, | /).includes(valid), `the reason should list ${valid}`);
            }
        });
    }
});

describe("instanceTypeProblems", () => {
    const valid: [string, string[], GpuAmiType][] = [
        ["one g5 size", ["g5.2xlarge"], "AL2023_x86_64_NVIDIA"],
        ["several g5 sizes", ["g5.xlarge", "g5.2xlarge", "g5.12xlarge"], "AL2023_x86_64_NVIDIA"],
        ["g6 and gr6, both L4", ["g6.4xlarge", "gr6.4xlarge"], "BOTTLEROCKET_x86_64_NVIDIA"],
        ["p5e and p5en, both H200", ["p5e.48xlarge", "p5en.48xlarge"], "AL2023_x86_64_NVIDIA"],
        ["g5g on the ARM AL2023 AMI", ["g5g.xlarge", "g5g.2xlarge"], "AL2023_ARM_64_NVIDIA"],
        ["g5g on the ARM Bottlerocket AMI", ["g5g.4xlarge"], "BOTTLEROCKET_ARM_64_NVIDIA"],
    ];
    for (const [what, instanceTypes, amiType] of valid) {
        it(`finds no problem with ${what} on ${amiType}`, () => {
            assert.deepEqual(instanceTypeProblems(instanceTypes, amiType), []);
        });
    }

    it("reports a CPU instance type at its own index", () => {
        const problems = instanceTypeProblems(["g5.xlarge", "m6i.large"], "AL2023_x86_64_NVIDIA");
        assert.equal(problems.length, 1);
        assert.equal(problems[0].index, 1);
        assert.equal(problems[0].instanceType, "m6i.large");
        assert.match(problems[0].reason, /has no NVIDIA GPU/);
    });

    const wrongArchitecture: [string, GpuAmiType, CpuArchitecture, GpuAmiType][] = [
        ["g5g.xlarge", "AL2023_x86_64_NVIDIA", "arm64", "AL2023_ARM_64_NVIDIA"],
        ["g5g.xlarge", "BOTTLEROCKET_x86_64_NVIDIA", "arm64", "BOTTLEROCKET_ARM_64_NVIDIA"],
        ["g5.xlarge", "BOTTLEROCKET_ARM_64_NVIDIA", "x86_64", "BOTTLEROCKET_x86_64_NVIDIA"],
        ["g6.xlarge", "AL2023_ARM_64_NVIDIA", "x86_64", "AL2023_x86_64_NVIDIA"],
    ];
    for (const [instanceType, amiType, architecture, fix] of wrongArchitecture) {
        it(`reports ${instanceType} on ${amiType} as ${architecture} and suggests amiType ${fix}`, () => {
            const problems = instanceTypeProblems([instanceType], amiType);
            assert.equal(problems.length, 1);
            assert.equal(problems[0].index, 0);
            assert.match(problems[0].reason, new RegExp(`^is an ${architecture} instance`));
            assert.ok(problems[0].reason.includes(`use amiType ${fix}`), problems[0].reason);
            const others = GPU_AMI_TYPES.filter((ami) => ami !== fix);
            for (const other of others) {
                assert.ok(!problems[0].reason.includes(`use amiType ${other}`), `should not suggest ${other}`);
            }
        });
    }

    const mixedModels: [string[], number, string][] = [
        [["g5.xlarge", "g6.xlarge"], 1, "nvidia-l4"],
        [["g6.xlarge", "g6.2xlarge", "g6e.xlarge"], 2, "nvidia-l40s"],
        [["p4d.24xlarge", "p4de.24xlarge"], 1, "nvidia-a100-80gb"],
    ];
    for (const [instanceTypes, index, accelerator] of mixedModels) {
        it(`reports a second GPU model (${instanceTypes[index]}) at index ${index}, telling to split the group`, () => {
            const problems = instanceTypeProblems(instanceTypes, "AL2023_x86_64_NVIDIA");
            assert.equal(problems.length, 1);
            assert.equal(problems[0].index, index);
            assert.equal(problems[0].instanceType, instanceTypes[index]);
            assert.match(problems[0].reason, new RegExp(`^has ${accelerator} GPUs but ${instanceTypes[0].replace(".", "\\.")} has`));
            assert.match(problems[0].reason, /its own group/);
        });
    }

    it("reports every bad entry of a list, each at its index", () => {
        const problems = instanceTypeProblems(["t3.medium", "g5.xlarge", "g5g.xlarge", "g6.xlarge"], "AL2023_x86_64_NVIDIA");
        assert.deepEqual(problems.map((p) => [p.index, p.instanceType]), [[0, "t3.medium"], [2, "g5g.xlarge"], [3, "g6.xlarge"]]);
    });

    it("reports an unknown family inside a list instead of throwing", () => {
        const problems = instanceTypeProblems(["g5.xlarge", "constructor.xlarge"], "AL2023_x86_64_NVIDIA");
        assert.deepEqual(problems.map((p) => p.index), [1]);
    });
});

describe("AMI_TRAITS", () => {
    const table: [GpuAmiType, CpuArchitecture, "al2023" | "bottlerocket", boolean, string][] = [
        ["AL2023_x86_64_NVIDIA", "x86_64", "al2023", false, "/dev/xvda"],
        ["AL2023_ARM_64_NVIDIA", "arm64", "al2023", false, "/dev/xvda"],
        ["BOTTLEROCKET_x86_64_NVIDIA", "x86_64", "bottlerocket", true, "/dev/xvdb"],
        ["BOTTLEROCKET_ARM_64_NVIDIA", "arm64", "bottlerocket", true, "/dev/xvdb"],
    ];
    for (const [amiType, architecture, os, shipsDevicePlugin, imageVolumeDevice] of table) {
        it(`describes ${amiType} as ${os} on ${architecture}, ${shipsDevicePlugin ? "shipping" : "not shipping"} the device plugin, images on ${imageVolumeDevice}`, () => {
            assert.deepEqual(AMI_TRAITS[amiType], { architecture, os, shipsDevicePlugin, imageVolumeDevice });
        });
    }

    it("has traits for exactly the GPU AMI types", () => {
        assert.deepEqual(Object.keys(AMI_TRAITS).sort(), [...GPU_AMI_TYPES].sort());
    });
});
