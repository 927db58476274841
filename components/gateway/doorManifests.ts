/**
 * The front door's objects, all in the ingress gateway's namespace: the route table on the public
 * hosts and on the in-mesh inference host, the splits' internal listener (Gateway, Service,
 * DestinationRule, leg routes), JWT validation, and the gateway's own authorization. Pure.
 */
import { INGRESS_GATEWAY_SELECTOR, ISTIO_INGRESS_NAMESPACE } from "../mesh/istioCharts";
import type { IstioManifest } from "../mesh/meshPolicies";
import { INGRESS_GATEWAY_PRINCIPAL, type IngressRoutes } from "../serving/trafficPolicy";
import type { JwtIssuer } from "./doorSpec";
import { doorHttpRoutes, INFERENCE_SERVICE, SPLIT_LISTENER, splitLegRoutes, type DoorTable } from "./doorRoutes";
import type { RequiredClaims } from "../serving/modelSpec";

/** Object names of the front door. */
export const FRONT_DOOR_NAME = "mlmesh-front-door";
export const JWT_POLICY_NAME = "mlmesh-jwt";
const LABELS = { "app.kubernetes.io/part-of": "mlmesh", "app.kubernetes.io/component": "front-door" } as const;

function metadata(name: string) {
    return { name, namespace: ISTIO_INGRESS_NAMESPACE, labels: { ...LABELS } };
}

/** The route table on the ingress Gateway's public hosts. */
export function frontDoorVirtualService(table: DoorTable, ingress: IngressRoutes): IstioManifest {
    return {
        apiVersion: "networking.istio.io/v1",
        kind: "VirtualService",
        metadata: metadata(FRONT_DOOR_NAME),
        spec: { hosts: [...ingress.hosts], gateways: [ingress.gateway], http: doorHttpRoutes(table) },
    };
}

/** The same table for in-mesh callers, on `inference.istio-ingress`: their sidecars apply it. */
export function inferenceVirtualService(table: DoorTable): IstioManifest {
    return {
        apiVersion: "networking.istio.io/v1",
        kind: "VirtualService",
        metadata: metadata(INFERENCE_SERVICE.name),
        spec: { hosts: [INFERENCE_SERVICE.host], gateways: ["mesh"], http: doorHttpRoutes(table) },
    };
}

/** The Service in-mesh callers address; it has no pods: every request is routed by the table. */
export function inferenceService(): Record<string, unknown> {
    return {
        apiVersion: "v1",
        kind: "Service",
        metadata: metadata(INFERENCE_SERVICE.name),
        spec: { ports: [{ name: "http", port: INFERENCE_SERVICE.port, appProtocol: "http" }] },
    };
}

/**
 * The splits' internal listener on the gateway pods. Istio mutual TLS: gateway pods carry no
 * `security.istio.io/tlsMode` label, so auto mTLS would send plaintext and the gateway's
 * authorization could not see who calls (istio/istio:pilot/pkg/networking/core/cluster_tls.go@1.30.3);
 * the DestinationRule below makes every client originate it. Only routes of the gateway's own
 * namespace bind its host.
 */
export function splitGateway(): IstioManifest {
    return {
        apiVersion: "networking.istio.io/v1",
        kind: "Gateway",
        metadata: metadata(SPLIT_LISTENER.name),
        spec: {
            selector: { ...INGRESS_GATEWAY_SELECTOR },
            servers: [{ port: { number: SPLIT_LISTENER.port, name: "https-split", protocol: "HTTPS" }, hosts: [`./${SPLIT_LISTENER.host}`], tls: { mode: "ISTIO_MUTUAL" } }],
        },
    };
}

/** A ClusterIP Service for the internal listener, so it never joins the load balancer's ports. */
export function splitService(): Record<string, unknown> {
    return {
        apiVersion: "v1",
        kind: "Service",
        metadata: metadata(SPLIT_LISTENER.name),
        spec: {
            type: "ClusterIP",
            selector: { ...INGRESS_GATEWAY_SELECTOR },
            ports: [{ name: "https-split", port: SPLIT_LISTENER.port, targetPort: SPLIT_LISTENER.port, appProtocol: "http" }],
        },
    };
}

/**
 * Mutual TLS to the listener, presenting its host as SNI: Istio's default SNI for ISTIO_MUTUAL is
 * the cluster name (`outbound_.9443_._.mlmesh-split...`, istio/istio:pilot/pkg/networking/core/cluster_tls.go@1.30.3),
 * which the Gateway server's filter chain, matching its hosts as SNI names, would not accept.
 */
export function splitDestinationRule(): IstioManifest {
    return {
        apiVersion: "networking.istio.io/v1",
        kind: "DestinationRule",
        metadata: metadata(SPLIT_LISTENER.name),
        spec: { host: SPLIT_LISTENER.serviceHost, trafficPolicy: { tls: { mode: "ISTIO_MUTUAL", sni: SPLIT_LISTENER.host } } },
    };
}

/** The second hop: each split's legs, rewritten to their servers' paths. */
export function splitLegsVirtualService(table: DoorTable): IstioManifest {
    return {
        apiVersion: "networking.istio.io/v1",
        kind: "VirtualService",
        metadata: metadata(`${SPLIT_LISTENER.name}-legs`),
        spec: { hosts: [SPLIT_LISTENER.host], gateways: [`${ISTIO_INGRESS_NAMESPACE}/${SPLIT_LISTENER.name}`], http: splitLegRoutes(table) },
    };
}

/**
 * Token validation on the gateway pods. A request with a token no issuer accepts gets 401; one
 * without a token passes here, and the door's authorization refuses it on model paths. The
 * token is not forwarded: models never see end users' credentials.
 */
export function requestAuthentication(jwt: readonly JwtIssuer[]): IstioManifest {
    return {
        apiVersion: "security.istio.io/v1",
        kind: "RequestAuthentication",
        metadata: metadata(JWT_POLICY_NAME),
        spec: {
            selector: { matchLabels: { ...INGRESS_GATEWAY_SELECTOR } },
            jwtRules: jwt.map((rule) => ({ issuer: rule.issuer, jwksUri: rule.jwksUri, audiences: [...rule.audiences], forwardOriginalToken: false })),
        },
    };
}

/** The claims a caller must hold, and the headers a family's matches require (gRPC's model name: its paths are every TF Serving model's). */
function conditions(claims: RequiredClaims, headers: Readonly<Record<string, string>> | undefined): Record<string, unknown>[] {
    return [
        ...Object.entries(claims).map(([claim, values]) => ({ key: `request.auth.claims[${claim}]`, values: [...values] })),
        ...Object.entries(headers ?? {}).map(([header, value]) => ({ key: `request.headers[${header}]`, values: [value] })),
    ];
}

/** An AuthorizationPolicy holds at most this many rules (istio/istio:manifests/charts/base/files/crd-all.gen.yaml@1.30.3, `rules.maxItems`). */
export const MAX_AUTHORIZATION_RULES = 512;

/**
 * One ALLOW policy as several of at most MAX_AUTHORIZATION_RULES rules each, the first under its
 * own name and the rest `<name>-2`, `<name>-3`...: Istio allows a request when any ALLOW policy
 * of the workload matches it, so the set admits exactly what the one policy would.
 */
export function chunkAllowPolicy(policy: IstioManifest): IstioManifest[] {
    const rules = (policy.spec.rules ?? []) as unknown[];
    if (rules.length <= MAX_AUTHORIZATION_RULES) {
        return [policy];
    }
    return Array.from({ length: Math.ceil(rules.length / MAX_AUTHORIZATION_RULES) }, (_, i) => ({
        ...policy,
        metadata: { ...policy.metadata, name: i === 0 ? policy.metadata.name : `${policy.metadata.name}-${i + 1}` },
        spec: { ...policy.spec, rules: rules.slice(i * MAX_AUTHORIZATION_RULES, (i + 1) * MAX_AUTHORIZATION_RULES) },
    }));
}

/**
 * What the gateway pods admit, and nothing else: plain HTTP on 80 (only redirected to HTTPS),
 * each model's public paths on 443 (with a valid token when issuers are configured, and the
 * model's required claims), and each split's paths on the internal listener from the gateway
 * itself or the split's allowed in-mesh callers.
 */
export function frontDoorAuthorization(table: DoorTable, jwt: boolean): IstioManifest {
    const fromUsers = jwt ? { from: [{ source: { requestPrincipals: ["*"] } }] } : {};
    const publicRule = (entry: { claims: RequiredClaims }, family: { authzPaths: readonly string[]; methods: readonly string[]; matches: readonly { headers?: Readonly<Record<string, string>> }[] }) => {
        const when = conditions(entry.claims, family.matches[0]?.headers);
        return {
            ...fromUsers,
            to: [{ operation: { ports: ["443"], methods: [...family.methods], paths: [...family.authzPaths] } }],
            ...(when.length > 0 ? { when } : {}),
        };
    };
    const rules = [
        { to: [{ operation: { ports: ["80"] } }] },
        ...table.targets.flatMap((target) => target.families.map((family) => publicRule(target, family))),
        ...table.splits.flatMap((split) => split.families.map((family) => publicRule(split, { ...family, matches: family.matches.map((m) => m.match) }))),
        ...table.splits.flatMap((split) => split.families.map((family) => ({
            from: [{ source: { principals: [...new Set([INGRESS_GATEWAY_PRINCIPAL, ...split.principals])] } }],
            to: [{ operation: { ports: [String(SPLIT_LISTENER.port)], methods: [...family.methods], paths: [...family.authzPaths] } }],
        }))),
    ];
    return {
        apiVersion: "security.istio.io/v1",
        kind: "AuthorizationPolicy",
        metadata: metadata(FRONT_DOOR_NAME),
        spec: { selector: { matchLabels: { ...INGRESS_GATEWAY_SELECTOR } }, action: "ALLOW", rules },
    };
}
