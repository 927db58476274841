/**
 * Egress judged as a sidecar would judge it: under REGISTRY_ONLY a call to a host outside the
 * cluster leaves the pod only if a ServiceEntry visible in the caller's namespace names the host
 * and port; under ALLOW_ANY everything leaves
 * (https://istio.io/latest/docs/reference/config/networking/service-entry/,
 * https://istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/#MeshConfig-OutboundTrafficPolicy).
 * Pure; the route evaluator accepts ServiceEntries for external hosts only.
 */
import { valueAt } from "./manifests";
import { groupKind, list, namespaceOf, notModelled, ownerOf, strings, type IstioObject } from "./routeObjects";

export const SERVICE_ENTRY_KIND = "networking.istio.io/ServiceEntry";
export const SIDECAR_KIND = "networking.istio.io/Sidecar";

export interface EgressRequest {
    /** The caller's namespace. */
    readonly namespace: string;
    readonly host: string;
    readonly port: number;
}

export type EgressDecision =
    | { readonly allowed: true; readonly via: string }
    | { readonly allowed: false; readonly reason: string };

/** Whether a ServiceEntry host names `host`: exactly, or `*.suffix` for any name under suffix. */
export function serviceEntryHostMatches(pattern: string, host: string): boolean {
    const p = pattern.toLowerCase();
    const h = host.toLowerCase();
    return p.startsWith("*.") ? h.endsWith(p.slice(1)) && h.length > p.length - 1 : p === h;
}

/** Whether `entry` is visible to workloads of `namespace` (`exportTo` absent: everywhere). */
function visibleIn(entry: IstioObject, namespace: string): boolean {
    const exportTo = strings(entry.spec.exportTo, ownerOf(entry), "spec.exportTo");
    return exportTo.length === 0 || exportTo.some((to) => to === "*" || to === namespace || (to === "." && namespaceOf(entry) === namespace));
}

/** The outbound policy istiod's values configure; Istio's default is ALLOW_ANY. */
export function outboundMode(istiodValues: Record<string, unknown> | undefined): string {
    const mode = valueAt(istiodValues, "meshConfig.outboundTrafficPolicy.mode");
    return typeof mode === "string" ? mode : "ALLOW_ANY";
}

export function egressDecision(objects: readonly IstioObject[], mode: string, request: EgressRequest): EgressDecision {
    const entries = objects.filter((o) => groupKind(o) === SERVICE_ENTRY_KIND && visibleIn(o, request.namespace));
    const match = entries.find((entry) => strings(entry.spec.hosts, ownerOf(entry), "spec.hosts").some((h) => serviceEntryHostMatches(h, request.host))
        && list(entry.spec.ports, ownerOf(entry), "spec.ports").some((port) => (port as { number?: number }).number === request.port));
    if (match) {
        return { allowed: true, via: ownerOf(match) };
    }
    if (mode === "ALLOW_ANY") {
        return { allowed: true, via: "outboundTrafficPolicy ALLOW_ANY" };
    }
    return { allowed: false, reason: `no ServiceEntry visible in ${request.namespace} names ${request.host}:${request.port}, and the outbound policy is ${mode}` };
}

/**
 * What the route evaluator may ignore: ServiceEntries that name hosts outside the cluster only
 * (one naming a cluster host would change where in-mesh requests go), and Sidecars that select
 * their workloads and scope only their outbound traffic (a namespace-wide one could narrow what a
 * modelled client sees, and an `ingress` one changes how a workload receives): not modelled.
 */
export function assertOutboundOnly(objects: readonly IstioObject[], clusterHosts: readonly string[]): void {
    for (const sidecar of objects.filter((o) => groupKind(o) === SIDECAR_KIND)) {
        if (!sidecar.spec.workloadSelector || sidecar.spec.ingress !== undefined) {
            throw notModelled(ownerOf(sidecar), sidecar.spec.workloadSelector ? "spec.ingress" : "spec.workloadSelector", "is not modelled by the route evaluator: only a Sidecar that selects its workloads and scopes their egress is");
        }
    }
    for (const entry of objects.filter((o) => groupKind(o) === SERVICE_ENTRY_KIND)) {
        const hosts = strings(entry.spec.hosts, ownerOf(entry), "spec.hosts");
        const internal = hosts.find((h) => h.endsWith(".svc.cluster.local") || clusterHosts.some((c) => serviceEntryHostMatches(h, c)));
        if (entry.spec.location !== "MESH_EXTERNAL" || internal !== undefined) {
            throw notModelled(ownerOf(entry), "spec.hosts", `names ${internal ?? "a host"} inside the mesh (location ${String(entry.spec.location)}), which the route evaluator does not model`);
        }
    }
}
