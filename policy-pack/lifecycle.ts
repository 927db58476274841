/**
 * The pack's lifecycle guardrails: what must survive a `pulumi destroy` or an accidental
 * replacement, and how KMS keys age and who governs them.
 */
import type { PolicyResource, ReportViolation, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

const KEY = "aws:kms/key:Key";
const KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy";

/**
 * Resources whose loss takes the platform or its data with it: the control plane (the eks
 * component, and the raw cluster the real engine sees as its child), KMS keys (data encrypted
 * under a deleted key is lost), SageMaker endpoints and the VPC (replacing it replaces
 * everything in it).
 */
const STATEFUL_TYPES = ["eks:index:Cluster", "aws:eks/cluster:Cluster", KEY, "aws:sagemaker/endpoint:Endpoint", "aws:ec2/vpc:Vpc"] as const;

/** The resource's own deletion protection, where AWS has one. */
const DELETION_PROTECTION: Readonly<Record<string, string>> = { "eks:index:Cluster": "deletionProtection", "aws:eks/cluster:Cluster": "deletionProtection" };

export const statefulProtected: ResourceValidationPolicy = {
    name: "stateful-protected",
    description: "Checks whether stateful resources (EKS cluster, KMS keys, SageMaker endpoints, the VPC) are protected from deletion: the `protect` resource option, or the service's own deletion protection.",
    enforcementLevel: "mandatory",
    remediationSteps: "Create the resource with `{ protect: true }` (mlmesh does for `environment: prod`), and turn on deletion protection where the service has one (`deletionProtection: true` on the cluster). Environments that are torn down on purpose relax this policy to advisory in their config.",
    configSchema: {
        properties: {
            resourceTypes: { type: "array", items: { type: "string" }, uniqueItems: true, default: [...STATEFUL_TYPES], description: "Type tokens that must be protected." },
        },
    },
    validateResource: (args, report) => {
        if (!args.getConfig<{ resourceTypes: string[] }>().resourceTypes.includes(args.type)) {
            return;
        }
        const flag = DELETION_PROTECTION[args.type];
        if (args.opts.protect || (flag !== undefined && args.props[flag] === true)) {
            return;
        }
        // The engine does not show policies `retainOnDelete`, so only these two count.
        report(`${args.type} ${args.name}: ${flag ? `neither the \`protect\` option nor \`${flag}\` is set` : "the `protect` option is not set"}, so \`pulumi destroy\` or a replacing change deletes it and what it holds; create it with \`{ protect: true }\`${flag ? ` and \`${flag}: true\`` : ""}.`);
    },
};

/** Whether KMS can rotate this key: symmetric encryption keys with AWS-held key material only. */
function rotatable(props: Record<string, any>): boolean {
    const spec = props.customerMasterKeySpec ?? "SYMMETRIC_DEFAULT";
    return spec === "SYMMETRIC_DEFAULT" && (props.keyUsage ?? "ENCRYPT_DECRYPT") === "ENCRYPT_DECRYPT" && !props.customKeyStoreId && !props.xksKeyId;
}

export const kmsRotation: ResourceValidationPolicy = {
    name: "kms-rotation",
    description: "Checks whether KMS keys that support automatic rotation (symmetric encryption keys with KMS-held key material) rotate, at least as often as the configured period.",
    enforcementLevel: "remediate",
    remediationSteps: "Set `enableKeyRotation: true` (and `rotationPeriodInDays` within the limit, 90-2560); the remediation turns rotation on. Asymmetric, HMAC, imported and custom-key-store keys cannot rotate automatically and are not judged.",
    configSchema: {
        properties: {
            maxRotationPeriodDays: { type: "integer", minimum: 90, maximum: 2560, default: 365, description: "Longest `rotationPeriodInDays` allowed (KMS's default period is 365)." },
        },
    },
    remediateResource: (args) => {
        if (args.type !== KEY || !rotatable(args.props) || args.props.enableKeyRotation === true) {
            return undefined;
        }
        const copy = Object.fromEntries(Object.keys(args.props).map((k) => [k, Object.getOwnPropertyDescriptor(args.props, k)?.value]));
        return { ...copy, enableKeyRotation: true };
    },
    validateResource: (args, report) => {
        if (args.type !== KEY || !rotatable(args.props)) {
            return;
        }
        if (args.props.enableKeyRotation !== true) {
            report(`KMS key ${args.name}: \`enableKeyRotation\` is ${args.props.enableKeyRotation === false ? "false" : "unset (off)"}; set it to true so KMS rotates the key material.`);
            return;
        }
        const { maxRotationPeriodDays } = args.getConfig<{ maxRotationPeriodDays: number }>();
        const period = (args.props.rotationPeriodInDays ?? 365) as number;
        if (period > maxRotationPeriodDays) {
            report(`KMS key ${args.name}: \`rotationPeriodInDays\` is ${period} (at most ${maxRotationPeriodDays}); lower it.`);
        }
    },
};

interface Statement {
    Effect?: string;
    Principal?: unknown;
    Action?: string | string[];
    Resource?: string | string[];
    Condition?: unknown;
}

/**
 * The statement KMS writes when a key is created without a policy: the owning account's root
 * may do anything with the key, which hands all control to IAM policies
 * (AWS KMS Developer Guide, "Default key policy").
 */
function isDefaultStatement(s: Statement): boolean {
    const principals = [typeof s.Principal === "object" && s.Principal !== null ? (s.Principal as { AWS?: unknown }).AWS : s.Principal].flat();
    return s.Effect === "Allow" && s.Condition === undefined && [s.Action].flat().includes("kms:*") && [s.Resource].flat().includes("*")
        && principals.length > 0 && principals.every((p) => typeof p === "string" && /^(arn:aws[a-z-]*:iam::\d{12}:root|\d{12})$/.test(p));
}

/** A key's policy document: its own, or an attached aws:kms/keyPolicy's; "" when unknown during preview. */
function keyPolicyOf(key: PolicyResource, resources: PolicyResource[]): string | undefined {
    const attached = resources.find((r) => r.type === KEY_POLICY && (r.propertyDependencies?.keyId ?? r.dependencies).includes(key));
    const source = attached ?? key;
    try {
        const policy = source.props.policy;
        return typeof policy === "string" && policy.trim() !== "" ? policy : undefined;
    } catch (error) {
        if (error instanceof Error && "unknownTypeSentinel" in error) {
            return "";
        }
        throw error;
    }
}

export const kmsKeyPolicyExplicit: StackValidationPolicy = {
    name: "kms-key-policy-explicit",
    description: "Checks whether every KMS key has an explicit key policy (its own or an attached aws:kms/keyPolicy) that does more than the default, which lets any IAM policy in the account use and manage the key.",
    enforcementLevel: "mandatory",
    remediationSteps: "Write the key's `policy`: key administrators (who may manage, not use, the key), the principals that use it (the service role, or `kms:ViaService`), and service grants where needed; do not stop at the account-root `kms:*` statement.",
    validateStack: (args, report: ReportViolation) => {
        for (const key of args.resources.filter((r) => r.type === KEY)) {
            const policy = keyPolicyOf(key, args.resources);
            if (policy === "") {
                continue;
            }
            if (policy === undefined) {
                report(`KMS key ${key.name}: no \`policy\`, so KMS applies the default key policy and any IAM policy in the account may use or manage the key; set \`policy\` naming the key's administrators and users.`, key.urn);
                continue;
            }
            let statements: Statement[];
            try {
                statements = [JSON.parse(policy).Statement ?? []].flat() as Statement[];
            } catch {
                report(`KMS key ${key.name}: \`policy\` is not a JSON policy document; fix it.`, key.urn);
                continue;
            }
            if (statements.every(isDefaultStatement)) {
                report(`KMS key ${key.name}: \`policy\` only repeats the default (the account root may do kms:*), so IAM policies alone decide who uses the key; name its administrators and users in the policy.`, key.urn);
            }
        }
    },
};

export const lifecyclePolicies: readonly (ResourceValidationPolicy | StackValidationPolicy)[] = [
    statefulProtected,
    kmsRotation,
    kmsKeyPolicyExplicit,
];
