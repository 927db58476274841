/**
 * The pack's EKS control-plane guardrails. Offline the control plane is only the remote
 * component `eks:index:Cluster` (its inputs; its children are invisible), so each rule reads
 * those inputs, and also the `aws:eks/cluster:Cluster` the real engine sees as its child (or
 * that a program makes itself).
 */
import type { PolicyResource, ReportViolation, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

const COMPONENT = "eks:index:Cluster";
const CLUSTER = "aws:eks/cluster:Cluster";
const CLUSTER_TYPES = [COMPONENT, CLUSTER];

/** The networks that mean "anyone on the internet". */
const OPEN_CIDRS = ["0.0.0.0/0", "::/0"];

/** Control-plane log types EKS can send to CloudWatch (EKS user guide, control-plane-logs). */
const EKS_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"] as const;

/**
 * Kubernetes versions EKS offers (standard or extended support) on 2026-12-01: 1.32-1.34 from
 * the EKS user guide's release calendar (awsdocs/amazon-eks-user-guide
 * latest/ug/versioning/kubernetes-versions.adoc@0138560), 1.35 and 1.36 from the guide's newer
 * pages; 1.29-1.31 left extended support on or before 2026-11-26. Environments narrow or extend
 * the list in config (`supportedVersions`).
 */
const EKS_SUPPORTED_VERSIONS = ["1.32", "1.33", "1.34", "1.35", "1.36"] as const;

/** End of extended support by version, from the same calendar, for the message. */
const END_OF_EXTENDED_SUPPORT: Readonly<Record<string, string>> = {
    "1.29": "2026-03-23", "1.30": "2026-07-23", "1.31": "2026-11-26", "1.32": "2027-03-23", "1.33": "2027-07-29", "1.34": "2027-12-02",
};

const CLUSTER_ADMIN_POLICY = /:cluster-access-policy\/AmazonEKSClusterAdminPolicy$/;
const CNI_POLICY = /:policy\/AmazonEKS_CNI_Policy$/;

/** Where each cluster setting lives on the component and on the raw cluster. */
function clusterSettings(type: string, props: Record<string, any>) {
    const raw = type === CLUSTER;
    return {
        endpointPublic: (raw ? props.vpcConfig?.endpointPublicAccess : props.endpointPublicAccess) ?? true,
        publicAccessCidrs: (raw ? props.vpcConfig?.publicAccessCidrs : props.publicAccessCidrs) as string[] | undefined,
        logTypes: (props.enabledClusterLogTypes ?? []) as string[],
        version: props.version as string | undefined,
    };
}

/** Whether an error is the engine's "unknown during preview" (pulumi-policy's UnknownValueError). */
const isUnknown = (error: unknown) => error instanceof Error && "unknownTypeSentinel" in error;

/** Reads a value that may be unknown during preview; undefined when it is. */
function known<T>(read: () => T): T | undefined {
    try {
        return read();
    } catch (error) {
        if (isUnknown(error)) {
            return undefined;
        }
        throw error;
    }
}

/** Whether `key` holds a value; one unknown during preview counts (it will be set). */
function isSet(obj: Record<string, any> | undefined, key: string): boolean {
    try {
        const value = obj?.[key];
        return value !== undefined && value !== null && value !== "";
    } catch (error) {
        if (isUnknown(error)) {
            return true;
        }
        throw error;
    }
}

/**
 * A pulumi-eks cluster component whose inputs reach the pack empty. pulumi-eks 4.3.0 runs on
 * @pulumi/pulumi 3.173, which sends a component's inputs to policies as `{}` (inputs are sent
 * from 3.202 on, pulumi/pulumi#20357): under the real engine the `aws:eks/cluster:Cluster` it
 * creates is judged instead, and judging `{}` would report every setting as missing.
 */
function emptyComponent(args: { type: string; props: Record<string, any> }): boolean {
    return args.type === COMPONENT && Object.keys(args.props).length === 0;
}

const what = (type: string, name: string) => `${type === COMPONENT ? "EKS cluster" : "aws:eks/cluster"} ${name}`;

/** A CIDR that admits anyone, or more of the internet than `/broadestPrefixLength`. */
function tooWide(cidr: string, broadestPrefixLength: number): boolean {
    const prefix = Number(cidr.split("/")[1]);
    return OPEN_CIDRS.includes(cidr) || !Number.isFinite(prefix) || prefix < broadestPrefixLength;
}

export const eksEndpointNotPublic: ResourceValidationPolicy = {
    name: "eks-endpoint-not-public",
    description: "Checks whether the EKS API server endpoint is private, or public only to listed networks none of which is the whole internet.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set `endpointPublicAccess: false` (reach the API through the VPC, a VPN or SSM), or list the office/VPN ranges in `publicAccessCidrs`; never 0.0.0.0/0.",
    configSchema: {
        properties: {
            broadestPrefixLength: { type: "integer", minimum: 0, maximum: 32, default: 8, description: "Public CIDRs broader than this prefix (e.g. /4) count as open to the internet; mlmesh's own prod schema uses 8." },
        },
    },
    validateResource: (args, report) => {
        if (emptyComponent(args)) {
            return;
        }
        if (!CLUSTER_TYPES.includes(args.type)) {
            return;
        }
        const { broadestPrefixLength } = args.getConfig<{ broadestPrefixLength: number }>();
        const cluster = clusterSettings(args.type, args.props);
        if (cluster.endpointPublic !== true) {
            return;
        }
        const cidrs = [...(cluster.publicAccessCidrs ?? [])];
        if (cidrs.length === 0) {
            report(`${what(args.type, args.name)}: \`endpointPublicAccess\` is true (the default) with no \`publicAccessCidrs\`, so EKS opens the API server to 0.0.0.0/0; set \`endpointPublicAccess: false\` or list your VPN/office ranges in \`publicAccessCidrs\`.`);
            return;
        }
        const open = cidrs.filter((cidr) => tooWide(cidr, broadestPrefixLength));
        if (open.length > 0) {
            report(`${what(args.type, args.name)}: \`publicAccessCidrs\` opens the public API endpoint to ${open.join(", ")} (broader than /${broadestPrefixLength}); list only your VPN/office ranges, or set \`endpointPublicAccess: false\`.`);
        }
    },
};

export const eksSecretsKms: ResourceValidationPolicy = {
    name: "eks-secrets-kms",
    description: "Checks whether the EKS cluster encrypts Kubernetes secrets with a customer-managed KMS key (envelope encryption).",
    enforcementLevel: "mandatory",
    remediationSteps: "Create a KMS key with rotation and an explicit policy for the cluster role, and pass its ARN as `encryptionConfigKeyArn` (eks component) or `encryptionConfig: { resources: [\"secrets\"], provider: { keyArn } }`.",
    validateResource: (args, report) => {
        if (emptyComponent(args)) {
            return;
        }
        if (args.type === COMPONENT && !isSet(args.props, "encryptionConfigKeyArn")) {
            report(`${what(args.type, args.name)}: \`encryptionConfigKeyArn\` is not set, so Kubernetes secrets are not envelope-encrypted with a key you control; set it to a customer-managed KMS key's ARN.`);
        } else if (args.type === CLUSTER) {
            const config = args.props.encryptionConfig;
            if (!isSet(config?.provider, "keyArn") || !((config?.resources ?? []) as string[]).includes("secrets")) {
                report(`${what(args.type, args.name)}: \`encryptionConfig\` does not cover \`secrets\` with a \`provider.keyArn\`; set \`encryptionConfig: { resources: ["secrets"], provider: { keyArn: <customer-managed key ARN> } }\`.`);
            }
        }
    },
};

export const eksControlPlaneLogging: ResourceValidationPolicy = {
    name: "eks-control-plane-logging",
    description: "Checks whether the EKS cluster sends the required control-plane log types (api, audit and authenticator at least) to CloudWatch Logs.",
    enforcementLevel: "mandatory",
    remediationSteps: "Add the missing types to `enabledClusterLogTypes` (EKS sends none by default).",
    configSchema: {
        properties: {
            requiredLogTypes: { type: "array", items: { type: "string", enum: [...EKS_LOG_TYPES] }, uniqueItems: true, default: ["api", "audit", "authenticator"] },
        },
    },
    validateResource: (args, report) => {
        if (emptyComponent(args)) {
            return;
        }
        if (!CLUSTER_TYPES.includes(args.type)) {
            return;
        }
        const { requiredLogTypes } = args.getConfig<{ requiredLogTypes: string[] }>();
        const enabled = clusterSettings(args.type, args.props).logTypes;
        const missing = requiredLogTypes.filter((t) => !enabled.includes(t));
        if (missing.length > 0) {
            report(`${what(args.type, args.name)}: \`enabledClusterLogTypes\` lacks ${missing.map((t) => `"${t}"`).join(", ")}; add ${missing.length === 1 ? "it" : "them"} so the control plane's ${missing.join(", ")} logs reach CloudWatch.`);
        }
    },
};

export const eksVersionSupported: ResourceValidationPolicy = {
    name: "eks-version-supported",
    description: "Checks whether the EKS cluster and its managed node groups run a Kubernetes version EKS still supports.",
    enforcementLevel: "mandatory",
    remediationSteps: "Upgrade `version` one minor at a time to a version in the supported list (control plane first, then node groups and add-ons); see the EKS release calendar.",
    configSchema: {
        properties: {
            supportedVersions: { type: "array", items: { type: "string", pattern: "^1\\.\\d+$" }, uniqueItems: true, default: [...EKS_SUPPORTED_VERSIONS] },
        },
    },
    validateResource: (args, report) => {
        if (emptyComponent(args)) {
            return;
        }
        if (![...CLUSTER_TYPES, "aws:eks/nodeGroup:NodeGroup"].includes(args.type)) {
            return;
        }
        const version = args.props.version as string | undefined;
        if (version === undefined) {
            return; // EKS picks its default (newest) version
        }
        const minor = version.split(".").slice(0, 2).join(".");
        const { supportedVersions } = args.getConfig<{ supportedVersions: string[] }>();
        if (!supportedVersions.includes(minor)) {
            const ended = END_OF_EXTENDED_SUPPORT[minor];
            const label = args.type === "aws:eks/nodeGroup:NodeGroup" ? `node group ${args.name}` : what(args.type, args.name);
            report(`${label}: \`version\` ${version} is not a supported EKS version${ended ? ` (extended support ends ${ended})` : ""}; upgrade to one of ${supportedVersions.join(", ")}.`);
        }
    },
};

export const eksAccessEntries: ResourceValidationPolicy = {
    name: "eks-access-entries",
    description: "Checks whether cluster access goes through access entries that name the cluster admins, so the identity that created the cluster is not its only, invisible admin.",
    enforcementLevel: "mandatory",
    remediationSteps: "Use `authenticationMode: API`, name the deployer (CI) role and break-glass roles as access entries with AmazonEKSClusterAdminPolicy at cluster scope (mlmesh: `mlmesh:cluster.access`), and create the raw cluster with `accessConfig.bootstrapClusterCreatorAdminPermissions: false`.",
    configSchema: {
        properties: {
            minAdmins: { type: "integer", minimum: 1, default: 1, description: "How many principals the access entries must make cluster admin." },
        },
    },
    validateResource: (args, report) => {
        if (emptyComponent(args)) {
            return;
        }
        const label = what(args.type, args.name);
        if (args.type === COMPONENT) {
            const mode = args.props.authenticationMode as string | undefined;
            if (mode !== "API" && mode !== "API_AND_CONFIG_MAP") {
                report(`${label}: \`authenticationMode\` is ${mode ?? "unset (CONFIG_MAP)"}, so the cluster's creator is an admin no access entry shows; set \`authenticationMode: "API"\` and name the admins in \`accessEntries\`.`);
                return;
            }
            const { minAdmins } = args.getConfig<{ minAdmins: number }>();
            const entries = Object.values((args.props.accessEntries ?? {}) as Record<string, any>);
            const admins = entries.filter((entry) => Object.values((entry.accessPolicies ?? {}) as Record<string, any>)
                .some((p) => CLUSTER_ADMIN_POLICY.test(String(p.policyArn)) && p.accessScope?.type === "cluster"));
            if (admins.length < minAdmins) {
                report(`${label}: \`accessEntries\` names ${admins.length} cluster admin(s) (at least ${minAdmins} required), so whoever runs the first \`pulumi up\` stays the cluster's only admin (pulumi-eks bootstraps the creator); add access entries with AmazonEKSClusterAdminPolicy at cluster scope for the deployer role and break-glass roles (mlmesh: \`mlmesh:cluster.access.deployerRoleArn\` and \`clusterAdmins\`).`);
            }
        } else if (args.type === CLUSTER) {
            const access = args.props.accessConfig;
            const mode = access?.authenticationMode as string | undefined;
            if (mode !== "API" && mode !== "API_AND_CONFIG_MAP") {
                report(`${label}: \`accessConfig.authenticationMode\` is ${mode ?? "unset (CONFIG_MAP)"}, so the creator is an admin no access entry shows; set it to "API" and grant admins with access entries.`);
            } else if (access?.bootstrapClusterCreatorAdminPermissions !== false) {
                report(`${label}: \`accessConfig.bootstrapClusterCreatorAdminPermissions\` is not false, so the identity that creates the cluster becomes its admin; set it to false and grant admins with access entries.`);
            }
        }
    },
};

const roleNameOf = (arnOrName: string) => arnOrName.split("/").pop() ?? arnOrName;

/** Whether a role's trust policy lets EC2 (that is, nodes) assume it. */
function trustsEc2(role: PolicyResource): boolean {
    const document = known(() => role.props.assumeRolePolicy as string | undefined);
    try {
        const statements = [JSON.parse(document ?? "{}").Statement ?? []].flat();
        return statements.some((s: any) => s.Effect === "Allow" && [s.Principal?.Service ?? []].flat().includes("ec2.amazonaws.com"));
    } catch {
        return false;
    }
}

/** Each grant of AmazonEKS_CNI_Policy in the stack, with the role names it goes to. */
function cniGrants(resources: PolicyResource[]): { resource: PolicyResource; roles: string[] }[] {
    return resources.flatMap((r) => {
        const p = r.props;
        switch (r.type) {
            case "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
                return CNI_POLICY.test(known(() => p.policyArn) ?? "") ? [{ resource: r, roles: [known(() => p.role as string) ?? ""] }] : [];
            case "aws:iam/policyAttachment:PolicyAttachment":
                return CNI_POLICY.test(known(() => p.policyArn) ?? "") ? [{ resource: r, roles: known(() => [...(p.roles ?? [])] as string[]) ?? [] }] : [];
            case "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive":
                return (known(() => [...(p.policyArns ?? [])] as string[]) ?? []).some((a) => CNI_POLICY.test(a)) ? [{ resource: r, roles: [known(() => p.roleName as string) ?? ""] }] : [];
            case "aws:iam/role:Role":
                return (known(() => [...(p.managedPolicyArns ?? [])] as string[]) ?? []).some((a) => CNI_POLICY.test(a)) ? [{ resource: r, roles: [known(() => p.name as string) ?? ""] }] : [];
            default:
                return [];
        }
    });
}

/** pulumi-eks's own VPC CNI and instance role, read from the component's inputs (a resource policy sees them; a stack policy sees outputs). */
export const eksCniSettings: ResourceValidationPolicy = {
    name: "eks-cni-settings",
    description: "Checks whether a pulumi-eks cluster leaves the VPC CNI to a managed add-on (or gives pulumi-eks's own CNI a role of its own) and creates no node instance role carrying AmazonEKS_CNI_Policy.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set `useDefaultVpcCni: true` and manage the vpc-cni add-on with its own `serviceAccountRoleArn` (or set `vpcCniOptions.serviceAccountRoleArn`), and set `skipDefaultNodeGroup: true` with node roles that lack AmazonEKS_CNI_Policy.",
    validateResource: (args, report) => {
        if (emptyComponent(args)) {
            return;
        }
        if (args.type !== COMPONENT) {
            return;
        }
        const p = args.props;
        if (known(() => p.autoMode?.enabled) === true || known(() => p.bootstrapSelfManagedAddons) === false) {
            return;
        }
        const label = what(args.type, args.name);
        if (p.useDefaultVpcCni !== true && !("serviceAccountRoleArn" in (p.vpcCniOptions ?? {}))) {
            report(`${label}: pulumi-eks manages the VPC CNI (\`useDefaultVpcCni\` is not true) without \`vpcCniOptions.serviceAccountRoleArn\`, so aws-node uses the node role; set it to the CNI's own role.`);
        }
        const makesInstanceRole = p.createInstanceRole === true || (p.createInstanceRole === undefined && p.skipDefaultNodeGroup !== true && !("instanceRole" in p) && !("instanceRoles" in p));
        if (makesInstanceRole) {
            report(`${label}: pulumi-eks creates the node instance role with AmazonEKS_CNI_Policy attached (default node group or \`createInstanceRole\`); set \`skipDefaultNodeGroup: true\` and bring node roles without that policy.`);
        }
    },
};

export const cniOwnRole: StackValidationPolicy = {
    name: "cni-own-role",
    description: "Checks whether the VPC CNI add-on runs under its own IAM role (IRSA or Pod Identity) and the node role lacks AmazonEKS_CNI_Policy, so pods on the node cannot use the CNI's EC2 network permissions.",
    enforcementLevel: "mandatory",
    remediationSteps: "Create a role trusted only by kube-system/aws-node with AmazonEKS_CNI_Policy, pass it as the vpc-cni add-on's `serviceAccountRoleArn` (or `vpcCniOptions.serviceAccountRoleArn`), and detach AmazonEKS_CNI_Policy from the node role.",
    validateStack: (args, report: ReportViolation) => {
        const resources = args.resources;
        const roles = resources.filter((r) => r.type === "aws:iam/role:Role");
        const nodeRoleNames = new Set<string>([
            ...resources.filter((r) => r.type === "aws:eks/nodeGroup:NodeGroup").map((r) => roleNameOf(known(() => r.props.nodeRoleArn as string) ?? "")),
            ...resources.filter((r) => r.type === "aws:iam/instanceProfile:InstanceProfile").map((r) => roleNameOf(known(() => r.props.role as string) ?? "")),
            ...roles.filter(trustsEc2).map((r) => known(() => r.props.name as string) ?? ""),
        ].filter((n) => n !== ""));
        const ec2Roles = new Set(roles.filter(trustsEc2));
        for (const grant of cniGrants(resources)) {
            const viaDependency = grant.resource.dependencies.find((d) => ec2Roles.has(d));
            const nodeRole = grant.roles.find((role) => nodeRoleNames.has(roleNameOf(role)))
                ?? (ec2Roles.has(grant.resource) ? grant.resource.name : viaDependency?.name);
            if (nodeRole !== undefined) {
                report(`${grant.resource.type.split(":").pop()} ${grant.resource.name}: grants AmazonEKS_CNI_Policy to the node role ${roleNameOf(nodeRole)}, so any pod that reaches the node's credentials can manage ENIs; give the vpc-cni add-on its own role and detach the policy from the node role.`, grant.resource.urn);
            }
        }
        const addons = resources.filter((r) => r.type === "aws:eks/addon:Addon" && known(() => r.props.addonName) === "vpc-cni");
        for (const addon of addons) {
            const roleArn = known(() => addon.props.serviceAccountRoleArn as string | undefined);
            const podIdentity = known(() => [...(addon.props.podIdentityAssociations ?? [])].some((a: any) => a.serviceAccount === "aws-node"));
            const hasRole = isSet(addon.props, "serviceAccountRoleArn") || podIdentity !== false;
            if (!hasRole) {
                report(`aws:eks/addon ${addon.name}: the vpc-cni add-on has no \`serviceAccountRoleArn\` (or Pod Identity association for aws-node), so aws-node uses the node role's credentials; give it its own role with AmazonEKS_CNI_Policy.`, addon.urn);
            } else if (roleArn !== undefined && nodeRoleNames.has(roleNameOf(roleArn))) {
                report(`aws:eks/addon ${addon.name}: \`serviceAccountRoleArn\` is the node role ${roleNameOf(roleArn)}; give the vpc-cni add-on a role of its own.`, addon.urn);
            }
        }
        // A cluster pulumi-eks makes is judged as the component (its add-ons depend on the component, not on it).
        for (const cluster of resources.filter((r) => CLUSTER_TYPES.includes(r.type) && r.parent?.type !== COMPONENT)) {
            checkClusterCni(cluster, addons, report);
        }
    },
};

/** A cluster whose aws-node runs on node credentials: pulumi-eks's own CNI or instance role, or no managed vpc-cni at all. */
function checkClusterCni(cluster: PolicyResource, addons: PolicyResource[], report: ReportViolation): void {
    const p = cluster.props;
    const label = what(cluster.type, cluster.name);
    const autoMode = cluster.type === COMPONENT ? known(() => p.autoMode?.enabled) : known(() => p.computeConfig?.enabled);
    if (autoMode === true || known(() => p.bootstrapSelfManagedAddons) === false) {
        return;
    }
    // The component's settings are inputs, which stack policies do not see (they get outputs): eks-cni-settings judges them.
    const name = known(() => p.name as string | undefined);
    const managed = addons.some((a) => a.dependencies.includes(cluster) || (name !== undefined && known(() => a.props.clusterName) === name));
    if (!managed) {
        report(`${label}: no vpc-cni add-on is managed for this cluster, so the aws-node EKS installs runs on the node role's credentials; add an aws:eks/addon for vpc-cni with its own \`serviceAccountRoleArn\`.`, cluster.urn);
    }
}

export const eksPolicies: readonly (ResourceValidationPolicy | StackValidationPolicy)[] = [
    eksEndpointNotPublic,
    eksSecretsKms,
    eksControlPlaneLogging,
    eksVersionSupported,
    eksAccessEntries,
    cniOwnRole,
    eksCniSettings,
];
