/**
 * A model's Istio traffic policy as plain manifests: routing (version header, weighted split,
 * timeout, retries), connection limits and outlier detection, and who may call it. Pure;
 * TfServingModel and KServeModel both use them.
 * @see https://istio.io/latest/docs/reference/config/networking/virtual-service/
 */
import { INGRESS_GATEWAY_RELEASE, ISTIO_INGRESS_NAMESPACE } from "../mesh/istioCharts";
import type { IstioManifest } from "../mesh/meshPolicies";
import { DEFAULT_CIRCUIT_BREAKER, DEFAULT_RETRIES, DEFAULT_TIMEOUT, type CircuitBreaker, type RetryPolicy } from "./modelSpec";

/** The header that pins a request to one model version. */
export const VERSION_HEADER = "x-model-version";
/** The ingress gateway's workload identity; it may always call a model. */
export const INGRESS_GATEWAY_PRINCIPAL = `cluster.local/ns/${ISTIO_INGRESS_NAMESPACE}/sa/${INGRESS_GATEWAY_RELEASE}`;

export interface RoutedVersion {
    readonly name: string;
    readonly weight: number;
}

export interface RouteOptions {
    readonly name: string;
    readonly namespace: string;
    /** The Service host the routes apply to. */
    readonly host: string;
    /** Versions to route to by subset; empty for a single unversioned backend. */
    readonly versions: readonly RoutedVersion[];
    readonly timeout?: string;
    readonly retries?: RetryPolicy;
}

/**
 * A header `x-model-version: <v>` goes to version v exactly; every other request is split by
 * weight. Each route has the timeout and retry policy.
 */
export function modelVirtualService(options: RouteOptions): IstioManifest {
    const retries = { ...DEFAULT_RETRIES, ...options.retries };
    const policy = { timeout: options.timeout ?? DEFAULT_TIMEOUT, retries: { attempts: retries.attempts, perTryTimeout: retries.perTryTimeout, retryOn: retries.retryOn } };
    const destination = (subset?: string) => ({ host: options.host, ...(subset ? { subset } : {}) });
    const pinned = options.versions.map((version) => ({
        name: `pin-${version.name}`,
        match: [{ headers: { [VERSION_HEADER]: { exact: version.name } } }],
        route: [{ destination: destination(version.name) }],
        ...policy,
    }));
    const split = {
        name: "weighted",
        route: options.versions.length > 0
            ? options.versions.map((version) => ({ destination: destination(version.name), weight: version.weight }))
            : [{ destination: destination() }],
        ...policy,
    };
    return {
        apiVersion: "networking.istio.io/v1",
        kind: "VirtualService",
        metadata: { name: options.name, namespace: options.namespace },
        spec: { hosts: [options.host], gateways: ["mesh"], http: [...pinned, split] },
    };
}

/** A subset per version, least-request balancing, connection limits and outlier detection. */
export function modelDestinationRule(options: RouteOptions & { readonly circuitBreaker?: CircuitBreaker; readonly versionLabel?: string }): IstioManifest {
    const breaker = { ...DEFAULT_CIRCUIT_BREAKER, ...options.circuitBreaker };
    const versionLabel = options.versionLabel ?? "version";
    return {
        apiVersion: "networking.istio.io/v1",
        kind: "DestinationRule",
        metadata: { name: options.name, namespace: options.namespace },
        spec: {
            host: options.host,
            trafficPolicy: {
                loadBalancer: { simple: "LEAST_REQUEST" },
                connectionPool: { tcp: { maxConnections: breaker.maxConnections }, http: { http2MaxRequests: breaker.http2MaxRequests } },
                outlierDetection: {
                    consecutive5xxErrors: breaker.consecutive5xxErrors,
                    interval: breaker.interval,
                    baseEjectionTime: breaker.baseEjectionTime,
                    maxEjectionPercent: breaker.maxEjectionPercent,
                },
            },
            ...(options.versions.length > 0 ? { subsets: options.versions.map((version) => ({ name: version.name, labels: { [versionLabel]: version.name } })) } : {}),
        },
    };
}

export interface AccessOptions {
    readonly name: string;
    readonly namespace: string;
    /** Labels of the model's pods. */
    readonly selector: Readonly<Record<string, string>>;
    /** Callers besides the ingress gateway. */
    readonly principals: readonly string[];
    /** HTTP paths (Istio path patterns, `*` as a prefix or suffix wildcard). */
    readonly httpPaths: readonly string[];
    /** gRPC paths (`/package.Service/*`). */
    readonly grpcPaths?: readonly string[];
}

/**
 * Lets only the declared principals and the ingress gateway call the model, on its own paths,
 * with GET and POST (gRPC calls are POSTs). The namespace's default-deny covers everything else.
 */
export function modelAuthorizationPolicy(options: AccessOptions): IstioManifest {
    const from = [{ source: { principals: [...new Set([INGRESS_GATEWAY_PRINCIPAL, ...options.principals])] } }];
    const rules = [
        { from, to: [{ operation: { methods: ["GET", "POST"], paths: [...options.httpPaths] } }] },
        ...(options.grpcPaths && options.grpcPaths.length > 0 ? [{ from, to: [{ operation: { methods: ["POST"], paths: [...options.grpcPaths] } }] }] : []),
    ];
    return {
        apiVersion: "security.istio.io/v1",
        kind: "AuthorizationPolicy",
        metadata: { name: options.name, namespace: options.namespace },
        spec: { selector: { matchLabels: { ...options.selector } }, action: "ALLOW", rules },
    };
}
