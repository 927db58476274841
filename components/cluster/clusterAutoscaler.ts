import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { childOptions } from "../childOptions";
import { chartRelease, type PinnedChart } from "../helmRelease";
import type { KubernetesVersion } from "./eksAddons";
import { LABELS } from "./gpuPlacement";
import { IrsaServiceAccount, type ClusterOidc, type PolicyDocument } from "./irsaServiceAccount";
import { cachedImage, pinnedTag, type ImageRegistry } from "../images";

/** The autoscaler's image upstream; mlmesh pulls it through the cluster's cache. */
export const CLUSTER_AUTOSCALER_IMAGE = "registry.k8s.io/autoscaling/cluster-autoscaler";

/** The cluster-autoscaler Helm chart mlmesh installs. */
export const CLUSTER_AUTOSCALER_CHART: PinnedChart = {
    chart: "cluster-autoscaler",
    version: "9.59.0",
    repo: "https://kubernetes.github.io/autoscaler",
};

/** The autoscaler's minor version must match the cluster's; the chart's own default targets 1.35. */
export const CLUSTER_AUTOSCALER_IMAGE_TAGS: Readonly<Record<KubernetesVersion, string>> = {
    "1.32": "v1.32.0",
    "1.33": "v1.33.0",
    "1.34": "v1.34.0",
};

export const CLUSTER_AUTOSCALER_SERVICE_ACCOUNT = "cluster-autoscaler";
export const CLUSTER_AUTOSCALER_NAMESPACE = "kube-system";

/**
 * What the autoscaler may do: read groups, templates and managed node groups anywhere, but
 * resize or shrink only Auto Scaling groups that EKS tagged as owned by this cluster.
 * @see https://github.com/kubernetes/autoscaler/blob/master/cluster-autoscaler/cloudprovider/aws/README.md
 */
export function clusterAutoscalerPolicy(clusterName: string): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "Discover",
                Effect: "Allow",
                Action: [
                    "autoscaling:DescribeAutoScalingGroups",
                    "autoscaling:DescribeAutoScalingInstances",
                    "autoscaling:DescribeLaunchConfigurations",
                    "autoscaling:DescribeScalingActivities",
                    "autoscaling:DescribeTags",
                    "ec2:DescribeImages",
                    "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplateVersions",
                    "ec2:GetInstanceTypesFromInstanceRequirements",
                    "eks:DescribeNodegroup",
                ],
                Resource: ["*"],
            },
            {
                Sid: "ScaleOwnGroups",
                Effect: "Allow",
                Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
                Resource: ["*"],
                Condition: { StringEquals: { [`aws:ResourceTag/k8s.io/cluster-autoscaler/${clusterName}`]: "owned" } },
            },
        ],
    };
}

export interface ClusterAutoscalerValuesOptions {
    readonly clusterName: pulumi.Input<string>;
    readonly region: pulumi.Input<string>;
    readonly kubernetesVersion: KubernetesVersion;
    readonly images: ImageRegistry;
}

/**
 * Auto-discovery of the cluster's node groups by their EKS tags, the IRSA service account made
 * by mlmesh, balanced scale-up across similar groups, and the autoscaler on the system nodes.
 */
export function clusterAutoscalerValues(options: ClusterAutoscalerValuesOptions): Record<string, unknown> {
    return {
        cloudProvider: "aws",
        awsRegion: options.region,
        autoDiscovery: { clusterName: options.clusterName },
        // Through the cache by tag; by digest where the image promoter published one and the image comes straight from its registry.
        image: {
            repository: cachedImage(CLUSTER_AUTOSCALER_IMAGE, options.images),
            tag: pinnedTag(CLUSTER_AUTOSCALER_IMAGE, CLUSTER_AUTOSCALER_IMAGE_TAGS[options.kubernetesVersion], options.images),
        },
        rbac: { serviceAccount: { create: false, name: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT } },
        nodeSelector: { [LABELS.nodeRole]: "system" },
        extraArgs: {
            "balance-similar-node-groups": true,
            expander: "least-waste",
            "skip-nodes-with-system-pods": false,
        },
    };
}

export interface ClusterAutoscalerArgs {
    /** The cluster: its OIDC identity for IRSA, its provider, name and Kubernetes version. */
    cluster: ClusterOidc & { readonly provider: k8s.Provider; readonly clusterName: pulumi.Input<string> };
    /** The EKS cluster name as a plain string (it scopes the IAM condition). */
    clusterName: string;
    kubernetesVersion: KubernetesVersion;
    /** Where images are pulled from. */
    images: pulumi.Input<ImageRegistry>;
    tags?: Record<string, string>;
}

/**
 * The Kubernetes cluster autoscaler: adds nodes to a node group (GPU groups from zero) when pods
 * cannot be scheduled, and removes idle ones.
 */
export class ClusterAutoscaler extends pulumi.ComponentResource {
    public readonly releaseName: pulumi.Output<string>;
    public readonly roleArn: pulumi.Output<string>;

    constructor(name: string, args: ClusterAutoscalerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlmesh:cluster:ClusterAutoscaler", name, {}, opts);
        const identity = new IrsaServiceAccount(`${name}-identity`, {
            cluster: args.cluster,
            namespace: CLUSTER_AUTOSCALER_NAMESPACE,
            serviceAccountName: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
            policy: JSON.stringify(clusterAutoscalerPolicy(args.clusterName)),
            tags: args.tags,
        }, { parent: this });
        const release = chartRelease(`${name}-release`, {
            chart: CLUSTER_AUTOSCALER_CHART,
            releaseName: "cluster-autoscaler",
            namespace: CLUSTER_AUTOSCALER_NAMESPACE,
            values: pulumi.output(args.images).apply((images) => clusterAutoscalerValues({
                clusterName: args.cluster.clusterName,
                region: aws.getRegionOutput({}, { parent: this }).region,
                kubernetesVersion: args.kubernetesVersion,
                images,
            })),
        }, childOptions(this, opts, { provider: args.cluster.provider, dependsOn: [identity] }));
        this.releaseName = release.name;
        this.roleArn = identity.roleArn;
        this.registerOutputs({ releaseName: this.releaseName, roleArn: this.roleArn });
    }
}
