/**
 * How mlmesh installs a pinned Helm chart: one `helm.v3.Release` (so tests and policies see it),
 * atomic, cleaned up on failure, and told the chart's repository unless the chart is an OCI
 * reference.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

/** A chart at a pinned version: `repo` for an HTTP chart repository, none for an `oci://` chart. */
export interface PinnedChart {
    readonly chart: string;
    readonly version: string;
    readonly repo?: string;
}

export interface ChartReleaseArgs {
    readonly chart: PinnedChart;
    /**
     * The Helm release name, at most 53 characters. Always given: the provider's generated name
     * (`<resource name>-<8 random>`) outgrows Helm's limit with a long cluster name.
     */
    readonly releaseName: string;
    readonly namespace: pulumi.Input<string>;
    /** Values; an Output when they name images, which resolve once the image cache exists. */
    readonly values: pulumi.Input<Record<string, unknown>>;
}

export function chartRelease(name: string, args: ChartReleaseArgs, opts: pulumi.CustomResourceOptions): k8s.helm.v3.Release {
    return new k8s.helm.v3.Release(name, {
        name: args.releaseName,
        chart: args.chart.chart,
        version: args.chart.version,
        ...(args.chart.repo ? { repositoryOpts: { repo: args.chart.repo } } : {}),
        namespace: args.namespace,
        values: args.values,
        atomic: true,
        cleanupOnFail: true,
    }, opts);
}
