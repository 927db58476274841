import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { childOptions } from "../childOptions";
import { IrsaServiceAccount, type PolicyDocument } from "../cluster/irsaServiceAccount";
import { cachedImage } from "../images";
import { deferredManifest, defaultDenyPolicy, type IstioManifest } from "../mesh/meshPolicies";
import { SERVICE_ENTRY_TYPE } from "../mesh/egress";
import { podSecurityLabels } from "../mesh/podSecurity";
import { profileOf, type Environment } from "../platform/environment";
import type { ServingCluster, ServingMesh } from "../serving/tfServingModel";
import { MESH_REVISION_ANNOTATION } from "../serving/workloadPlacement";
import {
    BRIDGE_LABELS, BRIDGE_NAME, BRIDGE_NAMESPACE, bridgeAuthorization, bridgeDeployment, bridgeDestinationRule, bridgeService, bridgeSidecar,
    meshRoutes, modelService, runtimeServiceEntry, SIGV4_PROXY_IMAGE, type BridgedModel,
} from "./bridgeManifests";

/** The Interface VPC endpoint service of SageMaker Runtime (China's carry a `cn.` prefix). */
export function runtimeEndpointService(region: string, partition: string): string {
    return `${partition === "aws-cn" ? "cn." : ""}com.amazonaws.${region}.sagemaker.runtime`;
}

/** InvokeEndpoint only: the bridge signs real-time calls, and its proxy cannot stream responses. */
export const BRIDGE_INVOKE_ACTIONS = ["sagemaker:InvokeEndpoint"] as const;

/** The bridge role's permissions: invoke exactly the bridged endpoints. */
export function bridgeInvokePolicy(endpointArns: readonly string[]): PolicyDocument {
    return { Version: "2012-10-17", Statement: [{ Sid: "InvokeBridgedEndpoints", Effect: "Allow", Action: [...BRIDGE_INVOKE_ACTIONS], Resource: [...endpointArns] }] };
}

/** The VPC endpoint's policy: only the bridge's role, only those endpoints. */
export function runtimeEndpointPolicy(endpointArns: readonly string[], bridgeRoleArn: string): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [{
            Sid: "OnlyTheBridgeInvokesBridgedEndpoints",
            Effect: "Allow",
            Principal: "*",
            Action: [...BRIDGE_INVOKE_ACTIONS],
            Resource: [...endpointArns],
            Condition: { ArnEquals: { "aws:PrincipalArn": bridgeRoleArn } },
        }],
    };
}

/**
 * The endpoint's regional DNS name among its entries (the others name one zone each, and would
 * send every request to that zone). AWS does not document their order.
 */
export function regionalDnsName(entries: readonly { dnsName?: string }[]): string {
    const regional = entries.map((entry) => entry.dnsName ?? "").find((name) => name !== "" && !/-[a-z]{2}(-[a-z]+)+-\d[a-z]\./.test(name));
    if (!regional) {
        throw new Error(`the SageMaker Runtime VPC endpoint has no regional DNS name among ${JSON.stringify(entries)}`);
    }
    return regional;
}

export interface SageMakerBridgeArgs {
    cluster: ServingCluster & { readonly nodeSecurityGroupId: pulumi.Input<string> };
    mesh: ServingMesh;
    network: { readonly vpcId: pulumi.Input<string>; readonly privateSubnetIds: pulumi.Input<pulumi.Input<string>[]> };
    /** The models to bridge, each with the endpoint behind it. */
    models: readonly BridgedModel[];
    /** The endpoints' ARNs (created ones resolve when they exist). */
    endpointArns: pulumi.Input<pulumi.Input<string>[]>;
    environment: Environment;
    tags?: Record<string, string>;
}

/**
 * SageMaker endpoints reached from the mesh like any model: an Interface VPC endpoint for
 * SageMaker Runtime (private DNS, 443 from the nodes only, a policy naming the bridge's role and
 * the bridged endpoints), the signing proxy in its own meshed namespace under one IRSA role, and
 * per model a Service, routes that rewrite `:predict` to the endpoint's invocations, and the
 * bridge's authorization per endpoint path.
 */
export class SageMakerBridge extends pulumi.ComponentResource {
    public readonly vpcEndpointDnsName: pulumi.Output<string>;
    public readonly roleArn: pulumi.Output<string>;

    constructor(name: string, args: SageMakerBridgeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlmesh:sagemaker:SageMakerBridge", name, {}, opts);
        const parent = { parent: this };
        // Its Kubernetes objects wait for the mesh's workload prerequisites; its AWS resources do not.
        const k8sOpts = (dependsOn: pulumi.Resource[] = []) => childOptions(this, opts, { provider: args.cluster.provider, dependsOn: [...(args.mesh.readyForWorkloads ?? []), ...dependsOn] });
        const region = aws.getRegionOutput({}, parent).region;
        const partition = aws.getPartitionOutput({}, parent);

        const namespace = new k8s.core.v1.Namespace(`${name}-ns`, {
            metadata: { name: BRIDGE_NAMESPACE, labels: { "istio.io/rev": args.mesh.revision, ...podSecurityLabels("restricted") } },
        }, k8sOpts());
        const custom = (role: string, manifest: IstioManifest, dependsOn: pulumi.Resource[] = [namespace]) =>
            new k8s.apiextensions.CustomResource(`${name}-${role}`, { ...manifest }, k8sOpts(dependsOn));
        const regional = (role: string, type: { apiVersion: string; kind: string }, manifest: pulumi.Output<IstioManifest>) =>
            new k8s.apiextensions.CustomResource(`${name}-${role}`, deferredManifest(type, manifest), k8sOpts([namespace]));
        const defaultDeny = custom("default-deny", defaultDenyPolicy(BRIDGE_NAMESPACE));

        const identity = new IrsaServiceAccount(`${name}-signer`, {
            cluster: args.cluster,
            namespace: BRIDGE_NAMESPACE,
            serviceAccountName: BRIDGE_NAME,
            policy: pulumi.output(args.endpointArns).apply((arns) => JSON.stringify(bridgeInvokePolicy(arns))),
            tags: args.tags,
            serviceAccountAfter: [namespace],
        }, childOptions(this, opts));

        // 443 from the security group the nodes (and so the bridge's pods) really use, nothing else.
        const endpointSg = new aws.ec2.SecurityGroup(`${name}-endpoint-sg`, {
            vpcId: args.network.vpcId,
            description: "SageMaker Runtime VPC endpoint: HTTPS from the cluster's nodes",
            ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, securityGroups: [args.cluster.nodeSecurityGroupId], description: "HTTPS from the nodes" }],
            tags: args.tags,
        }, parent);
        const vpcEndpoint = new aws.ec2.VpcEndpoint(`${name}-runtime`, {
            vpcId: args.network.vpcId,
            serviceName: pulumi.all([region, partition.partition]).apply(([r, p]) => runtimeEndpointService(r, p)),
            vpcEndpointType: "Interface",
            // No private DNS: it would answer runtime.sagemaker.<region> for the whole VPC with an
            // endpoint only the bridge may use (and collide with one the VPC may already have).
            // The signer calls the endpoint's own DNS name, as the SDKs do with an endpoint URL.
            privateDnsEnabled: false,
            subnetIds: args.network.privateSubnetIds,
            securityGroupIds: [endpointSg.id],
            policy: pulumi.all([args.endpointArns, identity.roleArn]).apply(([arns, roleArn]) => JSON.stringify(runtimeEndpointPolicy(arns, roleArn))),
            tags: args.tags,
        }, parent);

        const vpceHost = vpcEndpoint.dnsEntries.apply((entries) => regionalDnsName(entries ?? []));
        const replicas = profileOf(args.environment).bridgeReplicas;
        const sidecar = args.mesh.defaultSidecar;
        const deployment = pulumi.all([region, vpceHost, pulumi.output(args.cluster.images)]).apply(([r, vpce, images]) => bridgeDeployment({
            region: r,
            endpointHost: vpce,
            image: cachedImage(SIGV4_PROXY_IMAGE, images),
            serviceAccountName: identity.serviceAccountName,
            replicas,
            annotations: { ...sidecar.annotations(), [MESH_REVISION_ANNOTATION]: args.mesh.revision },
        }));
        // The proxy needs its egress before it starts: SageMaker Runtime and STS.
        const entry = regional("runtime", SERVICE_ENTRY_TYPE, vpceHost.apply(runtimeServiceEntry));
        const egress = regional("sidecar", { apiVersion: "networking.istio.io/v1", kind: "Sidecar" },
            pulumi.all([region, partition.dnsSuffix, vpceHost]).apply(([r, suffix, vpce]) => bridgeSidecar(vpce, `sts.${r}.${suffix}`, args.mesh.otelCollector)));
        const access = custom("access", bridgeAuthorization(args.models), [namespace]);
        const workload = new k8s.apps.v1.Deployment(`${name}-proxy`, {
            metadata: deployment.apply((d) => d.metadata as k8s.types.input.meta.v1.ObjectMeta),
            spec: deployment.apply((d) => d.spec as k8s.types.input.apps.v1.DeploymentSpec),
        // Its pods start only once its namespace denies by default and admits only the models' callers.
        }, pulumi.mergeOptions(k8sOpts([identity, entry, egress, vpcEndpoint, defaultDeny, access]), {
            ignoreChanges: ["spec.replicas"],
        }));
        new k8s.core.v1.Service(`${name}-service`, bridgeService() as k8s.core.v1.ServiceArgs, k8sOpts([namespace]));
        new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, {
            metadata: { name: BRIDGE_NAME, namespace: BRIDGE_NAMESPACE, labels: { ...BRIDGE_LABELS } },
            spec: { maxUnavailable: 1, selector: { matchLabels: { app: BRIDGE_NAME } } },
        }, k8sOpts([namespace]));
        new k8s.autoscaling.v2.HorizontalPodAutoscaler(`${name}-hpa`, {
            metadata: { name: BRIDGE_NAME, namespace: BRIDGE_NAMESPACE, labels: { ...BRIDGE_LABELS } },
            spec: {
                scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: BRIDGE_NAME },
                minReplicas: replicas.min,
                maxReplicas: replicas.max,
                metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }],
            },
        }, k8sOpts([namespace]));
        custom("traffic", bridgeDestinationRule(args.models), [namespace]);

        // Per model, in its own namespace: the Service callers address and the routes to the bridge.
        args.models.forEach((model) => {
            const id = `${name}-${model.namespace}-${model.name}`;
            new k8s.core.v1.Service(`${id}-service`, modelService(model) as k8s.core.v1.ServiceArgs, k8sOpts());
            custom(`${model.namespace}-${model.name}-routes`, meshRoutes(model), [workload]);
        });

        this.vpcEndpointDnsName = vpceHost;
        this.roleArn = identity.roleArn;
        this.registerOutputs({ vpcEndpointDnsName: this.vpcEndpointDnsName, roleArn: this.roleArn });
    }
}
