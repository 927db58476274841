/**
 * The pack's IAM guardrails, on identity and trust policies: what a role may do (its inline and
 * customer-managed policy documents, and the AWS managed policies attached to it) and who may
 * take it (its trust policy). Resource policies are other domains' business: KMS key policies
 * (kms-key-policy-explicit) and VPC endpoint policies (vpce-policy-scoped).
 *
 * Documents are judged by what they allow, parsed and read statement by statement, never by
 * searching their text. How action wildcards are judged (see iamDocument.ts `actionReach`):
 * `*` and `<service>:*` grant every action of a service and are refused; a partial wildcard such
 * as `s3:Get*` names a family of actions and passes, as AWS Config's
 * `iam-policy-no-statements-with-full-access` and Security Hub IAM.21 judge it. Limitation: the
 * pack has no catalogue of AWS actions, so it does not expand partial wildcards; several of them
 * that together happen to cover a whole service (`s3:Get*`, `s3:Put*`, `s3:Delete*`, ...) pass.
 */
import type { ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { conditionValues, describeResource, hasWildcard, listOf, parsePolicyDocument, rawValue, trustedOidcIssuers, wildcardGrants, type PolicyStatement } from "./iamDocument";

const ROLE = "aws:iam/role:Role";

/** Resources that carry an identity policy document, and the input that holds it. */
const POLICY_DOCUMENT_TYPES = [
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
];

/** Resources that attach one managed policy by ARN (`policyArn`). */
const ATTACHMENT_TYPES = [
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
];

/** Resources that attach a list of managed policies by ARN (`policyArns`). */
const EXCLUSIVE_ATTACHMENT_TYPES = [
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive",
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive",
];

/** Every identity policy document a resource carries, with the input that holds it. */
function identityDocuments(args: ResourceValidationArgs): { field: string; value: unknown }[] {
    if (POLICY_DOCUMENT_TYPES.includes(args.type)) {
        return [{ field: "policy", value: args.props.policy }];
    }
    if (args.type === ROLE) {
        const inline = (args.props.inlinePolicies ?? []) as { policy?: unknown }[];
        return inline.map((p, i) => ({ field: `inlinePolicies[${i}].policy`, value: p.policy })).filter((d) => d.value !== undefined && d.value !== "");
    }
    return [];
}

export const iamNoWildcardActions: ResourceValidationPolicy = {
    name: "iam-no-wildcard-actions",
    description: "Checks whether IAM identity policies (inline role, user and group policies, and customer managed policies) allow every action of a service (`s3:*`), every action (`*`), or everything but a list (Allow with NotAction).",
    enforcementLevel: "mandatory",
    remediationSteps: "List the actions the workload calls (for example s3:GetObject and s3:ListBucket), or a named family of them (s3:Get*), in Allow statements; replace Allow with NotAction by an Allow of the actions meant. To forbid a broad set, use a Deny statement, which grants nothing.",
    configSchema: {
        properties: {
            allowedWildcardActions: {
                type: "array",
                items: { type: "string" },
                default: [],
                description: "Service-wide patterns accepted as written (case-insensitive), e.g. a break-glass role's `logs:*`. Empty by default.",
            },
        },
    },
    validateResource: (args, reportViolation) => {
        const { allowedWildcardActions } = args.getConfig<{ allowedWildcardActions: string[] }>();
        const allowed = new Set(allowedWildcardActions.map((p) => p.toLowerCase()));
        for (const { field, value } of identityDocuments(args)) {
            const document = parsePolicyDocument(value);
            if (document.error !== undefined) {
                reportViolation(`${describeResource(args.type, args.name)}: \`${field}\` ${document.error}; write it as a JSON policy document with a Statement list.`);
                continue;
            }
            for (const grant of wildcardGrants(document.statements, (p) => allowed.has(p.toLowerCase()))) {
                reportViolation(`${describeResource(args.type, args.name)}: \`${field}.${grant.statement.path}.${grant.field}\` (${JSON.stringify(grant.value)}) allows ${grant.grants}. `
                    + (grant.field === "NotAction"
                        ? "Allow the actions meant by name in `Action` instead; keep NotAction for Deny statements."
                        : "List the actions the workload calls (e.g. s3:GetObject), or a named family of them (s3:Get*)."));
            }
        }
    },
};

/**
 * AWS managed policies that grant administration or a whole service: no platform role needs
 * them (AmazonSageMakerFullAccess, for one, grants sagemaker:* and iam:PassRole on role/*).
 * `FullAccess` policies are also caught by name (`forbidFullAccessPolicies`).
 * @see https://docs.aws.amazon.com/aws-managed-policy/latest/reference/policy-list.html
 */
const BROAD_MANAGED_POLICIES = [
    "AdministratorAccess",
    "AdministratorAccess-Amplify",
    "AdministratorAccess-AWSElasticBeanstalk",
    "PowerUserAccess",
    "IAMFullAccess",
    "AmazonSageMakerFullAccess",
    "AmazonS3FullAccess",
    "AmazonEC2FullAccess",
    "AmazonVPCFullAccess",
    "AmazonEC2ContainerRegistryFullAccess",
    "AmazonEC2ContainerRegistryPowerUser",
    "AWSKeyManagementServicePowerUser",
    "SecretsManagerReadWrite",
    "SystemAdministrator",
    "NetworkAdministrator",
    "DatabaseAdministrator",
    "DataScientist",
] as const;

/** `arn:aws:iam::aws:policy/job-function/DataScientist` → `DataScientist`; undefined for customer managed policies. */
export function awsManagedPolicyName(arn: string): string | undefined {
    return /^arn:aws[a-z-]*:iam::aws:policy\/(?:[^/]+\/)*([^/]+)$/.exec(arn)?.[1];
}

/**
 * The managed policy ARNs a resource attaches, with the input that holds each. Read past the
 * preview proxy: an ARN unknown during preview is a policy being created in the stack, a
 * customer managed one (AWS managed policy ARNs are literals), and its placeholder matches no
 * AWS managed name.
 */
function attachedPolicyArns(args: ResourceValidationArgs): { field: string; arn: string }[] {
    if (ATTACHMENT_TYPES.includes(args.type)) {
        return [{ field: "policyArn", arn: String(rawValue(args.props, "policyArn") ?? "") }];
    }
    const listField = args.type === ROLE ? "managedPolicyArns" : EXCLUSIVE_ATTACHMENT_TYPES.includes(args.type) ? "policyArns" : undefined;
    if (listField === undefined) {
        return [];
    }
    // A list unknown as a whole may hold anything: reading it through the proxy reports that.
    const arns = rawValue(args.props, listField) ?? [];
    return (Array.isArray(arns) ? arns : listOf(args.props[listField])).map((arn, i) => ({ field: `${listField}[${i}]`, arn: String(arn) }));
}

export const iamNoBroadManagedPolicies: ResourceValidationPolicy = {
    name: "iam-no-broad-managed-policies",
    description: "Checks whether roles, users and groups are attached AWS managed policies that grant administration or a whole service (AdministratorAccess, PowerUserAccess, IAMFullAccess, AmazonSageMakerFullAccess, AmazonS3FullAccess, any *FullAccess), through policy attachments or a role's managedPolicyArns.",
    enforcementLevel: "mandatory",
    remediationSteps: "Detach the broad policy and give the role an inline policy with the actions and resources it uses (mlmesh's components write such policies for every role they create); an AWS managed policy for one purpose, such as AmazonEKSWorkerNodePolicy, is fine.",
    configSchema: {
        properties: {
            forbiddenPolicies: {
                type: "array",
                items: { type: "string" },
                default: [...BROAD_MANAGED_POLICIES],
                description: "Names of AWS managed policies refused, whatever their path (job-function/...).",
            },
            forbidFullAccessPolicies: {
                type: "boolean",
                default: true,
                description: "Also refuse every AWS managed policy whose name contains FullAccess.",
            },
            allowedPolicyArns: {
                type: "array",
                items: { type: "string" },
                default: [],
                description: "Exact policy ARNs accepted anyway (exemptions).",
            },
        },
    },
    validateResource: (args, reportViolation) => {
        const config = args.getConfig<{ forbiddenPolicies: string[]; forbidFullAccessPolicies: boolean; allowedPolicyArns: string[] }>();
        const forbidden = new Set(config.forbiddenPolicies.map((n) => n.toLowerCase()));
        for (const { field, arn } of attachedPolicyArns(args)) {
            const name = awsManagedPolicyName(arn);
            if (name === undefined || config.allowedPolicyArns.includes(arn)) {
                continue;
            }
            if (forbidden.has(name.toLowerCase()) || (config.forbidFullAccessPolicies && /fullaccess/i.test(name))) {
                reportViolation(`${describeResource(args.type, args.name)}: \`${field}\` attaches the AWS managed policy ${name} (${arn}), which grants far more than one workload needs; detach it and grant the actions and resources the workload uses in an inline policy.`);
            }
        }
    },
};

/** EKS cluster issuers; their subjects are `system:serviceaccount:<namespace>:<name>`. */
const EKS_ISSUER = /^oidc\.eks\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/id\/[0-9A-Za-z]+$/;
/** A namespace (DNS label) and a service account name (DNS subdomain), neither a pattern. */
const SERVICE_ACCOUNT_SUBJECT = /^system:serviceaccount:[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?:[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
/** Operators under which a condition on `sub`/`aud` requires the value; StringLike only without wildcards. */
const SCOPING_OPERATORS = ["StringEquals", "StringLike"] as const;

/** The values a statement requires a claim to equal, by operator; a StringLike value with a wildcard is a pattern, not a value. */
function requiredClaims(statement: PolicyStatement, key: string): { operator: string; values: string[] }[] {
    return SCOPING_OPERATORS.map((operator) => ({ operator, values: conditionValues(statement, operator, key) }))
        .filter((c): c is { operator: (typeof SCOPING_OPERATORS)[number]; values: string[] } => c.values !== undefined);
}

/** Why a statement's `sub` condition does not pin one identity, or undefined when it does. */
function subjectProblem(statement: PolicyStatement, issuer: string): string | undefined {
    const key = `${issuer}:sub`;
    const claims = requiredClaims(statement, key);
    const eks = EKS_ISSUER.test(issuer);
    const specific = (operator: string, value: string) => !(operator === "StringLike" && hasWildcard(value)) && (eks ? SERVICE_ACCOUNT_SUBJECT.test(value) : value.length > 0 && !hasWildcard(value));
    if (claims.some((c) => c.values.length > 0 && c.values.every((v) => specific(c.operator, v)))) {
        return undefined;
    }
    const example = eks ? "system:serviceaccount:<namespace>:<service-account>" : "the one subject meant";
    if (claims.length === 0) {
        return `has no StringEquals condition on \`${key}\`, so every ${eks ? "service account in the cluster" : "identity of that issuer"} can assume the role; add "StringEquals": {"${key}": "${example}"}`;
    }
    const shown = claims.map((c) => `${c.operator} ${JSON.stringify(c.values.length === 1 ? c.values[0] : c.values)}`).join(", ");
    return `conditions \`${key}\` on ${shown}, which ${eks ? "does not name exactly one service account" : "is a pattern, not one subject"}; require "StringEquals": {"${key}": "${example}"}`;
}

/** Why a statement's `aud` condition does not pin the audience, or undefined when it does. */
function audienceProblem(statement: PolicyStatement, issuer: string, audiences: readonly string[]): string | undefined {
    const key = `${issuer}:aud`;
    const claims = requiredClaims(statement, key);
    if (claims.some((c) => c.values.length > 0 && c.values.every((v) => !(c.operator === "StringLike" && hasWildcard(v)) && audiences.includes(v)))) {
        return undefined;
    }
    return `${claims.length === 0 ? "has no StringEquals condition on" : "does not pin"} \`${key}\` to ${audiences.join(" or ")}, so a token minted for another audience is accepted; add "StringEquals": {"${key}": "${audiences[0]}"}`;
}

export const irsaTrustScoped: ResourceValidationPolicy = {
    name: "irsa-trust-scoped",
    description: "Checks whether every role trusted by an OIDC identity provider (IAM roles for service accounts) requires, in its trust policy, the token's `sub` to be one specific identity (`system:serviceaccount:<namespace>:<name>` on EKS) and its `aud` to be sts.amazonaws.com.",
    enforcementLevel: "mandatory",
    remediationSteps: "In the role's assumeRolePolicy, give each statement that trusts the cluster's OIDC provider a StringEquals condition with `<issuer>:sub` set to system:serviceaccount:<namespace>:<service-account> and `<issuer>:aud` set to sts.amazonaws.com (mlmesh's IrsaServiceAccount writes exactly this). Use one role per service account rather than a pattern.",
    url: "https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html",
    configSchema: {
        properties: {
            audiences: {
                type: "array",
                items: { type: "string" },
                minItems: 1,
                default: ["sts.amazonaws.com"],
                description: "Accepted token audiences (the pod identity webhook's `eks.amazonaws.com/audience`, sts.amazonaws.com unless changed).",
            },
        },
    },
    validateResource: (args, reportViolation) => {
        if (args.type !== ROLE) {
            return;
        }
        const { audiences } = args.getConfig<{ audiences: string[] }>();
        const document = parsePolicyDocument(args.props.assumeRolePolicy);
        if (document.error !== undefined) {
            reportViolation(`${describeResource(args.type, args.name)}: \`assumeRolePolicy\` ${document.error}; write the trust policy as a JSON policy document.`);
            return;
        }
        for (const statement of document.statements.filter((s) => s.allows)) {
            for (const issuer of trustedOidcIssuers(statement)) {
                for (const problem of [subjectProblem(statement, issuer), audienceProblem(statement, issuer, audiences)]) {
                    if (problem) {
                        reportViolation(`${describeResource(args.type, args.name)}: \`assumeRolePolicy.${statement.path}\` trusts the OIDC provider ${issuer} but ${problem}.`);
                    }
                }
            }
        }
    },
};

export const iamPolicies: readonly (ResourceValidationPolicy | StackValidationPolicy)[] = [
    iamNoWildcardActions,
    iamNoBroadManagedPolicies,
    irsaTrustScoped,
];
