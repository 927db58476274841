import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { CertManager } from "../cluster/certManager";
import { LABELS } from "../cluster/gpuPlacement";
import { childOptions } from "../childOptions";
import { chartRelease } from "../helmRelease";
import { TF_SERVING_VERSION, type KServeModelFormat } from "./modelSpec";
import { cachedImage, type ImageRegistry } from "../images";

/** KServe release mlmesh installs; its charts are published as OCI artifacts. */
export const KSERVE_VERSION = "v0.20.0";
export const KSERVE_CHART_REGISTRY = "oci://ghcr.io/kserve/charts";
export const KSERVE_NAMESPACE = "kserve";

/**
 * Controller values: Standard mode (plain Deployments and Services, no Knative), the controller
 * on the system nodes, and no Ingress of KServe's own: an `istio`-class Ingress would open a
 * plain-HTTP route on the ingress gateway beside the TLS Gateway, so models are reached through
 * the mesh and the platform's Gateway only.
 */
export function kserveResourcesValues(images: ImageRegistry): Record<string, unknown> {
    const image = (upstream: string) => cachedImage(upstream, images);
    return {
        kserve: {
            controller: {
                deploymentMode: "Standard",
                nodeSelector: { [LABELS.nodeRole]: "system" },
                gateway: { disableIngressCreation: true },
                image: image("kserve/kserve-controller"),
                rbacProxyImage: image("quay.io/brancz/kube-rbac-proxy:v0.18.0"),
            },
            // The storage initializer KServe injects into every predictor pod, and its other images
            // (kserve/kserve:charts/kserve-resources/values.yaml@v0.20.0); tags stay the chart's.
            storage: { image: image("kserve/storage-initializer") },
            agent: { image: image("kserve/agent") },
            router: { image: image("kserve/router") },
            servingruntime: { art: { image: image("kserve/art-explainer") } },
            localmodel: { defaultJobImage: image("kserve/storage-initializer") },
        },
    };
}

/**
 * The ClusterServingRuntimes each model format runs on (kserve/kserve:charts/kserve-runtime-configs/values.yaml@v0.20.0).
 * KServe picks the runtime by format (onnx and triton both run on Triton).
 */
export const KSERVE_RUNTIMES: Readonly<Record<KServeModelFormat, string>> = {
    tensorflow: "tensorflow",
    pytorch: "torchserve",
    sklearn: "sklearnserver",
    xgboost: "xgbserver",
    onnx: "tritonserver",
    triton: "tritonserver",
    huggingface: "huggingfaceserver",
};

/** Every runtime the chart renders, with its image upstream. */
export const KSERVE_RUNTIME_IMAGES: Readonly<Record<string, string>> = {
    tensorflow: "tensorflow/serving",
    mlserver: "docker.io/seldonio/mlserver",
    sklearnserver: "kserve/sklearnserver",
    xgbserver: "kserve/xgbserver",
    huggingfaceserver: "kserve/huggingfaceserver",
    tritonserver: "nvcr.io/nvidia/tritonserver",
    pmmlserver: "kserve/pmmlserver",
    predictiveserver: "kserve/predictiveserver",
    paddleserver: "kserve/paddleserver",
    lgbserver: "kserve/lgbserver",
    autogluonserver: "kserve/autogluonserver",
    torchserve: "pytorch/torchserve-kfs",
    vllmserver: "vllm/vllm-openai",
};

/**
 * The serving runtimes (ClusterServingRuntimes). KServe ships TF Serving 2.6.2 as the TensorFlow
 * runtime; mlmesh pins the same TF Serving release its own TfServingModel runs.
 */
export function kserveRuntimeValues(images: ImageRegistry, formats: readonly KServeModelFormat[]): Record<string, unknown> {
    const used = new Set(formats.map((format) => KSERVE_RUNTIMES[format]));
    const runtimes = Object.fromEntries(Object.entries(KSERVE_RUNTIME_IMAGES).map(([runtime, upstream]) => [runtime, {
        image: cachedImage(upstream, images),
        // Only the runtimes the stack's models use are offered; a disabled runtime is never
        // selected, so its image (vLLM's is `latest`, Triton's on nvcr.io) is never pulled.
        disabled: !used.has(runtime),
    }]));
    return {
        kserve: {
            servingruntime: {
                enabled: true,
                ...runtimes,
                tensorflow: { ...runtimes.tensorflow, tag: TF_SERVING_VERSION },
            },
        },
    };
}

export interface KServeArgs {
    /** The cluster to install on. */
    cluster: { readonly provider: k8s.Provider };
    /**
     * cert-manager, installed first: kserve-resources always renders a cert-manager Certificate
     * (and Issuer) for its webhook server, and its webhooks get their CA bundle from cert-manager's
     * CA injector (kserve/kserve:charts/kserve-resources/templates/kserve/resources.yaml@v0.20.0).
     */
    certManager: CertManager;
    /** Where images are pulled from (a GpuCluster's image cache). */
    images: pulumi.Input<ImageRegistry>;
    /** The formats of the models served; only their runtimes are enabled. */
    modelFormats: readonly KServeModelFormat[];
    /**
     * Knative Serving already runs in the cluster (mlmesh does not install it), so models may
     * use `deploymentMode: Knative`.
     * @default false
     */
    knativeServing?: boolean;
}

/**
 * KServe, installed from its Helm charts in order: CRDs → controller → serving runtimes, in its
 * own namespace (outside the mesh: the controller serves webhooks to the API server).
 * @see https://kserve.github.io/website/docs/admin-guide/kubernetes-deployment
 */
export class KServe extends pulumi.ComponentResource {
    public readonly version: string;
    public readonly namespace: string;
    public readonly knativeServing: boolean;

    constructor(name: string, args: KServeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlmesh:serving:KServe", name, {}, opts);
        this.version = KSERVE_VERSION;
        this.namespace = KSERVE_NAMESPACE;
        this.knativeServing = args.knativeServing ?? false;
        const k8sOpts = (dependsOn: pulumi.Resource[]) => childOptions(this, opts, { provider: args.cluster.provider, dependsOn });
        const ns = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name: KSERVE_NAMESPACE } }, k8sOpts([]));
        const images = pulumi.output(args.images);
        const chart = (chartName: string, values: pulumi.Input<Record<string, unknown>>, dependsOn: pulumi.Resource[], extra: pulumi.CustomResourceOptions = {}) => chartRelease(`${name}-${chartName}`, {
            chart: { chart: `${KSERVE_CHART_REGISTRY}/${chartName}`, version: KSERVE_VERSION },
            releaseName: chartName,
            namespace: ns.metadata.name,
            values,
        }, { ...k8sOpts(dependsOn), ...extra });
        // The chart's templates hold the CRDs (kserve/kserve:charts/kserve-crd/templates@v0.20.0), so
        // uninstalling it would delete every InferenceService in the cluster, app teams' too: when
        // KServe leaves the stack, the release (and the CRDs) stay.
        const crds = chart("kserve-crd", {}, [ns], { retainOnDelete: true });
        // The controller's pods mount the certificate cert-manager issues; atomic waits for them.
        const controller = chart("kserve-resources", images.apply(kserveResourcesValues), [crds, args.certManager]);
        // Serving runtimes are admitted by the controller's webhook (failurePolicy Fail).
        chart("kserve-runtime-configs", images.apply((registry) => kserveRuntimeValues(registry, args.modelFormats)), [controller]);
        this.registerOutputs({ version: this.version, namespace: this.namespace, knativeServing: this.knativeServing });
    }
}
