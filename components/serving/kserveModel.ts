import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { GpuNodeGroupPlacement } from "../cluster/gpuPlacement";
import { IrsaServiceAccount } from "../cluster/irsaServiceAccount";
import type { IstioManifest } from "../mesh/meshPolicies";
import type { SidecarResources } from "../mesh/sidecarResources";
import type { KServe } from "./kserve";
import { childOptions } from "../childOptions";
import { chosenGpuGroup, DEFAULT_DEPLOYMENT_MODE, DEFAULT_MODEL_REPLICAS, effectiveTraffic, modelDownloadUri, TF_SERVING_VERSION, validateModelSpec, type KServeModelSpec } from "./modelSpec";
import { KSERVE_PROTOCOLS, kserveApis } from "./servedApis";
import { namespaceReady, type ServingCluster, type ServingMesh } from "./tfServingModel";
import { modelAccess, modelAuthorizationPolicy, modelDestinationRule, modelVirtualService, type AccessOptions, type ModelAccess } from "./trafficPolicy";
import { containerResources, gpuScheduling, MESH_REVISION_ANNOTATION, s3ReadPolicy } from "./workloadPlacement";
import { RESTRICTED_POD_SECURITY_CONTEXT } from "../mesh/podSecurity";

/** The label KServe puts on an InferenceService's pods. */
export const KSERVE_ISVC_LABEL = "serving.kserve.io/inferenceservice";
export const KSERVE_DEPLOYMENT_MODE_ANNOTATION = "serving.kserve.io/deploymentMode";

export interface InferenceServiceInputs {
    readonly spec: KServeModelSpec;
    readonly serviceAccountName: string;
    readonly group: GpuNodeGroupPlacement | undefined;
    readonly sidecar: SidecarResources;
    /** The mesh revision, annotated on the pods so that a new revision rolls them. */
    readonly meshRevision: string;
}

/**
 * The model container's context under Pod Security `restricted`. No read-only root file system:
 * the runtimes write caches and temporary files where their images put them.
 */
export const KSERVE_MODEL_SECURITY_CONTEXT: Readonly<{ runAsNonRoot: true; allowPrivilegeEscalation: false; capabilities: { drop: string[] } }> = {
    runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] },
};

/** The runtime image tag: the model's own, or the pinned TF Serving (GPU build for GPU models). */
export function kserveRuntimeVersion(spec: KServeModelSpec): string | undefined {
    if (spec.runtimeVersion !== undefined || spec.modelFormat !== "tensorflow") {
        return spec.runtimeVersion;
    }
    return (spec.gpus ?? 0) > 0 ? `${TF_SERVING_VERSION}-gpu` : TF_SERVING_VERSION;
}

/**
 * The predictor Service's one port: KServe maps port 80 to the server's HTTP port 8080 when the
 * runtime declares no ports (kserve/kserve:pkg/controller/v1beta1/inferenceservice/reconcilers/service/service_reconciler.go@v0.20.0).
 */
export const KSERVE_PREDICTOR_PORT = 80;

/** The name of the Standard-mode canary predictor; KServe runs it as `<isvc>-canary-predictor`. */
export const KSERVE_CANARY_NAME = "canary";

/** The Services KServe's controller creates for an InferenceService in Standard mode. */
export function kservePredictorHost(isvc: string, namespace: string, predictorName?: string): string {
    // kserve/kserve:pkg/constants/constants.go@v0.20.0 PredictorServiceName: <isvc>[-<name>]-predictor
    return `${isvc}${predictorName ? `-${predictorName}` : ""}-predictor.${namespace}.svc.cluster.local`;
}

export interface StandardCanary {
    readonly storageUri: string;
    readonly percent: number;
    /** Canary pods: KServe's own rule, ceil(stable min × percent / 100), and at least one. */
    readonly replicas: number;
}

/**
 * The Standard-mode canary, or undefined. KServe v0.20 runs it as its own Deployment and Service
 * and subtracts its pods from the stable predictor's minimum
 * (kserve/kserve:pkg/controller/v1beta1/inferenceservice/components/predictor.go@v0.20.0), so
 * mlmesh asks for the stable minimum plus the canary's pods, and the stable predictor keeps the
 * capacity the user set. Traffic to it is mlmesh's VirtualService's job: v0.20 routes none.
 */
export function standardCanary(spec: KServeModelSpec): StandardCanary | undefined {
    if ((spec.deploymentMode ?? DEFAULT_DEPLOYMENT_MODE) !== "Standard" || spec.canaryStorageUri === undefined || spec.canaryTrafficPercent === undefined) {
        return undefined;
    }
    const min = (spec.replicas ?? DEFAULT_MODEL_REPLICAS).min;
    return { storageUri: spec.canaryStorageUri, percent: spec.canaryTrafficPercent, replicas: Math.max(1, Math.ceil((min * spec.canaryTrafficPercent) / 100)) };
}

/** The `serving.kserve.io/v1beta1` InferenceService for a model. Pure. */
export function inferenceServiceManifest(inputs: InferenceServiceInputs): Record<string, unknown> {
    const { spec } = inputs;
    const mode = spec.deploymentMode ?? DEFAULT_DEPLOYMENT_MODE;
    const replicas = spec.replicas ?? DEFAULT_MODEL_REPLICAS;
    const runtimeVersion = kserveRuntimeVersion(spec);
    const protocolVersion = KSERVE_PROTOCOLS[spec.modelFormat].includes("v1") ? undefined : "v2";
    const model = (storageUri: string) => ({
        modelFormat: { name: spec.modelFormat },
        ...(protocolVersion ? { protocolVersion } : {}),
        storageUri: modelDownloadUri(storageUri),
        ...(runtimeVersion ? { runtimeVersion } : {}),
        resources: containerResources(spec.resources, spec.gpus ?? 0),
        // Merged field by field over the runtime container's own (kserve/kserve:pkg/utils/container_merge.go@v0.20.0).
        securityContext: KSERVE_MODEL_SECURITY_CONTEXT,
    });
    // No `app` label: KServe sets it to `isvc.<service>` on every predictor pod and selects by it.
    const podSettings = {
        serviceAccountName: inputs.serviceAccountName,
        // KServe passes the predictor's pod-level context to the pod, and a canary inherits it
        // (kserve/kserve:pkg/controller/v1beta1/inferenceservice/utils/utils.go@v0.20.0 MergePodSpec);
        // its seccomp profile also covers the storage initializer and Istio's containers.
        securityContext: RESTRICTED_POD_SECURITY_CONTEXT,
        ...gpuScheduling(inputs.group),
        annotations: { ...inputs.sidecar.annotations(), [MESH_REVISION_ANNOTATION]: inputs.meshRevision },
    };
    const canaryInKnative = mode === "Knative" && spec.canaryTrafficPercent !== undefined;
    const canary = standardCanary(spec);
    const stableReplicas = canary ? { min: replicas.min + canary.replicas, max: Math.max(replicas.max, replicas.min + canary.replicas) } : replicas;
    return {
        apiVersion: "serving.kserve.io/v1beta1",
        kind: "InferenceService",
        metadata: {
            name: spec.name,
            namespace: spec.namespace,
            // No `pulumi.com/waitFor`: KServe copies its predictor Deployment's observedGeneration
            // into the InferenceService's status (kserve/kserve:pkg/apis/serving/v1beta1/inference_service_status.go@v0.20.0),
            // and pulumi-kubernetes waits for that to reach the object's generation, which a change
            // that leaves the Deployment alone (a canary's percent, maxReplicas) never does.
            annotations: { [KSERVE_DEPLOYMENT_MODE_ANNOTATION]: mode },
            labels: { app: spec.name, "app.kubernetes.io/part-of": "mlmesh" },
        },
        spec: {
            predictor: {
                minReplicas: stableReplicas.min,
                maxReplicas: stableReplicas.max,
                ...(canaryInKnative ? { canaryTrafficPercent: spec.canaryTrafficPercent } : {}),
                ...podSettings,
                model: model(spec.storageUri),
            },
            ...(canary
                // A canary's model is a full container spec, which must be named.
                ? { canary: [{ trafficPercent: canary.percent, predictor: { name: KSERVE_CANARY_NAME, minReplicas: canary.replicas, ...podSettings, model: { name: "kserve-container", ...model(canary.storageUri) } } }] }
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
 * always, and in Standard mode the routes (timeout, retries, the canary's share, and the
 * ingress Gateway's paths). The routes wait until KServe has admitted the InferenceService.
 */
export class KServeModel extends pulumi.ComponentResource {
    public readonly serviceHost: string;
    public readonly roleArn: pulumi.Output<string>;
    /** What the model's AuthorizationPolicy selects, so an app team's policy can admit one more caller. */
    public readonly access: ModelAccess;

    constructor(name: string, args: KServeModelArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlmesh:serving:KServeModel", name, {}, opts);
        const model = args.model;
        validateModelSpec(model, {
            gpuNodeGroups: args.cluster.gpuNodeGroups,
            namespaces: args.mesh.namespaces,
            defaultSidecar: args.mesh.defaultSidecar,
            knativeServing: args.kserve.knativeServing,
        }).throwIfAny(`KServeModel ${name}`);
        const k8sOpts = (dependsOn: pulumi.Resource[]) => childOptions(this, opts, { provider: args.cluster.provider, dependsOn: [...(args.mesh.readyForWorkloads ?? []), ...dependsOn] });
        const namespace = model.namespace;
        this.serviceHost = kservePredictorHost(model.name, namespace);

        const partition = aws.getPartitionOutput({}, { parent: this });
        const region = aws.getRegionOutput({}, { parent: this }).region;
        const canary = standardCanary(model);
        const uris = [model.storageUri, ...(model.canaryStorageUri ? [model.canaryStorageUri] : [])];
        const identity = new IrsaServiceAccount(`${name}-s3`, {
            cluster: args.cluster,
            namespace,
            serviceAccountName: `${model.name}-kserve`,
            policy: partition.apply((p) => JSON.stringify(s3ReadPolicy({ uris, partition: p.partition, dnsSuffix: p.dnsSuffix, kmsKeyArn: model.modelKmsKeyArn }))),
            // KServe's storage initializer reads its S3 settings from the service account.
            annotations: { "serving.kserve.io/s3-region": region, "serving.kserve.io/s3-usehttps": "1" },
            tags: args.tags,
            serviceAccountAfter: namespaceReady(args.mesh, namespace),
        }, childOptions(this, opts));

        const manifest = inferenceServiceManifest({
            spec: model,
            serviceAccountName: identity.serviceAccountName,
            group: chosenGpuGroup(model, args.cluster.gpuNodeGroups),
            sidecar: args.mesh.defaultSidecar.override(model.sidecar),
            meshRevision: args.mesh.revision,
        });
        const isvc = new k8s.apiextensions.CustomResource(`${name}-isvc`, manifest as k8s.apiextensions.CustomResourceArgs, k8sOpts([args.kserve, identity]));

        const canaryHost = kservePredictorHost(model.name, namespace, KSERVE_CANARY_NAME);
        const versions = canary
            ? [{ name: "stable", weight: 100 - canary.percent, host: this.serviceHost }, { name: KSERVE_CANARY_NAME, weight: canary.percent, host: canaryHost }]
            : [];
        const routed = { name: model.name, namespace, host: this.serviceHost, versions, ...effectiveTraffic(model) };
        const custom = (role: string, istio: IstioManifest) => new k8s.apiextensions.CustomResource(`${name}-${role}`, { ...istio }, k8sOpts([isvc]));
        if ((model.deploymentMode ?? DEFAULT_DEPLOYMENT_MODE) === "Standard") {
            custom("routes", modelVirtualService(routed));
        }
        custom("traffic", modelDestinationRule({ ...routed, versions: [], circuitBreaker: model.circuitBreaker }));
        // KServe v0.20 makes no disruption budget for a predictor; one pod at a time may go in a drain.
        new k8s.policy.v1.PodDisruptionBudget(`${name}-disruption`, {
            metadata: { name: `${model.name}-predictor`, namespace, labels: { app: model.name } },
            spec: { maxUnavailable: 1, selector: { matchLabels: { [KSERVE_ISVC_LABEL]: model.name, component: "predictor" } } },
        }, k8sOpts([isvc]));
        if (canary) {
            custom("canary-traffic", modelDestinationRule({ name: `${model.name}-${KSERVE_CANARY_NAME}`, namespace, host: canaryHost, versions: [], circuitBreaker: model.circuitBreaker }));
        }
        const access: AccessOptions = {
            name: model.name,
            namespace,
            selector: { [KSERVE_ISVC_LABEL]: model.name },
            principals: model.allowedPrincipals ?? [],
            // The predictor Service exposes only the server's HTTP port (80 → 8080), so no gRPC.
            httpPaths: kserveApis(model.modelFormat, model.name).flatMap((api) => api.serverPaths),
        };
        custom("access", modelAuthorizationPolicy(access));
        this.access = modelAccess(access);

        this.roleArn = identity.roleArn;
        this.registerOutputs({ serviceHost: this.serviceHost, roleArn: this.roleArn });
    }
}
