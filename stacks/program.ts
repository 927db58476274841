import type * as pulumi from "@pulumi/pulumi";
import { MlPlatform } from "../components/platform";
import type { PlatformConfig } from "./config";

/** Builds one environment's platform from validated config and returns the stack outputs. */
export function buildPlatform(config: PlatformConfig, opts?: pulumi.ComponentResourceOptions) {
    const { network, cluster, mesh } = config;
    const platform = new MlPlatform(cluster.name, {
        environment: config.environment,
        network: network.mode === "existing"
            ? { existing: { vpcId: network.vpcId, privateSubnetIds: network.privateSubnetIds } }
            : { create: { cidrBlock: network.vpcCidr, availabilityZoneCount: network.availabilityZones, availabilityZoneIds: network.availabilityZoneIds && [...network.availabilityZoneIds], natGateways: network.natGateways, s3Accounts: [...network.s3Accounts] } },
        cluster: {
            clusterName: cluster.name,
            kubernetesVersion: cluster.kubernetesVersion,
            endpointPublicAccess: cluster.endpointPublicAccess,
            publicAccessCidrs: cluster.publicAccessCidrs,
            systemNodes: cluster.systemNodes,
            gpuNodeGroups: cluster.gpuNodeGroups,
            access: cluster.access,
            imageCache: cluster.imageCache,
        },
        mesh: {
            version: mesh.istioVersion,
            servedVersions: mesh.servedVersions,
            mtls: mesh.mtls,
            ingressGateway: mesh.ingressGateway,
            tracingSampling: mesh.tracing.sampling,
            otelCollector: mesh.tracing.otelCollector,
            defaultSidecar: mesh.defaultSidecar,
            namespaces: mesh.namespaces,
            inferenceExtension: mesh.inferenceExtension,
            cni: mesh.cni,
            podSecurity: mesh.podSecurity,
            egress: mesh.egress,
        },
        models: config.models,
        kserve: cluster.kserve,
        tags: { "mlmesh.io/stack": config.stack },
    }, opts);
    // The stack outputs: the contract app teams read through StackReference (components/platform/contract.ts).
    return platform.stackOutputs();
}
