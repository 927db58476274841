import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import { childOptions } from "../childOptions";
import { chartRelease, type PinnedChart } from "../helmRelease";
import { GPU_RESOURCE, GPU_TAINT, LABELS, timeSlicingConfigName, type GpuNodeGroupPlacement } from "./gpuPlacement";
import { cachedImage, type ImageRegistry } from "../images";

/** The NVIDIA k8s-device-plugin Helm chart mlmesh installs. */
export const NVIDIA_DEVICE_PLUGIN_CHART: PinnedChart = {
    chart: "nvidia-device-plugin",
    version: "0.18.2",
    repo: "https://nvidia.github.io/k8s-device-plugin",
};

/**
 * The plugin's image upstream (NVIDIA/k8s-device-plugin:versions.mk@v0.18.2, `REGISTRY ?= nvcr.io/nvidia`);
 * the chart's default tag is kept. nvcr.io is not among ECR cache's upstreams.
 */
export const NVIDIA_DEVICE_PLUGIN_IMAGE = "nvcr.io/nvidia/k8s-device-plugin";

/** The device plugin config entry for nodes that do not share GPUs. */
export const DEFAULT_DEVICE_PLUGIN_CONFIG = "default";

function devicePluginConfig(replicas: number | undefined): string {
    const config: Record<string, unknown> = { version: "v1", flags: { migStrategy: "none" } };
    if (replicas !== undefined && replicas > 1) {
        config.sharing = { timeSlicing: { failRequestsGreaterThanOne: true, resources: [{ name: GPU_RESOURCE, replicas }] } };
    }
    return stringify(config);
}

/**
 * Helm values for the device plugin: it runs only where the OS does not ship one (the
 * `mlmesh.io/device-plugin: helm` label), tolerates the GPU taint, and, when any group shares
 * GPUs by time-slicing, carries one named config per replica count that nodes pick by label.
 * The chart's default affinity needs Node Feature Discovery labels, which EKS nodes lack.
 */
export function devicePluginValues(placements: readonly GpuNodeGroupPlacement[], images: ImageRegistry): Record<string, unknown> {
    const sharedReplicas = [...new Set(placements
        .filter((p) => p.labels[LABELS.devicePlugin] === "helm" && p.timeSlicingReplicas > 1)
        .map((p) => p.timeSlicingReplicas))]
        .sort((a, b) => a - b);
    const values: Record<string, unknown> = {
        // nvcr.io is not an upstream ECR's cache can serve: a private mirror when the stack names one.
        image: { repository: cachedImage(NVIDIA_DEVICE_PLUGIN_IMAGE, images) },
        tolerations: [
            { key: GPU_TAINT.key, operator: "Exists", effect: GPU_TAINT.effect },
            { key: "CriticalAddonsOnly", operator: "Exists" },
        ],
        affinity: {
            nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                    nodeSelectorTerms: [{
                        matchExpressions: [
                            { key: LABELS.gpu, operator: "In", values: ["true"] },
                            { key: LABELS.devicePlugin, operator: "In", values: ["helm"] },
                        ],
                    }],
                },
            },
        },
    };
    if (sharedReplicas.length > 0) {
        values.config = {
            default: DEFAULT_DEVICE_PLUGIN_CONFIG,
            map: {
                [DEFAULT_DEVICE_PLUGIN_CONFIG]: devicePluginConfig(undefined),
                ...Object.fromEntries(sharedReplicas.map((replicas) => [timeSlicingConfigName(replicas), devicePluginConfig(replicas)])),
            },
        };
    }
    return values;
}

export interface NvidiaDevicePluginArgs {
    /** The GPU groups of the cluster; only those whose OS lacks a device plugin get the DaemonSet. */
    placements: readonly GpuNodeGroupPlacement[];
    /** The cluster's Kubernetes provider. */
    provider: k8s.Provider;
    /** @default "kube-system" */
    namespace?: string;
    /** Where images are pulled from. */
    images: pulumi.Input<ImageRegistry>;
}

/**
 * The NVIDIA device plugin DaemonSet (Helm chart, pinned) that advertises `nvidia.com/gpu` on
 * AL2023 GPU nodes. Bottlerocket's NVIDIA variants run their own, so they are left out.
 * @see https://github.com/NVIDIA/k8s-device-plugin
 */
export class NvidiaDevicePlugin extends pulumi.ComponentResource {
    public readonly releaseName: pulumi.Output<string>;
    public readonly namespace: string;

    constructor(name: string, args: NvidiaDevicePluginArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlmesh:cluster:NvidiaDevicePlugin", name, {}, opts);
        this.namespace = args.namespace ?? "kube-system";
        const release = chartRelease(`${name}-release`, {
            chart: NVIDIA_DEVICE_PLUGIN_CHART,
            releaseName: "nvidia-device-plugin",
            namespace: this.namespace,
            values: pulumi.output(args.images).apply((images) => devicePluginValues(args.placements, images)),
        }, childOptions(this, opts, { provider: args.provider }));
        this.releaseName = release.name;
        this.registerOutputs({ releaseName: this.releaseName, namespace: this.namespace });
    }
}

/** Whether any group needs the Helm-installed device plugin. */
export function needsDevicePlugin(placements: readonly GpuNodeGroupPlacement[]): boolean {
    return placements.some((p) => p.labels[LABELS.devicePlugin] === "helm");
}
