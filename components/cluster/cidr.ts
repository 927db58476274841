/**
 * IPv4 CIDR arithmetic for the cluster VPC: parsing, validation and the subnet layout.
 * Pure functions, no Pulumi: the config loader and ClusterVpc share them.
 */

/** A parsed IPv4 network: `base` is the address as an unsigned 32-bit number. */
export interface Ipv4Network {
    readonly base: number;
    readonly prefix: number;
}

/** The VPC prefix range mlmesh accepts: AWS allows /16 at most, and below /20 EKS runs out of pod IPs. */
export const VPC_PREFIX_RANGE = { min: 16, max: 20 } as const;

/** EKS needs subnets in at least two AZs; six covers every AWS region's largest AZ count in use. */
export const AZ_COUNT_RANGE = { min: 2, max: 6 } as const;

const PRIVATE_RANGES: readonly Ipv4Network[] = [
    { base: ipv4ToNumber([10, 0, 0, 0]), prefix: 8 },
    { base: ipv4ToNumber([172, 16, 0, 0]), prefix: 12 },
    { base: ipv4ToNumber([192, 168, 0, 0]), prefix: 16 },
];

function ipv4ToNumber(octets: readonly number[]): number {
    return octets.reduce((acc, octet) => acc * 256 + octet, 0);
}

function numberToIpv4(value: number): string {
    return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/** Formats a network back to `a.b.c.d/p`. */
export function formatCidr(network: Ipv4Network): string {
    return `${numberToIpv4(network.base)}/${network.prefix}`;
}

/**
 * Parses `a.b.c.d/p`. Returns the reason as a string when the text is not a network address
 * (bad syntax, octet out of range, or host bits set).
 */
export function parseCidr(text: string): Ipv4Network | string {
    const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
    if (!match) {
        return "is not an IPv4 CIDR block; write it as a.b.c.d/prefix, e.g. 10.40.0.0/16";
    }
    const octets = match.slice(1, 5).map(Number);
    const prefix = Number(match[5]);
    if (octets.some((octet) => octet > 255) || prefix > 32) {
        return "has an octet above 255 or a prefix above 32";
    }
    const base = ipv4ToNumber(octets);
    const size = 2 ** (32 - prefix);
    if (base % size !== 0) {
        const aligned = formatCidr({ base: base - (base % size), prefix });
        return `has host bits set; the network address is ${aligned}`;
    }
    return { base, prefix };
}

function contains(outer: Ipv4Network, inner: Ipv4Network): boolean {
    if (inner.prefix < outer.prefix) {
        return false;
    }
    const size = 2 ** (32 - outer.prefix);
    return inner.base - (inner.base % size) === outer.base;
}

/**
 * Checks a VPC CIDR for mlmesh: a network address, inside RFC 1918 private space, with a
 * prefix in {@link VPC_PREFIX_RANGE}. Returns the reason (with the fix) or undefined when valid.
 */
export function vpcCidrProblem(text: string): string | undefined {
    const parsed = parseCidr(text);
    if (typeof parsed === "string") {
        return parsed;
    }
    if (parsed.prefix < VPC_PREFIX_RANGE.min || parsed.prefix > VPC_PREFIX_RANGE.max) {
        return `has prefix /${parsed.prefix}; use a prefix from /${VPC_PREFIX_RANGE.min} to /${VPC_PREFIX_RANGE.max} (AWS allows /16 at most, smaller VPCs run out of pod IPs)`;
    }
    if (!PRIVATE_RANGES.some((range) => contains(range, parsed))) {
        return "is not private address space; use a block inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16";
    }
    return undefined;
}

/** Splits a network into `2^bits` equal parts and returns part `index`. */
function subdivide(network: Ipv4Network, bits: number, index: number): Ipv4Network {
    const prefix = network.prefix + bits;
    return { base: network.base + index * 2 ** (32 - prefix), prefix };
}

/** The subnet CIDRs of a VPC, one private and one public per availability zone, in AZ order. */
export interface SubnetLayout {
    readonly privateCidrs: readonly string[];
    readonly publicCidrs: readonly string[];
}

/**
 * Lays out subnets for `azCount` zones. Private subnets (nodes and pods, which take one VPC IP
 * each under the VPC CNI) get equal large blocks; the last block of the same size is split
 * again for the small public subnets that hold only NAT gateways and load balancers.
 *
 * For 10.40.0.0/16 and 3 zones: private /18s at .0, .64, .128; public /20s at .192, .208, .224.
 */
export function subnetLayout(vpcCidr: string, azCount: number): SubnetLayout {
    const vpc = parseCidr(vpcCidr);
    if (typeof vpc === "string") {
        throw new Error(`VPC CIDR ${vpcCidr} ${vpc}`);
    }
    if (!Number.isInteger(azCount) || azCount < AZ_COUNT_RANGE.min || azCount > AZ_COUNT_RANGE.max) {
        throw new Error(`azCount ${azCount} is outside ${AZ_COUNT_RANGE.min}..${AZ_COUNT_RANGE.max}`);
    }
    const privateBits = Math.ceil(Math.log2(azCount + 1));
    const publicBlock = subdivide(vpc, privateBits, 2 ** privateBits - 1);
    const publicBits = Math.ceil(Math.log2(azCount));
    const zones = [...Array(azCount).keys()];
    return {
        privateCidrs: zones.map((i) => formatCidr(subdivide(vpc, privateBits, i))),
        publicCidrs: zones.map((i) => formatCidr(subdivide(publicBlock, publicBits, i))),
    };
}
