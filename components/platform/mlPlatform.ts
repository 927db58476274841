import * as pulumi from "@pulumi/pulumi";
import { ClusterVpc, type ClusterNetwork, type ClusterVpcArgs } from "../cluster/clusterVpc";
import type { Environment } from "./environment";

/** Bring your own VPC, or let mlmesh create one. */
export type PlatformNetworkArgs =
    | { readonly existing: ClusterNetwork }
    | { readonly create: Omit<ClusterVpcArgs, "clusterName" | "tags"> };

export interface MlPlatformArgs {
    /** Deployment tier; prod protects stateful resources from deletion. */
    environment: Environment;
    /** The EKS cluster's name; also tags the subnets so load balancers can find them. */
    clusterName: string;
    /** Where the cluster runs. */
    network: PlatformNetworkArgs;
    /** Tags added to every AWS resource. */
    tags?: Record<string, string>;
}

/**
 * The whole ML serving platform of one environment. Composes the network today; the cluster,
 * mesh and serving components attach here as they land.
 */
export class MlPlatform extends pulumi.ComponentResource {
    public readonly environment: Environment;
    public readonly vpcId: pulumi.Output<string>;
    public readonly privateSubnetIds: pulumi.Output<string[]>;

    constructor(name: string, args: MlPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlmesh:platform:MlPlatform", name, {}, opts);
        const tags = { "mlmesh.io/environment": args.environment, "mlmesh.io/cluster": args.clusterName, ...args.tags };

        const network: ClusterNetwork = "existing" in args.network
            ? args.network.existing
            : new ClusterVpc(`${name}-network`, { ...args.network.create, clusterName: args.clusterName, tags }, { parent: this });

        this.environment = args.environment;
        this.vpcId = pulumi.output(network.vpcId);
        this.privateSubnetIds = pulumi.output(network.privateSubnetIds);
        this.registerOutputs({ environment: this.environment, vpcId: this.vpcId, privateSubnetIds: this.privateSubnetIds });
    }
}
