/**
 * Gateway servers as an Istio gateway's listeners: which server a request reaches, over what TLS,
 * and, for a request sent to gateway pods from inside the mesh (a hairpin), whether the sending
 * proxy can connect at all. Pure; throws on what it does not model.
 *
 * A Gateway server's `port.number` is the gateway Service's port, which Istio translates to the
 * target port; the evaluator takes the two as equal (istio/istio:pilot/pkg/networking/core/gateway.go@1.30.3).
 * @see https://istio.io/latest/docs/reference/config/networking/gateway/
 */
import type { ClientTls } from "./routeDestinationRule";
import { hostMatches } from "./routeMatch";
import { fields, idOf, labelsMatch, list, namespaceOf, notModelled, ofKind, ownerOf, record, strings, type IstioObject } from "./routeObjects";

export const GATEWAY_KIND = "networking.istio.io/Gateway";

/** How a server terminates connections: plaintext HTTP (possibly redirecting to HTTPS), or TLS. */
export type ServerMode = "HTTP" | "HTTPS_REDIRECT" | "SIMPLE" | "ISTIO_MUTUAL";

export interface GatewayServer {
    readonly gateway: IstioObject;
    /** `<namespace>/<name>` of the Gateway. */
    readonly id: string;
    /** `spec.servers[<i>]`. */
    readonly field: string;
    readonly port: number;
    /** A host's `namespace` is `*` or the one namespace whose VirtualServices may bind it. */
    readonly hosts: readonly { readonly namespace: string; readonly host: string }[];
    /** The gateway pods' labels the Gateway selects. */
    readonly selector: Readonly<Record<string, string>>;
    readonly spec: Record<string, unknown>;
}

/** How messages name a server: Gateway istio-ingress/mlmesh `spec.servers[0]`. */
export const describeServer = (s: GatewayServer): string => `Gateway ${s.id} \`${s.field}\``;

/** Every server of every Gateway. */
export function gatewayServers(objects: readonly IstioObject[]): GatewayServer[] {
    return ofKind(objects, GATEWAY_KIND).flatMap((gateway) => {
        const owner = ownerOf(gateway);
        const spec = fields(gateway.spec, ["selector", "servers"], owner, "spec");
        const selector = record(spec.selector, owner, "spec.selector") as Record<string, string>;
        return list(spec.servers, owner, "spec.servers").map((entry, i) => {
            const field = `spec.servers[${i}]`;
            const server = fields(entry, ["port", "hosts", "tls", "name"], owner, field);
            const port = fields(server.port, ["number", "name", "protocol", "targetPort"], owner, `${field}.port`);
            const hosts = strings(server.hosts, owner, `${field}.hosts`).map((h) => {
                const [namespace, host] = h.includes("/") ? [h.slice(0, h.indexOf("/")), h.slice(h.indexOf("/") + 1)] : ["*", h];
                return { namespace: namespace === "." ? namespaceOf(gateway) : namespace, host: host.toLowerCase() };
            });
            return { gateway, id: idOf(gateway), field, spec: server, port: Number(port.number), hosts, selector };
        });
    });
}

/** The server's mode; throws for protocols and TLS modes other than plaintext HTTP, SIMPLE and ISTIO_MUTUAL HTTPS. */
export function serverMode(server: GatewayServer): ServerMode {
    const owner = ownerOf(server.gateway);
    const protocol = String(record(server.spec.port, owner, `${server.field}.port`).protocol ?? "").toUpperCase();
    const tls = record(server.spec.tls, owner, `${server.field}.tls`);
    if (protocol === "HTTPS") {
        if (tls.mode !== "SIMPLE" && tls.mode !== "ISTIO_MUTUAL") {
            throw notModelled(owner, `${server.field}.tls.mode`, `${String(tls.mode ?? "PASSTHROUGH")} is not modelled: only SIMPLE and ISTIO_MUTUAL TLS termination are`);
        }
        return tls.mode;
    }
    if (!["HTTP", "HTTP2", "GRPC"].includes(protocol)) {
        throw notModelled(owner, `${server.field}.port.protocol`, `${protocol} is not modelled: only HTTP, HTTP2, GRPC and HTTPS servers are`);
    }
    return tls.httpsRedirect === true ? "HTTPS_REDIRECT" : "HTTP";
}

/** The one server on `port` whose hosts match `host` (a client outside the mesh sends SNI = host); throws when several do. */
export function serverFor(servers: readonly GatewayServer[], port: number, host: string): GatewayServer | undefined {
    const matching = servers.filter((s) => s.port === port && s.hosts.some((h) => hostMatches(h.host, host)));
    if (matching.length > 1) {
        const names = matching.map((s) => `${ownerOf(s.gateway)} \`${s.field}\``).join(" and ");
        throw new Error(`${names} all serve host ${host} on port ${port}; overlapping Gateway servers are not modelled by the route evaluator`);
    }
    return matching[0];
}

/** The Gateways that configure pods with these labels: those whose selector is a subset of them. */
export function gatewaysSelecting(objects: readonly IstioObject[], labels: Readonly<Record<string, string>>): IstioObject[] {
    return ofKind(objects, GATEWAY_KIND).filter((gateway) => {
        const selector = record(gateway.spec?.selector, ownerOf(gateway), "spec.selector") as Record<string, string>;
        if (Object.keys(selector).length === 0) {
            throw notModelled(ownerOf(gateway), "spec.selector", "is empty: a Gateway for every gateway deployment is not modelled");
        }
        return labelsMatch(selector, labels);
    });
}

/** What a sending proxy's connection to gateway pods reaches. */
export type Connection =
    /** `mtls`: the peer presents its Istio certificate, so the gateway sees its principal. */
    | { readonly kind: "connected"; readonly servers: readonly GatewayServer[]; readonly mtls: boolean }
    | { readonly kind: "refused"; readonly reason: string };

/** How well a server's hosts, as Envoy server names, match `sni`: exact, then the longest wildcard, then `*` (no server names); -1 for none. */
function sniRank(server: GatewayServer, sni: string): number {
    return Math.max(...server.hosts.map(({ host }) => (host === sni ? Infinity : host === "*" ? 0 : hostMatches(host, sni) ? host.length : -1)));
}

/** The TLS filter chain Envoy picks for `sni`. */
function chainForSni(servers: readonly GatewayServer[], sni: string): GatewayServer | undefined {
    return servers.filter((s) => sniRank(s, sni) >= 0).sort((a, b) => sniRank(b, sni) - sniRank(a, sni))[0];
}

/**
 * Whether the sending proxy can connect to `port` of gateway pods, and to which servers. With Istio
 * mutual TLS the client's SNI is the DestinationRule's `tls.sni`, else the cluster name
 * `outbound_.<port>_.<subset>_.<host>`, and an HTTPS server's filter chain only accepts its own
 * hosts as SNI (istio/istio:pilot/pkg/networking/core/cluster_tls.go@1.30.3, buildUpstreamTLSSettings;
 * istio/istio:pilot/pkg/networking/core/listener.go@1.30.3, toFilterChainMatch). A gateway listener has no fallback chain.
 */
export function connect(servers: readonly GatewayServer[], port: number, tls: ClientTls | undefined, target: { readonly host: string; readonly subset?: string }): Connection {
    const onPort = servers.filter((s) => s.port === port);
    const gateways = [...new Set(servers.map((s) => s.id))].join(", ");
    if (onPort.length === 0) {
        return { kind: "refused", reason: `no server of Gateway ${gateways} listens on port ${port} of the gateway pods` };
    }
    const modes = onPort.map(serverMode);
    const plaintext = modes.map((m) => m === "HTTP" || m === "HTTPS_REDIRECT");
    if (plaintext.some((p) => p) && !plaintext.every((p) => p)) {
        throw notModelled(ownerOf(onPort[0].gateway), `${onPort[0].field}.port`, `shares port ${port} between plaintext and TLS servers, which Istio rejects`);
    }
    if (plaintext[0]) {
        return tls === undefined
            ? { kind: "connected", servers: onPort, mtls: false }
            : { kind: "refused", reason: `${tls.source} originates Istio mutual TLS to port ${port} of the gateway pods, where ${describeServer(onPort[0])} serves plaintext HTTP` };
    }
    if (tls === undefined) {
        const mutual = onPort.find((s) => serverMode(s) === "ISTIO_MUTUAL");
        return {
            kind: "refused",
            reason: mutual !== undefined
                ? `the client sends plaintext to ${describeServer(mutual)} (tls.mode ISTIO_MUTUAL): gateway pods carry no security.istio.io/tlsMode label, so auto mTLS does not apply; a DestinationRule for ${target.host} with tls.mode ISTIO_MUTUAL is needed`
                : `the client sends plaintext to port ${port} of the gateway pods, where ${describeServer(onPort[0])} expects TLS`,
        };
    }
    const sni = tls.sni ?? `outbound_.${port}_.${target.subset ?? ""}_.${target.host}`;
    const chain = chainForSni(onPort, sni);
    if (chain === undefined) {
        const hosts = [...new Set(onPort.flatMap((s) => s.hosts.map((h) => h.host)))].join(", ");
        return { kind: "refused", reason: `no TLS filter chain on port ${port} of the gateway pods accepts SNI ${sni} (server hosts ${hosts}): set \`tls.sni\` in ${tls.source.split(" `")[0]} to one of them` };
    }
    if (serverMode(chain) === "SIMPLE") {
        throw notModelled(ownerOf(chain.gateway), `${chain.field}.tls.mode`, "SIMPLE, reached with Istio mutual TLS from inside the mesh, is not modelled");
    }
    return { kind: "connected", servers: [chain], mtls: true };
}
