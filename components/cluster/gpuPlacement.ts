/**
 * How GPU nodes are marked and found: the taint that keeps other pods off them, the labels that
 * models select them by, and the cluster-autoscaler tags that let a group scale up from zero.
 * Pure functions; GpuNodeGroup applies them and workloads read them from the cluster's outputs.
 */
import { AMI_TRAITS, type GpuAmiType, type GpuInstance } from "./gpuInstances";

export const LABELS = {
    gpu: "mlmesh.io/gpu",
    accelerator: "mlmesh.io/accelerator",
    nodeGroup: "mlmesh.io/node-group",
    /** `system` on the CPU nodes that run the mesh and controllers. */
    nodeRole: "mlmesh.io/node-role",
    /** `helm` where the NVIDIA device plugin DaemonSet must run, `host` where the OS runs it. */
    devicePlugin: "mlmesh.io/device-plugin",
    /** The NVIDIA device plugin picks its named config by this node label. */
    devicePluginConfig: "nvidia.com/device-plugin.config",
    /**
     * The cluster autoscaler's AWS GPU label: a node carrying it counts as unready until its GPUs
     * are allocatable, so the autoscaler waits for the device plugin instead of adding more nodes.
     * @see kubernetes/autoscaler:cluster-autoscaler/cloudprovider/aws/aws_cloud_provider.go (GPULabel)
     */
    autoscalerGpu: "k8s.amazonaws.com/accelerator",
} as const;

/** The extended resource the NVIDIA device plugin advertises. */
export const GPU_RESOURCE = "nvidia.com/gpu";

/** A Kubernetes node taint, in the Kubernetes spelling of its effect. */
export interface NodeTaint {
    readonly key: string;
    readonly value: string;
    readonly effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

/** Keeps pods that do not ask for a GPU off GPU nodes. */
export const GPU_TAINT: NodeTaint = { key: GPU_RESOURCE, value: "true", effect: "NoSchedule" };

/** The EKS API spells taint effects NO_SCHEDULE, PREFER_NO_SCHEDULE, NO_EXECUTE. */
export function eksTaintEffect(effect: NodeTaint["effect"]): string {
    return effect.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

/** The device plugin config name for `replicas` time-sliced shares of each GPU. */
export function timeSlicingConfigName(replicas: number): string {
    return `time-slicing-${replicas}`;
}

/** Where a workload can be placed: what a GPU group's nodes carry, published as a cluster output. */
export interface GpuNodeGroupPlacement {
    readonly name: string;
    readonly amiType: GpuAmiType;
    readonly accelerator: string;
    /** How many pods share each physical GPU by time-slicing (1: no sharing). */
    readonly timeSlicingReplicas: number;
    /** Schedulable `nvidia.com/gpu` per node: physical GPUs times time-slicing replicas. */
    readonly gpusPerNode: number;
    readonly labels: Readonly<Record<string, string>>;
    readonly taints: readonly NodeTaint[];
}

export interface PlacementInput {
    readonly name: string;
    readonly amiType: GpuAmiType;
    /** The group's smallest instance (its GPU count is what a node surely has). */
    readonly instance: GpuInstance;
    readonly timeSlicingReplicas?: number;
}

/** The labels and taints of a GPU group's nodes. */
export function gpuNodeGroupPlacement(input: PlacementInput): GpuNodeGroupPlacement {
    const traits = AMI_TRAITS[input.amiType];
    const replicas = input.timeSlicingReplicas ?? 1;
    const labels: Record<string, string> = {
        [LABELS.gpu]: "true",
        [LABELS.accelerator]: input.instance.accelerator,
        [LABELS.nodeGroup]: input.name,
        [LABELS.devicePlugin]: traits.shipsDevicePlugin ? "host" : "helm",
        [LABELS.autoscalerGpu]: input.instance.accelerator,
    };
    if (replicas > 1 && !traits.shipsDevicePlugin) {
        labels[LABELS.devicePluginConfig] = timeSlicingConfigName(replicas);
    }
    return {
        name: input.name,
        amiType: input.amiType,
        accelerator: input.instance.accelerator,
        timeSlicingReplicas: replicas,
        gpusPerNode: input.instance.gpus * replicas,
        labels,
        taints: [GPU_TAINT],
    };
}

/**
 * Tags for the node group's Auto Scaling group that describe a node which does not exist yet, so
 * the cluster autoscaler can scale a group from zero for a pod that needs a GPU and tolerates
 * the taint.
 * @see https://github.com/kubernetes/autoscaler/blob/master/cluster-autoscaler/cloudprovider/aws/README.md
 */
export function clusterAutoscalerNodeTemplateTags(placement: GpuNodeGroupPlacement): Record<string, string> {
    const prefix = "k8s.io/cluster-autoscaler/node-template";
    return {
        ...Object.fromEntries(Object.entries(placement.labels).map(([key, value]) => [`${prefix}/label/${key}`, value])),
        ...Object.fromEntries(placement.taints.map((taint) => [`${prefix}/taint/${taint.key}`, `${taint.value}:${taint.effect}`])),
        [`${prefix}/resources/${GPU_RESOURCE}`]: String(placement.gpusPerNode),
    };
}
