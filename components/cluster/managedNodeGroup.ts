/**
 * An EKS managed node group with its own launch template: the one place that decides how every
 * mlmesh node is hardened (IMDSv2 with hop limit 1, encrypted gp3 volumes). Raw
 * `aws.eks.NodeGroup` + `aws.ec2.LaunchTemplate`, so tests and policies see both.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { eksTaintEffect, type NodeTaint } from "./gpuPlacement";
import { liveDesiredSize } from "./liveState";
import type { NodeScaling } from "./nodeScaling";
import { AWS_NAME_LIMITS, scopedName } from "../names";

export const CAPACITY_TYPES = ["ON_DEMAND", "SPOT"] as const;
export type CapacityType = (typeof CAPACITY_TYPES)[number];

/** What the cluster hands every node group. */
export interface NodeGroupPlacement {
    readonly clusterName: pulumi.Input<string>;
    /** The cluster's Kubernetes version: node groups follow the control plane through upgrades. */
    readonly kubernetesVersion: pulumi.Input<string>;
    readonly nodeRoleArn: pulumi.Input<string>;
    readonly subnetIds: pulumi.Input<pulumi.Input<string>[]>;
    /** What must exist before nodes launch (the node role's policy attachments). */
    readonly dependsOn?: pulumi.Resource[];
}

export interface ManagedNodeGroupSpec extends NodeGroupPlacement {
    readonly amiType: string;
    readonly instanceTypes: readonly string[];
    readonly capacityType: CapacityType;
    readonly scaling: NodeScaling;
    readonly diskSizeGiB: number;
    /** The EBS device that holds container images for this AMI. */
    readonly imageVolumeDevice: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly taints: readonly NodeTaint[];
    /** Extra user data merged by EKS into the node's bootstrap (already base64-encoded). */
    readonly userData?: string;
    readonly tags?: Readonly<Record<string, string>>;
}

/**
 * Instance metadata: IMDSv2 only, and a hop limit of 1 so that pods (one network hop away)
 * cannot reach the node role's credentials; pods get AWS access through IRSA instead.
 */
export const HARDENED_METADATA_OPTIONS = {
    httpEndpoint: "enabled",
    httpTokens: "required",
    httpPutResponseHopLimit: 1,
    instanceMetadataTags: "disabled",
} as const;

/**
 * The node group's name: at most 63 characters (EKS's limit, which the provider's auto-naming
 * does not check), with a hash of every field whose change replaces the group. A replacement
 * then gets a new name, so the new group is created (and its nodes join) before the old one is
 * deleted, as with an auto-generated name.
 */
export function nodeGroupName(name: string, spec: ManagedNodeGroupSpec): pulumi.Output<string> {
    return pulumi.all([spec.clusterName, spec.nodeRoleArn, spec.subnetIds]).apply(([cluster, role, subnets]) =>
        scopedName(name, JSON.stringify([cluster, role, [...subnets].sort(), spec.amiType, spec.capacityType, spec.instanceTypes]), AWS_NAME_LIMITS.eksNodeGroup));
}

/** Creates the launch template and node group as children of `parent`. */
export function createManagedNodeGroup(name: string, parent: pulumi.Resource, spec: ManagedNodeGroupSpec): { nodeGroup: aws.eks.NodeGroup; launchTemplate: aws.ec2.LaunchTemplate } {
    const tags = { ...spec.tags, Name: name };
    const launchTemplate = new aws.ec2.LaunchTemplate(`${name}-lt`, {
        // Launch templates change by new versions, never by replacement, so a fixed name is safe.
        name: pulumi.output(spec.clusterName).apply((cluster) => scopedName(name, cluster, AWS_NAME_LIMITS.launchTemplate)),
        description: `mlmesh node group ${name}`,
        updateDefaultVersion: true,
        metadataOptions: HARDENED_METADATA_OPTIONS,
        blockDeviceMappings: [{
            deviceName: spec.imageVolumeDevice,
            ebs: {
                volumeSize: spec.diskSizeGiB,
                volumeType: "gp3",
                encrypted: "true",
                deleteOnTermination: "true",
            },
        }],
        userData: spec.userData,
        tagSpecifications: ["instance", "volume"].map((resourceType) => ({ resourceType, tags })),
        tags,
    }, { parent });

    const groupName = nodeGroupName(name, spec);
    const range = { minSize: spec.scaling.minSize, maxSize: spec.scaling.maxSize, initial: spec.scaling.desiredSize };
    const nodeGroup = new aws.eks.NodeGroup(`${name}-ng`, {
        nodeGroupName: groupName,
        clusterName: spec.clusterName,
        version: spec.kubernetesVersion,
        nodeRoleArn: spec.nodeRoleArn,
        subnetIds: spec.subnetIds,
        amiType: spec.amiType,
        instanceTypes: [...spec.instanceTypes],
        capacityType: spec.capacityType,
        scalingConfig: {
            minSize: spec.scaling.minSize,
            maxSize: spec.scaling.maxSize,
            desiredSize: liveDesiredSize(spec.clusterName, groupName, range, { parent }),
        },
        updateConfig: { maxUnavailablePercentage: 33 },
        launchTemplate: { id: launchTemplate.id, version: launchTemplate.latestVersion.apply(String) },
        labels: { ...spec.labels },
        taints: spec.taints.map((taint) => ({ key: taint.key, value: taint.value, effect: eksTaintEffect(taint.effect) })),
        tags,
    }, {
        parent,
        dependsOn: spec.dependsOn,
        // No ignoreChanges on the desired size: it would resend the stale recorded one. The cluster
        // autoscaler owns the live size, which liveDesiredSize reads and sends back.
    });
    return { nodeGroup, launchTemplate };
}
