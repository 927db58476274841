import * as aws from "@pulumi/aws";
import * as eks from "@pulumi/eks";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PropertyErrors } from "../propertyErrors";
import { parseCidr } from "./cidr";
import { accessEntries, protectControlPlane, validateClusterAccess, withoutCreatorAdmin, type ClusterAccessSpec } from "./clusterAccess";
import { ClusterAutoscaler } from "./clusterAutoscaler";
import { MetricsServer } from "./metricsServer";
import type { ClusterNetwork } from "./clusterVpc";
import {
    CONTROL_PLANE_LOG_TYPES, DEFAULT_KUBERNETES_VERSION, EKS_ADDON_VERSIONS, EKS_CORE_ADDONS, SUPPORTED_KUBERNETES_VERSIONS, type KubernetesVersion,
} from "./eksAddons";
import { LABELS, type GpuNodeGroupPlacement } from "./gpuPlacement";
import { GpuNodeGroup, validateGpuNodeGroupSpec, type GpuNodeGroupSpec } from "./gpuNodeGroup";
import type { ClusterOidc } from "./irsaServiceAccount";
import { checkedKubernetesVersion } from "./liveState";
import { createManagedNodeGroup } from "./managedNodeGroup";
import { scalingProblems } from "./nodeScaling";
import { needsDevicePlugin, NvidiaDevicePlugin } from "./nvidiaDevicePlugin";
import { AWS_NAME_LIMITS, CLUSTER_NAME, scopedName } from "../names";
import { irsaTrustPolicy } from "./irsaServiceAccount";
import { keyAdministrators, secretsKeyPolicy } from "./secretsKeyPolicy";
import { ImageCache, nodeImagePolicy } from "./imageCache";
import { imageCacheProblems, PRIVATE_ECR_HOST, parseImage, type ImageCacheSpec, type ImageRegistry } from "../images";

/** The CPU nodes that run Istio, controllers and other system pods. */
export interface SystemNodesSpec {
    /** @default "m6i.large" */
    instanceType?: string;
    /** @default 2 */
    minSize?: number;
    /** @default 4 */
    maxSize?: number;
    /** @default minSize */
    desiredSize?: number;
    /** @default 50 */
    diskSizeGiB?: number;
}

export interface GpuClusterArgs {
    /** The EKS cluster's name; letters, digits and '-'. */
    clusterName: string;
    /** @default "1.33" */
    kubernetesVersion?: KubernetesVersion;
    /** The VPC and private subnets the control plane and nodes use. */
    network: ClusterNetwork;
    /**
     * Expose the API server endpoint to the internet (it is always reachable from the VPC).
     * @default false
     * @see https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html
     */
    endpointPublicAccess?: boolean;
    /** The networks allowed to reach a public endpoint; required when it is public. @default [] */
    publicAccessCidrs?: string[];
    /** @default { instanceType: "m6i.large", minSize: 2, maxSize: 4, diskSizeGiB: 50 } */
    systemNodes?: SystemNodesSpec;
    /** @default [] (a CPU-only cluster) */
    gpuNodeGroups?: GpuNodeGroupSpec[];
    /**
     * Protect the cluster and its secrets key from `pulumi destroy`, turn on EKS deletion
     * protection, and keep the key if its resource is ever deleted (encrypted secrets would be
     * unreadable without it).
     * @default false
     */
    deletionProtection?: boolean;
    /**
     * EKS's upgrade policy: STANDARD lets AWS upgrade the control plane when standard support of
     * its version ends (and cannot be set once the version is in extended support); EXTENDED keeps
     * the version, at the extended-support price, until you upgrade or extended support ends.
     * @default "EXTENDED"
     */
    upgradeSupport?: EksUpgradeSupport;
    /** Tags for every AWS resource. @default {} */
    tags?: Record<string, string>;
    /** Who administers the cluster and which role `pulumi up` deploys as. @default {} */
    access?: ClusterAccessSpec;
    /** The ECR pull-through cache every image is served through. @default {} (no Docker Hub credentials: Docker Hub images are pulled anonymously) */
    imageCache?: ImageCacheSpec;
    /** Images in private ECR that workloads run (models' own images); nodes may pull exactly these repositories. @default [] */
    privateImages?: string[];
}

/** The API endpoint rules: a public endpoint names who may reach it; a private one takes no CIDRs. */
export function endpointAccessProblem(endpointPublicAccess: boolean, publicAccessCidrs: readonly string[]): string | undefined {
    if (endpointPublicAccess && publicAccessCidrs.length === 0) {
        return "must list the networks allowed to reach the public API endpoint when `endpointPublicAccess` is true (an empty list would open it to the internet)";
    }
    if (!endpointPublicAccess && publicAccessCidrs.length > 0) {
        return "has no effect while `endpointPublicAccess` is false; remove it or set endpointPublicAccess: true";
    }
    return undefined;
}

/** Validates GpuClusterArgs, collecting every problem. */
export function validateGpuClusterArgs(args: Omit<GpuClusterArgs, "network">, errors = new PropertyErrors(), prefix = ""): PropertyErrors {
    errors.check(`${prefix}clusterName`, args.clusterName, CLUSTER_NAME.test(args.clusterName) ? undefined : "must start with a letter and hold only letters, digits and '-' (at most 100)");
    const version = args.kubernetesVersion;
    errors.check(`${prefix}kubernetesVersion`, version, version === undefined || SUPPORTED_KUBERNETES_VERSIONS.includes(version) ? undefined : `must be one of ${SUPPORTED_KUBERNETES_VERSIONS.join(", ")}`);
    const cidrs = args.publicAccessCidrs ?? [];
    errors.check(`${prefix}publicAccessCidrs`, cidrs, endpointAccessProblem(args.endpointPublicAccess ?? false, cidrs));
    cidrs.forEach((block, i) => {
        const parsed = parseCidr(block);
        errors.check(`${prefix}publicAccessCidrs[${i}]`, block, typeof parsed === "string" ? parsed : undefined);
    });
    const system = args.systemNodes ?? {};
    for (const problem of scalingProblems({ minSize: system.minSize ?? 2, maxSize: system.maxSize ?? 4, desiredSize: system.desiredSize })) {
        errors.check(`${prefix}systemNodes.${problem.field}`, problem.value, problem.reason);
    }
    validateClusterAccess(args.access, errors, `${prefix}access.`);
    for (const problem of imageCacheProblems(args.imageCache)) {
        errors.check(`${prefix}imageCache.${problem.field}`, problem.value, problem.reason);
    }
    (args.privateImages ?? []).forEach((image, i) => {
        const ref = parseImage(image);
        errors.check(`${prefix}privateImages[${i}]`, image, ref && PRIVATE_ECR_HOST.test(ref.registry) ? undefined : "must be an image in private ECR (<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>)");
    });
    const names = new Set<string>();
    (args.gpuNodeGroups ?? []).forEach((group, i) => {
        validateGpuNodeGroupSpec(group, errors, `${prefix}gpuNodeGroups[${i}].`);
        errors.check(`${prefix}gpuNodeGroups[${i}].name`, group.name, names.has(group.name) ? "is used by an earlier group; give every GPU node group its own name" : undefined);
        names.add(group.name);
    });
    return errors;
}

/**
 * The AL2023 AMI for a CPU instance type: Graviton families carry a `g` right after their
 * generation number (m7g, c7gn, t4g, r8gd), everything else runs x86_64.
 */
export function systemNodeAmiType(instanceType: string): "AL2023_ARM_64_STANDARD" | "AL2023_x86_64_STANDARD" {
    return /^[a-z]+\d+g/.test(instanceType) ? "AL2023_ARM_64_STANDARD" : "AL2023_x86_64_STANDARD";
}

function managedPolicyArn(partition: pulumi.Input<string>, policy: string): pulumi.Output<string> {
    return pulumi.interpolate`arn:${partition}:iam::aws:policy/${policy}`;
}

/**
 * Managed policies every node needs: join the cluster and be reachable by SSM. Image pulls are
 * mlmesh's own policy (`nodeImagePolicy`: the cache's repositories and the workloads' private
 * ones, not every repository in the account). The VPC CNI's EC2 permissions are not among them
 * either: the `vpc-cni` add-on has its own role (IRSA), so a pod that reached the node's
 * credentials could not rewire the VPC's network interfaces.
 */
export const NODE_POLICIES = ["AmazonEKSWorkerNodePolicy", "AmazonSSMManagedInstanceCore"] as const;

/** The node role's inline policy: what nodes may pull. */
export const NODE_IMAGE_POLICY_NAME = "pull-images";

/** The pod annotation that restarts aws-node when its role changes. */
export const VPC_CNI_ROLE_ANNOTATION = "mlmesh.io/vpc-cni-role";

/** The VPC CNI's service account (and DaemonSet), which its add-on's role trusts. */
export const VPC_CNI_SERVICE_ACCOUNT = { namespace: "kube-system", name: "aws-node" } as const;

/**
 * EKS ready for inference: a private-by-default control plane with KMS-encrypted secrets,
 * audit logs and an OIDC provider for IRSA, pinned core add-ons, a CPU system node group,
 * tainted GPU node groups, the cluster autoscaler that scales them (from zero), and the
 * NVIDIA device plugin where the OS lacks one.
 */
/** EKS cluster upgrade policies (UpgradePolicyRequest supportType). */
export const EKS_UPGRADE_SUPPORT = ["STANDARD", "EXTENDED"] as const;
export type EksUpgradeSupport = (typeof EKS_UPGRADE_SUPPORT)[number];

export class GpuCluster extends pulumi.ComponentResource implements ClusterOidc {
    public readonly clusterName: pulumi.Output<string>;
    public readonly endpoint: pulumi.Output<string>;
    /** The API server's certificate authority (base64 PEM), for kubeconfigs of other identities. */
    public readonly certificateAuthority: pulumi.Output<string>;
    public readonly kubernetesVersion: KubernetesVersion;
    public readonly oidcProviderArn: pulumi.Output<string>;
    public readonly oidcProviderUrl: pulumi.Output<string>;
    /** Admin kubeconfig (JSON), a secret. */
    public readonly kubeconfig: pulumi.Output<string>;
    /** The security group EKS gives the control plane and managed nodes. */
    public readonly nodeSecurityGroupId: pulumi.Output<string>;
    public readonly secretsKeyArn: pulumi.Output<string>;
    /** Labels, taints and capacity of each GPU group, for placing workloads. */
    public readonly gpuNodeGroups: readonly GpuNodeGroupPlacement[];
    /** What pods need to run: the system nodes and the core add-ons (pod network, DNS). */
    public readonly readyForPods: pulumi.Resource[];
    public readonly vpcId: pulumi.Output<string>;
    public readonly privateSubnetIds: pulumi.Output<string[]>;
    /** A Kubernetes provider for this cluster, for the mesh and serving components. */
    public readonly provider: k8s.Provider;
    /** Where every image is pulled from: the cluster's ECR pull-through cache, private ECR and mirrors. */
    public readonly images: pulumi.Output<ImageRegistry>;

    constructor(name: string, args: GpuClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlmesh:cluster:GpuCluster", name, {}, opts);
        validateGpuClusterArgs(args).throwIfAny(`GpuCluster ${name}`);
        const version = args.kubernetesVersion ?? DEFAULT_KUBERNETES_VERSION;
        const protect = args.deletionProtection ?? false;
        const tags = { ...args.tags, "mlmesh.io/cluster": args.clusterName };

        const partition = aws.getPartitionOutput({}, { parent: this }).partition;
        // IAM is global and cluster names are regional: role names carry a hash of the region.
        const region = aws.getRegionOutput({}, { parent: this }).region;
        const roleName = (purpose: string) => region.apply((r) => scopedName(`${args.clusterName}-${purpose}`, r, AWS_NAME_LIMITS.iamRole));
        // The control plane's role, made here rather than by the eks component, whose own role
        // would be auto-named `<name>-eksRole-role-<7>` and overflow 64 characters for long names
        // (pulumi/pulumi-eks:nodejs/eks/cluster/cluster.ts@v4.3.0).
        const serviceRole = new aws.iam.Role(`${name}-service-role`, {
            name: roleName("control-plane"),
            description: `Control plane of EKS cluster ${args.clusterName}`,
            assumeRolePolicy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Principal: { Service: "eks.amazonaws.com" }, Action: ["sts:AssumeRole", "sts:TagSession"] }],
            }),
            tags,
        }, { parent: this });
        const servicePolicy = new aws.iam.RolePolicyAttachment(`${name}-service-AmazonEKSClusterPolicy`, {
            role: serviceRole.name,
            policyArn: managedPolicyArn(partition, "AmazonEKSClusterPolicy"),
        }, { parent: this });
        // Administrators manage the key and alone may disable or delete it; the control plane uses it.
        const caller = aws.getCallerIdentityOutput({}, { parent: this });
        const accountId = caller.accountId;
        // The role behind the credentials running `pulumi up` (an assumed-role session's issuer).
        const deployingIdentity = aws.iam.getSessionContextOutput({ arn: caller.arn }, { parent: this }).issuerArn;
        const secretsKey = new aws.kms.Key(`${name}-secrets-key`, {
            description: `Envelope encryption of Kubernetes secrets in EKS cluster ${args.clusterName}`,
            enableKeyRotation: true,
            deletionWindowInDays: 30,
            policy: pulumi.all([partition, accountId, serviceRole.arn, deployingIdentity]).apply(([p, account, serviceRoleArn, deployer]) => {
                const admins = keyAdministrators(args.access, deployer);
                if (admins.length > 0 && ![args.access?.deployerRoleArn, ...(args.access?.clusterAdmins ?? [])].includes(deployer)) {
                    pulumi.log.warn(`cluster ${args.clusterName}: \`pulumi up\` runs as ${deployer}, not access.deployerRoleArn or a cluster admin, so it becomes an administrator of the secrets key too (KMS refuses a policy that locks out its caller); run \`pulumi up\` as the deployer role to keep the key's administrators to the ones configured`, this);
                }
                return JSON.stringify(secretsKeyPolicy({ partition: p, accountId: account, serviceRoleArn, administrators: admins }));
            }),
            tags,
        }, { parent: this, protect, retainOnDelete: protect });
        new aws.kms.Alias(`${name}-secrets-key`, { name: `alias/${args.clusterName}-eks-secrets`, targetKeyId: secretsKey.keyId }, { parent: this });

        const nodeRole = new aws.iam.Role(`${name}-node-role`, {
            name: roleName("nodes"),
            description: `Nodes of EKS cluster ${args.clusterName}`,
            assumeRolePolicy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
            }),
            tags,
        }, { parent: this });
        const imageCache = new ImageCache(`${name}-images`, { clusterName: args.clusterName, cache: args.imageCache }, { parent: this });
        this.images = imageCache.registry;
        const nodePolicies: pulumi.Resource[] = NODE_POLICIES.map((policy) => new aws.iam.RolePolicyAttachment(`${name}-node-${policy}`, {
            role: nodeRole.name,
            policyArn: managedPolicyArn(partition, policy),
        }, { parent: this }));
        nodePolicies.push(new aws.iam.RolePolicy(`${name}-node-images`, {
            name: NODE_IMAGE_POLICY_NAME,
            role: nodeRole.name,
            policy: pulumi.all([partition, region, accountId]).apply(([p, r, account]) => JSON.stringify(nodeImagePolicy({
                partition: p, region: r, accountId: account, cachePrefix: imageCache.prefix,
                privateImages: [...(args.privateImages ?? []), ...Object.values(args.imageCache?.mirrors ?? {})],
                repositories: (args.access?.appTeams ?? []).flatMap((team) => team.imageRepositories ?? []),
            }))),
        }, { parent: this, deleteBeforeReplace: true }));

        const endpointPublicAccess = args.endpointPublicAccess ?? false;
        const deployerRoleArn = args.access?.deployerRoleArn;
        if (!deployerRoleArn) {
            pulumi.log.warn(`cluster ${args.clusterName}: no access.deployerRoleArn, so the identity that runs the first \`pulumi up\` stays the only cluster admin; set mlmesh:cluster.access.deployerRoleArn before deploying from CI`, this);
        }
        const cluster = new eks.Cluster(`${name}-eks`, {
            name: args.clusterName,
            version: checkedKubernetesVersion(args.clusterName, version, { parent: this }),
            vpcId: args.network.vpcId,
            privateSubnetIds: args.network.privateSubnetIds,
            endpointPrivateAccess: true,
            endpointPublicAccess,
            publicAccessCidrs: endpointPublicAccess ? args.publicAccessCidrs : undefined,
            authenticationMode: eks.AuthenticationMode.Api,
            skipDefaultNodeGroup: true,
            skipDefaultSecurityGroups: true,
            encryptionConfigKeyArn: secretsKey.arn,
            enabledClusterLogTypes: [...CONTROL_PLANE_LOG_TYPES],
            createOidcProvider: true,
            // mlmesh pins the core add-ons itself (below), so tests and policies can see them.
            corednsAddonOptions: { enabled: false },
            kubeProxyAddonOptions: { enabled: false },
            useDefaultVpcCni: true,
            serviceRole,
            accessEntries: accessEntries(args.access, partition),
            // The provider's kubeconfig (and the stack's) assumes the deployer role, whatever
            // credentials run `pulumi up`.
            ...(deployerRoleArn ? { providerCredentialOpts: { roleArn: deployerRoleArn } } : {}),
            deletionProtection: protect,
            upgradePolicy: { supportType: args.upgradeSupport ?? "EXTENDED" },
            tags,
        }, { parent: this, dependsOn: [servicePolicy], transforms: [...(deployerRoleArn ? [withoutCreatorAdmin] : []), ...(protect ? [protectControlPlane] : [])] });
        const clusterName = cluster.eksCluster.name;

        // The VPC CNI's own role, trusted only by its service account; the add-on annotates that
        // account, and nodes launch only once it has, so aws-node never starts without credentials.
        const cniRole = new aws.iam.Role(`${name}-vpc-cni-role`, {
            name: roleName("vpc-cni"),
            description: `VPC CNI (${VPC_CNI_SERVICE_ACCOUNT.namespace}/${VPC_CNI_SERVICE_ACCOUNT.name}) of EKS cluster ${args.clusterName}`,
            assumeRolePolicy: pulumi.all([cluster.oidcProviderArn, cluster.oidcProviderUrl]).apply(([arn, url]) =>
                JSON.stringify(irsaTrustPolicy(arn, url, VPC_CNI_SERVICE_ACCOUNT.namespace, VPC_CNI_SERVICE_ACCOUNT.name))),
            tags,
        }, { parent: this });
        const cniPolicy = new aws.iam.RolePolicyAttachment(`${name}-vpc-cni-AmazonEKS_CNI_Policy`, {
            role: cniRole.name,
            policyArn: managedPolicyArn(partition, "AmazonEKS_CNI_Policy"),
        }, { parent: this });
        const addon = (addonName: (typeof EKS_CORE_ADDONS)[number], dependsOn: pulumi.Resource[]) => new aws.eks.Addon(`${name}-${addonName}`, {
            clusterName,
            addonName,
            addonVersion: EKS_ADDON_VERSIONS[version][addonName],
            ...(addonName === "vpc-cni" ? { serviceAccountRoleArn: cniRole.arn } : {}),
            resolveConflictsOnCreate: "OVERWRITE",
            resolveConflictsOnUpdate: "PRESERVE",
            tags,
        }, { parent: this, dependsOn });
        const cniAddon = addon("vpc-cni", [cniPolicy, ...nodePolicies]);
        const nodeNetworking = [cniAddon, addon("kube-proxy", nodePolicies), addon("eks-pod-identity-agent", nodePolicies)];

        const placement = { clusterName, kubernetesVersion: cluster.eksCluster.version, nodeRoleArn: nodeRole.arn, subnetIds: args.network.privateSubnetIds, dependsOn: [...nodePolicies, ...nodeNetworking] };
        const system = args.systemNodes ?? {};
        const systemInstanceType = system.instanceType ?? "m6i.large";
        const { nodeGroup: systemNodes } = createManagedNodeGroup(`${name}-system`, this, {
            ...placement,
            amiType: systemNodeAmiType(systemInstanceType),
            instanceTypes: [systemInstanceType],
            capacityType: "ON_DEMAND",
            scaling: { minSize: system.minSize ?? 2, maxSize: system.maxSize ?? 4, desiredSize: system.desiredSize },
            diskSizeGiB: system.diskSizeGiB ?? 50,
            imageVolumeDevice: "/dev/xvda",
            labels: { [LABELS.nodeRole]: "system" },
            taints: [],
            tags,
        });
        const addons = [...nodeNetworking, addon("coredns", [systemNodes, ...nodePolicies])];
        this.readyForPods = [systemNodes, ...addons];
        const gpuGroups = (args.gpuNodeGroups ?? []).map((group) => new GpuNodeGroup(`${name}-gpu-${group.name}`, {
            ...placement,
            group,
            tags,
        }, { parent: this }));
        this.gpuNodeGroups = gpuGroups.map((group) => group.placement);

        this.kubeconfig = pulumi.secret(cluster.kubeconfigJson);
        this.provider = new k8s.Provider(`${name}-k8s`, { kubeconfig: this.kubeconfig, enableServerSideApply: true }, { parent: this });
        // The add-on only annotates aws-node's service account; pods already running keep the node
        // role's credentials until they restart (docs.aws.amazon.com/eks/latest/userguide/cni-iam-role.html).
        // A template annotation naming the role restarts them whenever it changes, as
        // `kubectl rollout restart` does, so a stack upgraded from the node role's CNI policy, which
        // is detached at the end of the same update, keeps assigning pod addresses.
        new k8s.apps.v1.DaemonSetPatch(`${name}-aws-node-role`, {
            metadata: { name: VPC_CNI_SERVICE_ACCOUNT.name, namespace: VPC_CNI_SERVICE_ACCOUNT.namespace },
            spec: { template: { metadata: { annotations: { [VPC_CNI_ROLE_ANNOTATION]: cniRole.arn } } } },
        }, {
            parent: this,
            provider: this.provider,
            // After the cluster's access entries (as for every Kubernetes object), and as long as
            // aws-node's rolling restart, 10% of the nodes at a time, takes on a large cluster.
            dependsOn: [cniAddon, cluster],
            customTimeouts: { create: "30m", update: "30m" },
        });
        new ClusterAutoscaler(`${name}-autoscaler`, {
            cluster: { provider: this.provider, clusterName, oidcProviderArn: cluster.oidcProviderArn, oidcProviderUrl: cluster.oidcProviderUrl },
            clusterName: args.clusterName,
            kubernetesVersion: version,
            images: this.images,
            tags,
        }, { parent: this, dependsOn: this.readyForPods });
        new MetricsServer(`${name}-metrics`, { provider: this.provider, images: this.images }, { parent: this, dependsOn: this.readyForPods });
        if (needsDevicePlugin(this.gpuNodeGroups)) {
            new NvidiaDevicePlugin(`${name}-nvidia`, { placements: this.gpuNodeGroups, provider: this.provider, images: this.images }, { parent: this, dependsOn: addons });
        }

        this.clusterName = clusterName;
        this.endpoint = cluster.eksCluster.endpoint;
        this.certificateAuthority = cluster.eksCluster.certificateAuthority.data;
        this.kubernetesVersion = version;
        this.oidcProviderArn = cluster.oidcProviderArn;
        this.oidcProviderUrl = cluster.oidcProviderUrl;
        this.nodeSecurityGroupId = cluster.eksCluster.vpcConfig.clusterSecurityGroupId;
        this.secretsKeyArn = secretsKey.arn;
        this.vpcId = pulumi.output(args.network.vpcId);
        this.privateSubnetIds = pulumi.output(args.network.privateSubnetIds);
        this.registerOutputs({
            clusterName: this.clusterName,
            endpoint: this.endpoint,
            kubernetesVersion: this.kubernetesVersion,
            oidcProviderArn: this.oidcProviderArn,
            oidcProviderUrl: this.oidcProviderUrl,
            kubeconfig: this.kubeconfig,
            nodeSecurityGroupId: this.nodeSecurityGroupId,
            secretsKeyArn: this.secretsKeyArn,
            gpuNodeGroups: this.gpuNodeGroups,
            vpcId: this.vpcId,
            privateSubnetIds: this.privateSubnetIds,
        });
    }
}
