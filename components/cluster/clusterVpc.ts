import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { s3EndpointPolicy } from "./s3EndpointPolicy";
import { PropertyErrors } from "../propertyErrors";
import { AZ_COUNT_RANGE, subnetLayout, vpcCidrProblem } from "./cidr";
import { CLUSTER_NAME } from "../names";

/**
 * Zones EKS refuses control-plane subnets in. Zone names map to these IDs differently in each
 * account, so they are excluded by ID (awsdocs/amazon-eks-user-guide:latest/ug/networking/network-reqs.adoc).
 */
export const EKS_UNSUPPORTED_ZONE_IDS = ["use1-az3", "usw1-az2", "cac1-az3"] as const;

/** An availability zone ID, e.g. `usw2-az1` or `apne1-az4`. */
const ZONE_ID = /^[a-z]{2,5}\d-az\d{1,2}$/;

/** How many NAT gateways carry the private subnets' egress. */
export const NAT_GATEWAY_MODES = ["single", "perZone"] as const;
export type NatGatewayMode = (typeof NAT_GATEWAY_MODES)[number];

export interface ClusterVpcArgs {
    /**
     * The VPC's IPv4 block: RFC 1918 space, prefix /16 to /20. Private subnets take most of
     * it because the VPC CNI gives every pod a VPC address.
     */
    cidrBlock: string;
    /**
     * How many availability zones get a private and a public subnet.
     * @default 3
     */
    availabilityZoneCount?: number;
    /**
     * The zones by ID (e.g. `usw2-az1`), which mean the same zone in every account and never
     * shift: with names from a lookup, an impaired zone moves every subnet to another zone (and
     * replaces it). When set, their number is the zone count. Required in prod (MlPlatform).
     * @default the first available zones EKS accepts, by name
     */
    availabilityZoneIds?: string[];
    /**
     * The EKS cluster that will use these subnets. Tags `kubernetes.io/cluster/<name>: shared`
     * so the AWS Load Balancer Controller and the in-tree service controller find them.
     * @see https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html#network-requirements-subnets
     */
    clusterName: string;
    /**
     * `perZone` keeps egress up when a zone fails; `single` saves the hourly cost of the
     * others in environments that can lose a zone's egress.
     * @default "perZone"
     */
    natGateways?: NatGatewayMode;
    /**
     * Accounts, besides this one, whose S3 buckets the VPC may reach through its S3 endpoint
     * (e.g. a shared model registry). Every other account's buckets are refused there.
     * @default []
     */
    s3Accounts?: string[];
    /** Tags added to every AWS resource of the VPC. */
    tags?: Record<string, string>;
    /** Protect the VPC and its subnets from deletion (prod): replacing them would replace everything in them. @default false */
    protect?: boolean;
}

/** Where the network's subnets live; what a GpuCluster needs, created here or brought by the user. */
export interface ClusterNetwork {
    readonly vpcId: pulumi.Input<string>;
    readonly privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
}

/** Validates the VPC's layout (CIDR, zones, NAT); paths are relative to `prefix`. */
export function validateVpcLayout(args: Omit<ClusterVpcArgs, "clusterName" | "tags">, errors = new PropertyErrors(), prefix = ""): PropertyErrors {
    errors.check(`${prefix}cidrBlock`, args.cidrBlock, vpcCidrProblem(args.cidrBlock));
    const azCount = args.availabilityZoneCount;
    if (azCount !== undefined && (!Number.isInteger(azCount) || azCount < AZ_COUNT_RANGE.min || azCount > AZ_COUNT_RANGE.max)) {
        errors.check(`${prefix}availabilityZoneCount`, azCount, `must be a whole number from ${AZ_COUNT_RANGE.min} to ${AZ_COUNT_RANGE.max}; EKS needs subnets in at least two zones`);
    }
    const ids = args.availabilityZoneIds;
    if (ids !== undefined) {
        errors.check(`${prefix}availabilityZoneIds`, ids, ids.length < AZ_COUNT_RANGE.min || ids.length > AZ_COUNT_RANGE.max
            ? `must list ${AZ_COUNT_RANGE.min} to ${AZ_COUNT_RANGE.max} zones; EKS needs subnets in at least two`
            : azCount !== undefined && azCount !== ids.length ? `lists ${ids.length} zones but availabilityZoneCount is ${azCount}; drop the count, the IDs set it` : undefined);
        ids.forEach((id, i) => errors.check(`${prefix}availabilityZoneIds[${i}]`, id, !ZONE_ID.test(id)
            ? "is not a zone ID; zone IDs look like usw2-az1 (see `aws ec2 describe-availability-zones`)"
            : (EKS_UNSUPPORTED_ZONE_IDS as readonly string[]).includes(id) ? "is a zone EKS does not accept control-plane subnets in; pick another"
            : ids.indexOf(id) < i ? "is listed twice" : undefined));
    }
    if (args.natGateways !== undefined && !NAT_GATEWAY_MODES.includes(args.natGateways)) {
        errors.check(`${prefix}natGateways`, args.natGateways, `must be one of ${NAT_GATEWAY_MODES.join(", ")}`);
    }
    (args.s3Accounts ?? []).forEach((account, i, all) => errors.check(`${prefix}s3Accounts[${i}]`, account, !/^\d{12}$/.test(account)
        ? "must be a 12-digit AWS account id"
        : all.indexOf(account) < i ? "is listed twice" : undefined));
    return errors;
}

/** Validates ClusterVpcArgs; returns the problems with paths relative to the args object. */
export function validateClusterVpcArgs(args: ClusterVpcArgs, errors = new PropertyErrors(), prefix = ""): PropertyErrors {
    validateVpcLayout(args, errors, prefix);
    if (typeof args.clusterName !== "string" || !CLUSTER_NAME.test(args.clusterName)) {
        errors.check(`${prefix}clusterName`, args.clusterName, "must start with a letter and hold only letters, digits and hyphens (at most 100)");
    }
    return errors;
}

/** The tags that let Kubernetes put load balancers into a subnet. */
export function subnetTags(clusterName: string, tier: "public" | "private"): Record<string, string> {
    return {
        [`kubernetes.io/cluster/${clusterName}`]: "shared",
        [tier === "public" ? "kubernetes.io/role/elb" : "kubernetes.io/role/internal-elb"]: "1",
        "mlmesh.io/subnet-tier": tier,
    };
}

/**
 * A VPC laid out for EKS: one private subnet per zone for nodes and pods, one small public
 * subnet per zone for NAT gateways and internet-facing load balancers, private egress through
 * NAT, an S3 gateway endpoint so model downloads skip the NAT, and a default security group
 * with every rule removed.
 */
export class ClusterVpc extends pulumi.ComponentResource implements ClusterNetwork {
    public readonly vpcId: pulumi.Output<string>;
    public readonly privateSubnetIds: pulumi.Output<string[]>;
    public readonly publicSubnetIds: pulumi.Output<string[]>;
    public readonly availabilityZones: pulumi.Output<string[]>;

    constructor(name: string, args: ClusterVpcArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlmesh:cluster:ClusterVpc", name, {}, opts);
        validateClusterVpcArgs(args).throwIfAny(`ClusterVpc ${name}`);

        const azCount = args.availabilityZoneIds?.length ?? args.availabilityZoneCount ?? 3;
        const natMode = args.natGateways ?? "perZone";
        const layout = subnetLayout(args.cidrBlock, azCount);
        const tags = (role: string, extra: Record<string, string> = {}) => ({ ...args.tags, ...extra, Name: `${name}-${role}` });
        const parent = { parent: this };
        // Subnets hold the nodes, endpoints and load balancers: protected with the VPC (prod).
        const protect = { parent: this, protect: args.protect ?? false };

        const pinned = args.availabilityZoneIds;
        const lookup = aws.getAvailabilityZonesOutput(
            { state: "available", excludeZoneIds: [...EKS_UNSUPPORTED_ZONE_IDS], filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }] },
            parent,
        );
        // Pinned zones by ID (the names are looked up only to report them); otherwise the first names.
        const zones = pulumi.all([lookup.names, lookup.zoneIds]).apply(([names, zoneIds]) => {
            if (pinned) {
                return pinned.map((id) => {
                    const at = zoneIds.indexOf(id);
                    if (at < 0) {
                        throw new Error(`ClusterVpc ${name}: availabilityZoneIds has ${id}, which is not an available zone of the region that EKS accepts (available: ${zoneIds.join(", ")})`);
                    }
                    return names[at];
                });
            }
            if (names.length < azCount) {
                throw new Error(`ClusterVpc ${name}: the region has ${names.length} available zones, fewer than availabilityZoneCount (${azCount})`);
            }
            return names.slice(0, azCount);
        });

        const vpc = new aws.ec2.Vpc(`${name}-vpc`, {
            cidrBlock: args.cidrBlock,
            enableDnsHostnames: true,
            enableDnsSupport: true,
            tags: tags("vpc"),
        }, protect);

        new aws.ec2.DefaultSecurityGroup(`${name}-default-sg`, { vpcId: vpc.id, tags: tags("default-sg") }, parent);

        const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: tags("igw") }, parent);
        const publicRouteTable = new aws.ec2.RouteTable(`${name}-public-rt`, { vpcId: vpc.id, tags: tags("public-rt") }, parent);
        new aws.ec2.Route(`${name}-public-default-route`, {
            routeTableId: publicRouteTable.id,
            destinationCidrBlock: "0.0.0.0/0",
            gatewayId: igw.id,
        }, parent);

        const publicSubnets: aws.ec2.Subnet[] = [];
        const privateSubnets: aws.ec2.Subnet[] = [];
        const privateRouteTables: aws.ec2.RouteTable[] = [];
        const natGateways: aws.ec2.NatGateway[] = [];
        for (let i = 0; i < azCount; i++) {
            const zone = `${i + 1}`;
            // By ID when pinned: the same zone whatever the lookup says today.
            const placement = args.availabilityZoneIds ? { availabilityZoneId: args.availabilityZoneIds[i] } : { availabilityZone: zones.apply((names) => names[i]) };
            const publicSubnet = new aws.ec2.Subnet(`${name}-public-${zone}`, {
                vpcId: vpc.id,
                cidrBlock: layout.publicCidrs[i],
                ...placement,
                mapPublicIpOnLaunch: false,
                tags: tags(`public-${zone}`, subnetTags(args.clusterName, "public")),
            }, protect);
            publicSubnets.push(publicSubnet);
            new aws.ec2.RouteTableAssociation(`${name}-public-${zone}`, {
                subnetId: publicSubnet.id,
                routeTableId: publicRouteTable.id,
            }, parent);

            if (natMode === "perZone" || i === 0) {
                const eip = new aws.ec2.Eip(`${name}-nat-${zone}`, { domain: "vpc", tags: tags(`nat-${zone}`) }, parent);
                natGateways.push(new aws.ec2.NatGateway(`${name}-nat-${zone}`, {
                    allocationId: eip.id,
                    subnetId: publicSubnet.id,
                    tags: tags(`nat-${zone}`),
                }, { parent: this, dependsOn: [igw] }));
            }

            const privateSubnet = new aws.ec2.Subnet(`${name}-private-${zone}`, {
                vpcId: vpc.id,
                cidrBlock: layout.privateCidrs[i],
                ...placement,
                mapPublicIpOnLaunch: false,
                tags: tags(`private-${zone}`, subnetTags(args.clusterName, "private")),
            }, protect);
            privateSubnets.push(privateSubnet);
            const routeTable = new aws.ec2.RouteTable(`${name}-private-rt-${zone}`, { vpcId: vpc.id, tags: tags(`private-rt-${zone}`) }, parent);
            privateRouteTables.push(routeTable);
            new aws.ec2.Route(`${name}-private-default-route-${zone}`, {
                routeTableId: routeTable.id,
                destinationCidrBlock: "0.0.0.0/0",
                natGatewayId: natGateways[natGateways.length - 1].id,
            }, parent);
            new aws.ec2.RouteTableAssociation(`${name}-private-${zone}`, {
                subnetId: privateSubnet.id,
                routeTableId: routeTable.id,
            }, parent);
        }

        const region = aws.getRegionOutput({}, parent);
        const partition = aws.getPartitionOutput({}, parent).partition;
        const accountId = aws.getCallerIdentityOutput({}, parent).accountId;
        new aws.ec2.VpcEndpoint(`${name}-s3`, {
            vpcId: vpc.id,
            serviceName: pulumi.interpolate`com.amazonaws.${region.region}.s3`,
            vpcEndpointType: "Gateway",
            routeTableIds: privateRouteTables.map((table) => table.id),
            policy: pulumi.all([partition, region.region, accountId]).apply(([p, r, account]) =>
                JSON.stringify(s3EndpointPolicy({ partition: p, region: r, accountId: account, extraAccounts: args.s3Accounts }))),
            tags: tags("s3"),
        }, parent);

        this.vpcId = vpc.id;
        this.privateSubnetIds = pulumi.all(privateSubnets.map((subnet) => subnet.id));
        this.publicSubnetIds = pulumi.all(publicSubnets.map((subnet) => subnet.id));
        this.availabilityZones = zones;
        this.registerOutputs({
            vpcId: this.vpcId,
            privateSubnetIds: this.privateSubnetIds,
            publicSubnetIds: this.publicSubnetIds,
            availabilityZones: this.availabilityZones,
        });
    }
}
