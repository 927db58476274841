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
}

/** The least CPU and memory among a group's instance types: a pod must fit whichever one launches. */
export function groupCapacity(instanceTypes: readonly string[]): NodeCapacity | undefined {
    const instances = instanceTypes.map(gpuInstance).filter((i): i is Exclude<typeof i, string> => typeof i !== "string");
    if (instances.length === 0) {
        return undefined;
    }
    const smallest = [...instances].sort((a, b) => a.vcpus - b.vcpus || a.memoryGiB - b.memoryGiB)[0];
    return { instanceType: smallest.instanceType, vcpus: Math.min(...instances.map((i) => i.vcpus)), memoryGiB: Math.min(...instances.map((i) => i.memoryGiB)) };
}

/** Each GPU group's smallest node, by group name. */
export function gpuNodeCapacities(groups: readonly { readonly name: string; readonly instanceTypes: readonly string[] }[]): Record<string, NodeCapacity> {
    return Object.fromEntries(groups.flatMap((g) => {
        const capacity = groupCapacity(g.instanceTypes);
        return capacity ? [[g.name, capacity]] : [];
    }));
}

/** Pods EKS allows on the largest nodes; the memory EKS reserves grows with it. */
const MAX_PODS = 110;
/** The node's own DaemonSets (aws-node, kube-proxy, the pod identity agent, istio-cni, the device plugin), rounded up. */
export const DAEMONSET_ALLOWANCE = { cpuMillis: 500, memoryMiB: 512 } as const;

/**
 * What pods can request on a node: its capacity less kube-reserved as the EKS AMIs compute it
 * (CPU: 6% of the first core, 1% of the second, 0.5% of the next two, 0.25% of the rest; memory:
 * 11 MiB per pod plus 255 MiB; awslabs/amazon-eks-ami:nodeadm/internal/kubelet/config.go), the
 * kubelet's 100 MiB eviction threshold, and the DaemonSet allowance.
 */
export function allocatable(capacity: NodeCapacity): { cpuMillis: number; memoryMiB: number } {
    const total = capacity.vcpus * 1000;
    const ranges: [number, number, number][] = [[0, 1000, 600], [1000, 2000, 100], [2000, 4000, 50], [4000, total, 25]];
    const cpuReserved = ranges.reduce((sum, [start, end, basisPoints]) => sum + (total <= start ? 0 : Math.floor(((Math.min(total, end) - start) * basisPoints) / 10000)), 0);
    const memoryReserved = 11 * MAX_PODS + 255 + 100;
    return { cpuMillis: total - cpuReserved - DAEMONSET_ALLOWANCE.cpuMillis, memoryMiB: capacity.memoryGiB * 1024 - memoryReserved - DAEMONSET_ALLOWANCE.memoryMiB };
}

export interface PodRequests {
    readonly cpu: string;
    readonly memory: string;
}

/**
 * The reasons (cpu, memory) a pod of `model` plus `sidecar` requests does not fit `capacity`,
 * keyed by the model field to change.
 */
export function fitProblems(model: PodRequests, sidecar: PodRequests, capacity: NodeCapacity, group: string): { cpu?: string; memory?: string } {
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
