/**
 * The Istio objects that make the mesh secure and observable by default, as plain manifests
 * (apiVersion, kind, metadata, spec). Pure: IstioMesh creates them, tests and the schema check
 * read them.
 * @see https://istio.io/latest/docs/reference/config/security/
 */
import type * as pulumi from "@pulumi/pulumi";
import { INGRESS_GATEWAY_SELECTOR, ISTIO_INGRESS_NAMESPACE, ISTIO_ROOT_NAMESPACE, TRACING_PROVIDER } from "./istioCharts";

/** The name istioctl and the base chart give the validator of objects that carry no revision label. */
export const DEFAULT_VALIDATOR_NAME = "istiod-default-validator";

/**
 * The admission webhook that validates mlmesh's Istio objects (they carry no `istio.io/rev`
 * label, so a revision's own `istio-validator-<rev>` never sees them). It calls the serving
 * revision's istiod, and carries that revision's label so that istiod fills in the CA bundle and
 * switches it to `Fail` once it can validate (istio/istio:pkg/webhooks/validation/controller/controller.go@1.30.3).
 * Same shape as istio/istio:manifests/charts/default/templates/validatingwebhook.yaml@1.30.3.
 */
export function defaultValidator(revision: string): Record<string, unknown> {
    return {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingWebhookConfiguration",
        metadata: {
            name: DEFAULT_VALIDATOR_NAME,
            labels: { "istio.io/rev": revision, "app.kubernetes.io/part-of": "mlmesh" },
            // istiod owns failurePolicy and caBundle after it patches them; a later revision change
            // must still be able to take the object over.
            annotations: { "pulumi.com/patchForce": "true" },
        },
        webhooks: [{
            name: "validation.istio.io",
            clientConfig: { service: { name: `istiod-${revision}`, namespace: ISTIO_ROOT_NAMESPACE, path: "/validate" } },
            rules: [{
                operations: ["CREATE", "UPDATE"],
                apiGroups: ["security.istio.io", "networking.istio.io", "telemetry.istio.io", "extensions.istio.io"],
                apiVersions: ["*"],
                resources: ["*"],
            }],
            failurePolicy: "Ignore",
            sideEffects: "None",
            admissionReviewVersions: ["v1"],
            objectSelector: { matchExpressions: [{ key: "istio.io/rev", operator: "DoesNotExist" }] },
        }],
    };
}

export const MTLS_MODES = ["STRICT", "PERMISSIVE"] as const;
export type MtlsMode = (typeof MTLS_MODES)[number];

export interface IstioManifest {
    readonly apiVersion: string;
    readonly kind: string;
    readonly metadata: { readonly name: string; readonly namespace: string; readonly labels?: Record<string, string> };
    readonly spec: Record<string, unknown>;
}

/**
 * CustomResource args for a manifest that resolves later (its hosts depend on the region): the
 * type is given now, since Pulumi needs it to register the resource; metadata and spec follow.
 */
export function deferredManifest(type: { readonly apiVersion: string; readonly kind: string }, manifest: pulumi.Output<IstioManifest>) {
    return { ...type, metadata: manifest.metadata, spec: manifest.spec };
}

/** Mesh-wide mTLS: in the root namespace, it applies to every workload. */
export function meshPeerAuthentication(mode: MtlsMode): IstioManifest {
    return {
        apiVersion: "security.istio.io/v1",
        kind: "PeerAuthentication",
        metadata: { name: "default", namespace: ISTIO_ROOT_NAMESPACE },
        spec: { mtls: { mode } },
    };
}

/**
 * An ALLOW policy with no rules matches nothing, so every request to the namespace's workloads
 * is denied until a workload declares who may call it.
 */
export function defaultDenyPolicy(namespace: string): IstioManifest {
    return {
        apiVersion: "security.istio.io/v1",
        kind: "AuthorizationPolicy",
        metadata: { name: "default-deny", namespace },
        spec: {},
    };
}

/** Prometheus metrics, traces to the OpenTelemetry provider at `samplingPercent`, and Envoy access logs, mesh-wide. */
export function meshTelemetry(samplingPercent: number): IstioManifest {
    return {
        apiVersion: "telemetry.istio.io/v1",
        kind: "Telemetry",
        metadata: { name: "mesh-default", namespace: ISTIO_ROOT_NAMESPACE },
        spec: {
            metrics: [{ providers: [{ name: "prometheus" }] }],
            tracing: [{ providers: [{ name: TRACING_PROVIDER }], randomSamplingPercentage: samplingPercent }],
            accessLogging: [{ providers: [{ name: "envoy" }] }],
        },
    };
}

/**
 * The ingress Gateway: HTTPS on 443 for exactly the configured hosts (never `*`), with the
 * certificate from `credentialName` in the gateway's namespace, and plain HTTP redirected.
 * VirtualServices of any namespace may still bind the hosts: the previous release's per-model
 * routes live in the models' namespaces and keep serving while an upgrade runs (Pulumi deletes
 * them last). Narrowing to `./<host>` waits for a release after that.
 */
export function ingressGateway(name: string, hosts: readonly string[], credentialName: string): IstioManifest {
    return {
        apiVersion: "networking.istio.io/v1",
        kind: "Gateway",
        metadata: { name, namespace: ISTIO_INGRESS_NAMESPACE },
        spec: {
            selector: { ...INGRESS_GATEWAY_SELECTOR },
            servers: [
                {
                    port: { number: 443, name: "https", protocol: "HTTPS" },
                    hosts: [...hosts],
                    tls: { mode: "SIMPLE", credentialName, minProtocolVersion: "TLSV1_2" },
                },
                {
                    port: { number: 80, name: "http", protocol: "HTTP" },
                    hosts: [...hosts],
                    tls: { httpsRedirect: true },
                },
            ],
        },
    };
}
