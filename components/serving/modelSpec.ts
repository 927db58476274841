/**
 * What a model is, as a user declares it, and the checks that run before anything is created:
 * names, versions and weights, images, durations, quantities, GPU placement and traffic policy.
 * Pure: the stack config and the serving components share these checks.
 */
import type { GpuNodeGroupPlacement } from "../cluster/gpuPlacement";
import { PropertyErrors } from "../propertyErrors";
import { parseQuantity } from "../mesh/quantity";
import { fitProblems, tfServingImageProblem, type NodeCapacity } from "./modelFit";
import { SidecarResources, type SidecarResourcesSpec } from "../mesh/sidecarResources";
import { SHORT_NAME } from "../names";
import { profileOf, type Environment } from "../platform/environment";
import { validateSageMaker, type SageMakerModelSpec } from "../sagemaker/sagemakerSpec";
import { checkCount, checkDuration, checkTraffic, parseDuration } from "./trafficSpec";
import type { PathOverride, RequiredClaims, SplitModelSpec } from "./routeSpec";

export { parseDuration };
export type { PathOverride, RequiredClaims, SplitModelSpec, SplitRoute } from "./routeSpec";

/** TF Serving release mlmesh runs when a model names no image. */
export const TF_SERVING_VERSION = "2.20.0";
export const TF_SERVING_IMAGE = `tensorflow/serving:${TF_SERVING_VERSION}`;
export const TF_SERVING_GPU_IMAGE = `tensorflow/serving:${TF_SERVING_VERSION}-gpu`;

export const MODEL_BACKENDS = ["tfserving", "kserve", "sagemaker", "split"] as const;
export const KSERVE_MODEL_FORMATS = ["tensorflow", "pytorch", "sklearn", "xgboost", "onnx", "triton", "huggingface"] as const;
export type KServeModelFormat = (typeof KSERVE_MODEL_FORMATS)[number];
export const KSERVE_DEPLOYMENT_MODES = ["Standard", "Knative"] as const;
export type KServeDeploymentMode = (typeof KSERVE_DEPLOYMENT_MODES)[number];

export interface ModelVersionSpec {
    /** DNS label; the `version` pod label and the `x-model-version` header value. */
    name: string;
    /** `s3://bucket/prefix` of the SavedModel base path. */
    modelUri: string;
    /** Percent of traffic without an `x-model-version` header; all versions add up to 100. */
    weight: number;
}

export interface RetryPolicy {
    /** @default 3 */
    attempts?: number;
    /** @default "10s" */
    perTryTimeout?: string;
    /** @default "5xx,reset,connect-failure" */
    retryOn?: string;
}

export interface CircuitBreaker {
    /** @default 5 */
    consecutive5xxErrors?: number;
    /** @default "30s" */
    interval?: string;
    /** @default "60s" */
    baseEjectionTime?: string;
    /** @default 50 */
    maxEjectionPercent?: number;
    /** @default 1000 */
    maxConnections?: number;
    /** @default 1000 */
    http2MaxRequests?: number;
}

/** What every model has, whichever server runs it. */
export interface CommonModelSpec {
    /** DNS label, unique in its namespace. */
    name: string;
    /** A namespace of the mesh (`mlmesh:mesh.namespaces`). */
    namespace: string;
    /** GPUs per replica; 0 runs on CPU nodes. @default 0 */
    gpus?: number;
    /** The GPU node group to run on. @default the first group */
    gpuNodeGroup?: string;
    /** Requests for the model container (limits equal them). @default { cpu: "1", memory: "2Gi" } */
    resources?: { cpu?: string; memory?: string };
    /** Sidecar size; unset fields come from the mesh default. @default the mesh default */
    sidecar?: SidecarResourcesSpec;
    /** @default { min: 1, max: 3 } */
    replicas?: { min: number; max: number };
    /** Request timeout. @default "30s" ("300s" for huggingface models) */
    timeout?: string;
    /** @default { attempts: 3, perTryTimeout: "10s", retryOn: "5xx,reset,connect-failure" } (attempts 0 for huggingface models) */
    retries?: RetryPolicy;
    /** @default { consecutive5xxErrors: 5, interval: "30s", baseEjectionTime: "60s", maxEjectionPercent: 50, maxConnections: 1000, http2MaxRequests: 1000 } */
    circuitBreaker?: CircuitBreaker;
    /** SPIFFE principals allowed to call the model (`cluster.local/ns/<ns>/sa/<sa>`); the ingress gateway always is. @default [] */
    allowedPrincipals?: string[];
    /**
     * The KMS key ARN of SSE-KMS model objects; the model's role may then decrypt with it, but
     * only through S3. @default none (SSE-S3 or unencrypted objects)
     */
    modelKmsKeyArn?: string;
    /**
     * Timeout and retries for the requests under a path, where calls differ in cost (an LLM's chat
     * completions and its embeddings). The prefix is a path the model's server answers. @default []
     */
    paths?: PathOverride[];
    /**
     * Claims a caller's JWT must carry at the front door, each claim one of its listed values,
     * e.g. `{ groups: [fraud-analysts] }`. Needs `mlmesh:mesh.ingressGateway.jwt`. @default none
     */
    requireClaims?: RequiredClaims;
}

export interface TfServingModelSpec extends CommonModelSpec {
    backend: "tfserving";
    versions: ModelVersionSpec[];
    /** `repo:tag` or `repo@sha256:…`; `latest` is refused. @default the pinned TF Serving (-gpu when gpus > 0) */
    image?: string;
}

export interface KServeModelSpec extends CommonModelSpec {
    backend: "kserve";
    modelFormat: KServeModelFormat;
    storageUri: string;
    /** Version of the serving runtime image to use. @default the runtime's pinned version */
    runtimeVersion?: string;
    /**
     * Percent of traffic for the canary. Knative mode splits between the previous and the latest
     * revision of `storageUri`; Standard mode runs `canaryStorageUri` as a named canary predictor.
     */
    canaryTrafficPercent?: number;
    /** The model the Standard-mode canary serves (KServe v0.20 `spec.canary`). */
    canaryStorageUri?: string;
    /** @default "Standard" */
    deploymentMode?: KServeDeploymentMode;
}

export type ModelSpec = TfServingModelSpec | KServeModelSpec | SageMakerModelSpec;
/** What a stack lists under `models`: served models and splits between them. */
export type ModelEntry = ModelSpec | SplitModelSpec;

export function isServed(entry: ModelEntry): entry is ModelSpec {
    return entry.backend !== "split";
}

/** Replica range of a model that sets none. */
export const DEFAULT_MODEL_REPLICAS = { min: 1, max: 3 } as const;
/** Model container requests (and limits) when a model sets none. */
export const DEFAULT_MODEL_RESOURCES = { cpu: "1", memory: "2Gi" } as const;
export const DEFAULT_DEPLOYMENT_MODE: KServeDeploymentMode = "Standard";

/** Traffic policy defaults: what the routes get when a model sets none. */
export const DEFAULT_TIMEOUT = "30s";
export const DEFAULT_RETRIES: Required<RetryPolicy> = { attempts: 3, perTryTimeout: "10s", retryOn: "5xx,reset,connect-failure" };
export const DEFAULT_CIRCUIT_BREAKER: Required<CircuitBreaker> = {
    consecutive5xxErrors: 5, interval: "30s", baseEjectionTime: "60s", maxEjectionPercent: 50, maxConnections: 1000, http2MaxRequests: 1000,
};

/**
 * Generation is long and not idempotent: a Hugging Face model (an LLM behind KServe's OpenAI
 * API) gets a 5-minute timeout and no retries unless it sets its own, so a slow completion is
 * neither cut at 30 s nor run again on the GPU.
 */
export const LLM_TRAFFIC_DEFAULTS = { timeout: "300s", retries: { attempts: 0 } } as const;

/** The timeout and retries a model's routes carry: its own, else its kind's defaults. */
export function effectiveTraffic(spec: ModelEntry): { timeout: string; retries: Required<RetryPolicy> } {
    const llm = spec.backend === "kserve" && spec.modelFormat === "huggingface";
    return {
        timeout: spec.timeout ?? (llm ? LLM_TRAFFIC_DEFAULTS.timeout : DEFAULT_TIMEOUT),
        retries: { ...DEFAULT_RETRIES, ...(llm ? LLM_TRAFFIC_DEFAULTS.retries : {}), ...spec.retries },
    };
}

/** What the platform offers a model: GPU groups to run on and mesh namespaces to live in. */
export interface ModelContext {
    readonly gpuNodeGroups: readonly GpuNodeGroupPlacement[];
    readonly namespaces: readonly string[];
    readonly defaultSidecar: SidecarResources;
    /** Whether Knative Serving runs in the cluster (KServe's Knative mode needs it). @default false */
    readonly knativeServing?: boolean;
    /** The deployment tier, whose floors apply (replicas, SageMaker instances). @default undefined (no tier rules) */
    readonly environment?: Environment;
    /** Each GPU group's smallest node: a GPU model's pod must fit it. @default unknown (not checked) */
    readonly gpuNodeCapacity?: Readonly<Record<string, readonly NodeCapacity[]>>;
}

const KMS_KEY_ARN = /^arn:aws(-cn|-us-gov|-iso[a-z]?)?:kms:[a-z0-9-]+:\d{12}:key\/(mrk-)?[a-f0-9-]{32,36}$/;
const PRINCIPAL = /^[a-z0-9.-]+\/ns\/[a-z0-9-]+\/sa\/[a-z0-9.-]+$/;
const S3_URI = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^\s]*)?$/;
const IMAGE = /^[a-z0-9]+([._/-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[\w][\w.-]{0,127}|@sha256:[a-f0-9]{64})$/;

/** Bucket and key prefix of an `s3://` URI. */
export function parseS3Uri(uri: string): { bucket: string; prefix: string } {
    const [, , bucket, ...rest] = uri.split("/");
    return { bucket, prefix: rest.join("/").replace(/\/+$/, "") };
}

/**
 * The URI handed to the storage initializer: the prefix as a directory (`s3://b/resnet/v1/`).
 * The initializer lists keys by the URI's path as written, so `s3://b/resnet/v1` would also
 * download `resnet/v10/...` (kserve/kserve:python/storage/kserve_storage/kserve_storage.py@v0.20.0).
 */
export function modelDownloadUri(uri: string): string {
    const { bucket, prefix } = parseS3Uri(uri);
    return `s3://${bucket}/${prefix ? `${prefix}/` : ""}`;
}

/** The image a TF Serving model runs: its own, or the pinned one for CPU or GPU. */
export function tfServingImage(spec: Pick<TfServingModelSpec, "image" | "gpus">): string {
    return spec.image ?? ((spec.gpus ?? 0) > 0 ? TF_SERVING_GPU_IMAGE : TF_SERVING_IMAGE);
}

/** The GPU group a model runs on, or undefined for CPU models. Assumes a validated spec. */
export function chosenGpuGroup(spec: CommonModelSpec, groups: readonly GpuNodeGroupPlacement[]): GpuNodeGroupPlacement | undefined {
    if ((spec.gpus ?? 0) === 0) {
        return undefined;
    }
    return spec.gpuNodeGroup === undefined ? groups[0] : groups.find((group) => group.name === spec.gpuNodeGroup);
}

/** Object names the mesh already takes in every ML namespace. */
const RESERVED_MODEL_NAMES: readonly string[] = ["default-deny"];

/** What every entry has, split or served: its name, its namespace, and who may call it. */
function validateIdentity(spec: Pick<ModelEntry, "name" | "namespace" | "allowedPrincipals">, context: Pick<ModelContext, "namespaces">, errors: PropertyErrors, at: string): void {
    errors.check(`${at}name`, spec.name, !SHORT_NAME.test(spec.name) ? "must be a DNS-1123 label of at most 40 characters, starting with a letter"
        : RESERVED_MODEL_NAMES.includes(spec.name) ? "is reserved: the namespace's default-deny AuthorizationPolicy has that name; pick another" : undefined);
    errors.check(`${at}namespace`, spec.namespace, context.namespaces.includes(spec.namespace) ? undefined : `is not a mesh namespace; add it to mlmesh:mesh.namespaces or use one of: ${context.namespaces.join(", ")}`);
    (spec.allowedPrincipals ?? []).forEach((principal, i) =>
        errors.check(`${at}allowedPrincipals[${i}]`, principal, PRINCIPAL.test(principal) ? undefined : "must be a SPIFFE principal like cluster.local/ns/ml-frontend/sa/frontend-sa (no wildcards)"));
}

function validateCommon(spec: ModelSpec, context: ModelContext, errors: PropertyErrors, at: string): void {
    validateIdentity(spec, context, errors, at);
    const gpus = spec.gpus ?? 0;
    checkCount(errors, `${at}gpus`, spec.gpus, 0, 8);
    if (gpus > 0 && context.gpuNodeGroups.length === 0) {
        errors.check(`${at}gpus`, spec.gpus, "asks for GPUs but the cluster has no GPU node group; add one to mlmesh:cluster.gpuNodeGroups or set gpus: 0");
    }
    const named = spec.gpuNodeGroup === undefined ? undefined : context.gpuNodeGroups.find((candidate) => candidate.name === spec.gpuNodeGroup);
    if (spec.gpuNodeGroup !== undefined && !named) {
        errors.check(`${at}gpuNodeGroup`, spec.gpuNodeGroup, `is not a GPU node group of the cluster; use one of: ${context.gpuNodeGroups.map((g) => g.name).join(", ") || "(none configured)"}`);
    } else if (spec.gpuNodeGroup !== undefined && gpus === 0) {
        errors.check(`${at}gpuNodeGroup`, spec.gpuNodeGroup, "has no effect with gpus: 0; remove it or ask for GPUs");
    } else {
        const group = chosenGpuGroup(spec, context.gpuNodeGroups);
        if (group && group.timeSlicingReplicas > 1 && gpus > 1) {
            errors.check(`${at}gpus`, spec.gpus, `must be 1 on group ${group.name}: it shares GPUs by time-slicing, and the device plugin refuses a request for more than one share`);
        } else if (group && gpus > group.gpusPerNode) {
            errors.check(`${at}gpus`, spec.gpus, `exceeds the ${group.gpusPerNode} schedulable GPU(s) per node of group ${group.name}; a replica cannot span nodes`);
        }
        const capacity = group && gpus > 0 ? context.gpuNodeCapacity?.[group.name] : undefined;
        if (group && capacity && capacity.length > 0) {
            const sidecar = { ...context.defaultSidecar, ...spec.sidecar };
            const fit = fitProblems({ cpu: spec.resources?.cpu ?? DEFAULT_MODEL_RESOURCES.cpu, memory: spec.resources?.memory ?? DEFAULT_MODEL_RESOURCES.memory }, { cpu: sidecar.cpu, memory: sidecar.memory }, capacity, group.name);
            errors.check(`${at}resources.cpu`, spec.resources?.cpu ?? DEFAULT_MODEL_RESOURCES.cpu, fit.cpu);
            errors.check(`${at}resources.memory`, spec.resources?.memory ?? DEFAULT_MODEL_RESOURCES.memory, fit.memory);
        }
    }
    for (const field of ["cpu", "memory"] as const) {
        const value = spec.resources?.[field];
        const parsed = value === undefined ? 0 : parseQuantity(value, field);
        errors.check(`${at}resources.${field}`, value, typeof parsed === "string" ? parsed : undefined);
    }
    SidecarResources.validate({ ...context.defaultSidecar, ...spec.sidecar, concurrency: spec.sidecar?.concurrency ?? context.defaultSidecar.concurrency }, errors, `${at}sidecar`);
    if (spec.replicas) {
        checkCount(errors, `${at}replicas.min`, spec.replicas.min, 1, 1000);
        checkCount(errors, `${at}replicas.max`, spec.replicas.max, 1, 1000);
        errors.check(`${at}replicas.max`, spec.replicas.max, spec.replicas.max < spec.replicas.min ? `is below \`replicas.min\` (${spec.replicas.min})` : undefined);
        const floor = context.environment ? profileOf(context.environment).minModelReplicas : 1;
        const versions = spec.backend === "tfserving" ? spec.versions.length : 1;
        const fewest = floor * versions;
        const where = context.environment ? ` in ${context.environment}` : "";
        errors.check(`${at}replicas.min`, spec.replicas.min, spec.replicas.min >= 1 && spec.replicas.min < fewest
            ? versions > 1
                ? `must be at least ${fewest}${where}: each of the ${versions} versions keeps ${floor} pod(s) whatever its weight, so a node drain never stops one; raise it, or leave replicas unset`
                : `must be at least ${floor}${where}: one replica stops serving on a node drain or the loss of its zone; raise it, or leave replicas unset for ${JSON.stringify(profileOf(context.environment).modelReplicas)}`
            : undefined);
    }
    checkTraffic(errors, at, spec, effectiveTraffic(spec));
    const breaker = spec.circuitBreaker;
    checkDuration(errors, `${at}circuitBreaker.interval`, breaker?.interval);
    checkDuration(errors, `${at}circuitBreaker.baseEjectionTime`, breaker?.baseEjectionTime);
    checkCount(errors, `${at}circuitBreaker.consecutive5xxErrors`, breaker?.consecutive5xxErrors, 1, 1000);
    checkCount(errors, `${at}circuitBreaker.maxEjectionPercent`, breaker?.maxEjectionPercent, 0, 100);
    checkCount(errors, `${at}circuitBreaker.maxConnections`, breaker?.maxConnections, 1, 1_000_000);
    checkCount(errors, `${at}circuitBreaker.http2MaxRequests`, breaker?.http2MaxRequests, 1, 1_000_000);
    errors.check(`${at}modelKmsKeyArn`, spec.modelKmsKeyArn, spec.modelKmsKeyArn === undefined || KMS_KEY_ARN.test(spec.modelKmsKeyArn) ? undefined
        : "must be a KMS key ARN like arn:aws:kms:us-west-2:123456789012:key/<key id> (an alias cannot grant kms:Decrypt)");
}

function validateTfServing(spec: TfServingModelSpec, errors: PropertyErrors, at: string): void {
    if (spec.image !== undefined) {
        const reason = !IMAGE.test(spec.image)
            ? "must be an image reference with a tag or digest, e.g. tensorflow/serving:2.20.0-gpu"
            : /:latest$/.test(spec.image) ? "uses the floating tag latest; pin a version tag or a digest so every replica runs the same server"
            : tfServingImageProblem(spec.image, spec.gpus ?? 0);
        errors.check(`${at}image`, spec.image, reason);
    }
    errors.check(`${at}versions`, spec.versions, spec.versions.length === 0 ? "must list at least one model version" : undefined);
    const seen = new Set<string>();
    spec.versions.forEach((version, i) => {
        errors.check(`${at}versions[${i}].name`, version.name, !SHORT_NAME.test(version.name) ? "must be a DNS-1123 label" : seen.has(version.name) ? "is used by an earlier version; version names must be unique" : undefined);
        seen.add(version.name);
        errors.check(`${at}versions[${i}].modelUri`, version.modelUri, S3_URI.test(version.modelUri) ? undefined : "must be an s3://bucket/prefix URI");
        checkCount(errors, `${at}versions[${i}].weight`, version.weight, 0, 100);
    });
    const total = spec.versions.reduce((sum, version) => sum + version.weight, 0);
    if (spec.versions.length > 0 && total !== 100) {
        errors.check(`${at}versions`, spec.versions.map((v) => `${v.name}:${v.weight}`), `have weights adding up to ${total}; they must add up to 100`);
    }
}

function validateKServe(spec: KServeModelSpec, context: ModelContext, errors: PropertyErrors, at: string): void {
    errors.check(`${at}modelFormat`, spec.modelFormat, KSERVE_MODEL_FORMATS.includes(spec.modelFormat) ? undefined : `must be one of ${KSERVE_MODEL_FORMATS.join(", ")}`);
    errors.check(`${at}storageUri`, spec.storageUri, S3_URI.test(spec.storageUri) ? undefined : "must be an s3://bucket/prefix URI");
    errors.check(`${at}deploymentMode`, spec.deploymentMode, spec.deploymentMode === undefined || KSERVE_DEPLOYMENT_MODES.includes(spec.deploymentMode)
        ? spec.deploymentMode === "Knative" && !context.knativeServing
            ? "needs Knative Serving, which this platform does not install; use Standard"
            : undefined
        : `must be one of ${KSERVE_DEPLOYMENT_MODES.join(", ")}`);
    checkCount(errors, `${at}canaryTrafficPercent`, spec.canaryTrafficPercent, 0, 100);
    const mode = spec.deploymentMode ?? DEFAULT_DEPLOYMENT_MODE;
    if (spec.canaryStorageUri !== undefined) {
        errors.check(`${at}canaryStorageUri`, spec.canaryStorageUri, !S3_URI.test(spec.canaryStorageUri)
            ? "must be an s3://bucket/prefix URI"
            : mode === "Knative" ? "has no effect in Knative mode, where the canary is the next revision of `storageUri`; remove it"
            : spec.canaryTrafficPercent === undefined ? "needs `canaryTrafficPercent` to say how much traffic the canary gets" : undefined);
    } else if (spec.canaryTrafficPercent !== undefined && mode === "Standard") {
        errors.check(`${at}canaryTrafficPercent`, spec.canaryTrafficPercent, "needs `canaryStorageUri` in Standard mode: KServe runs a Standard canary as its own predictor (it ignores canaryTrafficPercent there); or use deploymentMode: Knative");
    }
    errors.check(`${at}runtimeVersion`, spec.runtimeVersion, spec.runtimeVersion === undefined || /^[\w][\w.-]{0,127}$/.test(spec.runtimeVersion) ? undefined : "must be an image tag, e.g. 2.20.0");
}

/** Validates one model; paths are relative to `at` (e.g. `models[1].`). */
export function validateModelSpec(spec: ModelSpec, context: ModelContext, errors = new PropertyErrors(), at = ""): PropertyErrors {
    validateCommon(spec, context, errors, at);
    if (spec.backend === "tfserving") {
        validateTfServing(spec, errors, at);
    } else if (spec.backend === "kserve") {
        validateKServe(spec, context, errors, at);
    } else if (spec.backend === "sagemaker") {
        const timeout = parseDuration(effectiveTraffic(spec).timeout);
        validateSageMaker(spec, { environment: context.environment, timeoutMs: typeof timeout === "number" ? timeout : undefined }, errors, at);
    } else {
        errors.check(`${at}backend`, (spec as { backend: unknown }).backend, `must be one of ${MODEL_BACKENDS.join(", ")}`);
    }
    return errors;
}

/**
 * The Kubernetes object names a model takes in its namespace: its own, one per TF Serving
 * version, and the predictor Services (and canary rule) KServe and mlmesh make. A split takes
 * none: its routes live with the front door's.
 */
function objectNames(model: ModelEntry): string[] {
    if (model.backend === "split") {
        return [];
    }
    if (model.backend === "tfserving") {
        return [model.name, ...model.versions.map((version) => `${model.name}-${version.name}`)];
    }
    if (model.backend === "sagemaker") {
        return [model.name];
    }
    const canary = model.canaryStorageUri !== undefined ? [`${model.name}-canary`, `${model.name}-canary-predictor`] : [];
    return [model.name, `${model.name}-predictor`, ...canary];
}

/**
 * Validates a list of models (splits only for their name, namespace and callers: the front door
 * checks the rest), including that no two claim one object name in a namespace (model "a"
 * version "b-c" and model "a-b" version "c" would both make Deployment a-b-c), that namespace
 * and model names do not run together into one component name, and that names are unique
 * across namespaces: the front door serves `/v1/models/<name>` by name alone.
 */
export function validateModels(models: readonly ModelEntry[], context: ModelContext, errors = new PropertyErrors(), at = "models"): PropertyErrors {
    const claimed = new Map<string, number>();
    const components = new Map<string, number>();
    const published = new Map<string, number>();
    models.forEach((model, i) => {
        if (isServed(model)) {
            validateModelSpec(model, context, errors, `${at}[${i}].`);
        } else {
            validateIdentity(model, context, errors, `${at}[${i}].`);
        }
        const clash = objectNames(model).map((name) => claimed.get(`${model.namespace}/${name}`)).find((owner) => owner !== undefined);
        const component = components.get(`${model.namespace}-${model.name}`);
        const twin = published.get(model.name);
        errors.check(`${at}[${i}].name`, model.name, clash !== undefined
            ? `takes an object name that models[${clash}] already uses in namespace ${model.namespace}; rename the model or its versions`
            : component !== undefined ? `collides with models[${component}]: namespace and model name run together into the same name`
            : twin !== undefined ? `is also the name of models[${twin}]${models[twin].namespace === model.namespace ? "" : ` in namespace ${models[twin].namespace}`}; the front door serves /v1/models/${model.name} by name alone, so model names must be unique across namespaces` : undefined);
        published.set(model.name, published.get(model.name) ?? i);
        objectNames(model).forEach((name) => claimed.set(`${model.namespace}/${name}`, i));
        components.set(`${model.namespace}-${model.name}`, i);
    });
    return errors;
}
