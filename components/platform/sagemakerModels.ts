import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { GpuCluster } from "../cluster/gpuCluster";
import type { ClusterNetwork } from "../cluster/clusterVpc";
import type { IstioMesh } from "../mesh/istioMesh";
import { bridgeAccess, predictPath, type BridgedModel } from "../sagemaker/bridgeManifests";
import type { ModelAccess } from "../serving/trafficPolicy";
import { SageMakerBridge } from "../sagemaker/sagemakerBridge";
import { SageMakerEndpoint } from "../sagemaker/sagemakerEndpoint";
import { endpointArn, endpointNameOf, type SageMakerCreatedModel, type SageMakerModelSpec } from "../sagemaker/sagemakerSpec";
import { effectiveTraffic } from "../serving/modelSpec";
import { profileOf, type Environment } from "./environment";

/** Where a SageMaker model answers, for the stack outputs. */
export interface ServedSageMakerModel {
    readonly name: string;
    readonly namespace: string;
    readonly backend: "sagemaker";
    readonly serviceHost: string;
    /** `http://<host>/v1/models/<name>:predict`, the in-mesh URL callers POST to. */
    readonly url: string;
    readonly endpointName: string;
    readonly endpointArn: pulumi.Output<string>;
    readonly vpcEndpointDnsName: pulumi.Output<string>;
    /** What the bridge's AuthorizationPolicy selects for this model. */
    readonly access: ModelAccess;
}

export interface SageMakerPlatform {
    readonly parent: pulumi.Resource;
    readonly environment: Environment;
    readonly cluster: GpuCluster;
    readonly mesh: IstioMesh;
    readonly network: ClusterNetwork;
    readonly clusterName: string;
    readonly tags: Record<string, string>;
}

/**
 * The SageMaker models of a platform: an endpoint for each one that describes a `model`, and one
 * bridge for them all. An existing endpoint (`endpointName`) gets nothing created for it.
 */
export function serveSageMakerModels(name: string, models: readonly SageMakerModelSpec[], platform: SageMakerPlatform): { served: ServedSageMakerModel[]; bridge?: SageMakerBridge } {
    if (models.length === 0) {
        return { served: [] };
    }
    const opts = { parent: platform.parent };
    const partition = aws.getPartitionOutput({}, { parent: platform.parent }).partition;
    const region = aws.getRegionOutput({}, { parent: platform.parent }).region;
    const accountId = aws.getCallerIdentityOutput({}, { parent: platform.parent }).accountId;
    const arns = models.map((model) => {
        if (model.model) {
            return new SageMakerEndpoint(`${name}-${model.namespace}-${model.name}`, {
                spec: model as SageMakerModelSpec & { model: SageMakerCreatedModel },
                clusterName: platform.clusterName,
                network: platform.network,
                protect: profileOf(platform.environment).protectStateful,
                tags: platform.tags,
            }, { parent: platform.parent }).endpointArn;
        }
        return pulumi.all([partition, region, accountId]).apply(([p, r, account]) => endpointArn(p, r, account, model.endpointName!));
    });
    const bridged: BridgedModel[] = models.map((model) => ({
        name: model.name,
        namespace: model.namespace,
        endpointName: endpointNameOf(model, platform.clusterName),
        principals: model.allowedPrincipals ?? [],
        ...effectiveTraffic(model),
        circuitBreaker: model.circuitBreaker,
    }));
    const bridge = new SageMakerBridge(`${name}-sagemaker`, {
        cluster: platform.cluster,
        mesh: platform.mesh,
        network: platform.network,
        models: bridged,
        endpointArns: arns,
        environment: platform.environment,
        tags: platform.tags,
    }, opts);
    const served = models.map((model, i): ServedSageMakerModel => {
        const serviceHost = `${model.name}.${model.namespace}.svc.cluster.local`;
        return {
            name: model.name,
            namespace: model.namespace,
            backend: "sagemaker",
            serviceHost,
            url: `http://${serviceHost}${predictPath(model)}`,
            endpointName: bridged[i].endpointName,
            endpointArn: pulumi.output(arns[i]),
            vpcEndpointDnsName: bridge.vpcEndpointDnsName,
            access: bridgeAccess(bridged[i]),
        };
    });
    return { served, bridge };
}
