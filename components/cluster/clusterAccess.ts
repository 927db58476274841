/**
 * Who administers the cluster. With `authenticationMode: API`, pulumi-eks always makes whoever
 * runs the first `pulumi up` a cluster admin and ignores later changes
 * (pulumi/pulumi-eks:nodejs/eks/cluster/cluster.ts@v4.3.0, `bootstrapClusterCreatorAdminPermissions`),
 * and the kubeconfig uses ambient credentials. So a stack first applied from a laptop and then
 * from CI gets Unauthorized on every Kubernetes resource. mlmesh names a deployer role instead:
 * an access entry for it and each admin, a kubeconfig that assumes it, and no bootstrap admin.
 * Pure; GpuCluster applies it.
 * @see https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html
 */
import type * as pulumi from "@pulumi/pulumi";
import { PropertyErrors } from "../propertyErrors";

export interface ClusterAccessSpec {
    /**
     * The IAM role `pulumi up` assumes for every Kubernetes and Helm resource (CI's deploy role).
     * Required in prod. @default none: the identity that runs the first `pulumi up` stays admin
     */
    deployerRoleArn?: string;
    /** Further IAM roles with cluster-admin access (people's break-glass roles). @default [] */
    clusterAdmins?: string[];
}

const IAM_ROLE_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** Checks the access settings: role ARNs, each principal once (EKS refuses a second entry). */
export function validateClusterAccess(access: ClusterAccessSpec | undefined, errors = new PropertyErrors(), prefix = ""): PropertyErrors {
    const roles = [access?.deployerRoleArn, ...(access?.clusterAdmins ?? [])];
    const paths = [`${prefix}deployerRoleArn`, ...(access?.clusterAdmins ?? []).map((_, i) => `${prefix}clusterAdmins[${i}]`)];
    roles.forEach((role, i) => {
        if (role === undefined) {
            return;
        }
        errors.check(paths[i], role, !IAM_ROLE_ARN.test(role)
            ? "must be an IAM role ARN like arn:aws:iam::123456789012:role/deployer"
            : roles.indexOf(role) < i ? `repeats ${paths[roles.indexOf(role)]}; EKS takes one access entry per principal` : undefined);
    });
    return errors;
}

/** The EKS access policy that makes a principal cluster admin. */
export function clusterAdminPolicyArn(partition: string): string {
    return `arn:${partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`;
}

/** One cluster-admin access entry per role, as the eks component's `accessEntries` takes them. */
export function adminAccessEntries(access: ClusterAccessSpec | undefined, policyArn: pulumi.Input<string>) {
    const roles: [string, string][] = [
        ...(access?.deployerRoleArn ? [["deployer", access.deployerRoleArn] as [string, string]] : []),
        ...(access?.clusterAdmins ?? []).map((arn, i): [string, string] => [`admin-${i + 1}`, arn]),
    ];
    return Object.fromEntries(roles.map(([key, principalArn]) => [key, {
        principalArn,
        accessPolicies: { "cluster-admin": { policyArn, accessScope: { type: "cluster" } } },
    }]));
}

/**
 * A transform for the eks component's `aws:eks/cluster:Cluster` child: no bootstrap admin for
 * the creator, whose entry would collide with the deployer's own when the deployer creates the
 * cluster (CreateAccessEntry: ResourceInUseException). It applies when the cluster is created;
 * pulumi-eks ignores later changes to the field.
 */
export const withoutCreatorAdmin: pulumi.ResourceTransform = (args) => {
    if (args.type !== "aws:eks/cluster:Cluster") {
        return undefined;
    }
    const accessConfig = (args.props.accessConfig ?? {}) as Record<string, unknown>;
    return { props: { ...args.props, accessConfig: { ...accessConfig, bootstrapClusterCreatorAdminPermissions: false } }, opts: args.opts };
};
