/**
 * Physical names as the providers make them, and the limits AWS and Kubernetes hold them to.
 * pulumi-aws auto-names `<resource name>-<7 hex>` and refuses a name longer than its own limit
 * for the type, which for many types is looser than AWS's (pulumi/pulumi-aws:provider/resource_overrides.go,
 * pulumi/pulumi-terraform-bridge:pkg/tfbridge/info/autonaming.go); pulumi-kubernetes auto-names
 * `<resource name>-<8 hex>` with no check at all. The offline engine applies the real limit, so a
 * name that `pulumi up` would fail on fails the plan, naming the resource and the limit.
 */
import { createHash } from "node:crypto";

/** A stable hex string from the resource's identity, so two plans of one config are identical. */
export function stableHex(seed: string, length: number): string {
    return createHash("sha256").update(seed).digest("hex").slice(0, length);
}

interface NameRule {
    /** The input that holds the name. */
    readonly property: string;
    /** The real limit (the cloud's), in characters. */
    readonly max: number;
    /** What the name is, for the message. */
    readonly what: string;
    /** Characters of the provider's random suffix when the name is generated; none: never generated. */
    readonly randomSuffix?: number;
}

/** AWS types whose name mlmesh sets or the provider generates. */
const AWS_RULES: Readonly<Record<string, NameRule>> = {
    "aws:iam/role:Role": { property: "name", max: 64, what: "IAM role names", randomSuffix: 7 },
    "aws:iam/rolePolicy:RolePolicy": { property: "name", max: 128, what: "IAM inline policy names", randomSuffix: 7 },
    "aws:iam/policy:Policy": { property: "name", max: 128, what: "IAM policy names", randomSuffix: 7 },
    "aws:eks/nodeGroup:NodeGroup": { property: "nodeGroupName", max: 63, what: "EKS node group names", randomSuffix: 7 },
    "aws:ec2/launchTemplate:LaunchTemplate": { property: "name", max: 128, what: "launch template names", randomSuffix: 7 },
    "aws:ec2/securityGroup:SecurityGroup": { property: "name", max: 255, what: "security group names", randomSuffix: 7 },
    "aws:kms/alias:Alias": { property: "name", max: 256, what: "KMS alias names" },
    // docs.aws.amazon.com/AmazonECR/latest/APIReference/API_PullThroughCacheRule.html: 2 to 30 characters.
    "aws:ecr/pullThroughCacheRule:PullThroughCacheRule": { property: "ecrRepositoryPrefix", max: 30, what: "ECR pull-through cache repository prefixes" },
    "eks:index:Cluster": { property: "name", max: 100, what: "EKS cluster names" },
    "aws:sagemaker/model:Model": { property: "name", max: 63, what: "SageMaker model names", randomSuffix: 7 },
    "aws:sagemaker/endpoint:Endpoint": { property: "name", max: 63, what: "SageMaker endpoint names", randomSuffix: 7 },
};

/** A physical name over its limit: `pulumi up` would fail on this resource. */
export class PhysicalNameError extends Error {
    constructor(readonly type: string, readonly resourceName: string, readonly physicalName: string, readonly limit: number, what: string) {
        super(`${type} ${resourceName}: its name "${physicalName}" has ${physicalName.length} characters; ${what} allow at most ${limit}`);
        this.name = "PhysicalNameError";
    }
}

/** The name the provider gives a resource: the one set, or its generated one. */
function physicalName(rule: NameRule, inputs: Record<string, unknown>, resourceName: string, seed: string): string | undefined {
    const given = inputs[rule.property];
    if (typeof given === "string") {
        return given;
    }
    return rule.randomSuffix ? `${resourceName}-${stableHex(seed, rule.randomSuffix)}` : undefined;
}

function check(type: string, resourceName: string, name: string | undefined, max: number, what: string): void {
    if (name !== undefined && name.length > max) {
        throw new PhysicalNameError(type, resourceName, name, max, what);
    }
}

/**
 * The physical names of an AWS resource (and of the eks component's service role, which it
 * generates as `<name>-eksRole-role-<7>` unless it is given one): the name the mock answers
 * with, or a PhysicalNameError.
 */
export function awsPhysicalName(type: string, resourceName: string, inputs: Record<string, unknown>, seed: string): { property: string; name: string } | undefined {
    if (type === "aws:sagemaker/endpointConfiguration:EndpointConfiguration" && typeof inputs.namePrefix === "string") {
        // The provider appends a 26-character unique id to a name prefix (terraform-plugin-sdk id.PrefixedUniqueId).
        const name = `${inputs.namePrefix}${stableHex(seed, 26)}`;
        check(type, resourceName, name, 63, "SageMaker endpoint configuration names");
        return { property: "name", name };
    }
    if (type === "eks:index:Cluster" && inputs.serviceRole === undefined) {
        check(type, resourceName, `${resourceName}-eksRole-role-${stableHex(seed, 7)}`, 64, "IAM role names (the component's own control-plane role)");
    }
    const rule = AWS_RULES[type];
    if (!rule) {
        return undefined;
    }
    const name = physicalName(rule, inputs, resourceName, seed);
    check(type, resourceName, name, rule.max, rule.what);
    return name === undefined ? undefined : { property: rule.property, name };
}

/** Kubernetes kinds whose names are DNS-1123 (or, for Services, DNS-1035) labels. */
const LABEL_NAMED = new Set(["kubernetes:core/v1:Service", "kubernetes:core/v1:Namespace"]);

/**
 * The checks the API server (and Helm) make on a Kubernetes object's name and labels:
 * Services and Namespaces at most 63 characters, other objects 253, label values 63, Helm
 * release names 53 (helm/helm:pkg/chartutil/validate_name.go).
 */
export function checkKubernetesNames(type: string, resourceName: string, inputs: Record<string, unknown>, generatedName: string): void {
    if (type.startsWith("kubernetes:helm.sh/")) {
        check(type, resourceName, typeof inputs.name === "string" ? inputs.name : generatedName, 53, "Helm release names");
        return;
    }
    const metadata = (inputs.metadata ?? {}) as { name?: unknown; labels?: Record<string, unknown> };
    const name = typeof metadata.name === "string" ? metadata.name : generatedName;
    check(type, resourceName, name, LABEL_NAMED.has(type) ? 63 : 253, LABEL_NAMED.has(type) ? "Service and Namespace names" : "Kubernetes object names");
    for (const value of Object.values(metadata.labels ?? {})) {
        check(type, resourceName, typeof value === "string" ? value : undefined, 63, "label values");
    }
}
