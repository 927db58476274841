/**
 * The key policy of the key that envelope-encrypts the cluster's Kubernetes secrets. KMS's
 * default policy lets every IAM principal with `kms:*` in the account administer the key, so
 * any IAM admin could disable it or schedule its deletion and leave every secret in etcd
 * unreadable. This policy separates the two roles a key has:
 * - administrators (the deployer role and the cluster admins of `cluster.access`) manage the key
 *   and are the only principals that may disable it or schedule its deletion;
 * - the one user, the EKS control plane's service role, encrypts and decrypts with it.
 * An explicit Deny keeps DisableKey and ScheduleKeyDeletion from anyone else, whatever their
 * IAM policies say. Pure; GpuCluster applies it.
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
 * @see https://docs.aws.amazon.com/eks/latest/userguide/envelope-encryption.html
 */
import type { PolicyDocument } from "./irsaServiceAccount";

/** What an administrator may do with the key; no cryptographic operation is among them. */
export const KEY_ADMIN_ACTIONS = [
    "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*", "kms:Disable*",
    "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand",
] as const;

/** What EKS does with the key for the control plane: envelope encryption of secrets. */
export const KEY_USER_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"] as const;

/** Actions that make the cluster's secrets unreadable, kept from everyone but the administrators. */
export const KEY_DESTRUCTIVE_ACTIONS = ["kms:DisableKey", "kms:ScheduleKeyDeletion"] as const;

export interface SecretsKeyPolicyInputs {
    readonly partition: string;
    readonly accountId: string;
    /** The EKS control plane's service role. */
    readonly serviceRoleArn: string;
    /**
     * IAM role ARNs that administer the key: the deployer role and the cluster admins. Empty
     * when `cluster.access` names nobody (allowed outside prod): administration then stays with
     * IAM, as in the default policy, and nothing is denied, since no one would be left to
     * delete the key when the stack is destroyed.
     */
    readonly administrators: readonly string[];
}

/** The key policy; the administrators must include whoever runs `pulumi up` (KMS refuses a policy that locks its creator out). */
export function secretsKeyPolicy(inputs: SecretsKeyPolicyInputs): PolicyDocument {
    const account = { AWS: `arn:${inputs.partition}:iam::${inputs.accountId}:root` };
    const admins = [...inputs.administrators];
    const administration = admins.length > 0
        ? [{
            Sid: "KeyAdministrators",
            Effect: "Allow",
            Principal: account,
            Action: [...KEY_ADMIN_ACTIONS],
            Resource: "*",
            Condition: { ArnEquals: { "aws:PrincipalArn": admins } },
        }, {
            Sid: "OnlyAdministratorsDisableOrDelete",
            Effect: "Deny",
            Principal: "*",
            Action: [...KEY_DESTRUCTIVE_ACTIONS],
            Resource: "*",
            Condition: { ArnNotEquals: { "aws:PrincipalArn": admins } },
        }]
        : [{ Sid: "KeyAdministrationThroughIam", Effect: "Allow", Principal: account, Action: [...KEY_ADMIN_ACTIONS], Resource: "*" }];
    return {
        Version: "2012-10-17",
        Statement: [
            ...administration,
            {
                Sid: "ClusterEncryptsSecrets",
                Effect: "Allow",
                Principal: { AWS: inputs.serviceRoleArn },
                Action: [...KEY_USER_ACTIONS],
                Resource: "*",
            },
            {
                // EKS hands the control plane's use of the key to its own resources by grant.
                Sid: "ClusterGrantsToAwsResources",
                Effect: "Allow",
                Principal: { AWS: inputs.serviceRoleArn },
                Action: ["kms:CreateGrant", "kms:ListGrants"],
                Resource: "*",
                Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
            },
        ],
    };
}

/**
 * The administrators of the secrets key: the deployer role, the cluster admins, and the identity
 * running `pulumi up` (its role, for an assumed-role session). KMS refuses to create a key, or to
 * change its policy, when the policy would not let the caller change it again, and the AWS
 * provider runs with whatever credentials are active, which need not be the deployer role. None
 * when `cluster.access` names nobody: administration then stays with IAM.
 */
export function keyAdministrators(access: { deployerRoleArn?: string; clusterAdmins?: readonly string[] } | undefined, deployingIdentity: string): string[] {
    const configured = [...(access?.deployerRoleArn ? [access.deployerRoleArn] : []), ...(access?.clusterAdmins ?? [])];
    return configured.length === 0 ? [] : [...new Set([...configured, deployingIdentity])];
}
