import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { GpuNodeGroupPlacement } from "../cluster/gpuPlacement";
import { IrsaServiceAccount } from "../cluster/irsaServiceAccount";
import type { IstioManifest } from "../mesh/meshPolicies";
import type { SidecarResources } from "../mesh/sidecarResources";
import type { KServe } from "./kserve";
import { chosenGpuGroup, DEFAULT_DEPLOYMENT_MODE, DEFAULT_MODEL_REPLICAS, TF_SERVING_VERSION, validateModelSpec, type KServeModelSpec } from "./modelSpec";
import type { ServingCluster, ServingMesh } from "./tfServingModel";
import { modelAuthorizationPolicy, modelDestinationRule, modelVirtualService } from "./trafficPolicy";
import { containerResources, gpuScheduling, s3ReadPolicy } from "./workloadPlacement";

/** The label KServe puts on an InferenceService's pods. */
export const KSERVE_ISVC_LABEL = "serving.kserve.io/inferenceservice";
export const KSERVE_DEPLOYMENT_MODE_ANNOTATION = "serving.kserve.io/deploymentMode";

export interface InferenceServiceInputs {
    readonly spec: KServeModelSpec;
    readonly serviceAccountName: string;
    readonly group: GpuNodeGroupPlacement | undefined;
    readonly sidecar: SidecarResources;
}

/** The runtime image tag: the model's own, or the pinned TF Serving (GPU build for GPU models). */
export function kserveRuntimeVersion(spec: KServeModelSpec): string | undefined {
    if (spec.runtimeVersion !== undefined || spec.modelFormat !== "tensorflow") {
        return spec.runtimeVersion;
    }
    return (spec.gpus ?? 0) > 0 ? `${TF_SERVING_VERSION}-gpu` : TF_SERVING_VERSION;
}

/** The `serving.kserve.io/v1beta1` InferenceService for a model. Pure. */
export function inferenceServiceManifest(inputs: InferenceServiceInputs): Record<string, unknown> {
    const { spec } = inputs;
    const mode = spec.deploymentMode ?? DEFAULT_DEPLOYMENT_MODE;
    const replicas = spec.replicas ?? DEFAULT_MODEL_REPLICAS;
    const runtimeVersion = kserveRuntimeVersion(spec);
    const model = (storageUri: string) => ({
        modelFormat: { name: spec.modelFormat },
        storageUri,
        ...(runtimeVersion ? { runtimeVersion } : {}),
        resources: containerResources(spec.resources, spec.gpus ?? 0),
    });
    const podSettings = {
        serviceAccountName: inputs.serviceAccountName,
        ...gpuScheduling(inputs.group),
        annotations: inputs.sidecar.annotations(),
        labels: { app: spec.name },
    };
    const canaryInKnative = mode === "Knative" && spec.canaryTrafficPercent !== undefined;
    return {
        apiVersion: "serving.kserve.io/v1beta1",
        kind: "InferenceService",
        metadata: {
            name: spec.name,
            namespace: spec.namespace,
            annotations: { [KSERVE_DEPLOYMENT_MODE_ANNOTATION]: mode },
            labels: { app: spec.name, "app.kubernetes.io/part-of": "mlmesh" },
        },
        spec: {
            predictor: {
                minReplicas: replicas.min,
                maxReplicas: replicas.max,
                ...(canaryInKnative ? { canaryTrafficPercent: spec.canaryTrafficPercent } : {}),
                ...podSettings,
                model: model(spec.storageUri),
            },
            ...(mode === "Standard" && spec.canaryStorageUri !== undefined
                // A canary's model is a full container spec, which must be named.
                ? { canary: [{ trafficPercent: spec.canaryTrafficPercent, predictor: { name: "canary", ...podSettings, model: { name: "kserve-container", ...model(spec.canaryStorageUri) } } }] }
                : {}),
        },
    };
}

export interface KServeModelArgs {
    model: KServeModelSpec;
    cluster: ServingCluster;
    mesh: ServingMesh;
    /** The KServe install; the InferenceService waits for it. */
    kserve: KServe;
    tags?: Record<string, string>;
}

/**
 * A KServe InferenceService in the mesh, with S3 access through IRSA and the Istio policy
 * KServe does not create itself: authorization always, connection limits and outlier detection
 * always, and timeout/retry routing in Standard mode (Knative owns routing in its mode).
 */
export class KServeModel extends pulumi.ComponentResource {
    public readonly serviceHost: string;
    public readonly roleArn: pulumi.Output<string>;

    constructor(name: string, args: KServeModelArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlmesh:serving:KServeModel", name, {}, opts);
        const model = args.model;
        validateModelSpec(model, {
            gpuNodeGroups: args.cluster.gpuNodeGroups,
            namespaces: args.mesh.namespaces,
            defaultSidecar: args.mesh.defaultSidecar,
            knativeServing: args.kserve.knativeServing,
        }).throwIfAny(`KServeModel ${name}`);
        const k8sOpts = { parent: this, provider: args.cluster.provider };
        const namespace = model.namespace;
        this.serviceHost = `${model.name}-predictor.${namespace}.svc.cluster.local`;

        const partition = aws.getPartitionOutput({}, { parent: this }).partition;
        const region = aws.getRegionOutput({}, { parent: this }).region;
        const uris = [model.storageUri, ...(model.canaryStorageUri ? [model.canaryStorageUri] : [])];
        const identity = new IrsaServiceAccount(`${name}-s3`, {
            cluster: args.cluster,
            namespace,
            serviceAccountName: `${model.name}-kserve`,
            policy: partition.apply((p) => JSON.stringify(s3ReadPolicy(uris, p))),
            // KServe's storage initializer reads its S3 settings from the service account.
            annotations: { "serving.kserve.io/s3-region": region, "serving.kserve.io/s3-usehttps": "1" },
            tags: args.tags,
        }, { parent: this });

        const manifest = inferenceServiceManifest({
            spec: model,
            serviceAccountName: identity.serviceAccountName,
            group: chosenGpuGroup(model, args.cluster.gpuNodeGroups),
            sidecar: args.mesh.defaultSidecar.override(model.sidecar),
        });
        new k8s.apiextensions.CustomResource(`${name}-isvc`, manifest as k8s.apiextensions.CustomResourceArgs, { ...k8sOpts, dependsOn: [args.kserve, identity] });

        const routed = { name: model.name, namespace, host: this.serviceHost, versions: [], timeout: model.timeout, retries: model.retries };
        const custom = (role: string, istio: IstioManifest) => new k8s.apiextensions.CustomResource(`${name}-${role}`, { ...istio }, k8sOpts);
        if ((model.deploymentMode ?? DEFAULT_DEPLOYMENT_MODE) === "Standard") {
            custom("routes", modelVirtualService(routed));
        }
        custom("traffic", modelDestinationRule({ ...routed, circuitBreaker: model.circuitBreaker }));
        custom("access", modelAuthorizationPolicy({
            name: model.name,
            namespace,
            selector: { [KSERVE_ISVC_LABEL]: model.name },
            principals: model.allowedPrincipals ?? [],
            httpPaths: [`/v1/models/${model.name}`, `/v1/models/${model.name}:*`, `/v1/models/${model.name}/*`, `/v2/models/${model.name}`, `/v2/models/${model.name}/*`],
            grpcPaths: ["/inference.GRPCInferenceService/*", ...(model.modelFormat === "tensorflow" ? ["/tensorflow.serving.PredictionService/*"] : [])],
        }));

        this.roleArn = identity.roleArn;
        this.registerOutputs({ serviceHost: this.serviceHost, roleArn: this.roleArn });
    }
}
