export { ClusterVpc, NAT_GATEWAY_MODES, subnetTags, validateClusterVpcArgs } from "./clusterVpc";
export type { ClusterNetwork, ClusterVpcArgs, NatGatewayMode } from "./clusterVpc";
export { AZ_COUNT_RANGE, VPC_PREFIX_RANGE, formatCidr, parseCidr, subnetLayout, vpcCidrProblem } from "./cidr";
export type { Ipv4Network, SubnetLayout } from "./cidr";
