/**
 * The pack's KServe guardrails, and what the pack counts as a model workload (an
 * InferenceService, or a pod template that serves a model), which the Istio rules share.
 * Semantics follow KServe v0.20.0 (kserve/kserve:pkg/apis/serving/v1beta1, pkg/controller/v1beta1).
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { containersOf, describeObject, kubernetesObject, podMetadataOf, podSpecOf, type KubeObject } from "./kubernetes";

export const GPU_RESOURCE = "nvidia.com/gpu";
/** The label KServe puts on every pod of an InferenceService (and mlmesh selects by). */
export const KSERVE_ISVC_LABEL = "serving.kserve.io/inferenceservice";
/** KServe's default when `minReplicas` is unset (pkg/constants/constants.go DefaultMinReplicas). */
const KSERVE_DEFAULT_MIN_REPLICAS = 1;
/** A predictor's model fields, in KServe's order (pkg/apis/serving/v1beta1/predictor.go GetImplementations). */
const MODEL_FIELDS = ["xgboost", "pytorch", "triton", "sklearn", "tensorflow", "onnx", "pmml", "lightgbm", "paddle", "huggingface", "model"] as const;
/** Images of model servers, matched as substrings of a container's image. */
const MODEL_SERVER_IMAGES = ["tensorflow/serving", "tritonserver", "torchserve", "vllm", "mlserver", "text-generation-inference", "huggingfaceserver", "sklearnserver", "xgbserver", "lgbserver", "pmmlserver", "paddleserver", "sglang"];
/** `app.kubernetes.io/component` values of model servers (mlmesh's TF Serving pods say `tfserving`). */
const MODEL_COMPONENTS = ["tfserving", "predictor", "model-server", "inference-server"];

type Resources = { requests?: Record<string, unknown>; limits?: Record<string, unknown> };

export function isInferenceService(object: KubeObject | undefined): object is KubeObject {
    return object?.kind === "InferenceService" && object.apiVersion.startsWith("serving.kserve.io/");
}

/** A pod an InferenceService runs: its component's spec carries the pod's labels and annotations (ComponentExtensionSpec). */
export interface IsvcComponent {
    readonly field: string;
    readonly spec: any;
}

/** The predictor, transformer and explainer: each its own pod. Canaries inherit the predictor's pod settings (predictor.go buildCanaryPredictor). */
export function isvcComponents(isvc: KubeObject): IsvcComponent[] {
    return (["predictor", "transformer", "explainer"] as const).filter((c) => isvc.spec?.[c]).map((c) => ({ field: `spec.${c}`, spec: isvc.spec[c] }));
}

/** The Service hosts that serve an InferenceService's model: the predictor and each canary (constants.PredictorServiceName). */
export function isvcHosts(isvc: KubeObject): string[] {
    const ns = isvc.metadata.namespace ?? "default";
    const canaries = ((isvc.spec?.canary ?? []) as any[]).map((c) => `${isvc.metadata.name}-${c.predictor?.name}-predictor`);
    return [`${isvc.metadata.name}-predictor`, ...canaries].map((name) => `${name}.${ns}.svc.cluster.local`);
}

export interface ModelWorkload {
    readonly object: KubeObject;
    readonly namespace: string;
    /** Each pod template: `field` holds its `labels` and `annotations` (`spec.template.metadata`, `spec.predictor`…). */
    readonly pods: { field: string; labels: Record<string, string>; annotations: Record<string, string>; spec: any }[];
}

/** Where a pod-template kind keeps its pod's labels and annotations. */
export function podMetadataField(object: KubeObject): string {
    return object.kind === "Pod" ? "metadata" : object.kind === "CronJob" ? "spec.jobTemplate.spec.template.metadata" : "spec.template.metadata";
}

/** Whether a container's (or model's) resources request or limit GPUs. */
export const requestsGpu = (resources: Resources | undefined) => [resources?.requests, resources?.limits].some((list) => list?.[GPU_RESOURCE] !== undefined);

/** The object as a model workload, or undefined: an InferenceService, or a pod template running a model server or asking for a GPU. */
export function modelWorkload(object: KubeObject): ModelWorkload | undefined {
    const namespace = object.metadata.namespace ?? "default";
    if (isInferenceService(object)) {
        const pods = isvcComponents(object).map((c) => ({ field: c.field, labels: { ...c.spec.labels, [KSERVE_ISVC_LABEL]: object.metadata.name ?? "" }, annotations: c.spec.annotations ?? {}, spec: c.spec }));
        return { object, namespace, pods };
    }
    const spec = podSpecOf(object);
    if (!spec) {
        return undefined;
    }
    const { labels = {}, annotations = {} } = podMetadataOf(object);
    const containers = containersOf(spec).filter((c) => !c.init).map((c) => c.container);
    const serves = labels[KSERVE_ISVC_LABEL] !== undefined
        || MODEL_COMPONENTS.includes(labels["app.kubernetes.io/component"])
        || containers.some((c) => MODEL_SERVER_IMAGES.some((image) => String(c.image ?? "").includes(image)) || requestsGpu(c.resources));
    return serves ? { object, namespace, pods: [{ field: podMetadataField(object), labels, annotations, spec }] } : undefined;
}

/** The Service hosts in front of a model workload: an InferenceService's predictors, or the Services selecting its pods. */
export function modelHosts(workload: ModelWorkload, services: readonly KubeObject[]): string[] {
    if (isInferenceService(workload.object)) {
        return isvcHosts(workload.object);
    }
    const selects = (svc: KubeObject) => Object.keys(svc.spec?.selector ?? {}).length > 0 && Object.entries(svc.spec.selector as Record<string, string>).every(([k, v]) => workload.pods[0].labels[k] === v);
    return services.filter((svc) => (svc.metadata.namespace ?? "default") === workload.namespace && selects(svc)).map((svc) => `${svc.metadata.name}.${workload.namespace}.svc.cluster.local`);
}

interface ModelContainer {
    readonly field: string;
    readonly container: any;
}

/** The containers that serve the model: a model field, else the custom container named `kserve-container`, else the first. */
function modelContainers(predictor: any, at: string): ModelContainer[] {
    const models = MODEL_FIELDS.filter((f) => predictor?.[f]).map((f) => ({ field: `${at}.${f}`, container: predictor[f] }));
    const containers = (predictor?.containers ?? []) as any[];
    const named = containers.map((container, i) => ({ field: `${at}.containers[${i}]`, container })).filter((c) => c.container.name === "kserve-container");
    return [...models, ...named, ...(models.length + named.length === 0 && containers.length > 0 ? [{ field: `${at}.containers[0]`, container: containers[0] }] : [])];
}

/** A canary's effective model: the stable predictor's overlaid with the canary's fields (mergo.WithOverride in buildCanaryPredictor). */
function canaryModel(stable: ModelContainer | undefined, canary: ModelContainer): ModelContainer {
    if (!stable) {
        return canary;
    }
    const resources = (r: Resources | undefined, s: Resources | undefined) => ({ requests: { ...s?.requests, ...r?.requests }, limits: { ...s?.limits, ...r?.limits } });
    return { field: canary.field, container: { ...stable.container, ...canary.container, resources: resources(canary.container.resources, stable.container.resources) } };
}

/** Whether a predictor runs a GPU model: it tolerates the GPU taint, runs a GPU runtime or image, or names GPUs at all. */
function isGpuModel(predictor: any, container: any): boolean {
    const tolerates = ((predictor?.tolerations ?? []) as any[]).some((t) => t.key === GPU_RESOURCE);
    const gpuBuild = /gpu/i.test(String(container.runtimeVersion ?? "")) || /:[^/]*gpu/i.test(String(container.image ?? ""));
    return tolerates || gpuBuild || requestsGpu(container.resources);
}

function resourceProblems(container: ModelContainer, gpu: boolean): string[] {
    const r: Resources = container.container.resources ?? {};
    const at = `${container.field}.resources`;
    // Kyverno's require-requests-limits shape (requests cpu and memory, a memory limit). Unset, KServe fills
    // in the cluster-wide defaults from inferenceservice-config (inference_service_defaults.go), sized for no model in particular.
    const missing = [["requests", "cpu"], ["requests", "memory"], ["limits", "memory"]].filter(([list, name]) => (r as any)[list]?.[name] === undefined).map(([list, name]) => `\`${at}.${list}.${name}\``);
    const problems = missing.length ? [`${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} not set; size the model server explicitly`] : [];
    if (gpu) {
        const limit = r.limits?.[GPU_RESOURCE];
        const request = r.requests?.[GPU_RESOURCE];
        if (!(Number(limit) >= 1 && Number.isInteger(Number(limit)))) {
            problems.push(`runs a GPU model (it tolerates the GPU taint, runs a GPU build or names GPUs) but \`${at}.limits["${GPU_RESOURCE}"]\` is ${limit === undefined ? "not set" : `\`${String(limit)}\``}; set it to a whole number of GPUs, at least 1`);
        } else if (request !== undefined && String(request) !== String(limit)) {
            problems.push(`\`${at}.requests["${GPU_RESOURCE}"]\` (${String(request)}) differs from its limit (${String(limit)}); Kubernetes requires GPU requests to equal limits, so set both to the same count`);
        }
    }
    return problems;
}

export const kserveResources: ResourceValidationPolicy = {
    name: "kserve-resources",
    description: "Checks whether every InferenceService predictor's model container (canaries included) sets CPU and memory requests and a memory limit, and whether a GPU model asks for its GPUs.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set `resources.requests.cpu`, `resources.requests.memory` and `resources.limits.memory` on the predictor's model container; for a GPU model set `resources.limits[\"nvidia.com/gpu\"]` (and the same request) to the GPUs it needs.",
    validateResource: (args, reportViolation) => {
        const isvc = kubernetesObject(args.type, args.props);
        if (!isInferenceService(isvc)) {
            return;
        }
        const predictor = isvc.spec?.predictor;
        const stable = modelContainers(predictor, "spec.predictor");
        // A canary without a model of its own runs the stable one, already judged.
        const canaries = ((isvc.spec?.canary ?? []) as any[]).flatMap((canary, i) => modelContainers(canary.predictor, `spec.canary[${i}].predictor`)
            .map((own) => ({ container: canaryModel(stable[0], own), pod: { ...predictor, ...canary.predictor } })));
        for (const { container, pod } of [...stable.map((container) => ({ container, pod: predictor })), ...canaries]) {
            for (const problem of resourceProblems(container, isGpuModel(pod, container.container))) {
                reportViolation(`${describeObject(isvc)}: ${problem}.`);
            }
        }
    },
};

/** The stable predictor's pods after KServe subtracts each canary's (predictor.go: adjusted = max(min - canaries, 1)). */
export function stablePredictorReplicas(isvc: KubeObject): { replicas: number; canaryReplicas: number } {
    const min = isvc.spec?.predictor?.minReplicas as number | undefined;
    const canaries = (isvc.spec?.canary ?? []) as any[];
    if (min === undefined || canaries.length === 0) {
        return { replicas: min ?? KSERVE_DEFAULT_MIN_REPLICAS, canaryReplicas: 0 };
    }
    const canaryReplicas = canaries.reduce((sum, c) => sum + (c.predictor?.minReplicas ?? Math.ceil((min * (c.trafficPercent ?? 0)) / 100)), 0);
    return { replicas: Math.max(min - canaryReplicas, 1), canaryReplicas };
}

export const kserveMinReplicas: ResourceValidationPolicy = {
    name: "kserve-min-replicas",
    description: "Checks whether every InferenceService keeps at least `minReplicas` pods of its stable predictor (after KServe moves a canary's pods out of the predictor's minimum), so one lost pod or node does not take the model down.",
    enforcementLevel: "mandatory",
    remediationSteps: "Raise `spec.predictor.minReplicas` to the threshold plus the canary's pods; scale-to-zero (`minReplicas: 0`) is for development only.",
    configSchema: {
        properties: {
            minReplicas: { type: "integer", minimum: 1, default: 2, description: "The fewest stable predictor pods an InferenceService may keep." },
        },
    },
    validateResource: (args, reportViolation) => {
        const isvc = kubernetesObject(args.type, args.props);
        if (!isInferenceService(isvc)) {
            return;
        }
        const threshold = args.getConfig<{ minReplicas: number }>().minReplicas;
        const { replicas, canaryReplicas } = stablePredictorReplicas(isvc);
        if (replicas < threshold) {
            const set = isvc.spec?.predictor?.minReplicas;
            const why = set === undefined ? `\`spec.predictor.minReplicas\` is not set (KServe's default is ${KSERVE_DEFAULT_MIN_REPLICAS})` : canaryReplicas > 0 ? `\`spec.predictor.minReplicas\` (${set}) less ${canaryReplicas} canary pod(s)` : `\`spec.predictor.minReplicas\` is ${set}`;
            reportViolation(`${describeObject(isvc)}: the stable predictor keeps ${replicas} pod(s): ${why}, below ${threshold}; set \`spec.predictor.minReplicas\` to at least ${threshold + canaryReplicas}.`);
        }
    },
};

export const kservePolicies: readonly (ResourceValidationPolicy | StackValidationPolicy)[] = [kserveResources, kserveMinReplicas];
