import { MlPlatform } from "../components/platform";
import type { PlatformConfig } from "./config";

/** The stack outputs app teams read through StackReference. */
export interface StackOutputs {
    environment: string;
    region: string;
    clusterName: string;
    vpcId: unknown;
    privateSubnetIds: unknown;
}

/** Builds one environment's platform from validated config and returns the stack outputs. */
export function buildPlatform(config: PlatformConfig): StackOutputs {
    const network = config.network;
    const platform = new MlPlatform(config.cluster.name, {
        environment: config.environment,
        clusterName: config.cluster.name,
        network: network.mode === "existing"
            ? { existing: { vpcId: network.vpcId, privateSubnetIds: network.privateSubnetIds } }
            : { create: { cidrBlock: network.vpcCidr, availabilityZoneCount: network.availabilityZones, natGateways: network.natGateways } },
        tags: { "mlmesh.io/stack": config.stack },
    });
    return {
        environment: config.environment,
        region: config.region,
        clusterName: config.cluster.name,
        vpcId: platform.vpcId,
        privateSubnetIds: platform.privateSubnetIds,
    };
}
