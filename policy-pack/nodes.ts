/**
 * The pack's node guardrails: what EC2 launch templates and EKS managed node groups give the
 * machines that run pods (instance metadata, SSH, disks) and how GPU groups keep to GPU work.
 */
import type { ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

const LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";
const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";

/**
 * EC2 families with NVIDIA GPUs, from the instance types the EKS AMI knows
 * (awslabs/amazon-eks-ami nodeadm/internal/kubelet/instance-info.jsonl, less AMD's g4ad) and the
 * older p2/p3/g3 families. Config (`gpuInstanceFamilies`) adds newer ones without a pack release.
 */
const NVIDIA_GPU_FAMILIES = [
    "g3", "g3s", "g4dn", "g5", "g5g", "g6", "g6e", "g6f", "g7", "g7e", "gr6", "gr6f",
    "p2", "p3", "p3dn", "p4d", "p4de", "p5", "p5e", "p5en", "p6-b200", "p6-b300", "p6e-gb200",
] as const;

/** Managed node group AMI types that ship the NVIDIA driver (EKS API `Nodegroup.amiType`). */
const NVIDIA_AMI_TYPES = ["AL2023_x86_64_NVIDIA", "AL2023_ARM_64_NVIDIA", "BOTTLEROCKET_x86_64_NVIDIA", "BOTTLEROCKET_ARM_64_NVIDIA", "AL2_x86_64_GPU"] as const;

/** The taint that keeps pods without a GPU toleration off GPU nodes (the device plugin's resource name). */
const GPU_TAINT_KEY = "nvidia.com/gpu";

const OPEN_CIDRS = ["0.0.0.0/0", "::/0"];

const gpuConfigSchema = {
    properties: {
        gpuInstanceFamilies: { type: "array" as const, items: { type: "string" as const }, uniqueItems: true, default: [...NVIDIA_GPU_FAMILIES] },
        exemptNodeGroups: { type: "array" as const, items: { type: "string" as const }, default: [], description: "Node groups (Pulumi resource name or nodeGroupName) this rule skips." },
    },
};

interface GpuConfig {
    gpuInstanceFamilies: string[];
    exemptNodeGroups: string[];
}

/** The node group's GPU instance types, or [] when it is not a GPU group (or is exempt). */
function gpuInstanceTypes(args: ResourceValidationArgs, config: GpuConfig): string[] | undefined {
    if (args.type !== NODE_GROUP || config.exemptNodeGroups.includes(args.name) || config.exemptNodeGroups.includes(String(args.props.nodeGroupName))) {
        return undefined;
    }
    return ((args.props.instanceTypes ?? []) as string[]).filter((t) => config.gpuInstanceFamilies.includes(t.split(".")[0]));
}

/** Copies props without reading them through the engine's unknown-checking proxy. */
function rawCopy(props: Record<string, any>): Record<string, any> {
    return Object.fromEntries(Object.keys(props).map((key) => [key, Object.getOwnPropertyDescriptor(props, key)?.value]));
}

export const nodeImdsv2: ResourceValidationPolicy = {
    name: "node-imdsv2",
    description: "Checks whether launch templates require IMDSv2 session tokens and keep the metadata response hop limit low enough that pods cannot reach the node's credentials.",
    enforcementLevel: "remediate",
    remediationSteps: "Set `metadataOptions: { httpTokens: \"required\", httpPutResponseHopLimit: 1 }` on the launch template; give pods AWS access through IRSA or EKS Pod Identity instead of the node role. The remediation sets `httpTokens: \"required\"`.",
    configSchema: {
        properties: {
            maxHopLimit: { type: "integer", minimum: 1, maximum: 64, default: 1, description: "1 keeps containers away from IMDS (EKS: AL2023 managed node groups default to 1); 2 lets pods reach the node's credentials." },
        },
    },
    remediateResource: (args) => {
        if (args.type !== LAUNCH_TEMPLATE) {
            return undefined;
        }
        const options = args.props.metadataOptions ?? {};
        if (options.httpEndpoint === "disabled" || options.httpTokens === "required") {
            return undefined;
        }
        return { ...rawCopy(args.props), metadataOptions: { ...rawCopy(options), httpTokens: "required" } };
    },
    validateResource: (args, report) => {
        if (args.type !== LAUNCH_TEMPLATE) {
            return;
        }
        const options = args.props.metadataOptions ?? {};
        if (options.httpEndpoint === "disabled") {
            return; // no metadata service at all
        }
        if (options.httpTokens !== "required") {
            report(`launch template ${args.name}: \`metadataOptions.httpTokens\` is ${options.httpTokens === undefined ? "unset (\"optional\")" : `"${options.httpTokens}"`}, so IMDSv1 answers unauthenticated requests (SSRF can read the node role's credentials); set it to "required".`);
        }
        const { maxHopLimit } = args.getConfig<{ maxHopLimit: number }>();
        const hops = (options.httpPutResponseHopLimit ?? 1) as number;
        if (hops > maxHopLimit) {
            report(`launch template ${args.name}: \`metadataOptions.httpPutResponseHopLimit\` is ${hops} (at most ${maxHopLimit}), so pods can fetch the node role's credentials from IMDS; lower it to ${maxHopLimit} and use IRSA or Pod Identity for pods.`);
        }
    },
};

/** Whether an ingress rule lets port 22 in from anyone. */
function opensSsh(rule: { protocol?: string; ipProtocol?: string; fromPort?: number; toPort?: number; cidrs: string[] }): boolean {
    const protocol = String(rule.protocol ?? rule.ipProtocol ?? "");
    const allPorts = protocol === "-1" || protocol === "all";
    const coversSsh = allPorts || ((protocol === "tcp" || protocol === "6") && (rule.fromPort ?? 0) <= 22 && 22 <= (rule.toPort ?? 65535));
    return coversSsh && rule.cidrs.some((c) => OPEN_CIDRS.includes(c));
}

/** A security group resource's ingress rules, whichever of the three ways it declares them. */
function ingressRules(args: ResourceValidationArgs): { protocol?: string; fromPort?: number; toPort?: number; cidrs: string[] }[] {
    const p = args.props;
    switch (args.type) {
        case "aws:ec2/securityGroup:SecurityGroup":
            return ((p.ingress ?? []) as any[]).map((r) => ({ protocol: r.protocol, fromPort: r.fromPort, toPort: r.toPort, cidrs: [...(r.cidrBlocks ?? []), ...(r.ipv6CidrBlocks ?? [])] }));
        case "aws:ec2/securityGroupRule:SecurityGroupRule":
            return p.type === "ingress" ? [{ protocol: p.protocol, fromPort: p.fromPort, toPort: p.toPort, cidrs: [...(p.cidrBlocks ?? []), ...(p.ipv6CidrBlocks ?? [])] }] : [];
        case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
            return [{ protocol: p.ipProtocol, fromPort: p.fromPort, toPort: p.toPort, cidrs: [p.cidrIpv4, p.cidrIpv6].filter((c): c is string => typeof c === "string") }];
        default:
            return [];
    }
}

export const nodegroupNoOpenSsh: ResourceValidationPolicy = {
    name: "nodegroup-no-open-ssh",
    description: "Checks whether node groups are reachable over SSH: managed node groups carry no `remoteAccess` (EKS opens port 22 to 0.0.0.0/0 when it names no source security groups), and no security group admits port 22 from the internet.",
    enforcementLevel: "mandatory",
    remediationSteps: "Remove `remoteAccess` and reach nodes with SSM Session Manager (the node role has AmazonSSMManagedInstanceCore); if SSH is truly needed, allow `remoteAccess` in config and list `sourceSecurityGroupIds`; never admit port 22 from 0.0.0.0/0 or ::/0.",
    configSchema: {
        properties: {
            allowRemoteAccess: { type: "boolean", default: false, description: "Allow `remoteAccess` that names `sourceSecurityGroupIds` (never the open default)." },
        },
    },
    validateResource: (args, report) => {
        if (args.type === NODE_GROUP) {
            const remote = args.props.remoteAccess;
            if (remote === undefined || remote === null) {
                return;
            }
            const { allowRemoteAccess } = args.getConfig<{ allowRemoteAccess: boolean }>();
            const scoped = ((remote.sourceSecurityGroupIds ?? []) as string[]).length > 0;
            if (!scoped) {
                report(`node group ${args.name}: \`remoteAccess\` names no \`sourceSecurityGroupIds\`, so EKS opens port 22 on every node to 0.0.0.0/0; remove \`remoteAccess\` and use SSM Session Manager.`);
            } else if (!allowRemoteAccess) {
                report(`node group ${args.name}: \`remoteAccess\` gives SSH into the nodes; remove it and use SSM Session Manager (or allow scoped remote access in this policy's config).`);
            }
            return;
        }
        if (ingressRules(args).some(opensSsh)) {
            report(`${args.type.split(":").pop()} ${args.name}: an ingress rule admits SSH (port 22) from 0.0.0.0/0 or ::/0; remove it, or narrow the source to a bastion or VPN security group.`);
        }
    },
};

export const nodegroupVolumeEncrypted: ResourceValidationPolicy = {
    name: "nodegroup-volume-encrypted",
    description: "Checks whether node volumes are encrypted: every EBS block device of a launch template sets `encrypted`, and managed node groups use such a launch template.",
    enforcementLevel: "mandatory",
    remediationSteps: "Give the node group a launch template whose `blockDeviceMappings` declare the AMI's volumes with `ebs.encrypted: \"true\"` (and a `kmsKeyId` if you need your own key).",
    configSchema: {
        properties: {
            accountEncryptsByDefault: { type: "boolean", default: false, description: "The account has EBS encryption by default on, so node groups without a launch template are encrypted too." },
        },
    },
    validateResource: (args, report) => {
        if (args.type === NODE_GROUP) {
            if (!args.props.launchTemplate && !args.getConfig<{ accountEncryptsByDefault: boolean }>().accountEncryptsByDefault) {
                report(`node group ${args.name}: no \`launchTemplate\`, so its disks are encrypted only if the account turns EBS encryption by default on; attach a launch template whose block devices set \`ebs.encrypted: "true"\`.`);
            }
            return;
        }
        if (args.type !== LAUNCH_TEMPLATE) {
            return;
        }
        const mappings = (args.props.blockDeviceMappings ?? []) as any[];
        if (mappings.length === 0) {
            report(`launch template ${args.name}: no \`blockDeviceMappings\`, so the root volume comes unencrypted from the AMI's snapshot; declare it with \`ebs.encrypted: "true"\`.`);
        }
        mappings.forEach((mapping, i) => {
            if (mapping.ebs && String(mapping.ebs.encrypted) !== "true") {
                report(`launch template ${args.name}: \`blockDeviceMappings[${i}].ebs.encrypted\` (${mapping.deviceName ?? "device"}) is not "true"; set it so the node's disk is encrypted at rest.`);
            }
        });
    },
};

export const gpuNodegroupTainted: ResourceValidationPolicy = {
    name: "gpu-nodegroup-tainted",
    description: "Checks whether node groups of NVIDIA GPU instances carry the `nvidia.com/gpu` NoSchedule taint, so only pods that tolerate it (those asking for GPUs) land on GPU nodes.",
    enforcementLevel: "mandatory",
    remediationSteps: "Add `taints: [{ key: \"nvidia.com/gpu\", value: \"true\", effect: \"NO_SCHEDULE\" }]` to the node group and give GPU workloads the matching toleration.",
    configSchema: gpuConfigSchema,
    validateResource: (args, report) => {
        const config = args.getConfig<GpuConfig>();
        const gpus = gpuInstanceTypes(args, config);
        const nvidiaAmi = (NVIDIA_AMI_TYPES as readonly string[]).includes(String(args.props.amiType));
        if (gpus === undefined || (gpus.length === 0 && !nvidiaAmi)) {
            return;
        }
        // NO_EXECUTE also keeps pods off, and evicts those already there.
        const tainted = ((args.props.taints ?? []) as any[]).some((t) => t.key === GPU_TAINT_KEY && ["NO_SCHEDULE", "NoSchedule", "NO_EXECUTE", "NoExecute"].includes(t.effect));
        if (!tainted) {
            report(`node group ${args.name}: GPU nodes (${gpus.length > 0 ? gpus.join(", ") : args.props.amiType}) lack the \`${GPU_TAINT_KEY}\` NO_SCHEDULE taint in \`taints\`, so any pod can take a GPU node; add \`{ key: "${GPU_TAINT_KEY}", value: "true", effect: "NO_SCHEDULE" }\`.`);
        }
    },
};

export const gpuNodegroupNvidiaAmi: ResourceValidationPolicy = {
    name: "gpu-nodegroup-nvidia-ami",
    description: "Checks whether node groups of NVIDIA GPU instances use an AMI type that ships the NVIDIA driver (AL2023 or Bottlerocket NVIDIA).",
    enforcementLevel: "mandatory",
    remediationSteps: "Set `amiType` to AL2023_x86_64_NVIDIA, AL2023_ARM_64_NVIDIA, BOTTLEROCKET_x86_64_NVIDIA or BOTTLEROCKET_ARM_64_NVIDIA to match the instances' architecture; exempt a group built on a custom GPU AMI in config.",
    configSchema: gpuConfigSchema,
    validateResource: (args, report) => {
        const gpus = gpuInstanceTypes(args, args.getConfig<GpuConfig>());
        if (gpus === undefined || gpus.length === 0) {
            return;
        }
        const amiType = args.props.amiType as string | undefined;
        if (!(NVIDIA_AMI_TYPES as readonly string[]).includes(String(amiType))) {
            report(`node group ${args.name}: GPU instance types ${gpus.join(", ")} run \`amiType\` ${amiType ?? "unset (EKS's standard AMI)"}, which has no NVIDIA driver, so pods never see a GPU; set \`amiType\` to an NVIDIA type (${NVIDIA_AMI_TYPES.slice(0, 4).join(", ")}).`);
        }
    },
};

export const nodesPolicies: readonly (ResourceValidationPolicy | StackValidationPolicy)[] = [
    nodeImdsv2,
    nodegroupNoOpenSsh,
    nodegroupVolumeEncrypted,
    gpuNodegroupTainted,
    gpuNodegroupNvidiaAmi,
];
