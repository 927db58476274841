import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CertManager } from "../cluster/certManager";
import { ClusterVpc, validateVpcLayout, type ClusterNetwork, type ClusterVpcArgs } from "../cluster/clusterVpc";
import { GpuCluster, validateGpuClusterArgs, type GpuClusterArgs } from "../cluster/gpuCluster";
import { appTeamGroup } from "../cluster/clusterAccess";
import { placementOf } from "../cluster/gpuNodeGroup";
import { DEFAULT_SIDECAR, validateIstioMeshArgs } from "../mesh/istioMesh";
import { gpuNodeCapacities } from "../serving/modelFit";
import { SidecarResources } from "../mesh/sidecarResources";
import { PropertyErrors } from "../propertyErrors";
import type { GpuNodeGroupPlacement } from "../cluster/gpuPlacement";
import { IstioMesh, type IstioMeshArgs } from "../mesh/istioMesh";
import { KServe } from "../serving/kserve";
import { KServeModel } from "../serving/kserveModel";
import { isServed, validateModels, type ModelEntry } from "../serving/modelSpec";
import { InferenceGateway } from "../gateway/inferenceGateway";
import { validateFrontDoor } from "../gateway/doorSpec";
import { INFERENCE_SERVICE } from "../gateway/doorRoutes";
import { TfServingModel } from "../serving/tfServingModel";
import { widenedReplicas } from "../serving/workloadPlacement";
import { profileOf, type Environment } from "./environment";
import { environmentProblems, kserveProblem, zonePinProblem } from "./environmentRules";
import { grantAppTeams } from "./appTeams";
import { serveSageMakerModels, type ServedSageMakerModel } from "./sagemakerModels";
import type { SageMakerModelSpec } from "../sagemaker/sagemakerSpec";
import { platformImageReport } from "./imageSources";
import { CONTRACT_VERSION, contractModels, type DeprecatedOutput, type PlatformContract } from "./contract";
import type { ModelAccess } from "../serving/trafficPolicy";

/** What MlPlatform publishes: each contract field as a Pulumi input (kubeconfig a secret). */
export type PlatformOutputs = { readonly [K in keyof PlatformContract]: pulumi.Input<PlatformContract[K]> };

/** Bring your own VPC, or let mlmesh create one. */
export type PlatformNetworkArgs =
    | { readonly existing: ClusterNetwork }
    | { readonly create: Omit<ClusterVpcArgs, "clusterName" | "tags" | "protect"> };

export interface MlPlatformArgs {
    /** Deployment tier; prod protects the cluster, its VPC and its secrets key from deletion. */
    environment: Environment;
    /** Where the cluster runs. */
    network: PlatformNetworkArgs;
    /** The EKS cluster; its name also tags the subnets so load balancers can find them. */
    cluster: Omit<GpuClusterArgs, "network" | "deletionProtection" | "upgradeSupport" | "tags" | "privateImages">;
    /** Istio on the cluster. */
    mesh: Omit<IstioMeshArgs, "cluster" | "protectIngress">;
    /** Models to serve, and splits between them. */
    models?: readonly ModelEntry[];
    /**
     * Install KServe. An explicit setting, so removing the last KServe model never uninstalls it
     * (and app teams' InferenceServices with its CRDs); KServe models need it true.
     * @default false
     */
    kserve?: boolean;
    /** Tags added to every AWS resource. */
    tags?: Record<string, string>;
}

/**
 * Checks the whole platform before anything is created: network, cluster, mesh, and (once
 * those are sound) every model against the cluster's GPU groups and the mesh's namespaces.
 */
export function validateMlPlatformArgs(args: MlPlatformArgs): PropertyErrors {
    const errors = new PropertyErrors();
    if ("create" in args.network) {
        validateVpcLayout(args.network.create, errors, "network.create.");
        errors.check("network.create.availabilityZoneIds", args.network.create.availabilityZoneIds, zonePinProblem(args.environment, args.network.create.availabilityZoneIds));
    }
    validateGpuClusterArgs(args.cluster, errors, "cluster.");
    validateIstioMeshArgs(args.mesh, errors, "mesh.");
    for (const problem of environmentProblems(args.environment, args)) {
        errors.check(problem.path, problem.value, problem.reason);
    }
    const sidecar = { ...DEFAULT_SIDECAR, ...args.mesh.defaultSidecar };
    SidecarResources.validate(sidecar, errors, "mesh.defaultSidecar");
    if (errors.list.length === 0) {
        for (const problem of platformImages(args).problems) {
            errors.check(problem.path, problem.value, problem.reason);
        }
        validateModels(args.models ?? [], {
            gpuNodeGroups: (args.cluster.gpuNodeGroups ?? []).map(placementOf),
            namespaces: args.mesh.namespaces ?? ["ml-serving"],
            defaultSidecar: SidecarResources.of(sidecar),
            environment: args.environment,
            gpuNodeCapacity: gpuNodeCapacities(args.cluster.gpuNodeGroups ?? []),
        }, errors, "models");
        (args.models ?? []).forEach((model, i) => errors.check(`models[${i}].backend`, model.backend, kserveProblem(model.backend, args.kserve)));
        const gateway = args.mesh.ingressGateway ?? {};
        validateFrontDoor(args.models ?? [], { jwt: gateway.jwt ?? [], hosts: gateway.hosts ?? [], clusterName: args.cluster.clusterName }, errors, "models");
    }
    return errors;
}

function platformImages(args: MlPlatformArgs) {
    return platformImageReport({
        environment: args.environment,
        imageCache: args.cluster.imageCache,
        gpuNodeGroups: (args.cluster.gpuNodeGroups ?? []).map(placementOf),
        models: (args.models ?? []).filter(isServed),
    }, { cluster: "cluster.", models: "models" });
}

/** Where a served model (or a split) answers inside the mesh. */
export interface ServedModel {
    readonly name: string;
    readonly namespace: string;
    readonly backend: ModelEntry["backend"];
    /** The model's own Service host; a split's is the front door's in-mesh host. */
    readonly serviceHost: string;
    /** What the model's AuthorizationPolicy selects; splits have none of their own. */
    readonly access?: ModelAccess;
}

/**
 * The whole ML serving platform of one environment: network, GPU cluster, service mesh, and
 * the models (TF Serving and KServe) in it.
 */
export class MlPlatform extends pulumi.ComponentResource {
    public readonly environment: Environment;
    public readonly vpcId: pulumi.Output<string>;
    public readonly privateSubnetIds: pulumi.Output<string[]>;
    public readonly clusterName: pulumi.Output<string>;
    public readonly clusterEndpoint: pulumi.Output<string>;
    public readonly oidcProviderArn: pulumi.Output<string>;
    public readonly kubeconfig: pulumi.Output<string>;
    public readonly gpuNodeGroups: readonly GpuNodeGroupPlacement[];
    public readonly meshRevision: string;
    public readonly meshNamespaces: readonly string[];
    public readonly gatewayServiceHost: string;
    public readonly gatewayName: string | undefined;
    /** The cluster component, for the components that run on it. */
    public readonly cluster: GpuCluster;
    /** The mesh component, for the workloads that join it. */
    public readonly mesh: IstioMesh;
    public readonly models: readonly (ServedModel | ServedSageMakerModel)[];
    /** The host in-mesh callers reach every model by, `inference.istio-ingress.svc.cluster.local`. */
    public readonly inferenceHost: string;
    /** The contract app teams read through StackReference (see contract.ts). */
    public readonly outputs: PlatformOutputs;

    constructor(name: string, args: MlPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlmesh:platform:MlPlatform", name, {}, opts);
        validateMlPlatformArgs(args).throwIfAny(`MlPlatform ${name}`);
        const clusterName = args.cluster.clusterName;
        const profile = profileOf(args.environment);
        const tags = { "mlmesh.io/environment": args.environment, "mlmesh.io/cluster": clusterName, ...args.tags };

        const network: ClusterNetwork = "existing" in args.network
            ? args.network.existing
            : new ClusterVpc(`${name}-network`, { ...args.network.create, natGateways: args.network.create.natGateways ?? profile.natGateways, clusterName, tags, protect: profile.protectStateful }, { parent: this });
        const images = platformImages(args);
        for (const warning of images.warnings) {
            pulumi.log.warn(warning, this);
        }
        this.cluster = new GpuCluster(`${name}-cluster`, {
            ...args.cluster,
            privateImages: images.privateImages,
            network,
            deletionProtection: profile.protectStateful,
            upgradeSupport: profile.upgradeSupport,
            tags,
        }, { parent: this });
        // Each part waits only for what it needs: Helm releases with pods (atomic) for the system
        // nodes and cluster DNS, not the whole cluster (GPU groups, autoscaler); workloads for the
        // injector and their namespace, not the whole mesh (the ingress gateway and its load balancer);
        // KServe, outside the mesh, for cert-manager.
        this.mesh = new IstioMesh(`${name}-mesh`, { ...args.mesh, cluster: this.cluster, protectIngress: profile.protectStateful }, { parent: this });
        grantAppTeams(name, args.cluster.access?.appTeams ?? [], { parent: this, provider: this.cluster.provider, after: this.mesh.readyForWorkloads });
        // A model that sets no replicas gets its tier's range, widened to hold every version's floor.
        const entries = (args.models ?? []).map((entry) => {
            if ((entry.backend !== "tfserving" && entry.backend !== "kserve") || entry.replicas !== undefined) {
                return entry;
            }
            // Every TF Serving version keeps the tier's floor, so the range holds them all.
            return { ...entry, replicas: widenedReplicas(profile.modelReplicas, profile.minModelReplicas, entry.backend === "tfserving" ? entry.versions.length : 1) };
        });
        const models = entries.filter(isServed);
        const kserveFormats = models.flatMap((model) => (model.backend === "kserve" ? [model.modelFormat] : []));
        const kserve = args.kserve === true
            ? new KServe(`${name}-kserve`, {
                cluster: this.cluster,
                images: this.cluster.images,
                modelFormats: kserveFormats,
                certManager: new CertManager(`${name}-cert-manager`, { provider: this.cluster.provider, images: this.cluster.images, readyForPods: this.cluster.readyForPods }, { parent: this }),
            }, { parent: this })
            : undefined;
        const components: (TfServingModel | KServeModel)[] = [];
        for (const model of models) {
            const common = { cluster: this.cluster, mesh: this.mesh, tags };
            const opts = { parent: this };
            if (model.backend === "tfserving") {
                components.push(new TfServingModel(`${name}-${model.namespace}-${model.name}`, { ...common, model, minVersionReplicas: profile.minModelReplicas }, opts));
            } else if (model.backend === "kserve") {
                components.push(new KServeModel(`${name}-${model.namespace}-${model.name}`, { ...common, model, kserve: kserve! }, opts));
            }
        }
        const inCluster = models.filter((model) => model.backend !== "sagemaker")
            .map((model, i) => ({ name: model.name, namespace: model.namespace, backend: model.backend, serviceHost: components[i].serviceHost, access: components[i].access }));
        const { served: onSageMaker, bridge } = serveSageMakerModels(name, models.filter((model): model is SageMakerModelSpec => model.backend === "sagemaker"), {
            parent: this, environment: args.environment, cluster: this.cluster, mesh: this.mesh, network, clusterName, tags,
        });
        const door = new InferenceGateway(`${name}-front-door`, {
            cluster: this.cluster,
            mesh: this.mesh,
            models: entries,
            clusterName,
            jwt: args.mesh.ingressGateway?.jwt,
            routesAfter: [...components, ...(bridge ? [bridge] : [])],
        }, { parent: this, dependsOn: [this.mesh] });
        this.inferenceHost = door.meshHost;
        const splits = entries.filter((entry) => !isServed(entry)).map((split) => ({ name: split.name, namespace: split.namespace, backend: split.backend, serviceHost: INFERENCE_SERVICE.host }));
        this.models = [...inCluster, ...onSageMaker, ...splits];

        this.environment = args.environment;
        this.vpcId = pulumi.output(network.vpcId);
        this.privateSubnetIds = pulumi.output(network.privateSubnetIds);
        this.clusterName = this.cluster.clusterName;
        this.clusterEndpoint = this.cluster.endpoint;
        this.oidcProviderArn = this.cluster.oidcProviderArn;
        this.kubeconfig = this.cluster.kubeconfig;
        this.gpuNodeGroups = this.cluster.gpuNodeGroups;
        this.meshRevision = this.mesh.revision;
        this.meshNamespaces = this.mesh.namespaces;
        this.gatewayServiceHost = this.mesh.gatewayServiceHost;
        this.gatewayName = this.mesh.gatewayName;

        const gatewayHost = args.mesh.ingressGateway?.hosts?.[0] ?? null;
        const endpoints = pulumi.all(onSageMaker.map((model) => model.endpointArn.apply((arn) => [model.name, { name: model.endpointName, arn }] as const)))
            .apply((pairs) => Object.fromEntries(pairs));
        this.outputs = {
            contractVersion: CONTRACT_VERSION,
            environment: this.environment,
            region: aws.getRegionOutput({}, { parent: this }).region,
            clusterName: this.clusterName,
            clusterEndpoint: this.clusterEndpoint,
            clusterCertificateAuthority: this.cluster.certificateAuthority,
            oidcProviderArn: this.oidcProviderArn,
            oidcProviderUrl: this.cluster.oidcProviderUrl,
            kubeconfig: this.kubeconfig,
            vpcId: this.vpcId,
            privateSubnetIds: this.privateSubnetIds,
            gatewayHost,
            gatewayName: this.gatewayName ?? null,
            meshHost: door.meshHost,
            meshNamespaces: this.meshNamespaces,
            meshRevision: this.meshRevision,
            gpuNodeGroups: this.gpuNodeGroups,
            models: endpoints.apply((byName) => contractModels(entries, {
                clusterName,
                meshHost: door.meshHost,
                gatewayHost,
                serviceHosts: Object.fromEntries([...inCluster, ...onSageMaker].map((model) => [model.name, model.serviceHost])),
                access: Object.fromEntries([...inCluster, ...onSageMaker].map((model) => [model.name, model.access])),
                endpoints: byName,
            })),
            sagemakerVpcEndpointDns: bridge ? bridge.vpcEndpointDnsName : null,
            appTeams: (args.cluster.access?.appTeams ?? []).map((team) => ({
                name: team.name, roleArn: team.roleArn, group: appTeamGroup(team), namespaces: [...team.namespaces], imageRepositories: [...(team.imageRepositories ?? [])],
            })),
        };
        this.registerOutputs(this.outputs);
    }

    /** The stack outputs: the contract, and the outputs it replaces for one more major version. */
    stackOutputs(): PlatformOutputs & Readonly<Record<DeprecatedOutput, pulumi.Input<string>>> {
        return { ...this.outputs, inferenceHost: this.outputs.meshHost, gatewayServiceHost: this.gatewayServiceHost };
    }
}
