/**
 * The in-mesh half of the SageMaker bridge, as plain manifests: the signing proxy's workload,
 * its Service and egress, the per-model routes that turn `/v1/models/<name>:predict` into
 * `/endpoints/<endpoint>/invocations`, and who may call which endpoint. Pure; SageMakerBridge
 * creates them, the route and Pod Security checks read them.
 *
 * The signer is awslabs/aws-sigv4-proxy (facts in ../shared/charts/IMAGES.md, v1.11.1): it signs
 * for service `sagemaker` only when both `--name` and `--region` are given
 * (cmd/aws-sigv4-proxy/main.go@v1.11.1), listens on the address `--port` names, has no health
 * path (so probes are TCP), and runs as root from `scratch` unless the pod says otherwise.
 */
import { circuitBreakerPolicy, INGRESS_GATEWAY_PRINCIPAL, retryPolicy } from "../serving/trafficPolicy";
import type { IstioManifest } from "../mesh/meshPolicies";
import { ISTIO_ROOT_NAMESPACE } from "../mesh/istioCharts";
import { externalTlsHosts } from "../mesh/egress";
import { RESTRICTED_CONTAINER_SECURITY_CONTEXT } from "../mesh/podSecurity";
import type { CircuitBreaker, RetryPolicy } from "../serving/modelSpec";
import type { ModelAccess } from "../serving/trafficPolicy";

export const BRIDGE_NAMESPACE = "mlmesh-sagemaker";
export const BRIDGE_NAME = "sagemaker-bridge";
export const BRIDGE_LABELS = { app: BRIDGE_NAME, "app.kubernetes.io/name": BRIDGE_NAME, "app.kubernetes.io/part-of": "mlmesh" } as const;
/** The Service port callers' routes send to, and the proxy's listen port behind it. */
export const BRIDGE_SERVICE_PORT = 80;
export const BRIDGE_PROXY_PORT = 8080;
export const BRIDGE_HOST = `${BRIDGE_NAME}.${BRIDGE_NAMESPACE}.svc.cluster.local`;
/** awslabs/aws-sigv4-proxy v1.11.1 (the tag has no `v`), on ECR Public; served through the cluster's cache. */
export const SIGV4_PROXY_IMAGE = "public.ecr.aws/aws-observability/aws-sigv4-proxy:1.11.1";
/** A numeric non-root user: the image is `FROM scratch` with no /etc/passwd, and not 1337 (the proxy's, whose traffic skips the sidecar). */
export const BRIDGE_USER = 65532;

/** The path SageMaker answers InvokeEndpoint on (API_runtime_InvokeEndpoint). */
export function invocationsPath(endpointName: string): string {
    return `/endpoints/${endpointName}/invocations`;
}

/** One model the bridge serves: its mesh name, the endpoint behind it, and its traffic policy. */
export interface BridgedModel {
    readonly name: string;
    readonly namespace: string;
    readonly endpointName: string;
    readonly principals: readonly string[];
    readonly timeout: string;
    readonly retries: Required<RetryPolicy>;
    readonly circuitBreaker?: CircuitBreaker;
}

/** The path every other backend answers a prediction on, which callers keep using. */
export function predictPath(model: Pick<BridgedModel, "name">): string {
    return `/v1/models/${model.name}:predict`;
}

/** The bridge's DestinationRule subset for a model, so each model has its own circuit breaker. */
export function bridgeSubset(model: Pick<BridgedModel, "name" | "namespace">): string {
    return `${model.namespace}-${model.name}`;
}

/** Request headers the signer drops: SageMaker routing a caller must not choose, and the mesh's client certificate. */
export const STRIPPED_HEADERS = [
    "X-Amzn-SageMaker-Target-Variant", "X-Amzn-SageMaker-Target-Model", "X-Amzn-SageMaker-Target-Container-Hostname",
    "X-Amzn-SageMaker-Inference-Component", "X-Forwarded-Client-Cert",
] as const;

export interface BridgeWorkload {
    readonly region: string;
    /** Where requests go, and the host they are signed for: the VPC endpoint's regional DNS name. */
    readonly endpointHost: string;
    /** The proxy image as nodes pull it (through the cache). */
    readonly image: string;
    readonly serviceAccountName: string;
    readonly replicas: { readonly min: number; readonly max: number };
    /** Pod annotations: the sidecar's size and the mesh revision. */
    readonly annotations: Readonly<Record<string, string>>;
}

/** The signing proxy: non-root, read-only, TCP probes, sized, spread over nodes. */
export function bridgeDeployment(workload: BridgeWorkload): Record<string, unknown> {
    return {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: BRIDGE_NAME, namespace: BRIDGE_NAMESPACE, labels: { ...BRIDGE_LABELS } },
        spec: {
            replicas: workload.replicas.min,
            selector: { matchLabels: { app: BRIDGE_NAME } },
            template: {
                metadata: { labels: { ...BRIDGE_LABELS }, annotations: { ...workload.annotations } },
                spec: {
                    serviceAccountName: workload.serviceAccountName,
                    securityContext: { runAsNonRoot: true, runAsUser: BRIDGE_USER, runAsGroup: BRIDGE_USER, seccompProfile: { type: "RuntimeDefault" } },
                    nodeSelector: { "mlmesh.io/node-role": "system" },
                    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: { app: BRIDGE_NAME } } }],
                    containers: [{
                        name: "sigv4-proxy",
                        image: workload.image,
                        args: [
                            "--name", "sagemaker",
                            "--region", workload.region,
                            // To the VPC endpoint's own DNS name, signed for it, as the SageMaker guide's
                            // `--endpoint-url https://<vpce>.runtime.sagemaker.<r>.vpce.amazonaws.com` does.
                            "--host", workload.endpointHost,
                            "--port", `:${BRIDGE_PROXY_PORT}`,
                            ...STRIPPED_HEADERS.flatMap((header) => ["-s", header]),
                        ],
                        // The regional STS endpoint for IRSA, the one the mesh lets out.
                        env: [{ name: "AWS_STS_REGIONAL_ENDPOINTS", value: "regional" }],
                        ports: [{ name: "http", containerPort: BRIDGE_PROXY_PORT }],
                        // It reads each request and response whole: 6 MiB bodies, a few at a time.
                        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } },
                        readinessProbe: { tcpSocket: { port: BRIDGE_PROXY_PORT }, periodSeconds: 5, failureThreshold: 3 },
                        livenessProbe: { tcpSocket: { port: BRIDGE_PROXY_PORT }, periodSeconds: 20, failureThreshold: 3 },
                        securityContext: { ...RESTRICTED_CONTAINER_SECURITY_CONTEXT },
                    }],
                },
            },
        },
    };
}

export function bridgeService(): Record<string, unknown> {
    return {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: BRIDGE_NAME, namespace: BRIDGE_NAMESPACE, labels: { ...BRIDGE_LABELS } },
        spec: {
            selector: { app: BRIDGE_NAME },
            ports: [{ name: "http", port: BRIDGE_SERVICE_PORT, targetPort: BRIDGE_PROXY_PORT, appProtocol: "http" }],
        },
    };
}

/**
 * The Service a SageMaker model's callers address, `<name>.<namespace>.svc.cluster.local`, like
 * every other model's. It has no pods: the callers' sidecars route its requests to the bridge.
 */
export function modelService(model: Pick<BridgedModel, "name" | "namespace">): Record<string, unknown> {
    return {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: model.name, namespace: model.namespace, labels: { app: model.name, "app.kubernetes.io/component": "sagemaker", "app.kubernetes.io/part-of": "mlmesh" } },
        spec: { ports: [{ name: "http", port: BRIDGE_SERVICE_PORT, appProtocol: "http" }] },
    };
}

/** One route: the model's predict path, rewritten to its endpoint's invocations, to its subset of the bridge. */
function predictRoute(model: BridgedModel): Record<string, unknown> {
    return {
        name: "sagemaker-predict",
        match: [{ uri: { exact: predictPath(model) }, method: { exact: "POST" } }],
        rewrite: { uri: invocationsPath(model.endpointName) },
        route: [{ destination: { host: BRIDGE_HOST, subset: bridgeSubset(model), port: { number: BRIDGE_SERVICE_PORT } } }],
        timeout: model.timeout,
        retries: retryPolicy(model.retries),
    };
}

/** The model's routes inside the mesh: callers' sidecars send `:predict` on its host to the bridge. */
export function meshRoutes(model: BridgedModel): IstioManifest {
    return {
        apiVersion: "networking.istio.io/v1",
        kind: "VirtualService",
        metadata: { name: model.name, namespace: model.namespace },
        spec: { hosts: [`${model.name}.${model.namespace}.svc.cluster.local`], gateways: ["mesh"], http: [predictRoute(model)] },
    };
}

/** One subset per model, each with that model's connection limits and outlier detection. */
export function bridgeDestinationRule(models: readonly BridgedModel[]): IstioManifest {
    return {
        apiVersion: "networking.istio.io/v1",
        kind: "DestinationRule",
        metadata: { name: BRIDGE_NAME, namespace: BRIDGE_NAMESPACE },
        spec: {
            host: BRIDGE_HOST,
            trafficPolicy: { loadBalancer: { simple: "LEAST_REQUEST" }, ...circuitBreakerPolicy(undefined) },
            subsets: models.map((model) => ({ name: bridgeSubset(model), labels: { app: BRIDGE_NAME }, trafficPolicy: circuitBreakerPolicy(model.circuitBreaker) })),
        },
    };
}

/** What the bridge's AuthorizationPolicy selects for one model, so an app team's policy can admit one more caller. */
export function bridgeAccess(model: Pick<BridgedModel, "endpointName">): ModelAccess {
    return { namespace: BRIDGE_NAMESPACE, selector: { app: BRIDGE_NAME }, operations: [{ methods: ["POST"], paths: [invocationsPath(model.endpointName)] }] };
}

/** Each endpoint's invocations path admits only its model's callers and the ingress gateway. */
export function bridgeAuthorization(models: readonly BridgedModel[]): IstioManifest {
    return {
        apiVersion: "security.istio.io/v1",
        kind: "AuthorizationPolicy",
        metadata: { name: BRIDGE_NAME, namespace: BRIDGE_NAMESPACE },
        spec: {
            selector: { matchLabels: { app: BRIDGE_NAME } },
            action: "ALLOW",
            rules: models.map((model) => {
                const { operations } = bridgeAccess(model);
                return {
                    from: [{ source: { principals: [...new Set([INGRESS_GATEWAY_PRINCIPAL, ...model.principals])] } }],
                    to: operations.map((operation) => ({ operation: { methods: [...operation.methods], paths: [...operation.paths] } })),
                };
            }),
        },
    };
}

/** The VPC endpoint of SageMaker Runtime as an external host the bridge's namespace may call over TLS. */
export function runtimeServiceEntry(host: string): IstioManifest {
    return externalTlsHosts("sagemaker-runtime", BRIDGE_NAMESPACE, [host], 443, ".", "DNS");
}

/** The bridge's sidecar reaches SageMaker Runtime, STS (for IRSA) and the trace collector, and nothing else. */
export function bridgeSidecar(runtime: string, stsHost: string, otelCollector?: string): IstioManifest {
    // Istio builds a sidecar's clusters from its Sidecar's egress only, so without the collector
    // the bridge's spans would have nowhere to go (istio/istio:pilot/pkg/networking/core/cluster.go@1.30.3).
    const collector = otelCollector?.split(":")[0];
    const namespace = collector && /^[^.]+\.([^.]+)\.svc\.cluster\.local$/.exec(collector)?.[1];
    const collectorHost = collector ? [`${namespace ?? "*"}/${collector}`] : [];
    return {
        apiVersion: "networking.istio.io/v1",
        kind: "Sidecar",
        metadata: { name: BRIDGE_NAME, namespace: BRIDGE_NAMESPACE },
        spec: {
            workloadSelector: { labels: { app: BRIDGE_NAME } },
            egress: [{ hosts: [`./${runtime}`, `${ISTIO_ROOT_NAMESPACE}/${stsHost}`, ...collectorHost] }],
            outboundTrafficPolicy: { mode: "REGISTRY_ONLY" },
        },
    };
}
