/**
 * Egress from the mesh. Istio's default outbound policy is ALLOW_ANY: a sidecar passes traffic to
 * any host it does not know. mlmesh defaults to REGISTRY_ONLY, so a workload reaches only the
 * Services of the cluster and the external hosts a ServiceEntry names: the AWS endpoints the
 * platform's own workloads call, and what a stack allows per namespace. Pure; IstioMesh creates
 * the objects.
 * @see https://istio.io/latest/docs/tasks/traffic-management/egress/egress-control/
 * @see https://istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/#MeshConfig-OutboundTrafficPolicy-Mode
 */
import { PropertyErrors } from "../propertyErrors";
import { HOST_NAME, shortHash } from "../names";
import { ISTIO_ROOT_NAMESPACE } from "./istioCharts";
import type { IstioManifest } from "./meshPolicies";

export const OUTBOUND_MODES = ["REGISTRY_ONLY", "ALLOW_ANY"] as const;
export type OutboundMode = (typeof OUTBOUND_MODES)[number];

/** External hosts one namespace's workloads may call, over TLS. */
export interface EgressAllowance {
    /** A mesh namespace. */
    namespace: string;
    /** Fully qualified host names; `*.example.com` allows the subdomains of example.com. */
    hosts: string[];
    /** TLS port the hosts are called on. @default 443 */
    port?: number;
}

export interface EgressSpec {
    /**
     * `REGISTRY_ONLY` refuses calls to hosts the mesh does not know; `ALLOW_ANY` (Istio's own
     * default) lets workloads call anywhere, and is refused in prod.
     * @default "REGISTRY_ONLY"
     */
    mode?: OutboundMode;
    /** External hosts allowed per namespace, beyond what the platform itself needs. @default [] */
    allow?: EgressAllowance[];
    /**
     * Other regions whose S3 buckets models may download from. Those requests leave through the
     * NAT gateways, not the VPC's S3 endpoint, so its account limit does not apply to them.
     * @default [] (the stack's own region only)
     */
    s3Regions?: string[];
}

/** A host name, or `*.` and a host name. */
const EGRESS_HOST = new RegExp(`^(\\*\\.)?${HOST_NAME.source.slice(1)}`);

/** Checks the egress settings against the mesh's namespaces. */
export function validateEgress(spec: EgressSpec | undefined, namespaces: readonly string[], errors = new PropertyErrors(), prefix = ""): PropertyErrors {
    const mode = spec?.mode;
    errors.check(`${prefix}mode`, mode, mode === undefined || OUTBOUND_MODES.includes(mode) ? undefined : `must be one of ${OUTBOUND_MODES.join(", ")}`);
    (spec?.allow ?? []).forEach((allowance, i) => {
        const at = `${prefix}allow[${i}].`;
        errors.check(`${at}namespace`, allowance.namespace, namespaces.includes(allowance.namespace) ? undefined : `is not a mesh namespace; use one of ${namespaces.join(", ")}`);
        errors.check(`${at}hosts`, allowance.hosts, allowance.hosts.length > 0 ? undefined : "must list at least one host");
        allowance.hosts.forEach((host, j) => errors.check(`${at}hosts[${j}]`, host, EGRESS_HOST.test(host)
            ? (allowance.hosts.indexOf(host) < j ? "is listed twice" : undefined)
            : "must be a fully qualified host name such as api.example.com, or *.example.com for its subdomains"));
        const port = allowance.port;
        errors.check(`${at}port`, port, port === undefined || (Number.isInteger(port) && port >= 1 && port <= 65535) ? undefined : "must be a TCP port from 1 to 65535");
    });
    (spec?.s3Regions ?? []).forEach((region, i, all) => errors.check(`${prefix}s3Regions[${i}]`, region, !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)
        ? "must be an AWS region name, e.g. eu-west-1"
        : all.indexOf(region) < i ? "is listed twice" : undefined));
    return errors;
}

/** Where the platform runs: the AWS hosts its workloads call are regional. */
export interface AwsEndpoints {
    readonly region: string;
    /** The partition's DNS suffix, e.g. `amazonaws.com`. */
    readonly dnsSuffix: string;
}

/**
 * The AWS hosts mesh workloads call: S3 for model downloads (path-style and virtual-hosted
 * bucket hosts; us-east-1 also answers on the legacy global host, which boto3 uses there) and
 * STS for IRSA's AssumeRoleWithWebIdentity (the EKS pod identity webhook points SDKs at the
 * regional endpoint). Only regional S3 hosts: they resolve to the addresses the VPC's S3 gateway
 * endpoint routes, so its policy (the account's buckets) applies to every download.
 */
export function platformEgressHosts(aws: AwsEndpoints, s3Regions: readonly string[] = []): string[] {
    const legacyGlobal = aws.region === "us-east-1" ? [`s3.${aws.dnsSuffix}`, `*.s3.${aws.dnsSuffix}`] : [];
    const otherRegions = s3Regions.filter((r) => r !== aws.region).flatMap((r) => [`s3.${r}.${aws.dnsSuffix}`, `*.s3.${r}.${aws.dnsSuffix}`]);
    return [`s3.${aws.region}.${aws.dnsSuffix}`, `*.s3.${aws.region}.${aws.dnsSuffix}`, ...legacyGlobal, `sts.${aws.region}.${aws.dnsSuffix}`, ...otherRegions];
}

const TLS_PORT = 443;
export const SERVICE_ENTRY_TYPE = { apiVersion: "networking.istio.io/v1", kind: "ServiceEntry" } as const;

/**
 * A ServiceEntry for external TLS hosts: the sidecar matches the SNI and passes the connection
 * on, so TLS stays end to end with the external endpoint. With resolution NONE (which wildcard
 * hosts require) it goes to the address the client resolved; with DNS, the sidecar resolves.
 */
export function externalTlsHosts(name: string, namespace: string, hosts: readonly string[], port: number, exportTo: string, resolution: "NONE" | "DNS" = "NONE"): IstioManifest {
    return {
        ...SERVICE_ENTRY_TYPE,
        metadata: { name, namespace, labels: { "app.kubernetes.io/part-of": "mlmesh" } },
        spec: {
            hosts: [...hosts],
            location: "MESH_EXTERNAL",
            resolution,
            ports: [{ number: port, name: `tls-${port}`, protocol: "TLS" }],
            exportTo: [exportTo],
        },
    };
}

/** The AWS endpoints every mesh workload may call, in the root namespace and visible mesh-wide. */
export function platformServiceEntry(aws: AwsEndpoints, s3Regions: readonly string[] = []): IstioManifest {
    return externalTlsHosts("mlmesh-aws-apis", ISTIO_ROOT_NAMESPACE, platformEgressHosts(aws, s3Regions), TLS_PORT, "*");
}

/** One namespace's allowed hosts, visible only in that namespace; named by its hosts and port, so reordering the list changes nothing. */
export function namespaceServiceEntry(allowance: EgressAllowance): IstioManifest {
    const port = allowance.port ?? TLS_PORT;
    return externalTlsHosts(`mlmesh-egress-${shortHash(JSON.stringify([[...allowance.hosts].sort(), port]))}`, allowance.namespace, allowance.hosts, port, ".");
}
