/**
 * The Istio Helm charts mlmesh installs and the values it gives them. Pure functions, so the
 * values can be checked against the pinned charts' keys without installing anything.
 * @see https://istio.io/latest/docs/setup/install/helm/
 */
import { LABELS } from "../cluster/gpuPlacement";
import type { SidecarResources } from "./sidecarResources";
import { cachedRegistry, type ImageRegistry } from "../images";

/**
 * Where Istio's images (pilot, proxyv2, install-cni) come from. The published 1.30 charts default
 * to registry.istio.io/release, a proxy in front of gcr.io/istio-release that is being retired
 * and that ECR's cache cannot serve; the same images are on Docker Hub, which it can
 * (istio/release-builder:release/build.sh@1.30.3, istio/istio.io:content/en/blog/2026/retirement-of-gcr.io-follow-up).
 * The gateway chart takes its image from istiod's injection template, so it follows this hub.
 */
export function istioHub(images: ImageRegistry): string {
    return `${cachedRegistry("docker.io", images)}/istio`;
}

export const ISTIO_VERSION = "1.30.3";
/**
 * Istio releases whose chart values mlmesh has checked, oldest first; an upgrade adds the next one
 * here. The values are checked against the pinned 1.30.3 charts. 1.30.2's charts differ from them
 * only by istiod's `taint.name` (new in 1.30.3; mlmesh does not set it): istio/istio
 * `git diff 1.30.2 1.30.3 -- manifests/charts`.
 */
export const SUPPORTED_ISTIO_VERSIONS = ["1.30.2", ISTIO_VERSION] as const;
/** istiod value paths a supported release lacks, against the pinned 1.30.3 chart. */
export const ISTIOD_KEYS_NOT_IN: Readonly<Record<string, readonly string[]>> = { "1.30.2": ["taint.name"] };
/** Control planes served at once: the one in use and one canary (or the one being left). */
export const MAX_SERVED_ISTIO_VERSIONS = 2;

/** Orders `1.30.2` before `1.30.10`. */
export function compareIstioVersions(a: string, b: string): number {
    const [x, y] = [a, b].map((v) => v.split(".").map(Number));
    return x.map((part, i) => part - (y[i] ?? 0)).find((d) => d !== 0) ?? 0;
}

/**
 * The served control planes must include the one in use, each once, at most
 * MAX_SERVED_ISTIO_VERSIONS, each a supported release. undefined when they do.
 */
export function servedVersionsProblem(version: string, served: readonly string[]): string | undefined {
    const unsupported = served.find((v) => !(SUPPORTED_ISTIO_VERSIONS as readonly string[]).includes(v));
    return unsupported !== undefined ? `lists ${unsupported}; each must be one of ${SUPPORTED_ISTIO_VERSIONS.join(", ")}, the releases whose chart values mlmesh checks`
        : new Set(served).size !== served.length ? "lists a version more than once"
        : !served.includes(version) ? `must include istioVersion (${version}): that is the control plane the namespaces use`
        : served.length > MAX_SERVED_ISTIO_VERSIONS ? `lists ${served.length} versions; serve at most ${MAX_SERVED_ISTIO_VERSIONS} (the one in use and one canary, or the one being left)`
        : undefined;
}
export const ISTIO_CHART_REPO = "https://istio-release.storage.googleapis.com/charts";
export const ISTIO_ROOT_NAMESPACE = "istio-system";
export const ISTIO_INGRESS_NAMESPACE = "istio-ingress";
/** Release name of the ingress gateway; the chart derives the pods' `istio` label from it. */
export const INGRESS_GATEWAY_RELEASE = "istio-ingressgateway";
/** The `istio` label value of the gateway pods (`istio-` stripped from the release name). */
export const INGRESS_GATEWAY_SELECTOR = { istio: "ingressgateway" } as const;

/** `1.30.3` → `1-30-3`: revision names must be DNS labels. */
export function istioRevision(version: string): string {
    return version.replace(/\./g, "-");
}

/** Keeps control-plane pods on the CPU system nodes (GPU nodes are tainted anyway). */
const ON_SYSTEM_NODES = { [LABELS.nodeRole]: "system" };

/**
 * The base chart installs the CRDs only. Its `defaultRevision` ("default" unless set) renders
 * `istiod-default-validator` pointing at a Service `istiod`, which a revision-only install does
 * not have; the first upgrade drops its `failurePolicy: Ignore`, the API server defaults it to
 * Fail, and every Istio write is refused
 * (istio/istio:manifests/charts/base/templates/defaultrevision-validatingwebhookconfiguration.yaml@1.30.3).
 * mlmesh owns that validator instead (meshPolicies `defaultValidator`) and moves it to each new
 * revision only after that revision's istiod is up.
 */
export function baseValues(): Record<string, unknown> {
    return { defaultRevision: "", global: { istioNamespace: ISTIO_ROOT_NAMESPACE } };
}

export interface IstiodOptions {
    readonly revision: string;
    /** Percentage of requests traced. */
    readonly tracingSampling: number;
    /** `host:port` of the OpenTelemetry collector spans go to. */
    readonly otelCollector: string;
    readonly defaultSidecar: SidecarResources;
    readonly inferenceExtension: boolean;
    readonly cni: boolean;
    /** What a sidecar does with a call to a host the mesh does not know. */
    readonly outboundTrafficPolicy: "REGISTRY_ONLY" | "ALLOW_ANY";
    readonly images: ImageRegistry;
}

/** The name of the tracing provider istiod is told about and Telemetry selects. */
export const TRACING_PROVIDER = "otel";

export function istiodValues(options: IstiodOptions): Record<string, unknown> {
    const [service, port] = options.otelCollector.split(":");
    return {
        // No revision tags: each istiod release would render the same tag webhook and Service,
        // so the next revision's release could not be installed beside this one.
        revision: options.revision,
        autoscaleMin: 2,
        pdb: { minAvailable: 1 },
        nodeSelector: ON_SYSTEM_NODES,
        traceSampling: options.tracingSampling,
        env: {
            ENABLE_GATEWAY_API_INFERENCE_EXTENSION: String(options.inferenceExtension),
            // The proxy runs as a Kubernetes native sidecar (every supported EKS version has them),
            // so init containers such as model downloaders already have a working network.
            ENABLE_NATIVE_SIDECARS: "true",
        },
        global: {
            hub: istioHub(options.images),
            proxy: {
                resources: options.defaultSidecar.helmResources(),
                holdApplicationUntilProxyStarts: true,
                // Injected containers carry the runtime's seccomp profile themselves, so they pass
                // Pod Security `restricted` even in a pod that sets none at pod level.
                seccompProfile: { type: "RuntimeDefault" },
            },
        },
        cni: { enabled: options.cni },
        meshConfig: {
            accessLogFile: "/dev/stdout",
            accessLogEncoding: "JSON",
            enablePrometheusMerge: true,
            enableTracing: true,
            outboundTrafficPolicy: { mode: options.outboundTrafficPolicy },
            defaultConfig: {
                holdApplicationUntilProxyStarts: true,
                concurrency: options.defaultSidecar.concurrency,
            },
            extensionProviders: [{ name: TRACING_PROVIDER, opentelemetry: { service, port: Number(port) } }],
        },
    };
}

export interface GatewayOptions {
    readonly revision: string;
    readonly replicas: number;
    readonly maxReplicas: number;
    readonly scheme: "internal" | "internet-facing";
}

/**
 * The ingress gateway: an AWS Network Load Balancer (internal unless asked otherwise),
 * autoscaled from `replicas`, with a disruption budget that keeps one pod up during drains
 * whenever more than one runs.
 */
export function gatewayValues(options: GatewayOptions): Record<string, unknown> {
    return {
        revision: options.revision,
        replicaCount: options.replicas,
        autoscaling: { enabled: true, minReplicas: options.replicas, maxReplicas: options.maxReplicas, targetCPUUtilizationPercentage: 70 },
        // With a single pod, minAvailable 1 would block every node drain; no budget then.
        podDisruptionBudget: options.replicas > 1 ? { minAvailable: 1 } : {},
        nodeSelector: ON_SYSTEM_NODES,
        service: {
            type: "LoadBalancer",
            externalTrafficPolicy: "Local",
            // Read by the in-tree AWS cloud provider and by the AWS Load Balancer Controller alike.
            annotations: {
                "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
                "service.beta.kubernetes.io/aws-load-balancer-scheme": options.scheme,
                ...(options.scheme === "internal" ? { "service.beta.kubernetes.io/aws-load-balancer-internal": "true" } : {}),
                "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled": "true",
            },
        },
    };
}

export function cniValues(revision: string, images: ImageRegistry): Record<string, unknown> {
    return {
        revision,
        global: { hub: istioHub(images) },
        // The CNI node agent must run on every node, GPU nodes included.
        tolerations: [{ operator: "Exists" }],
        // Chain into the AWS VPC CNI's own file rather than whichever sorts first.
        cniConfFileName: "10-aws.conflist",
        // Bottlerocket enforces SELinux; the chart runs the agent as spc_t when this is set
        // (istio/istio:manifests/charts/istio-cni/templates/daemonset.yaml@1.30.3).
        seLinuxOptions: { type: "spc_t" },
    };
}
