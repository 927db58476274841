import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { childOptions } from "../childOptions";
import { PropertyErrors } from "../propertyErrors";
import { AWS_NAME_LIMITS, DNS_LABEL, scopedName } from "../names";

/** The name of the role's inline policy (unique within the role). */
export const INLINE_POLICY_NAME = "workload-permissions";

/** The cluster's OIDC identity provider, as GpuCluster exposes it. */
export interface ClusterOidc {
    readonly oidcProviderArn: pulumi.Input<string>;
    /** The issuer URL, e.g. `https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE`. */
    readonly oidcProviderUrl: pulumi.Input<string>;
}

/** An IAM policy document, as AWS reads it. */
export interface PolicyDocument {
    readonly Version: "2012-10-17";
    readonly Statement: readonly Record<string, unknown>[];
}

/**
 * The trust policy that lets exactly one Kubernetes service account assume a role: web identity
 * from the cluster's OIDC provider, with `sub` pinned to `system:serviceaccount:<ns>:<sa>` and
 * `aud` to STS. Without the `sub` condition any pod in the cluster could take the role.
 * @see https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html
 */
export function irsaTrustPolicy(oidcProviderArn: string, oidcProviderUrl: string, namespace: string, serviceAccount: string): PolicyDocument {
    const issuer = oidcProviderUrl.replace(/^https:\/\//, "");
    return {
        Version: "2012-10-17",
        Statement: [{
            Effect: "Allow",
            Principal: { Federated: oidcProviderArn },
            Action: "sts:AssumeRoleWithWebIdentity",
            Condition: {
                StringEquals: {
                    [`${issuer}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
                    [`${issuer}:aud`]: "sts.amazonaws.com",
                },
            },
        }],
    };
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export interface IrsaServiceAccountArgs {
    /** The cluster whose pods will use the role. */
    cluster: ClusterOidc & { readonly provider: k8s.Provider };
    /** Namespace of the service account; it must exist (or be created by the caller). */
    namespace: string;
    /** Name of the Kubernetes service account to create. */
    serviceAccountName: string;
    /** Inline permissions of the role, as a JSON policy document. */
    policy?: pulumi.Input<string>;
    /** AWS managed or customer policies to attach. */
    managedPolicyArns?: pulumi.Input<string>[];
    /** Extra annotations for the service account (e.g. KServe's S3 settings). */
    annotations?: Record<string, pulumi.Input<string>>;
    /** Tags for the IAM role. */
    tags?: Record<string, string>;
    /** What the service account waits for (its namespace); the role waits for nothing but the cluster. */
    serviceAccountAfter?: readonly pulumi.Resource[];
}

/**
 * IAM Roles for Service Accounts: an IAM role trusted only by one service account, and that
 * service account, annotated with the role so the EKS pod identity webhook injects credentials.
 */
export class IrsaServiceAccount extends pulumi.ComponentResource {
    public readonly roleArn: pulumi.Output<string>;
    public readonly roleName: pulumi.Output<string>;
    public readonly serviceAccountName: string;
    public readonly namespace: string;

    constructor(name: string, args: IrsaServiceAccountArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlmesh:cluster:IrsaServiceAccount", name, {}, opts);
        const errors = new PropertyErrors();
        errors.check("namespace", args.namespace, DNS_LABEL.test(args.namespace) ? undefined : "must be a DNS-1123 label (lowercase letters, digits, '-')");
        errors.check("serviceAccountName", args.serviceAccountName, DNS_SUBDOMAIN.test(args.serviceAccountName) ? undefined : "must be a DNS-1123 subdomain (lowercase letters, digits, '-', '.')");
        errors.check("policy", args.policy, args.policy === undefined && (args.managedPolicyArns ?? []).length === 0
            ? "or `managedPolicyArns` must grant something; a role with no permissions is a mistake"
            : undefined);
        errors.throwIfAny(`IrsaServiceAccount ${name}`);

        // IAM role names are account-wide and at most 64 characters: the component's name, cut to
        // fit, and a hash of it with the cluster's OIDC provider, so two clusters never collide.
        const role = new aws.iam.Role(`${name}-role`, {
            name: pulumi.output(args.cluster.oidcProviderArn).apply((oidc) => scopedName(name, oidc, AWS_NAME_LIMITS.iamRole)),
            description: `IRSA role for ${args.namespace}/${args.serviceAccountName}`,
            assumeRolePolicy: pulumi.all([args.cluster.oidcProviderArn, args.cluster.oidcProviderUrl]).apply(([arn, url]) =>
                JSON.stringify(irsaTrustPolicy(arn, url, args.namespace, args.serviceAccountName))),
            tags: args.tags,
        }, { parent: this });
        if (args.policy !== undefined) {
            // Named within its role; replaced by deleting first, since a new policy of the same name
            // would overwrite it and the old one's deletion would then remove it.
            new aws.iam.RolePolicy(`${name}-policy`, { name: INLINE_POLICY_NAME, role: role.name, policy: args.policy }, { parent: this, deleteBeforeReplace: true });
        }
        (args.managedPolicyArns ?? []).forEach((policyArn, i) => {
            new aws.iam.RolePolicyAttachment(`${name}-managed-${i + 1}`, { role: role.name, policyArn }, { parent: this });
        });
        new k8s.core.v1.ServiceAccount(`${name}-sa`, {
            metadata: {
                name: args.serviceAccountName,
                namespace: args.namespace,
                annotations: {
                    ...args.annotations,
                    "eks.amazonaws.com/role-arn": role.arn,
                    // SDKs that still default to the global STS endpoint (botocore's `legacy`) use the
                    // regional one, which the mesh's egress allows (aws/amazon-eks-pod-identity-webhook README).
                    "eks.amazonaws.com/sts-regional-endpoints": "true",
                },
            },
        }, childOptions(this, opts, { provider: args.cluster.provider, dependsOn: [...(args.serviceAccountAfter ?? [])] }));

        this.roleArn = role.arn;
        this.roleName = role.name;
        this.serviceAccountName = args.serviceAccountName;
        this.namespace = args.namespace;
        this.registerOutputs({ roleArn: this.roleArn, roleName: this.roleName, serviceAccountName: this.serviceAccountName, namespace: this.namespace });
    }
}
