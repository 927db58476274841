import * as pulumi from "@pulumi/pulumi";
import type * as k8s from "@pulumi/kubernetes";
import { childOptions } from "../childOptions";
import { chartRelease, type PinnedChart } from "../helmRelease";
import { LABELS } from "./gpuPlacement";
import { cachedImage, type ImageRegistry } from "../images";

/** The Metrics Server image upstream; the chart's default tag (its appVersion) is kept. */
export const METRICS_SERVER_IMAGE = "registry.k8s.io/metrics-server/metrics-server";

/**
 * The Kubernetes Metrics Server chart (metrics-server 0.8.1). EKS does not install it, and
 * without it every HorizontalPodAutoscaler reports `<unknown>` CPU and never scales.
 * @see https://docs.aws.amazon.com/eks/latest/userguide/metrics-server.html
 */
export const METRICS_SERVER_CHART: PinnedChart = {
    chart: "metrics-server",
    version: "3.13.1",
    repo: "https://kubernetes-sigs.github.io/metrics-server/",
};
export const METRICS_SERVER_NAMESPACE = "kube-system";

/**
 * Two replicas on the system nodes, on different nodes where possible, with a disruption budget, so a node drain never leaves the
 * HPAs of models, istiod and the ingress gateway without metrics. The chart's defaults already
 * run it non-root with a read-only root filesystem and the kubelet address types EKS needs.
 */
export function metricsServerValues(images: ImageRegistry): Record<string, unknown> {
    return {
        image: { repository: cachedImage(METRICS_SERVER_IMAGE, images) },
        replicas: 2,
        podDisruptionBudget: { enabled: true, minAvailable: 1 },
        nodeSelector: { [LABELS.nodeRole]: "system" },
        // One replica per node where the system nodes allow it, so losing a node keeps one.
        affinity: {
            podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [{
                    weight: 100,
                    podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: { "app.kubernetes.io/name": "metrics-server" } } },
                }],
            },
        },
    };
}

export interface MetricsServerArgs {
    /** The cluster's Kubernetes provider. */
    provider: k8s.Provider;
    /** Where images are pulled from. */
    images: pulumi.Input<ImageRegistry>;
}

/** The resource metrics API (`metrics.k8s.io`) that every HorizontalPodAutoscaler reads CPU from. */
export class MetricsServer extends pulumi.ComponentResource {
    public readonly releaseName: pulumi.Output<string>;

    constructor(name: string, args: MetricsServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlmesh:cluster:MetricsServer", name, {}, opts);
        const release = chartRelease(`${name}-release`, {
            chart: METRICS_SERVER_CHART,
            releaseName: "metrics-server",
            namespace: METRICS_SERVER_NAMESPACE,
            values: pulumi.output(args.images).apply(metricsServerValues),
        }, childOptions(this, opts, { provider: args.provider }));
        this.releaseName = release.name;
        this.registerOutputs({ releaseName: this.releaseName });
    }
}
