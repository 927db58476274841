import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { GpuNodeGroupPlacement } from "../cluster/gpuPlacement";
import { IrsaServiceAccount, type ClusterOidc } from "../cluster/irsaServiceAccount";
import type { IstioManifest } from "../mesh/meshPolicies";
import type { SidecarResources } from "../mesh/sidecarResources";
import { KSERVE_VERSION } from "./kserve";
import { chosenGpuGroup, DEFAULT_MODEL_REPLICAS, effectiveTraffic, modelDownloadUri, tfServingImage, validateModelSpec, type TfServingModelSpec } from "./modelSpec";
import { modelAccess, modelAuthorizationPolicy, modelDestinationRule, modelVirtualService, type AccessOptions, type ModelAccess } from "./trafficPolicy";
import { containerResources, gpuScheduling, MESH_REVISION_ANNOTATION, rolloutTimeouts, s3ReadPolicy, STARTUP_PROBE, versionReplicas, widenedReplicas } from "./workloadPlacement";
import { childOptions } from "../childOptions";
import { TF_SERVING_CLIENT_METHODS, tfServingApis } from "./servedApis";
import { RESTRICTED_CONTAINER_SECURITY_CONTEXT, RESTRICTED_POD_SECURITY_CONTEXT } from "../mesh/podSecurity";
import { cachedImage, type ImageRegistry } from "../images";

/**
 * Downloads a model version from S3 before TF Serving starts (TF Serving lost its S3 file
 * system in 2.7): KServe's storage initializer, at the pinned KServe release, using the pod's
 * IRSA credentials.
 */
export const MODEL_DOWNLOADER_IMAGE = `kserve/storage-initializer:${KSERVE_VERSION}`;
/** Where each version's files land inside the pod. */
export const MODEL_MOUNT_PATH = "/models";

export const TF_SERVING_GRPC_PORT = 8500;
export const TF_SERVING_REST_PORT = 8501;
export const TF_SERVING_METRICS_PATH = "/monitoring/prometheus/metrics";

export { TF_SERVING_CLIENT_METHODS };

/** What a model needs from the cluster it runs on (a GpuCluster fits). */
export interface ServingCluster extends ClusterOidc {
    readonly provider: k8s.Provider;
    readonly gpuNodeGroups: readonly GpuNodeGroupPlacement[];
    /** Where images are pulled from (a GpuCluster's image cache). */
    readonly images: pulumi.Input<ImageRegistry>;
}

/** What a model needs from the mesh it joins (an IstioMesh fits). */
export interface ServingMesh {
    /** The Istio revision whose proxies the model's pods run. */
    readonly revision: string;
    readonly namespaces: readonly string[];
    readonly defaultSidecar: SidecarResources;
    /** `host:port` of the trace collector, for workloads whose Sidecar scopes their egress. @default none */
    readonly otelCollector?: string;
    /** What a workload waits for (an IstioMesh's injector, namespaces and their policies): only the model's Kubernetes objects wait. */
    readonly readyForWorkloads?: readonly pulumi.Resource[];
    /** Each mesh namespace's Namespace object (a model's service account needs only its namespace). */
    readonly namespaceObjects?: Readonly<Record<string, pulumi.Resource>>;
}

/** What needs only its namespace waits for: the mesh's Namespace object of it, when the mesh made one. */
export function namespaceReady(mesh: ServingMesh, namespace: string): pulumi.Resource[] {
    const object = mesh.namespaceObjects?.[namespace];
    return object === undefined ? [] : [object];
}

export interface TfServingModelArgs {
    model: TfServingModelSpec;
    cluster: ServingCluster;
    mesh: ServingMesh;
    tags?: Record<string, string>;
    /**
     * The fewest pods of each version, however small its traffic share, so a canary survives a
     * node drain like the stable version (MlPlatform sets its tier's floor). @default 1
     */
    minVersionReplicas?: number;
}

/** The server's Prometheus endpoint, in TF Serving's monitoring config format. */
export const TF_SERVING_MONITORING_CONFIG = `prometheus_config {\n  enable: true,\n  path: "${TF_SERVING_METRICS_PATH}"\n}\n`;

/**
 * A TensorFlow Serving model in the mesh: a Deployment per version (gRPC 8500, REST 8501) whose
 * init container copies the version from S3 (through IRSA, scoped to the model's prefixes),
 * one Service, an HPA and a PodDisruptionBudget per version, and Istio routing, circuit
 * breaking and authorization.
 */
export class TfServingModel extends pulumi.ComponentResource {
    public readonly serviceHost: string;
    public readonly roleArn: pulumi.Output<string>;
    /** What the model's AuthorizationPolicy selects, so an app team's policy can admit one more caller. */
    public readonly access: ModelAccess;
    public readonly versions: readonly string[];

    constructor(name: string, args: TfServingModelArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlmesh:serving:TfServingModel", name, {}, opts);
        const model = args.model;
        validateModelSpec(model, { gpuNodeGroups: args.cluster.gpuNodeGroups, namespaces: args.mesh.namespaces, defaultSidecar: args.mesh.defaultSidecar })
            .throwIfAny(`TfServingModel ${name}`);
        const namespace = model.namespace;
        const gpus = model.gpus ?? 0;
        const group = chosenGpuGroup(model, args.cluster.gpuNodeGroups);
        const sidecar = args.mesh.defaultSidecar.override(model.sidecar);
        const k8sOpts = childOptions(this, opts, { provider: args.cluster.provider, dependsOn: [...(args.mesh.readyForWorkloads ?? [])] });
        const labels = { app: model.name, "app.kubernetes.io/name": model.name, "app.kubernetes.io/component": "tfserving", "app.kubernetes.io/part-of": "mlmesh" };
        this.serviceHost = `${model.name}.${namespace}.svc.cluster.local`;
        this.versions = model.versions.map((version) => version.name);

        const partition = aws.getPartitionOutput({}, { parent: this });
        const region = aws.getRegionOutput({}, { parent: this }).region;
        const images = pulumi.output(args.cluster.images);
        const identity = new IrsaServiceAccount(`${name}-s3`, {
            cluster: args.cluster,
            namespace,
            serviceAccountName: `${model.name}-tfserving`,
            policy: partition.apply((p) => JSON.stringify(s3ReadPolicy({ uris: model.versions.map((v) => v.modelUri), partition: p.partition, dnsSuffix: p.dnsSuffix, kmsKeyArn: model.modelKmsKeyArn }))),
            tags: args.tags,
            serviceAccountAfter: namespaceReady(args.mesh, namespace),
        }, childOptions(this, opts));

        const monitoring = new k8s.core.v1.ConfigMap(`${name}-monitoring`, {
            metadata: { name: `${model.name}-monitoring`, namespace, labels },
            data: { "monitoring.config": TF_SERVING_MONITORING_CONFIG },
            // Needs only its namespace; the pods that read it wait for the rest of the mesh.
        }, childOptions(this, opts, { provider: args.cluster.provider, dependsOn: namespaceReady(args.mesh, namespace) }));

        const floor = Math.max(1, args.minVersionReplicas ?? 1);
        const range = model.replicas ?? widenedReplicas(DEFAULT_MODEL_REPLICAS, floor, model.versions.length);
        const ranges = versionReplicas(range, model.versions.map((version) => version.weight), floor);
        const scheduling = gpuScheduling(group);
        const deployments = model.versions.map((version, index) => {
            const versionName = `${model.name}-${version.name}`;
            const podLabels = { ...labels, version: version.name };
            const replicas = ranges[index];
            const deployment = new k8s.apps.v1.Deployment(`${name}-${version.name}`, {
                metadata: { name: versionName, namespace, labels: podLabels },
                spec: {
                    replicas: replicas.min,
                    selector: { matchLabels: { app: model.name, version: version.name } },
                    template: {
                        metadata: {
                            labels: podLabels,
                            annotations: {
                                ...sidecar.annotations(),
                                [MESH_REVISION_ANNOTATION]: args.mesh.revision,
                                "prometheus.io/scrape": "true",
                                "prometheus.io/port": String(TF_SERVING_REST_PORT),
                                "prometheus.io/path": TF_SERVING_METRICS_PATH,
                            },
                        },
                        spec: {
                            serviceAccountName: identity.serviceAccountName,
                            securityContext: RESTRICTED_POD_SECURITY_CONTEXT,
                            ...scheduling,
                            initContainers: [{
                                name: "model-download",
                                image: images.apply((registry) => cachedImage(MODEL_DOWNLOADER_IMAGE, registry)),
                                args: [modelDownloadUri(version.modelUri), `${MODEL_MOUNT_PATH}/${model.name}`],
                                env: [
                                    { name: "AWS_REGION", value: region },
                                    { name: "AWS_DEFAULT_REGION", value: region },
                                    // The regional STS endpoint, which the mesh lets out (the global one it does not).
                                    { name: "AWS_STS_REGIONAL_ENDPOINTS", value: "regional" },
                                ],
                                // The pod's own non-root user: the native sidecar is ready before init
                                // containers start, so the download goes through the mesh.
                                securityContext: { runAsNonRoot: true, ...RESTRICTED_CONTAINER_SECURITY_CONTEXT },
                                // KServe's own sizing of this image (kserve/kserve:charts/kserve-resources/values.yaml@v0.20.0 `kserve.storage.resources`).
                                resources: { requests: { cpu: "100m", memory: "100Mi" }, limits: { cpu: "1", memory: "1Gi" } },
                                volumeMounts: [
                                    { name: "model", mountPath: MODEL_MOUNT_PATH },
                                    { name: "tmp", mountPath: "/tmp" },
                                ],
                            }],
                            containers: [{
                                name: "tfserving",
                                image: images.apply((registry) => cachedImage(tfServingImage(model), registry)),
                                args: [
                                    `--port=${TF_SERVING_GRPC_PORT}`,
                                    `--rest_api_port=${TF_SERVING_REST_PORT}`,
                                    `--model_name=${model.name}`,
                                    `--model_base_path=${MODEL_MOUNT_PATH}/${model.name}`,
                                    "--monitoring_config_file=/etc/tfserving/monitoring.config",
                                ],
                                ports: [
                                    { name: "grpc", containerPort: TF_SERVING_GRPC_PORT },
                                    { name: "http", containerPort: TF_SERVING_REST_PORT },
                                ],
                                resources: containerResources(model.resources, gpus),
                                startupProbe: { httpGet: { path: `/v1/models/${model.name}`, port: TF_SERVING_REST_PORT }, ...STARTUP_PROBE },
                                readinessProbe: { httpGet: { path: `/v1/models/${model.name}`, port: TF_SERVING_REST_PORT }, periodSeconds: 10, failureThreshold: 3 },
                                livenessProbe: { tcpSocket: { port: TF_SERVING_GRPC_PORT }, periodSeconds: 20, failureThreshold: 3 },
                                securityContext: RESTRICTED_CONTAINER_SECURITY_CONTEXT,
                                volumeMounts: [
                                    { name: "tmp", mountPath: "/tmp" },
                                    { name: "model", mountPath: MODEL_MOUNT_PATH, readOnly: true },
                                    { name: "monitoring", mountPath: "/etc/tfserving", readOnly: true },
                                ],
                            }],
                            volumes: [
                                { name: "tmp", emptyDir: {} },
                                { name: "model", emptyDir: {} },
                                { name: "monitoring", configMap: { name: monitoring.metadata.name } },
                            ],
                        },
                    },
                },
            }, pulumi.mergeOptions(k8sOpts, {
                dependsOn: [identity],
                // The HPA owns the live replica count once the Deployment exists.
                ignoreChanges: ["spec.replicas"],
                customTimeouts: rolloutTimeouts(),
            }));
            new k8s.autoscaling.v2.HorizontalPodAutoscaler(`${name}-${version.name}`, {
                metadata: { name: versionName, namespace, labels: podLabels },
                spec: {
                    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: versionName },
                    minReplicas: replicas.min,
                    maxReplicas: replicas.max,
                    metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }],
                },
            }, k8sOpts);
            new k8s.policy.v1.PodDisruptionBudget(`${name}-${version.name}`, {
                metadata: { name: versionName, namespace, labels: podLabels },
                spec: { maxUnavailable: 1, selector: { matchLabels: { app: model.name, version: version.name } } },
            }, k8sOpts);
            return deployment;
        });

        new k8s.core.v1.Service(`${name}-service`, {
            metadata: { name: model.name, namespace, labels },
            spec: {
                selector: { app: model.name },
                ports: [
                    { name: "grpc", port: TF_SERVING_GRPC_PORT, targetPort: TF_SERVING_GRPC_PORT, appProtocol: "grpc" },
                    { name: "http", port: TF_SERVING_REST_PORT, targetPort: TF_SERVING_REST_PORT, appProtocol: "http" },
                ],
            },
        }, k8sOpts);

        const routed = { name: model.name, namespace, host: this.serviceHost, versions: model.versions, ...effectiveTraffic(model) };
        // Routing waits for every version to be Ready, so a new weight never lands on pending pods.
        const custom = (role: string, manifest: IstioManifest) => new k8s.apiextensions.CustomResource(`${name}-${role}`, { ...manifest }, pulumi.mergeOptions(k8sOpts, { dependsOn: deployments }));
        custom("routes", modelVirtualService(routed));
        custom("traffic", modelDestinationRule({ ...routed, circuitBreaker: model.circuitBreaker }));
        const access: AccessOptions = {
            name: model.name,
            namespace,
            selector: { app: model.name },
            principals: model.allowedPrincipals ?? [],
            httpPaths: tfServingApis(model.name).filter((api) => !api.grpc).flatMap((api) => api.serverPaths),
            grpcPaths: TF_SERVING_CLIENT_METHODS,
        };
        custom("access", modelAuthorizationPolicy(access));
        this.access = modelAccess(access);

        this.roleArn = identity.roleArn;
        this.registerOutputs({ serviceHost: this.serviceHost, roleArn: this.roleArn, versions: this.versions });
    }
}
