import { systemNodeAmiType } from "../../../components/cluster/gpuCluster";
import * as assert from "node:assert/strict";
import {
    bottlerocketTimeSlicingSettings,
    placementOf,
    validateGpuNodeGroupSpec,
    type GpuNodeGroupSpec,
} from "../../../components/cluster/gpuNodeGroup";
import { EKS_ADDON_VERSIONS, EKS_CORE_ADDONS, SUPPORTED_KUBERNETES_VERSIONS } from "../../../components/cluster/eksAddons";
import { PropertyErrors } from "../../../components/propertyErrors";

const PREFIX = "gpuNodeGroups[2].";

const validSpec: GpuNodeGroupSpec = {
    name: "inference",
    instanceTypes: ["g5.xlarge", "g5.2xlarge"],
    amiType: "AL2023_x86_64_NVIDIA",
    capacityType: "SPOT",
    minSize: 0,
    maxSize: 4,
    desiredSize: 1,
    diskSizeGiB: 200,
    timeSlicing: { replicas: 4 },
};

function problemsOf(spec: GpuNodeGroupSpec): readonly { path: string; value: unknown; reason: string }[] {
    return validateGpuNodeGroupSpec(spec, new PropertyErrors(), PREFIX).list;
}

describe("validateGpuNodeGroupSpec", () => {
    const valid: [string, GpuNodeGroupSpec][] = [
        ["a fully specified spec", validSpec],
        ["a spec with only the required fields", { name: "g", instanceTypes: ["g6.xlarge"], maxSize: 1 }],
        ["a Bottlerocket ARM spec", { name: "arm-rocket", instanceTypes: ["g5g.xlarge"], amiType: "BOTTLEROCKET_ARM_64_NVIDIA", minSize: 1, maxSize: 1 }],
        ["a spec at the disk and replica limits", { ...validSpec, diskSizeGiB: 50, timeSlicing: { replicas: 48 } }],
    ];
    for (const [what, spec] of valid) {
        it(`finds no problem with ${what}`, () => {
            assert.deepEqual(problemsOf(spec), []);
        });
    }

    it("uses no prefix by default and adds to the errors it is given", () => {
        const errors = new PropertyErrors();
        errors.check("other", 1, "is wrong");
        validateGpuNodeGroupSpec({ ...validSpec, diskSizeGiB: 10 }, errors);
        assert.deepEqual(errors.list.map((p) => p.path), ["other", "diskSizeGiB"]);
    });

    // [what is wrong, the bad spec, path of the one problem (after the prefix), value, reason pattern]
    const singleProblems: [string, GpuNodeGroupSpec, string, unknown, RegExp][] = [
        ["an upper-case name", { ...validSpec, name: "Inference" }, "name", "Inference", /DNS-1123 label/],
        ["a name starting with a digit", { ...validSpec, name: "1gpu" }, "name", "1gpu", /starting with a letter/],
        ["a name of 41 characters", { ...validSpec, name: "a".repeat(41) }, "name", "a".repeat(41), /at most 40/],
        ["an unknown amiType", { ...validSpec, amiType: "AL2_x86_64_GPU" as GpuNodeGroupSpec["amiType"] }, "amiType", "AL2_x86_64_GPU", /must be one of AL2023_x86_64_NVIDIA, /],
        ["an unknown amiType with CPU instance types (not checked against it)", { ...validSpec, amiType: "AL2_x86_64" as GpuNodeGroupSpec["amiType"], instanceTypes: ["m6i.large"] }, "amiType", "AL2_x86_64", /must be one of/],
        ["no instance types", { ...validSpec, instanceTypes: [] }, "instanceTypes", [], /at least one GPU instance type/],
        ["a CPU instance type", { ...validSpec, instanceTypes: ["m6i.large"] }, "instanceTypes[0]", "m6i.large", /has no NVIDIA GPU/],
        ["a CPU instance type after a GPU one", { ...validSpec, instanceTypes: ["g5.xlarge", "c7g.xlarge"] }, "instanceTypes[1]", "c7g.xlarge", /has no NVIDIA GPU/],
        ["an ARM instance on an x86 AMI", { ...validSpec, instanceTypes: ["g5g.xlarge"] }, "instanceTypes[0]", "g5g.xlarge", /use amiType AL2023_ARM_64_NVIDIA/],
        ["maxSize below minSize", { ...validSpec, minSize: 3, maxSize: 2, desiredSize: undefined }, "maxSize", 2, /is below `minSize` \(3\)/],
        ["desiredSize above maxSize", { ...validSpec, desiredSize: 5 }, "desiredSize", 5, /between `minSize` \(0\) and `maxSize` \(4\)/],
        ["desiredSize below minSize", { ...validSpec, minSize: 2, desiredSize: 1 }, "desiredSize", 1, /between `minSize` \(2\) and `maxSize` \(4\)/],
        ["a 10 GiB disk", { ...validSpec, diskSizeGiB: 10 }, "diskSizeGiB", 10, /whole number from 50 to 16384/],
        ["a fractional disk size", { ...validSpec, diskSizeGiB: 100.5 }, "diskSizeGiB", 100.5, /whole number from 50 to 16384/],
        ["time-slicing with 1 replica", { ...validSpec, timeSlicing: { replicas: 1 } }, "timeSlicing.replicas", 1, /whole number from 2 to 48/],
        ["time-slicing with 2.5 replicas", { ...validSpec, timeSlicing: { replicas: 2.5 } }, "timeSlicing.replicas", 2.5, /whole number from 2 to 48/],
        ["time-slicing with 49 replicas", { ...validSpec, timeSlicing: { replicas: 49 } }, "timeSlicing.replicas", 49, /whole number from 2 to 48/],
        ["a fractional desiredSize", { ...validSpec, desiredSize: 1.5 }, "desiredSize", 1.5, /whole number from 0 to 1000/],
        ["a negative maxSize, reported once", { ...validSpec, maxSize: -1 }, "maxSize", -1, /whole number from 1 to 1000/],
        ["an unknown capacityType", { ...validSpec, capacityType: "RESERVED" as GpuNodeGroupSpec["capacityType"] }, "capacityType", "RESERVED", /must be one of ON_DEMAND, SPOT/],
        ["a fractional maxSize", { ...validSpec, maxSize: 4.5 }, "maxSize", 4.5, /whole number from 1 to 1000/],
    ];
    for (const [what, spec, path, value, reason] of singleProblems) {
        it(`reports ${what} as exactly one problem at ${PREFIX}${path}`, () => {
            const problems = problemsOf(spec);
            assert.equal(problems.length, 1, JSON.stringify(problems));
            assert.equal(problems[0].path, `${PREFIX}${path}`);
            assert.deepEqual(problems[0].value, value);
            assert.match(problems[0].reason, reason);
        });
    }

    it("reports several bad fields at once, each at its path", () => {
        const problems = problemsOf({
            name: "Bad_Name",
            instanceTypes: ["g5.xlarge", "t3.medium", "g6.xlarge"],
            capacityType: "SOMETIMES" as GpuNodeGroupSpec["capacityType"],
            minSize: 2,
            maxSize: 6,
            desiredSize: 7,
            diskSizeGiB: 10,
            timeSlicing: { replicas: 1 },
        });
        assert.deepEqual(problems.map((p) => p.path).sort(), [
            "capacityType", "desiredSize", "diskSizeGiB", "instanceTypes[1]", "instanceTypes[2]", "name", "timeSlicing.replicas",
        ].map((path) => `${PREFIX}${path}`).sort());
    });
});

describe("bottlerocketTimeSlicingSettings", () => {
    for (const replicas of [2, 4, 48]) {
        it(`writes the Bottlerocket device-plugin settings for ${replicas} time-slicing replicas`, () => {
            const lines = bottlerocketTimeSlicingSettings(replicas).split("\n");
            for (const line of [
                "[settings.kubelet-device-plugins.nvidia]",
                `device-sharing-strategy = "time-slicing"`,
                "[settings.kubelet-device-plugins.nvidia.time-slicing]",
                `replicas = ${replicas}`,
                "rename-by-default = false",
                "fail-requests-greater-than-one = true",
            ]) {
                assert.ok(lines.includes(line), `missing line: ${line}`);
            }
        });
    }
});

describe("placementOf", () => {
    // [instance types, AMI, time-slicing replicas, GPUs per node]
    const table: [string[], GpuNodeGroupSpec["amiType"], number | undefined, number][] = [
        [["g5.xlarge", "g5.12xlarge"], undefined, undefined, 1],
        [["g5.12xlarge", "g5.xlarge"], undefined, undefined, 1],
        [["g5.xlarge", "g5.12xlarge"], undefined, 4, 4],
        [["g5.12xlarge", "g5.48xlarge"], undefined, undefined, 4],
        [["g5.12xlarge", "g5.48xlarge"], "BOTTLEROCKET_x86_64_NVIDIA", 2, 8],
        [["p4d.24xlarge"], undefined, undefined, 8],
    ];
    for (const [instanceTypes, amiType, replicas, gpusPerNode] of table) {
        const sharing = replicas === undefined ? "" : ` shared ${replicas} ways`;
        it(`counts ${gpusPerNode} GPU(s) per node for ${instanceTypes.join(" + ")}${sharing}, from the smallest instance`, () => {
            const placement = placementOf({ name: "g", instanceTypes, amiType, maxSize: 1, timeSlicing: replicas === undefined ? undefined : { replicas } });
            assert.equal(placement.gpusPerNode, gpusPerNode);
            assert.equal(placement.timeSlicingReplicas, replicas ?? 1);
            assert.equal(placement.amiType, amiType ?? "AL2023_x86_64_NVIDIA");
        });
    }
});

describe("EKS_ADDON_VERSIONS", () => {
    const version = /^v\d+\.\d+\.\d+-eksbuild\.\d+$/;
    for (const kubernetes of SUPPORTED_KUBERNETES_VERSIONS) {
        for (const addon of EKS_CORE_ADDONS) {
            it(`pins ${addon} for Kubernetes ${kubernetes} to an eksbuild version`, () => {
                assert.match(EKS_ADDON_VERSIONS[kubernetes][addon], version);
            });
        }
        it(`pins kube-proxy to the Kubernetes ${kubernetes} minor version`, () => {
            assert.ok(EKS_ADDON_VERSIONS[kubernetes]["kube-proxy"].startsWith(`v${kubernetes}.`), EKS_ADDON_VERSIONS[kubernetes]["kube-proxy"]);
        });
    }

    it("has entries for exactly the supported versions and core add-ons", () => {
        assert.deepEqual(Object.keys(EKS_ADDON_VERSIONS).sort(), [...SUPPORTED_KUBERNETES_VERSIONS].sort());
        for (const kubernetes of SUPPORTED_KUBERNETES_VERSIONS) {
            assert.deepEqual(Object.keys(EKS_ADDON_VERSIONS[kubernetes]).sort(), [...EKS_CORE_ADDONS].sort());
        }
    });
});

describe("system node AMI", () => {
    const cases: [string, string][] = [
        ["m6i.large", "AL2023_x86_64_STANDARD"],
        ["c5.xlarge", "AL2023_x86_64_STANDARD"],
        ["m7g.large", "AL2023_ARM_64_STANDARD"],
        ["c7gn.2xlarge", "AL2023_ARM_64_STANDARD"],
        ["t4g.medium", "AL2023_ARM_64_STANDARD"],
        ["r8gd.xlarge", "AL2023_ARM_64_STANDARD"],
    ];
    for (const [instanceType, amiType] of cases) {
        it(`runs ${instanceType} system nodes on ${amiType}`, () => assert.equal(systemNodeAmiType(instanceType), amiType));
    }
});
