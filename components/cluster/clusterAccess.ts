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
import { PRIVATE_ECR_HOST } from "../images";
import { SHORT_NAME } from "../names";
import { PropertyErrors } from "../propertyErrors";

/**
 * An app team that deploys into some of the mesh namespaces with its own IAM role: an access
 * entry mapping the role to the team's Kubernetes group, a Role in each of its namespaces for
 * what a service needs (workloads, ServiceAccounts, Services, disruption budgets, autoscalers,
 * Istio AuthorizationPolicies; no Secrets, no exec), and pull access to its own ECR repositories
 * for the nodes. A team is trusted with every model in its namespaces.
 */
export interface AppTeamAccess {
    /** A DNS label; the team's Kubernetes group is `mlmesh-app-<name>`. */
    name: string;
    /** The IAM role the team's pipeline deploys as. */
    roleArn: string;
    /** Mesh namespaces the team deploys into. */
    namespaces: string[];
    /** Private ECR repositories the nodes may pull the team's images from: `<registry>/<repository>`, or `<registry>/<prefix>/*`. @default [] */
    imageRepositories?: string[];
}

export interface ClusterAccessSpec {
    /**
     * The IAM role `pulumi up` assumes for every Kubernetes and Helm resource (CI's deploy role).
     * Required in prod. @default none: the identity that runs the first `pulumi up` stays admin
     */
    deployerRoleArn?: string;
    /** Further IAM roles with cluster-admin access (people's break-glass roles). @default [] */
    clusterAdmins?: string[];
    /** App teams with namespace-scoped access. @default [] */
    appTeams?: AppTeamAccess[];
}

/** The Kubernetes group an app team's access entry maps its role to. */
export function appTeamGroup(team: Pick<AppTeamAccess, "name">): string {
    return `mlmesh-app-${team.name}`;
}

/** `<account>.dkr.ecr.<region>.amazonaws.com/<repository>` or `…/<prefix>/*`. */
const ECR_REPOSITORY = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\/([a-z0-9]+(?:[._\/-][a-z0-9]+)*)(\/\*)?$/;

/** The IAM resource ARN of a team's repository (or repository prefix), or undefined when it is not one. */
export function repositoryArn(repository: string, partition: string): string | undefined {
    const match = ECR_REPOSITORY.exec(repository);
    return match && PRIVATE_ECR_HOST.test(repository.split("/")[0]) ? `arn:${partition}:ecr:${match[2]}:${match[1]}:repository/${match[4]}${match[5] ?? ""}` : undefined;
}

const IAM_ROLE_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** Checks the access settings: role ARNs, each principal once (EKS refuses a second entry). */
export function validateClusterAccess(access: ClusterAccessSpec | undefined, errors = new PropertyErrors(), prefix = ""): PropertyErrors {
    const teams = access?.appTeams ?? [];
    const roles = [access?.deployerRoleArn, ...(access?.clusterAdmins ?? []), ...teams.map((team) => team.roleArn)];
    const paths = [`${prefix}deployerRoleArn`, ...(access?.clusterAdmins ?? []).map((_, i) => `${prefix}clusterAdmins[${i}]`), ...teams.map((_, i) => `${prefix}appTeams[${i}].roleArn`)];
    roles.forEach((role, i) => {
        if (role === undefined) {
            return;
        }
        errors.check(paths[i], role, !IAM_ROLE_ARN.test(role)
            ? "must be an IAM role ARN like arn:aws:iam::123456789012:role/deployer"
            : roles.indexOf(role) < i ? `repeats ${paths[roles.indexOf(role)]}; EKS takes one access entry per principal` : undefined);
    });
    teams.forEach((team, i) => {
        const at = `${prefix}appTeams[${i}].`;
        errors.check(`${at}name`, team.name, !SHORT_NAME.test(team.name) ? "must be a DNS-1123 label of at most 40 characters, starting with a letter"
            : teams.findIndex((other) => other.name === team.name) < i ? "is used by an earlier team; give every team its own name" : undefined);
        errors.check(`${at}namespaces`, team.namespaces, team.namespaces.length === 0 ? "must list at least one mesh namespace the team deploys into" : undefined);
        team.namespaces.forEach((namespace, j) => errors.check(`${at}namespaces[${j}]`, namespace, team.namespaces.indexOf(namespace) < j ? "is listed twice; list each namespace once" : undefined));
        (team.imageRepositories ?? []).forEach((repository, j) => errors.check(`${at}imageRepositories[${j}]`, repository, repositoryArn(repository, "aws") === undefined
            ? "must be a private ECR repository without a tag, like 123456789012.dkr.ecr.us-west-2.amazonaws.com/crm/churn-report, or a prefix ending in /*" : undefined));
    });
    return errors;
}

/** The EKS access policy that makes a principal cluster admin. */
export function clusterAdminPolicyArn(partition: string): string {
    return `arn:${partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`;
}

/**
 * One access entry per role, as the eks component's `accessEntries` takes them: cluster admin
 * for the deployer and the admins; for each app team, only its Kubernetes group, which the
 * platform's Roles in the team's namespaces grant what a team deploys (no EKS access policy:
 * AmazonEKSEditPolicy would add reading Secrets, exec and impersonating ServiceAccounts).
 */
export function accessEntries(access: ClusterAccessSpec | undefined, partition: pulumi.Output<string>) {
    return {
        ...adminAccessEntries(access, partition.apply(clusterAdminPolicyArn)),
        ...Object.fromEntries((access?.appTeams ?? []).map((team) => [`app-${team.name}`, {
            principalArn: team.roleArn,
            kubernetesGroups: [appTeamGroup(team)],
        }])),
    };
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

/**
 * A transform for the eks component's children: protect the control plane itself, and only it.
 * `protect` on the component would reach every child (pulumi/pulumi:sdk/nodejs/resource.ts@v3.259.0),
 * access entries included, so removing an app team or rotating its role would be refused.
 */
export const protectControlPlane: pulumi.ResourceTransform = (args) =>
    args.type === "aws:eks/cluster:Cluster" ? { props: args.props, opts: { ...args.opts, protect: true } } : undefined;
