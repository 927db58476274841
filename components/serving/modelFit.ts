/**
 * Whether a model's pod fits the GPU nodes it is placed on, and whether its TF Serving image
 * matches its GPUs. A pod that fits no node stays Pending forever, and the autoscaler cannot help:
 * no group it can grow has room. Pure: config validation and the serving components use it.
 */
import { gpuInstance } from "../cluster/gpuInstances";
import { parseQuantity } from "../mesh/quantity";

export interface NodeCapacity {
    readonly instanceType: string;
    readonly vcpus: number;
    readonly memoryGiB: number;
    /** Pods the EKS AMIs allow on it, which sets the memory they reserve. */
    readonly maxPods: number;
}

/**
 * Max pods of each GPU instance type as the EKS AMIs compute it: ENIs × (IPv4 addresses per ENI − 1)
 * + 2, from awslabs/amazon-eks-ami:nodeadm/internal/kubelet/instance-info.jsonl@81fec2e8
 * (eni_max_pods.go calculateStandardMaxPods). Bottlerocket's pluto looks up the same numbers.
 */
export const MAX_PODS: Readonly<Record<string, number>> = {
    "g4dn.xlarge": 29, "g4dn.2xlarge": 29, "g4dn.4xlarge": 29, "g4dn.8xlarge": 58, "g4dn.12xlarge": 234, "g4dn.16xlarge": 58, "g4dn.metal": 737,
    "g5.xlarge": 58, "g5.2xlarge": 58, "g5.4xlarge": 234, "g5.8xlarge": 234, "g5.12xlarge": 737, "g5.16xlarge": 234, "g5.24xlarge": 737, "g5.48xlarge": 345,
    "g5g.xlarge": 58, "g5g.2xlarge": 58, "g5g.4xlarge": 234, "g5g.8xlarge": 234, "g5g.16xlarge": 737, "g5g.metal": 737,
    "g6.xlarge": 58, "g6.2xlarge": 58, "g6.4xlarge": 234, "g6.8xlarge": 234, "g6.12xlarge": 234, "g6.16xlarge": 737, "g6.24xlarge": 737, "g6.48xlarge": 737,
    "g6e.xlarge": 58, "g6e.2xlarge": 58, "g6e.4xlarge": 234, "g6e.8xlarge": 234, "g6e.12xlarge": 292, "g6e.16xlarge": 737, "g6e.24xlarge": 492, "g6e.48xlarge": 492,
    "gr6.4xlarge": 234, "gr6.8xlarge": 234, "p4d.24xlarge": 737, "p4de.24xlarge": 737, "p5.4xlarge": 118, "p5.48xlarge": 100, "p5e.48xlarge": 100, "p5en.48xlarge": 198,
};
/** For a type missing from the table: the most the AMIs reserve for (the largest count above). */
const MOST_PODS = 737;

/** Every node a group can launch: a pod must fit whichever one does. */
export function groupCapacities(instanceTypes: readonly string[]): NodeCapacity[] {
    return instanceTypes.map(gpuInstance).filter((i): i is Exclude<typeof i, string> => typeof i !== "string")
        .map((i) => ({ instanceType: i.instanceType, vcpus: i.vcpus, memoryGiB: i.memoryGiB, maxPods: MAX_PODS[i.instanceType] ?? MOST_PODS }));
}

/** Each GPU group's smallest node, by group name. */
export function gpuNodeCapacities(groups: readonly { readonly name: string; readonly instanceTypes: readonly string[] }[]): Record<string, readonly NodeCapacity[]> {
    return Object.fromEntries(groups.map((g) => [g.name, groupCapacities(g.instanceTypes)]));
}
/** The node's own DaemonSets (aws-node, kube-proxy, the pod identity agent, istio-cni, the device plugin), rounded up. */
export const DAEMONSET_ALLOWANCE = { cpuMillis: 500, memoryMiB: 512 } as const;

/**
 * What pods can request on a node: its capacity less kube-reserved as the EKS AMIs compute it
 * (CPU: 6% of the first core, 1% of the second, 0.5% of the next two, 0.25% of the rest; memory:
 * 11 MiB per allowed pod plus 255 MiB; awslabs/amazon-eks-ami:nodeadm/internal/kubelet/config.go), the
 * kubelet's 100 MiB eviction threshold, and the DaemonSet allowance.
 */
export function allocatable(capacity: NodeCapacity): { cpuMillis: number; memoryMiB: number } {
    const total = capacity.vcpus * 1000;
    const ranges: [number, number, number][] = [[0, 1000, 600], [1000, 2000, 100], [2000, 4000, 50], [4000, total, 25]];
    const cpuReserved = ranges.reduce((sum, [start, end, basisPoints]) => sum + (total <= start ? 0 : Math.floor(((Math.min(total, end) - start) * basisPoints) / 10000)), 0);
    const memoryReserved = 11 * capacity.maxPods + 255 + 100;
    return { cpuMillis: total - cpuReserved - DAEMONSET_ALLOWANCE.cpuMillis, memoryMiB: capacity.memoryGiB * 1024 - memoryReserved - DAEMONSET_ALLOWANCE.memoryMiB };
}

export interface PodRequests {
    readonly cpu: string;
    readonly memory: string;
}

/**
 * The reasons (cpu, memory) a pod of `model` plus `sidecar` requests does not fit the smallest room
 * among `capacities` (the group's instance types), keyed by the model field to change.
 */
export function fitProblems(model: PodRequests, sidecar: PodRequests, capacities: readonly NodeCapacity[], group: string): { cpu?: string; memory?: string } {
    const problems: { cpu?: string; memory?: string } = {};
    for (const capacity of capacities) {
        const found = fitProblemsOn(model, sidecar, capacity, group);
        if (problems.cpu === undefined && found.cpu !== undefined) {
            problems.cpu = found.cpu;
        }
        if (problems.memory === undefined && found.memory !== undefined) {
            problems.memory = found.memory;
        }
    }
    return problems;
}

function fitProblemsOn(model: PodRequests, sidecar: PodRequests, capacity: NodeCapacity, group: string): { cpu?: string; memory?: string } {
    const room = allocatable(capacity);
    const cores = (text: string) => parseQuantity(text, "cpu");
    const bytes = (text: string) => parseQuantity(text, "memory");
    const [modelCpu, sidecarCpu, modelMemory, sidecarMemory] = [cores(model.cpu), cores(sidecar.cpu), bytes(model.memory), bytes(sidecar.memory)];
    const problems: { cpu?: string; memory?: string } = {};
    if (typeof modelCpu === "number" && typeof sidecarCpu === "number" && (modelCpu + sidecarCpu) * 1000 > room.cpuMillis) {
        problems.cpu = `with the sidecar's ${sidecar.cpu}, asks for more CPU than a ${capacity.instanceType} node of group ${group} has for pods (${(room.cpuMillis / 1000).toFixed(2)} of its ${capacity.vcpus} vCPUs, after what EKS and the node's DaemonSets reserve); lower it or use larger instance types`;
    }
    if (typeof modelMemory === "number" && typeof sidecarMemory === "number" && (modelMemory + sidecarMemory) / 2 ** 20 > room.memoryMiB) {
        problems.memory = `with the sidecar's ${sidecar.memory}, asks for more memory than a ${capacity.instanceType} node of group ${group} has for pods (${(room.memoryMiB / 1024).toFixed(1)} of its ${capacity.memoryGiB} GiB, after what EKS and the node's DaemonSets reserve); lower it or use larger instance types`;
    }
    return problems;
}

/**
 * TF Serving's official image has a CPU build and a `-gpu` build: the CPU build on a GPU cannot use
 * it, and the `-gpu` build without one fails to load CUDA. Custom images are not judged.
 */
export function tfServingImageProblem(image: string | undefined, gpus: number): string | undefined {
    const match = image === undefined ? null : /^(?:(?:docker\.io|index\.docker\.io)\/)?tensorflow\/serving:([\w.-]+)$/.exec(image);
    if (!match) {
        return undefined;
    }
    const gpuBuild = /-gpu$/.test(match[1]);
    return gpus > 0 && !gpuBuild ? `is TF Serving's CPU build, but the model asks for ${gpus} GPU(s); use the -gpu tag (e.g. tensorflow/serving:${match[1]}-gpu) or set gpus: 0`
        : gpus === 0 && gpuBuild ? "is TF Serving's GPU build, but the model asks for no GPU (it would fail to load CUDA on a CPU node); use the tag without -gpu, or ask for a GPU"
        : undefined;
}
