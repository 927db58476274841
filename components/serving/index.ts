export { TfServingModel, TF_SERVING_GRPC_PORT, TF_SERVING_REST_PORT, TF_SERVING_METRICS_PATH, TF_SERVING_MONITORING_CONFIG } from "./tfServingModel";
export type { ServingCluster, ServingMesh, TfServingModelArgs } from "./tfServingModel";
export { KServe, KSERVE_VERSION, KSERVE_CHART_REGISTRY, KSERVE_NAMESPACE, kserveResourcesValues, kserveRuntimeValues } from "./kserve";
export type { KServeArgs } from "./kserve";
export { KServeModel, inferenceServiceManifest, kserveRuntimeVersion, KSERVE_ISVC_LABEL } from "./kserveModel";
export type { KServeModelArgs } from "./kserveModel";
export {
    KSERVE_DEPLOYMENT_MODES, KSERVE_MODEL_FORMATS, MODEL_BACKENDS, TF_SERVING_IMAGE, TF_SERVING_GPU_IMAGE, TF_SERVING_VERSION,
    DEFAULT_CIRCUIT_BREAKER, DEFAULT_RETRIES, DEFAULT_TIMEOUT,
    parseDuration, parseS3Uri, tfServingImage, validateModelSpec, validateModels,
} from "./modelSpec";
export type { CircuitBreaker, KServeModelSpec, ModelEntry, ModelSpec, ModelVersionSpec, PathOverride, RequiredClaims, RetryPolicy, SplitModelSpec, SplitRoute, TfServingModelSpec } from "./modelSpec";
export { modelAuthorizationPolicy, modelDestinationRule, modelVirtualService, INGRESS_GATEWAY_PRINCIPAL, VERSION_HEADER } from "./trafficPolicy";
export { containerResources, gpuScheduling, s3ReadPolicy, versionReplicas } from "./workloadPlacement";
