/**
 * The whole platform as one component for Pulumi programs in any language (Python, Go, .NET,
 * YAML), through mlmesh's component provider (provider/). Its arguments are the stack config's
 * sections, plain values the component analyzer can describe; they are checked exactly as a
 * stack file is, so a bad value fails before anything is created, naming `mlmesh:<section>.<path>`.
 * TypeScript programs use MlPlatform and the lower-level components directly instead.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE, parsePlatformConfig } from "./config";
import { buildPlatform } from "./program";

export interface PlatformArgs {
    /** The AWS region to build the platform in: every AWS resource of it goes there. */
    region: string;
    /** The deployment tier: dev, staging or prod. */
    environment: string;
    /** As `mlmesh:network` in a stack file: { vpcCidr, availabilityZones, availabilityZoneIds, natGateways, s3Accounts } or { vpcId, privateSubnetIds }. */
    network?: { [key: string]: any };
    /** As `mlmesh:cluster`: the cluster, its node groups, access, image cache and KServe. */
    cluster?: { [key: string]: any };
    /** As `mlmesh:mesh`: Istio, the ingress gateway, namespaces, egress. */
    mesh?: { [key: string]: any };
    /** As `mlmesh:models`: the models and splits to serve. */
    models?: { [key: string]: any }[];
}

export class Platform extends pulumi.ComponentResource {
    /** The EKS cluster's name. */
    public readonly clusterName: pulumi.Output<string>;
    /** An admin kubeconfig (secret). */
    public readonly kubeconfig: pulumi.Output<string>;
    public readonly vpcId: pulumi.Output<string>;
    /** The in-mesh host that routes to every model. */
    public readonly meshHost: pulumi.Output<string>;
    /** The platform contract app teams read (see the README): every output of a platform stack but the kubeconfig. */
    public readonly contract: pulumi.Output<{ [key: string]: any }>;

    constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlmesh:index:Platform", name, {}, opts);
        // Plain values only: a setting that is still an Output (another resource's, a StackReference's)
        // cannot be checked before anything is created.
        const pending = outputPath(args, "mlmesh");
        if (pending) {
            throw new pulumi.RunError(`${pending} is an Output; Platform takes plain values (literals or config), so pass a known value or use MlPlatform from TypeScript`);
        }
        const raw: Record<string, unknown> = { "aws:region": args.region, [`${CONFIG_NAMESPACE}:environment`]: args.environment };
        for (const section of ["network", "cluster", "mesh", "models"] as const) {
            if (args[section] !== undefined) {
                raw[`${CONFIG_NAMESPACE}:${section}`] = args[section];
            }
        }
        // Checked before anything is registered; then the region input decides where everything goes.
        const config = parsePlatformConfig(raw, name);
        const region = new aws.Provider(`${name}-aws`, { region: args.region as aws.Region }, { parent: this });
        const outputs = buildPlatform(config, { parent: this, providers: { aws: region } });
        this.clusterName = pulumi.output(outputs.clusterName);
        this.kubeconfig = pulumi.secret(outputs.kubeconfig);
        this.vpcId = pulumi.output(outputs.vpcId);
        this.meshHost = pulumi.output(outputs.meshHost);
        const { kubeconfig: _kubeconfig, ...contract } = outputs;
        this.contract = pulumi.output(contract as unknown as { [key: string]: any });
        this.registerOutputs({ clusterName: this.clusterName, kubeconfig: this.kubeconfig, vpcId: this.vpcId, meshHost: this.meshHost, contract: this.contract });
    }
}

/** The path (`mlmesh:network.vpcId`) of the first Output inside the arguments, if any. */
function outputPath(value: unknown, at: string): string | undefined {
    if (pulumi.Output.isInstance(value)) {
        return at;
    }
    if (value !== null && typeof value === "object") {
        for (const [key, inner] of Object.entries(value)) {
            const found = outputPath(inner, Array.isArray(value) ? `${at}[${key}]` : at === "mlmesh" ? `mlmesh:${key}` : `${at}.${key}`);
            if (found) {
                return found;
            }
        }
    }
    return undefined;
}
