import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PropertyErrors } from "../propertyErrors";
import { AMI_TRAITS, GPU_AMI_TYPES, gpuInstance, instanceTypeProblems, type GpuAmiType, type GpuInstance } from "./gpuInstances";
import { clusterAutoscalerNodeTemplateTags, gpuNodeGroupPlacement, type GpuNodeGroupPlacement } from "./gpuPlacement";
import { CAPACITY_TYPES, createManagedNodeGroup, type CapacityType, type NodeGroupPlacement } from "./managedNodeGroup";
import { scalingProblems } from "./nodeScaling";
import { SHORT_NAME } from "../names";

/** Model images (CUDA, framework, weights baked in) run to tens of GiB; 200 GiB holds several. */
export const DEFAULT_GPU_DISK_GIB = 200;
export const DEFAULT_GPU_AMI_TYPE: GpuAmiType = "AL2023_x86_64_NVIDIA";
export const DISK_GIB_RANGE = { min: 50, max: 16384 } as const;
export const TIME_SLICING_REPLICAS_RANGE = { min: 2, max: 48 } as const;

/** One GPU node group, as a user describes it. */
export interface GpuNodeGroupSpec {
    /** DNS label; becomes the `mlmesh.io/node-group` label that models select. */
    name: string;
    /** One GPU model per group (g5, g6, g6e, p4d, p5 … on x86; g5g on ARM). */
    instanceTypes: string[];
    /** @default "AL2023_x86_64_NVIDIA" */
    amiType?: GpuAmiType;
    /** @default "ON_DEMAND" */
    capacityType?: CapacityType;
    /** `0` lets the group scale to zero; the autoscaler tags make scale-up from zero work. @default 0 */
    minSize?: number;
    maxSize: number;
    /** @default minSize */
    desiredSize?: number;
    /** Size of the volume that holds container images. @default 200 */
    diskSizeGiB?: number;
    /**
     * Share each GPU among `replicas` pods by time-slicing (no memory isolation: for small
     * models and bursty traffic).
     * @see https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/gpu-sharing.html
     */
    timeSlicing?: { replicas: number };
}

export interface GpuNodeGroupArgs extends NodeGroupPlacement {
    group: GpuNodeGroupSpec;
    tags?: Record<string, string>;
}


function wholeNumberIn(value: number | undefined, range: { min: number; max: number }): string | undefined {
    return value === undefined || (Number.isInteger(value) && value >= range.min && value <= range.max)
        ? undefined
        : `must be a whole number from ${range.min} to ${range.max}`;
}

/** Validates one GPU group; paths are relative to `prefix` (e.g. `gpuNodeGroups[1].`). */
export function validateGpuNodeGroupSpec(group: GpuNodeGroupSpec, errors = new PropertyErrors(), prefix = ""): PropertyErrors {
    errors.check(`${prefix}name`, group.name, SHORT_NAME.test(group.name) ? undefined : "must be a DNS-1123 label of at most 40 characters, starting with a letter");
    const amiType = group.amiType ?? DEFAULT_GPU_AMI_TYPE;
    if (!errors.check(`${prefix}amiType`, group.amiType, GPU_AMI_TYPES.includes(amiType) ? undefined : `must be one of ${GPU_AMI_TYPES.join(", ")}`)) {
        errors.check(`${prefix}instanceTypes`, group.instanceTypes, group.instanceTypes.length === 0 ? "must name at least one GPU instance type" : undefined);
        for (const problem of instanceTypeProblems(group.instanceTypes, amiType)) {
            errors.check(`${prefix}instanceTypes[${problem.index}]`, problem.instanceType, problem.reason);
        }
    }
    errors.check(`${prefix}capacityType`, group.capacityType, group.capacityType === undefined || CAPACITY_TYPES.includes(group.capacityType) ? undefined : `must be one of ${CAPACITY_TYPES.join(", ")}`);
    const sizes = [
        errors.check(`${prefix}minSize`, group.minSize, wholeNumberIn(group.minSize, { min: 0, max: 1000 })),
        errors.check(`${prefix}maxSize`, group.maxSize, wholeNumberIn(group.maxSize, { min: 1, max: 1000 })),
        errors.check(`${prefix}desiredSize`, group.desiredSize, wholeNumberIn(group.desiredSize, { min: 0, max: 1000 })),
    ];
    if (!sizes.includes(true)) {
        for (const problem of scalingProblems({ minSize: group.minSize ?? 0, maxSize: group.maxSize, desiredSize: group.desiredSize })) {
            errors.check(`${prefix}${problem.field}`, problem.value, problem.reason);
        }
    }
    errors.check(`${prefix}diskSizeGiB`, group.diskSizeGiB, wholeNumberIn(group.diskSizeGiB, DISK_GIB_RANGE));
    errors.check(`${prefix}timeSlicing.replicas`, group.timeSlicing?.replicas, wholeNumberIn(group.timeSlicing?.replicas, TIME_SLICING_REPLICAS_RANGE));
    return errors;
}

/**
 * Bottlerocket runs its own device plugin, configured through its settings API; EKS merges this
 * TOML into the node's user data. `rename-by-default = false` keeps the resource name
 * `nvidia.com/gpu`, so models request GPUs the same way on every OS.
 * @see https://bottlerocket.dev/en/os/1.25.x/api/settings/kubelet-device-plugin/
 */
export function bottlerocketTimeSlicingSettings(replicas: number): string {
    return [
        "[settings.kubelet-device-plugins.nvidia]",
        `device-sharing-strategy = "time-slicing"`,
        "",
        "[settings.kubelet-device-plugins.nvidia.time-slicing]",
        `replicas = ${replicas}`,
        "rename-by-default = false",
        "fail-requests-greater-than-one = true",
        "",
    ].join("\n");
}

/** The smallest instance of a (validated) group: what every node of it surely has. */
function smallestInstance(instanceTypes: readonly string[]): GpuInstance {
    const instances = instanceTypes.map((type) => gpuInstance(type) as GpuInstance);
    return instances.reduce((smallest, candidate) => (candidate.gpus < smallest.gpus ? candidate : smallest));
}

/** The placement (labels, taints, GPUs per node) of a validated group. */
export function placementOf(group: GpuNodeGroupSpec): GpuNodeGroupPlacement {
    return gpuNodeGroupPlacement({
        name: group.name,
        amiType: group.amiType ?? DEFAULT_GPU_AMI_TYPE,
        instance: smallestInstance(group.instanceTypes),
        timeSlicingReplicas: group.timeSlicing?.replicas,
    });
}

/**
 * A managed node group of NVIDIA GPU instances: tainted so only GPU workloads land there,
 * labelled for placement, hardened, and tagged so the cluster autoscaler can scale it from zero.
 */
export class GpuNodeGroup extends pulumi.ComponentResource {
    public readonly nodeGroupName: pulumi.Output<string>;
    public readonly placement: GpuNodeGroupPlacement;

    constructor(name: string, args: GpuNodeGroupArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlmesh:cluster:GpuNodeGroup", name, {}, opts);
        validateGpuNodeGroupSpec(args.group).throwIfAny(`GpuNodeGroup ${name}`);
        const group = args.group;
        const amiType = group.amiType ?? DEFAULT_GPU_AMI_TYPE;
        const traits = AMI_TRAITS[amiType];
        this.placement = placementOf(group);
        const replicas = this.placement.timeSlicingReplicas;

        const { nodeGroup } = createManagedNodeGroup(name, this, {
            clusterName: args.clusterName,
            kubernetesVersion: args.kubernetesVersion,
            nodeRoleArn: args.nodeRoleArn,
            subnetIds: args.subnetIds,
            dependsOn: args.dependsOn,
            amiType,
            instanceTypes: group.instanceTypes,
            capacityType: group.capacityType ?? "ON_DEMAND",
            scaling: { minSize: group.minSize ?? 0, maxSize: group.maxSize, desiredSize: group.desiredSize },
            diskSizeGiB: group.diskSizeGiB ?? DEFAULT_GPU_DISK_GIB,
            imageVolumeDevice: traits.imageVolumeDevice,
            labels: this.placement.labels,
            taints: this.placement.taints,
            userData: traits.os === "bottlerocket" && replicas > 1
                ? Buffer.from(bottlerocketTimeSlicingSettings(replicas)).toString("base64")
                : undefined,
            tags: args.tags,
        });

        // EKS does not copy node group labels or taints to the Auto Scaling group, and the
        // autoscaler needs the GPU count from a tag to scale up from zero.
        const asgName = nodeGroup.resources.apply((resources) => resources[0].autoscalingGroups[0].name);
        Object.entries(clusterAutoscalerNodeTemplateTags(this.placement)).forEach(([key, value], i) => {
            new aws.autoscaling.Tag(`${name}-asg-tag-${i + 1}`, {
                autoscalingGroupName: asgName,
                tag: { key, value, propagateAtLaunch: false },
            }, { parent: this });
        });

        this.nodeGroupName = nodeGroup.nodeGroupName;
        this.registerOutputs({ nodeGroupName: this.nodeGroupName, placement: this.placement });
    }
}
