/**
 * The NVIDIA GPU instance families mlmesh places models on, and the rules that tie a node
 * group's instance types to its AMI. Pure data and functions: config validation and
 * GpuNodeGroup both use them.
 * @see https://aws.amazon.com/ec2/instance-types/#Accelerated_Computing
 */

export type CpuArchitecture = "x86_64" | "arm64";

export const GPU_AMI_TYPES = [
    "AL2023_x86_64_NVIDIA",
    "AL2023_ARM_64_NVIDIA",
    "BOTTLEROCKET_x86_64_NVIDIA",
    "BOTTLEROCKET_ARM_64_NVIDIA",
] as const;
export type GpuAmiType = (typeof GPU_AMI_TYPES)[number];

/** What an AMI type runs on, and whether it ships the NVIDIA device plugin itself. */
export interface AmiTraits {
    readonly architecture: CpuArchitecture;
    readonly os: "al2023" | "bottlerocket";
    /** Bottlerocket's NVIDIA variants run the device plugin as a host service. */
    readonly shipsDevicePlugin: boolean;
    /** The EBS device that holds container images (Bottlerocket keeps them on its data volume). */
    readonly imageVolumeDevice: string;
}

export const AMI_TRAITS: Readonly<Record<GpuAmiType, AmiTraits>> = {
    AL2023_x86_64_NVIDIA: { architecture: "x86_64", os: "al2023", shipsDevicePlugin: false, imageVolumeDevice: "/dev/xvda" },
    AL2023_ARM_64_NVIDIA: { architecture: "arm64", os: "al2023", shipsDevicePlugin: false, imageVolumeDevice: "/dev/xvda" },
    BOTTLEROCKET_x86_64_NVIDIA: { architecture: "x86_64", os: "bottlerocket", shipsDevicePlugin: true, imageVolumeDevice: "/dev/xvdb" },
    BOTTLEROCKET_ARM_64_NVIDIA: { architecture: "arm64", os: "bottlerocket", shipsDevicePlugin: true, imageVolumeDevice: "/dev/xvdb" },
};

interface GpuFamily {
    readonly architecture: CpuArchitecture;
    /** The value of the `mlmesh.io/accelerator` node label. */
    readonly accelerator: string;
    /** GPUs per instance, by size. */
    readonly gpusBySize: Readonly<Record<string, number>>;
    /** Memory per vCPU in GiB, and the sizes that differ from the usual vCPUs and that ratio. */
    readonly memoryGiBPerVcpu: number;
    readonly unusualSizes?: Readonly<Record<string, { readonly vcpus: number; readonly memoryGiB: number }>>;
}

/** vCPUs of the usual sizes (aws.amazon.com/ec2/instance-types, accelerated computing). */
const VCPUS_BY_SIZE: Readonly<Record<string, number>> = { xlarge: 4, "2xlarge": 8, "4xlarge": 16, "8xlarge": 32, "12xlarge": 48, "16xlarge": 64, "24xlarge": 96, "48xlarge": 192 };

const SINGLE_GPU_SIZES = { xlarge: 1, "2xlarge": 1, "4xlarge": 1, "8xlarge": 1, "16xlarge": 1 } as const;
const G_SERIES_SIZES = { ...SINGLE_GPU_SIZES, "12xlarge": 4, "24xlarge": 4, "48xlarge": 8 } as const;

/** NVIDIA families with their GPU counts; an instance type outside this table is refused. */
export const GPU_FAMILIES: Readonly<Record<string, GpuFamily>> = {
    g4dn: { architecture: "x86_64", accelerator: "nvidia-t4", gpusBySize: { ...SINGLE_GPU_SIZES, "12xlarge": 4, metal: 8 }, memoryGiBPerVcpu: 4, unusualSizes: { metal: { vcpus: 96, memoryGiB: 384 } } },
    g5: { architecture: "x86_64", accelerator: "nvidia-a10g", gpusBySize: G_SERIES_SIZES, memoryGiBPerVcpu: 4 },
    g6: { architecture: "x86_64", accelerator: "nvidia-l4", gpusBySize: G_SERIES_SIZES, memoryGiBPerVcpu: 4 },
    gr6: { architecture: "x86_64", accelerator: "nvidia-l4", gpusBySize: { "4xlarge": 1, "8xlarge": 1 }, memoryGiBPerVcpu: 8 },
    g6e: { architecture: "x86_64", accelerator: "nvidia-l40s", gpusBySize: G_SERIES_SIZES, memoryGiBPerVcpu: 8 },
    p4d: { architecture: "x86_64", accelerator: "nvidia-a100", gpusBySize: { "24xlarge": 8 }, memoryGiBPerVcpu: 12 },
    p4de: { architecture: "x86_64", accelerator: "nvidia-a100-80gb", gpusBySize: { "24xlarge": 8 }, memoryGiBPerVcpu: 12 },
    p5: { architecture: "x86_64", accelerator: "nvidia-h100", gpusBySize: { "4xlarge": 1, "48xlarge": 8 }, memoryGiBPerVcpu: 16, unusualSizes: { "48xlarge": { vcpus: 192, memoryGiB: 2048 } } },
    p5e: { architecture: "x86_64", accelerator: "nvidia-h200", gpusBySize: { "48xlarge": 8 }, memoryGiBPerVcpu: 16, unusualSizes: { "48xlarge": { vcpus: 192, memoryGiB: 2048 } } },
    p5en: { architecture: "x86_64", accelerator: "nvidia-h200", gpusBySize: { "48xlarge": 8 }, memoryGiBPerVcpu: 16, unusualSizes: { "48xlarge": { vcpus: 192, memoryGiB: 2048 } } },
    g5g: { architecture: "arm64", accelerator: "nvidia-t4g", gpusBySize: { ...SINGLE_GPU_SIZES, "16xlarge": 2, metal: 2 }, memoryGiBPerVcpu: 2, unusualSizes: { metal: { vcpus: 64, memoryGiB: 128 } } },
};

/** A GPU instance type as mlmesh understands it. */
export interface GpuInstance {
    readonly instanceType: string;
    readonly family: string;
    readonly architecture: CpuArchitecture;
    readonly accelerator: string;
    readonly gpus: number;
    readonly vcpus: number;
    readonly memoryGiB: number;
}

/** Looks an instance type up in {@link GPU_FAMILIES}; returns the reason (with the fix) when it is not a supported GPU type. */
export function gpuInstance(instanceType: string): GpuInstance | string {
    const [family, size] = instanceType.split(".");
    if (!Object.prototype.hasOwnProperty.call(GPU_FAMILIES, family)) {
        return `has no NVIDIA GPU mlmesh supports; use a GPU family: ${Object.keys(GPU_FAMILIES).join(", ")}`;
    }
    const known = GPU_FAMILIES[family];
    const gpus = Object.prototype.hasOwnProperty.call(known.gpusBySize, size) ? known.gpusBySize[size] : undefined;
    if (gpus === undefined) {
        return `is not a ${family} size; use one of ${Object.keys(known.gpusBySize).map((s) => `${family}.${s}`).join(", ")}`;
    }
    const unusual = known.unusualSizes?.[size];
    const vcpus = unusual?.vcpus ?? VCPUS_BY_SIZE[size];
    return { instanceType, family, architecture: known.architecture, accelerator: known.accelerator, gpus, vcpus, memoryGiB: unusual?.memoryGiB ?? vcpus * known.memoryGiBPerVcpu };
}

/** A problem with one of a group's instance types, at its index in `instanceTypes`. */
export interface InstanceTypeProblem {
    readonly index: number;
    readonly instanceType: string;
    readonly reason: string;
}

/**
 * Checks a GPU group's instance types against its AMI: each must be a supported GPU type, of
 * the AMI's CPU architecture, and all must carry the same GPU model (the accelerator label and
 * the scheduler's view of a node must hold for every instance the group launches).
 */
export function instanceTypeProblems(instanceTypes: readonly string[], amiType: GpuAmiType): InstanceTypeProblem[] {
    const problems: InstanceTypeProblem[] = [];
    const architecture = AMI_TRAITS[amiType].architecture;
    let first: GpuInstance | undefined;
    instanceTypes.forEach((instanceType, index) => {
        const instance = gpuInstance(instanceType);
        if (typeof instance === "string") {
            problems.push({ index, instanceType, reason: instance });
        } else if (instance.architecture !== architecture) {
            const fitting = GPU_AMI_TYPES.filter((ami) => AMI_TRAITS[ami].architecture === instance.architecture && AMI_TRAITS[ami].os === AMI_TRAITS[amiType].os);
            problems.push({ index, instanceType, reason: `is an ${instance.architecture} instance, but \`amiType\` ${amiType} runs on ${architecture}; use amiType ${fitting.join(" or ")}, or an ${architecture} GPU family` });
        } else if (first && instance.accelerator !== first.accelerator) {
            problems.push({ index, instanceType, reason: `has ${instance.accelerator} GPUs but ${first.instanceType} has ${first.accelerator}; one group holds one GPU model, so put it in its own group` });
        } else {
            first ??= instance;
        }
    });
    return problems;
}
