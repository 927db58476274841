/**
 * A model's Istio traffic policy as plain manifests: routing (version header, weighted split,
 * timeout, retries), connection limits and outlier detection, and who may call it. Pure;
 * TfServingModel and KServeModel both use them.
 * @see https://istio.io/latest/docs/reference/config/networking/virtual-service/
 */
import { INGRESS_GATEWAY_RELEASE, ISTIO_INGRESS_NAMESPACE } from "../mesh/istioCharts";
import type { IstioManifest } from "../mesh/meshPolicies";
import type { UriMatch } from "./servedApis";
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
    /** The subset of `host` an unversioned model's requests go to (a SageMaker model's on the bridge). */
    readonly subset?: string;
}

/** One request match of a route family: a URI, and the headers and method it also requires. */
export interface FamilyMatch {
    readonly uri: UriMatch;
    readonly headers?: Readonly<Record<string, string>>;
    readonly method?: string;
}

/** A group of routes: the requests of one API, the rewrite they need, and the Service port they go to. */
export interface RouteFamily {
    /** Prefixes the route names, e.g. `ml-serving.resnet.v1`. */
    readonly name: string;
    readonly matches: readonly FamilyMatch[];
    /** Replaces a matched prefix (or a whole exact path), so the server sees its own paths. */
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
 * requires one of the family's matches.
 */
export function familyRoutes(options: RouteOptions, family?: RouteFamily): Record<string, unknown>[] {
    const retries = { ...DEFAULT_RETRIES, ...options.retries };
    const policy = {
        ...(family?.rewrite ? { rewrite: { uri: family.rewrite } } : {}),
        timeout: options.timeout ?? DEFAULT_TIMEOUT,
        retries: retryPolicy(retries),
    };
    const port = family ? { port: { number: family.port } } : {};
    const destination = (version?: RoutedVersion) => version?.host ? { host: version.host, ...port }
        : { host: options.host, ...(version ? { subset: version.name } : options.subset ? { subset: options.subset } : {}), ...port };
    const matches: Record<string, unknown>[] = family
        ? family.matches.map((m) => ({ uri: m.uri, ...(m.method ? { method: { exact: m.method } } : {}), ...(m.headers ? { headers: exactHeaders(m.headers) } : {}) }))
        : [{}];
    const named = (route: string) => (family ? `${family.name}-${route}` : route);
    const pinned = options.versions.map((version) => ({
        name: named(`pin-${version.name}`),
        match: matches.map((m) => ({ ...m, headers: { ...(m.headers as object | undefined), [VERSION_HEADER]: { exact: version.name } } })),
        route: [{ destination: destination(version) }],
        ...policy,
    }));
    const split = {
        name: named("weighted"),
        ...(family ? { match: matches } : {}),
        route: options.versions.length > 0
            ? options.versions.map((version) => ({ destination: destination(version), weight: version.weight }))
            : [{ destination: destination() }],
        ...policy,
    };
    return [...pinned, split];
}

/** Istio header matches requiring each value exactly. */
export function exactHeaders(headers: Readonly<Record<string, string>>): Record<string, { exact: string }> {
    return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, { exact: value }]));
}

/** The model's routes inside the mesh, for callers that address its Service host. */
export function modelVirtualService(options: RouteOptions): IstioManifest {
    return {
        apiVersion: "networking.istio.io/v1",
        kind: "VirtualService",
        metadata: { name: options.name, namespace: options.namespace },
        spec: { hosts: [options.host], gateways: ["mesh"], http: familyRoutes(options) },
    };
}

/** Where the ingress Gateway serves models. */
export interface IngressRoutes {
    /** `<namespace>/<name>` of the Istio Gateway. */
    readonly gateway: string;
    /** The Gateway's public hosts. */
    readonly hosts: readonly string[];
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

/** Where an ALLOW AuthorizationPolicy admits one more caller of a model: what its own policy selects, and its operations. */
export interface ModelAccess {
    readonly namespace: string;
    readonly selector: Readonly<Record<string, string>>;
    /** The model's own rules' operations: each a set of methods on a set of paths. */
    readonly operations: readonly { readonly methods: readonly string[]; readonly paths: readonly string[] }[];
}

/** The operations a model's AuthorizationPolicy admits: its HTTP paths by GET and POST, its gRPC methods by POST. */
function accessOperations(options: AccessOptions): ModelAccess["operations"] {
    return [
        { methods: ["GET", "POST"], paths: [...options.httpPaths] },
        ...(options.grpcPaths && options.grpcPaths.length > 0 ? [{ methods: ["POST"], paths: [...options.grpcPaths] }] : []),
    ];
}

/** The namespace, selector and operations of a model's own AuthorizationPolicy, for app teams' policies. */
export function modelAccess(options: AccessOptions): ModelAccess {
    return { namespace: options.namespace, selector: { ...options.selector }, operations: accessOperations(options) };
}

/**
 * Lets only the declared principals and the ingress gateway call the model, on its own paths,
 * with GET and POST (gRPC calls are POSTs). The namespace's default-deny covers everything else.
 */
export function modelAuthorizationPolicy(options: AccessOptions): IstioManifest {
    const from = [{ source: { principals: [...new Set([INGRESS_GATEWAY_PRINCIPAL, ...options.principals])] } }];
    const rules = accessOperations(options).map((operation) => ({ from, to: [{ operation: { methods: [...operation.methods], paths: [...operation.paths] } }] }));
    return {
        apiVersion: "security.istio.io/v1",
        kind: "AuthorizationPolicy",
        metadata: { name: options.name, namespace: options.namespace },
        spec: { selector: { matchLabels: { ...options.selector } }, action: "ALLOW", rules },
    };
}
