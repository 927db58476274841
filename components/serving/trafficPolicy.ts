/**
 * A model's Istio traffic policy as plain manifests: routing (version header, weighted split,
 * timeout, retries), connection limits and outlier detection, and who may call it. Pure;
 * TfServingModel and KServeModel both use them.
 * @see https://istio.io/latest/docs/reference/config/networking/virtual-service/
 */
import { INGRESS_GATEWAY_RELEASE, ISTIO_INGRESS_NAMESPACE } from "../mesh/istioCharts";
import type { IstioManifest } from "../mesh/meshPolicies";
import type { ServedApi, UriMatch } from "./servedApis";
import { DEFAULT_CIRCUIT_BREAKER, DEFAULT_RETRIES, DEFAULT_TIMEOUT, type CircuitBreaker, type RetryPolicy } from "./modelSpec";

/** The header that pins a request to one model version. */
export const VERSION_HEADER = "x-model-version";
/** The ingress gateway's workload identity; it may always call a model. */
export const INGRESS_GATEWAY_PRINCIPAL = `cluster.local/ns/${ISTIO_INGRESS_NAMESPACE}/sa/${INGRESS_GATEWAY_RELEASE}`;

export interface RoutedVersion {
    readonly name: string;
    readonly weight: number;
    /** The version's own Service (KServe's canary predictor); otherwise it is the subset `name` of the model's host. */
    readonly host?: string;
}

export interface RouteOptions {
    readonly name: string;
    readonly namespace: string;
    /** The Service host the routes apply to. */
    readonly host: string;
    /** Versions to route to by subset (or by their own host); empty for a single unversioned backend. */
    readonly versions: readonly RoutedVersion[];
    readonly timeout?: string;
    readonly retries?: RetryPolicy;
}

/** A group of gateway routes: the requests of one API, the prefix rewrite they need, and the Service port they go to. */
interface RouteFamily {
    readonly name: string;
    readonly matches: readonly UriMatch[];
    readonly rewrite?: string;
    readonly port: number;
}

/** A route's retries as Istio takes them: with retries off, `attempts: 0` alone (Istio refuses any other setting beside it, pkg/config/validation/validation.go@1.30.3). */
export function retryPolicy(retries: Required<RetryPolicy>): Record<string, unknown> {
    return retries.attempts === 0 ? { attempts: 0 } : { attempts: retries.attempts, perTryTimeout: retries.perTryTimeout, retryOn: retries.retryOn };
}

/** Connection limits and outlier detection of a circuit breaker, defaults filled in. */
export function circuitBreakerPolicy(circuitBreaker: CircuitBreaker | undefined): Record<string, unknown> {
    const breaker = { ...DEFAULT_CIRCUIT_BREAKER, ...circuitBreaker };
    return {
        connectionPool: { tcp: { maxConnections: breaker.maxConnections }, http: { http2MaxRequests: breaker.http2MaxRequests } },
        outlierDetection: {
            consecutive5xxErrors: breaker.consecutive5xxErrors,
            interval: breaker.interval,
            baseEjectionTime: breaker.baseEjectionTime,
            maxEjectionPercent: breaker.maxEjectionPercent,
        },
    };
}

/**
 * A header `x-model-version: <v>` goes to version v exactly; every other request is split by
 * weight. Each route has the timeout and retry policy. Within a family, every route also
 * requires one of the family's URIs.
 */
function httpRoutes(options: RouteOptions, family?: RouteFamily): Record<string, unknown>[] {
    const retries = { ...DEFAULT_RETRIES, ...options.retries };
    const policy = {
        ...(family?.rewrite ? { rewrite: { uri: family.rewrite } } : {}),
        timeout: options.timeout ?? DEFAULT_TIMEOUT,
        retries: retryPolicy(retries),
    };
    const port = family ? { port: { number: family.port } } : {};
    const destination = (version?: RoutedVersion) => version?.host ? { host: version.host, ...port } : { host: options.host, ...(version ? { subset: version.name } : {}), ...port };
    const uris: Record<string, unknown>[] = family ? family.matches.map((uri) => ({ uri })) : [{}];
    const named = (route: string) => (family ? `${family.name}-${route}` : route);
    const pinned = options.versions.map((version) => ({
        name: named(`pin-${version.name}`),
        match: uris.map((uri) => ({ ...uri, headers: { [VERSION_HEADER]: { exact: version.name } } })),
        route: [{ destination: destination(version) }],
        ...policy,
    }));
    const split = {
        name: named("weighted"),
        ...(family ? { match: uris } : {}),
        route: options.versions.length > 0
            ? options.versions.map((version) => ({ destination: destination(version), weight: version.weight }))
            : [{ destination: destination() }],
        ...policy,
    };
    return [...pinned, split];
}

/** The model's routes inside the mesh, for callers that address its Service host. */
export function modelVirtualService(options: RouteOptions): IstioManifest {
    return {
        apiVersion: "networking.istio.io/v1",
        kind: "VirtualService",
        metadata: { name: options.name, namespace: options.namespace },
        spec: { hosts: [options.host], gateways: ["mesh"], http: httpRoutes(options) },
    };
}

/** Where the ingress Gateway serves models. */
export interface IngressRoutes {
    /** `<namespace>/<name>` of the Istio Gateway. */
    readonly gateway: string;
    /** The Gateway's public hosts. */
    readonly hosts: readonly string[];
}

/** Where the gateway sends a model's HTTP requests: the Service port of its REST server. */
export interface IngressTarget {
    readonly apis: readonly ServedApi[];
    /**
     * Named on every gateway destination: without it, Istio sends to the Service port equal to the
     * Gateway's (443), which a several-port Service such as TF Serving's (8500, 8501) lacks
     * (istio/istio:pilot/pkg/networking/core/route/route.go@1.30.3).
     */
    readonly servicePort: number;
}

/** The object name of a model's gateway routes. */
export function ingressRoutesName(model: string): string {
    return `${model}-ingress`;
}

/**
 * The same routes (version pins, weights, timeout, retries) on the ingress Gateway's hosts,
 * limited to the paths of the APIs the model's server answers. Istio merges the gateway
 * VirtualServices of all models on a host, so each model matches only its own paths.
 */
export function modelIngressVirtualService(options: RouteOptions, ingress: IngressRoutes, target: IngressTarget): IstioManifest {
    return {
        apiVersion: "networking.istio.io/v1",
        kind: "VirtualService",
        metadata: { name: ingressRoutesName(options.name), namespace: options.namespace },
        spec: {
            hosts: [...ingress.hosts],
            gateways: [ingress.gateway],
            http: target.apis.flatMap((api) => httpRoutes(options, { name: api.name, matches: api.gatewayMatches, rewrite: api.gatewayRewrite, port: target.servicePort })),
        },
    };
}

/** A subset per version, least-request balancing, connection limits and outlier detection. */
export function modelDestinationRule(options: RouteOptions & { readonly circuitBreaker?: CircuitBreaker; readonly versionLabel?: string }): IstioManifest {
    const versionLabel = options.versionLabel ?? "version";
    const subsets = options.versions.filter((version) => version.host === undefined);
    return {
        apiVersion: "networking.istio.io/v1",
        kind: "DestinationRule",
        metadata: { name: options.name, namespace: options.namespace },
        spec: {
            host: options.host,
            trafficPolicy: { loadBalancer: { simple: "LEAST_REQUEST" }, ...circuitBreakerPolicy(options.circuitBreaker) },
            ...(subsets.length > 0 ? { subsets: subsets.map((version) => ({ name: version.name, labels: { [versionLabel]: version.name } })) } : {}),
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
