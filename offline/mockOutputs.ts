/**
 * Plausible cloud answers for the offline engine: deterministic ids, ARNs and endpoints shaped
 * like AWS's, so downstream inputs resolve to values a reviewer can read. Nothing here is
 * visible to the components: they get the same shapes a real deployment returns.
 */
import * as pulumi from "@pulumi/pulumi";
import { stackReferenceState, type RecordedStack, type StackOutputsError } from "./stackOutputs";
import { awsPhysicalName, checkKubernetesNames, stableHex } from "./physicalNames";
import { NOTHING_LIVE, type LiveResources } from "./liveResources";

export { stableHex };

export interface OfflineAccount {
    readonly region: string;
    readonly accountId: string;
    readonly partition: string;
}

export const DEFAULT_OFFLINE_ACCOUNT: Omit<OfflineAccount, "region"> = { accountId: "123456789012", partition: "aws" };


/** A stable UUID-shaped id, as KMS gives keys. */
function stableUuid(seed: string): string {
    const hex = stableHex(seed, 32);
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
}

/** AWS id prefixes by resource type token; types not listed get `<name>-<hex>`. */
const AWS_ID_PREFIXES: Readonly<Record<string, string>> = {
    "aws:ec2/vpc:Vpc": "vpc-",
    "aws:ec2/subnet:Subnet": "subnet-",
    "aws:ec2/internetGateway:InternetGateway": "igw-",
    "aws:ec2/routeTable:RouteTable": "rtb-",
    "aws:ec2/route:Route": "r-rtb-",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc-",
    "aws:ec2/eip:Eip": "eipalloc-",
    "aws:ec2/natGateway:NatGateway": "nat-",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce-",
    "aws:ec2/securityGroup:SecurityGroup": "sg-",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg-",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt-",
};

/** What the `@pulumi/eks` Cluster component returns; its children live in the eks provider. */
function eksClusterState(args: pulumi.runtime.MockResourceArgs, account: OfflineAccount): Record<string, unknown> {
    const clusterName = String(args.inputs.name ?? `${args.name}-eksCluster-${stableHex(args.name, 7)}`);
    const issuerId = stableHex(`${clusterName}-oidc`, 32).toUpperCase();
    const issuer = `oidc.eks.${account.region}.amazonaws.com/id/${issuerId}`;
    const endpoint = `https://${stableHex(clusterName, 32).toUpperCase()}.gr7.${account.region}.eks.amazonaws.com`;
    const roleArn = (args.inputs.providerCredentialOpts as { roleArn?: string } | undefined)?.roleArn;
    const certificateAuthority = Buffer.from(`offline CA of ${clusterName}`).toString("base64");
    const kubeconfig = {
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: clusterName, cluster: { server: endpoint, "certificate-authority-data": certificateAuthority } }],
        contexts: [{ name: "aws", context: { cluster: clusterName, user: "aws" } }],
        "current-context": "aws",
        // As pulumi-eks generates it: the role of providerCredentialOpts, if any, as `--role`.
        users: [{ name: "aws", user: { exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command: "aws", args: [
            "--region", account.region, "eks", "get-token", "--cluster-name", clusterName, "--output", "json", ...(roleArn ? ["--role", roleArn] : []),
        ] } } }],
    };
    const clusterSecurityGroupId = `sg-${stableHex(`${clusterName}-cluster-sg`, 17)}`;
    return {
        ...args.inputs,
        eksCluster: {
            name: clusterName,
            arn: `arn:${account.partition}:eks:${account.region}:${account.accountId}:cluster/${clusterName}`,
            endpoint,
            version: args.inputs.version,
            certificateAuthority: { data: certificateAuthority },
            identities: [{ oidcs: [{ issuer: `https://${issuer}` }] }],
            vpcConfig: { clusterSecurityGroupId, vpcId: args.inputs.vpcId, subnetIds: args.inputs.privateSubnetIds },
        },
        kubeconfig,
        kubeconfigJson: JSON.stringify(kubeconfig),
        oidcIssuer: issuer,
        oidcProviderUrl: `https://${issuer}`,
        oidcProviderArn: `arn:${account.partition}:iam::${account.accountId}:oidc-provider/${issuer}`,
        clusterSecurityGroupId,
    };
}

/** `aws:ec2/vpc:Vpc` → `ec2`, the service segment of the ARN. */
function awsService(type: string): string {
    return type.split(":")[1]?.split("/")[0] ?? "unknown";
}

/** AWS resources whose id is their name; their ARN carries the name and no region. */
const NAMED_BY_ID = new Set(["aws:iam/role:Role", "aws:iam/policy:Policy"]);

function awsState(args: pulumi.runtime.MockResourceArgs, account: OfflineAccount, id: string): Record<string, unknown> {
    const service = awsService(args.type);
    const resourceKind = args.type.split(":")[2]?.replace(/[A-Z]/g, (c, i) => (i ? "-" : "") + c.toLowerCase()) ?? "resource";
    const region = service === "iam" ? "" : account.region;
    const state: Record<string, unknown> = {
        ...args.inputs,
        arn: `arn:${account.partition}:${service}:${region}:${account.accountId}:${resourceKind}/${id}`,
    };
    if (NAMED_BY_ID.has(args.type)) {
        state.name = id;
    }
    if (args.type === "aws:kms/key:Key") {
        state.keyId = id;
    }
    if (args.type === "aws:ec2/launchTemplate:LaunchTemplate") {
        state.latestVersion = 1;
        state.defaultVersion = 1;
    }
    if (args.type === "aws:eks/nodeGroup:NodeGroup") {
        const nodeGroupName = String(args.inputs.nodeGroupName ?? id);
        state.nodeGroupName = nodeGroupName;
        state.status = "ACTIVE";
        state.resources = [{ autoscalingGroups: [{ name: `eks-${nodeGroupName}-${stableHex(id, 8)}` }], remoteAccessSecurityGroupId: "" }];
    }
    if (args.type === "aws:ec2/eip:Eip") {
        state.publicIp = `198.51.100.${parseInt(stableHex(id, 2), 16) % 254 + 1}`;
        state.allocationId = id;
    }
    if (args.type === "aws:ec2/vpc:Vpc") {
        state.defaultSecurityGroupId = `sg-${stableHex(`${id}-default`, 17)}`;
        state.mainRouteTableId = `rtb-${stableHex(`${id}-main`, 17)}`;
    }
    if (args.type === "aws:ec2/natGateway:NatGateway") {
        state.privateIp = "10.0.0.10";
    }
    if (args.type.startsWith("aws:sagemaker/") && typeof state.name === "string") {
        // SageMaker ARNs carry the resource's name, lowercased.
        state.arn = `arn:${account.partition}:sagemaker:${account.region}:${account.accountId}:${resourceKind}/${state.name.toLowerCase()}`;
    }
    if (args.type === "aws:ec2/vpcEndpoint:VpcEndpoint" && args.inputs.vpcEndpointType === "Interface") {
        const service = String(args.inputs.serviceName ?? "").split(".").slice(3).reverse().join(".");
        // The regional name, then one per zone (AWS documents no order).
        const vpce = `${id}-${stableHex(`${id}-dns`, 8)}`;
        state.dnsEntries = ["", `-${account.region}a`].map((zone) => ({ dnsName: `${vpce}${zone}.${service}.${account.region}.vpce.amazonaws.com`, hostedZoneId: "Z1YSA3EXCYUU9Z" }));
    }
    if (args.type === "aws:ecr/pullThroughCacheRule:PullThroughCacheRule") {
        // The rule belongs to the account's registry; its id is its prefix.
        state.registryId = account.accountId;
    }
    return state;
}

/** The name pulumi-kubernetes generates when none is given: `<resource name>-<8 characters>`. */
function generatedKubernetesName(name: string): string {
    return `${name}-${stableHex(name, 8)}`;
}

/** What the Kubernetes provider returns: the object with a generated name when none was given. */
function kubernetesState(args: pulumi.runtime.MockResourceArgs): Record<string, unknown> {
    const metadata = (args.inputs.metadata ?? {}) as Record<string, unknown>;
    if (args.type.startsWith("kubernetes:helm.sh/")) {
        const releaseName = args.inputs.name ?? generatedKubernetesName(args.name);
        return {
            ...args.inputs,
            name: releaseName,
            status: { name: releaseName, namespace: args.inputs.namespace ?? "default", version: args.inputs.version ?? "", status: "deployed", revision: 1 },
        };
    }
    return { ...args.inputs, metadata: { ...metadata, name: metadata.name ?? generatedKubernetesName(args.name) } };
}

/** The prefix of a region's zone IDs: `us-east-1` → `use1`, `ap-northeast-2` → `apne2`. */
export function zoneIdPrefix(region: string): string {
    const [area, direction, number] = region.split("-");
    const short = direction.replace(/north/g, "n").replace(/south/g, "s").replace(/east/g, "e").replace(/west/g, "w").replace(/central/g, "c");
    return `${area}${short}${number}`;
}

/** An invoke the offline engine cannot answer. `details` is where the runtime reads gRPC errors from. */
export class OfflineCallError extends Error {
    readonly details: string;

    constructor(token: string) {
        super(`mlmesh plan has no offline answer for the provider call ${token}; add one to offline/mockOutputs.ts`);
        this.details = this.message;
    }
}

/** A read of something that is not live (AWS's ResourceNotFoundException). */
export class LiveNotFoundError extends Error {
    readonly details: string;

    constructor(message: string) {
        super(`ResourceNotFoundException: ${message}`);
        this.details = this.message;
    }
}

/**
 * The offline engine's answers to provider calls and resource registrations. An invoke it has
 * no answer for fails the plan with the token, rather than returning an empty result that
 * would turn into a wrong resource.
 */
export class PlanMocks implements pulumi.runtime.Mocks {
    /** Stack references no recorded stack answered; the runtime wraps the error, so it is kept here too. */
    readonly unanswered: StackOutputsError[] = [];
    /** The region of each explicit AWS provider, by its id. */
    private readonly providerRegions = new Map<string, string>();
    /** Names of the EKS clusters this run creates. */
    private readonly created = new Set<string>();

    /** `stacks`: the outputs StackReferences read, by project and stack. */
    /** `live`: the clusters and node groups an update would find (from a previous plan with --compare). */
    constructor(private readonly account: OfflineAccount, private readonly stacks: readonly RecordedStack[] = [], private readonly live: LiveResources = NOTHING_LIVE) {}

    newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
        if (args.type === "pulumi:pulumi:StackReference") {
            const reference = String(args.inputs.name ?? args.id ?? args.name);
            try {
                return { id: reference, state: stackReferenceState(reference, this.stacks, pulumi.getProject()) };
            } catch (error) {
                this.unanswered.push(error as StackOutputsError);
                throw error;
            }
        }
        const seed = `${args.type}::${args.name}`;
        // The name the provider would create the resource with, or a PhysicalNameError.
        const physical = awsPhysicalName(args.type, args.name, args.inputs, seed);
        if (args.type.startsWith("aws:")) {
            const prefix = AWS_ID_PREFIXES[args.type];
            const id = prefix ? `${prefix}${stableHex(seed, 17)}`
                : args.type === "aws:kms/key:Key" ? stableUuid(seed)
                : NAMED_BY_ID.has(args.type) && physical ? physical.name
                : args.type === "aws:ecr/pullThroughCacheRule:PullThroughCacheRule" ? String(args.inputs.ecrRepositoryPrefix)
                : `${args.name}-${stableHex(seed, 8)}`;
            const state = awsState(args, this.account, id);
            return { id, state: physical ? { ...state, [physical.property]: physical.name } : state };
        }
        if (args.type === "eks:index:Cluster") {
            this.created.add(String(args.inputs.name ?? args.name));
            return { id: `${args.name}-${stableHex(seed, 8)}`, state: eksClusterState(args, this.account) };
        }
        if (args.type.startsWith("kubernetes:")) {
            checkKubernetesNames(args.type, args.name, args.inputs, generatedKubernetesName(args.name));
            const state = kubernetesState(args);
            const metadata = state.metadata as { name?: string; namespace?: string } | undefined;
            const id = metadata?.name ? [metadata.namespace, metadata.name].filter(Boolean).join("/") : String(state.name ?? args.name);
            return { id, state };
        }
        const id = `${args.name}-${stableHex(seed, 8)}`;
        if (args.type === "pulumi:providers:aws" && typeof args.inputs.region === "string") {
            this.providerRegions.set(id, args.inputs.region);
        }
        return { id, state: { ...args.inputs } };
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        const { accountId, partition } = this.account;
        // An explicit AWS provider answers for its own region (its reference is `<urn>::<id>`).
        const region = (args.provider && this.providerRegions.get(args.provider.slice(args.provider.lastIndexOf("::") + 2))) || this.account.region;
        switch (args.token) {
            case "aws:index/getAvailabilityZones:getAvailabilityZones": {
                // Zone names map to zone IDs differently in each account; here `a` is the region's az3,
                // so a zone EKS refuses (use1-az3) is among the first unless the caller excludes it.
                const count = region === "us-east-1" ? 6 : 4;
                const zones = Array.from({ length: count }, (_, i) => ({ name: `${region}${"abcdef"[i]}`, zoneId: `${zoneIdPrefix(region)}-az${((i + 2) % count) + 1}` }))
                    .filter((zone) => !((args.inputs.excludeZoneIds ?? []) as string[]).includes(zone.zoneId));
                return { id: region, names: zones.map((z) => z.name), zoneIds: zones.map((z) => z.zoneId), groupNames: [region] };
            }
            case "aws:index/getRegion:getRegion":
                return { id: region, name: region, region, description: region, endpoint: `ec2.${region}.amazonaws.com` };
            case "aws:index/getCallerIdentity:getCallerIdentity":
                return { id: accountId, accountId, arn: `arn:${partition}:iam::${accountId}:user/mlmesh-plan`, userId: "AIDAMLMESHPLAN" };
            case "aws:iam/getSessionContext:getSessionContext": {
                // An assumed-role session's issuer is its role; any other ARN is its own issuer.
                const arn = String(args.inputs.arn);
                const session = /^arn:([\w-]+):sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/.exec(arn);
                return session
                    ? { id: arn, arn, issuerArn: `arn:${session[1]}:iam::${session[2]}:role/${session[3]}`, issuerName: session[3], sessionName: session[4] }
                    : { id: arn, arn, issuerArn: arn, issuerName: arn.split("/").pop(), sessionName: "" };
            }
            case "aws:eks/getClusters:getClusters":
                return { id: region, names: [...this.live.clusters.keys()] };
            case "aws:eks/getCluster:getCluster": {
                const name = String(args.inputs.name);
                const version = this.live.clusters.get(name);
                if (version === undefined) {
                    throw new LiveNotFoundError(`DescribeCluster: no cluster ${name}`);
                }
                return { id: name, name, version };
            }
            case "aws:eks/getNodeGroups:getNodeGroups": {
                // ListNodegroups of a cluster that does not exist fails (the data source returns the error).
                // A cluster this run creates exists by the time its name is known, as in `pulumi up`.
                const clusterName = String(args.inputs.clusterName);
                if (!this.live.clusters.has(clusterName) && !this.created.has(clusterName)) {
                    throw new LiveNotFoundError(`ListNodegroups: no cluster ${clusterName}`);
                }
                return { id: clusterName, clusterName, names: [...(this.live.nodeGroups.get(clusterName)?.keys() ?? [])] };
            }
            case "aws:eks/getNodeGroup:getNodeGroup": {
                const [clusterName, nodeGroupName] = [String(args.inputs.clusterName), String(args.inputs.nodeGroupName)];
                const scaling = this.live.nodeGroups.get(clusterName)?.get(nodeGroupName);
                if (scaling === undefined) {
                    throw new LiveNotFoundError(`DescribeNodegroup: no node group ${nodeGroupName} in ${clusterName}`);
                }
                return { id: `${clusterName}:${nodeGroupName}`, clusterName, nodeGroupName, scalingConfigs: [scaling] };
            }
            case "aws:index/getPartition:getPartition":
                return { id: partition, partition, dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" };
            default:
                throw new OfflineCallError(args.token);
        }
    }
}
