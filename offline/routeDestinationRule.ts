/**
 * The DestinationRule a client proxy applies to a host: its subsets, and the TLS it originates
 * toward a subset and port. Only Istio mutual TLS is modelled (`tls.mode: ISTIO_MUTUAL`, with an
 * optional `sni`); other modes and TLS fields throw. Pure.
 * @see https://istio.io/latest/docs/reference/config/networking/destination-rule/
 */
import { ISTIO_ROOT_NAMESPACE } from "../components/mesh/istioCharts";
import { compareHostSpecificity, hostMatches, resolveShortName } from "./routeMatch";
import { exportedTo, fields, idOf, list, namespaceOf, notModelled, ofKind, ownerOf, record, type IstioObject } from "./routeObjects";

type Fields = Record<string, unknown>;

export interface DestinationPolicy {
    /** `<namespace>/<name>` of the merged rules. */
    readonly ids: readonly string[];
    readonly subsets: ReadonlyMap<string, { readonly labels: Readonly<Record<string, string>>; readonly trafficPolicy?: Fields; readonly owner: string; readonly field: string }>;
    /** The first merged rule's top-level policy that has one, as Istio merges them. */
    readonly trafficPolicy?: Fields;
    readonly owner?: string;
}

/** The TLS a client originates; undefined: auto mTLS, which needs the destination pods' `security.istio.io/tlsMode: istio` label. */
export interface ClientTls {
    readonly mode: "ISTIO_MUTUAL";
    readonly sni?: string;
    /** `DestinationRule <namespace>/<name>` and the field. */
    readonly source: string;
}

/** Validates a traffic policy's TLS settings at every level; only ISTIO_MUTUAL with an optional `sni` is modelled. */
function checkTls(policy: unknown, owner: string, field: string): void {
    const spec = record(policy, owner, field);
    const levels = [spec, ...list(spec.portLevelSettings, owner, `${field}.portLevelSettings`)] as { tls?: Fields }[];
    levels.forEach((level, i) => {
        const at = i === 0 ? field : `${field}.portLevelSettings[${i - 1}]`;
        if (level.tls === undefined) {
            return;
        }
        const tls = fields(level.tls, ["mode", "sni"], owner, `${at}.tls`);
        if (tls.mode !== "ISTIO_MUTUAL") {
            throw notModelled(owner, `${at}.tls.mode`, `${String(tls.mode)} replaces Istio mutual TLS, which is not modelled`);
        }
    });
}

/** Istio looks in the client's namespace, then the service's, then the root namespace; the most specific host wins and equal hosts merge. */
export function destinationRule(objects: readonly IstioObject[], clientNamespace: string, host: string, serviceNamespace: string): DestinationPolicy | undefined {
    const rules = ofKind(objects, "networking.istio.io/DestinationRule");
    for (const namespace of [...new Set([clientNamespace, serviceNamespace, ISTIO_ROOT_NAMESPACE])]) {
        const candidates = rules
            .filter((o) => namespaceOf(o) === namespace && (namespace === clientNamespace || exportedTo(o, clientNamespace)))
            .map((o) => ({ o, pattern: resolveShortName(String(o.spec?.host), namespace) }))
            .filter((c) => hostMatches(c.pattern, host));
        if (candidates.length === 0) {
            continue;
        }
        const best = candidates.map((c) => c.pattern).sort(compareHostSpecificity)[0];
        const chosen = candidates.filter((c) => c.pattern === best).map((c) => c.o);
        const subsets = new Map<string, { labels: Record<string, string>; trafficPolicy?: Fields; owner: string; field: string }>();
        let top: { trafficPolicy: Fields; owner: string } | undefined;
        for (const o of chosen) {
            const owner = ownerOf(o);
            const spec = fields(o.spec, ["host", "subsets", "trafficPolicy", "exportTo"], owner, "spec");
            checkTls(spec.trafficPolicy, owner, "spec.trafficPolicy");
            top ??= spec.trafficPolicy !== undefined ? { trafficPolicy: record(spec.trafficPolicy, owner, "spec.trafficPolicy"), owner } : undefined;
            list(spec.subsets, owner, "spec.subsets").forEach((s, i) => {
                const subset = fields(s, ["name", "labels", "trafficPolicy"], owner, `spec.subsets[${i}]`);
                checkTls(subset.trafficPolicy, owner, `spec.subsets[${i}].trafficPolicy`);
                if (!subsets.has(String(subset.name))) {
                    const trafficPolicy = subset.trafficPolicy !== undefined ? { trafficPolicy: record(subset.trafficPolicy, owner, `spec.subsets[${i}].trafficPolicy`) } : {};
                    subsets.set(String(subset.name), { labels: record(subset.labels, owner, `spec.subsets[${i}].labels`) as Record<string, string>, owner, field: `spec.subsets[${i}]`, ...trafficPolicy });
                }
            });
        }
        return { ids: chosen.map(idOf), subsets, ...(top ?? {}) };
    }
    return undefined;
}

/**
 * A policy's TLS for a port: a `portLevelSettings` entry for the port replaces the policy, and its
 * omitted `tls` is no TLS, not the policy's (istio/istio:pilot/pkg/networking/util/util.go@1.30.3, GetPortLevelTrafficPolicy).
 */
function tlsFor(policy: Fields | undefined, port: number | undefined, owner: string, field: string): { tls?: Fields; portLevel: boolean; at: string } {
    const entries = list(policy?.portLevelSettings, owner, `${field}.portLevelSettings`) as { port?: { number?: number }; tls?: Fields }[];
    const index = port === undefined ? -1 : entries.findIndex((e) => e.port?.number === port);
    if (index >= 0) {
        return { tls: entries[index].tls, portLevel: true, at: `${field}.portLevelSettings[${index}].tls` };
    }
    return { tls: policy?.tls as Fields | undefined, portLevel: false, at: `${field}.tls` };
}

/**
 * The TLS the client originates toward a subset and port: the subset's policy overrides the
 * top-level one when it sets `tls` or has an entry for the port
 * (istio/istio:pilot/pkg/networking/util/util.go@1.30.3, MergeSubsetTrafficPolicy).
 */
export function clientTls(policy: DestinationPolicy | undefined, subset: string | undefined, port: number | undefined): ClientTls | undefined {
    if (policy === undefined) {
        return undefined;
    }
    const top = tlsFor(policy.trafficPolicy, port, policy.owner ?? "", "spec.trafficPolicy");
    const entry = subset === undefined ? undefined : policy.subsets.get(subset);
    const own = entry?.trafficPolicy !== undefined ? tlsFor(entry.trafficPolicy, port, entry.owner, `${entry.field}.trafficPolicy`) : undefined;
    const [chosen, owner] = own !== undefined && (own.tls !== undefined || own.portLevel) ? [own, entry!.owner] : [top, policy.owner ?? ""];
    if (chosen.tls === undefined) {
        return undefined;
    }
    const sni = typeof chosen.tls.sni === "string" ? { sni: chosen.tls.sni } : {};
    return { mode: "ISTIO_MUTUAL", source: `${owner} \`${chosen.at}\``, ...sni };
}
