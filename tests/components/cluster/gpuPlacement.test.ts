import * as assert from "node:assert/strict";
import { gpuInstance, type GpuAmiType, type GpuInstance } from "../../../components/cluster/gpuInstances";
import {
    GPU_RESOURCE,
    GPU_TAINT,
    LABELS,
    clusterAutoscalerNodeTemplateTags,
    eksTaintEffect,
    gpuNodeGroupPlacement,
    timeSlicingConfigName,
    type NodeTaint,
} from "../../../components/cluster/gpuPlacement";

function instance(type: string): GpuInstance {
    const result = gpuInstance(type);
    assert.notEqual(typeof result, "string", `${type} should be a supported GPU type`);
    return result as GpuInstance;
}

describe("GPU_TAINT and LABELS", () => {
    it("taints GPU nodes nvidia.com/gpu=true:NoSchedule", () => {
        assert.deepEqual(GPU_TAINT, { key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" });
        assert.equal(GPU_RESOURCE, "nvidia.com/gpu");
    });

    it("spells the label keys workloads and the device plugin select by", () => {
        assert.deepEqual(LABELS, {
            gpu: "mlmesh.io/gpu",
            accelerator: "mlmesh.io/accelerator",
            nodeGroup: "mlmesh.io/node-group",
            nodeRole: "mlmesh.io/node-role",
            devicePlugin: "mlmesh.io/device-plugin",
            devicePluginConfig: "nvidia.com/device-plugin.config",
            autoscalerGpu: "k8s.amazonaws.com/accelerator",
        });
    });

    it("names a time-slicing config by its replica count", () => {
        assert.equal(timeSlicingConfigName(4), "time-slicing-4");
    });
});

describe("gpuNodeGroupPlacement", () => {
    // [name, AMI, instance type, time-slicing replicas, expected device-plugin label, GPUs per node, config label]
    const table: [string, GpuAmiType, string, number | undefined, "helm" | "host", number, string | undefined][] = [
        ["inference", "AL2023_x86_64_NVIDIA", "g5.2xlarge", undefined, "helm", 1, undefined],
        ["batch", "AL2023_x86_64_NVIDIA", "g5.12xlarge", 1, "helm", 4, undefined],
        ["shared", "AL2023_x86_64_NVIDIA", "g6.xlarge", 4, "helm", 4, "time-slicing-4"],
        ["shared-quad", "AL2023_x86_64_NVIDIA", "g5.12xlarge", 2, "helm", 8, "time-slicing-2"],
        ["arm", "AL2023_ARM_64_NVIDIA", "g5g.16xlarge", 3, "helm", 6, "time-slicing-3"],
        ["rocket", "BOTTLEROCKET_x86_64_NVIDIA", "p4d.24xlarge", undefined, "host", 8, undefined],
        ["rocket-shared", "BOTTLEROCKET_x86_64_NVIDIA", "g5.xlarge", 8, "host", 8, undefined],
        ["rocket-arm", "BOTTLEROCKET_ARM_64_NVIDIA", "g5g.xlarge", 2, "host", 2, undefined],
    ];
    for (const [name, amiType, type, replicas, devicePlugin, gpusPerNode, configLabel] of table) {
        const sharing = replicas === undefined ? "no time-slicing" : `${replicas} time-slicing replicas`;
        it(`places ${name} (${type}, ${amiType}, ${sharing}) with ${gpusPerNode} GPU(s) per node and device plugin "${devicePlugin}"`, () => {
            const gpu = instance(type);
            const placement = gpuNodeGroupPlacement({ name, amiType, instance: gpu, timeSlicingReplicas: replicas });
            const labels: Record<string, string> = {
                "mlmesh.io/gpu": "true",
                "mlmesh.io/accelerator": gpu.accelerator,
                "mlmesh.io/node-group": name,
                "mlmesh.io/device-plugin": devicePlugin,
                // The cluster autoscaler treats a node with this label as a GPU node that is not
                // ready until its GPUs are allocatable, so it waits for the device plugin.
                "k8s.amazonaws.com/accelerator": gpu.accelerator,
            };
            if (configLabel !== undefined) {
                labels["nvidia.com/device-plugin.config"] = configLabel;
            }
            assert.deepEqual(placement, {
                name,
                amiType,
                accelerator: gpu.accelerator,
                timeSlicingReplicas: replicas ?? 1,
                gpusPerNode,
                labels,
                taints: [GPU_TAINT],
            });
            assert.equal(placement.gpusPerNode, gpu.gpus * (replicas ?? 1));
        });
    }
});

describe("eksTaintEffect", () => {
    const table: [NodeTaint["effect"], string][] = [
        ["NoSchedule", "NO_SCHEDULE"],
        ["PreferNoSchedule", "PREFER_NO_SCHEDULE"],
        ["NoExecute", "NO_EXECUTE"],
    ];
    for (const [kubernetes, eks] of table) {
        it(`spells the Kubernetes effect ${kubernetes} as ${eks} for the EKS API`, () => {
            assert.equal(eksTaintEffect(kubernetes), eks);
        });
    }
});

describe("clusterAutoscalerNodeTemplateTags", () => {
    const prefix = "k8s.io/cluster-autoscaler/node-template";
    const table: [string, GpuAmiType, string, number | undefined, Record<string, string>][] = [
        ["inference", "AL2023_x86_64_NVIDIA", "g5.12xlarge", undefined, {
            [`${prefix}/label/mlmesh.io/gpu`]: "true",
            [`${prefix}/label/mlmesh.io/accelerator`]: "nvidia-a10g",
            [`${prefix}/label/k8s.amazonaws.com/accelerator`]: "nvidia-a10g",
            [`${prefix}/label/mlmesh.io/node-group`]: "inference",
            [`${prefix}/label/mlmesh.io/device-plugin`]: "helm",
            [`${prefix}/taint/nvidia.com/gpu`]: "true:NoSchedule",
            [`${prefix}/resources/nvidia.com/gpu`]: "4",
        }],
        ["shared", "AL2023_x86_64_NVIDIA", "g6.xlarge", 4, {
            [`${prefix}/label/mlmesh.io/gpu`]: "true",
            [`${prefix}/label/mlmesh.io/accelerator`]: "nvidia-l4",
            [`${prefix}/label/k8s.amazonaws.com/accelerator`]: "nvidia-l4",
            [`${prefix}/label/mlmesh.io/node-group`]: "shared",
            [`${prefix}/label/mlmesh.io/device-plugin`]: "helm",
            [`${prefix}/label/nvidia.com/device-plugin.config`]: "time-slicing-4",
            [`${prefix}/taint/nvidia.com/gpu`]: "true:NoSchedule",
            [`${prefix}/resources/nvidia.com/gpu`]: "4",
        }],
        ["rocket", "BOTTLEROCKET_x86_64_NVIDIA", "p5.48xlarge", 2, {
            [`${prefix}/label/mlmesh.io/gpu`]: "true",
            [`${prefix}/label/mlmesh.io/accelerator`]: "nvidia-h100",
            [`${prefix}/label/k8s.amazonaws.com/accelerator`]: "nvidia-h100",
            [`${prefix}/label/mlmesh.io/node-group`]: "rocket",
            [`${prefix}/label/mlmesh.io/device-plugin`]: "host",
            [`${prefix}/taint/nvidia.com/gpu`]: "true:NoSchedule",
            [`${prefix}/resources/nvidia.com/gpu`]: "16",
        }],
    ];
    for (const [name, amiType, type, replicas, expected] of table) {
        it(`tags the ${name} group's Auto Scaling group with its labels, taint and ${expected[`${prefix}/resources/nvidia.com/gpu`]} GPUs`, () => {
            const placement = gpuNodeGroupPlacement({ name, amiType, instance: instance(type), timeSlicingReplicas: replicas });
            const tags = clusterAutoscalerNodeTemplateTags(placement);
            assert.deepEqual(tags, expected);
            assert.equal(tags[`${prefix}/resources/nvidia.com/gpu`], String(placement.gpusPerNode));
        });
    }
});
