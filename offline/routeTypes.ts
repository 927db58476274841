/**
 * The route evaluator's public types: the Services it routes to, the request, and the outcome.
 * routes.ts re-exports them.
 */
import type { RequestToken } from "./routeJwt";

/** A Kubernetes Service host and the pods behind it (one entry per distinct pod label set). */
export interface Backend {
    /** FQDN, e.g. `resnet.ml-serving.svc.cluster.local`. */
    readonly host: string;
    readonly namespace: string;
    /**
     * `principal`: the pods' SPIFFE identity without `spiffe://`. Needed only for gateway pods a
     * request reaches from the mesh, as the identity they send it on with.
     * @default for the pods of the Gateway the request entered by, `RouteRequest.sourcePrincipal`
     */
    readonly pods: readonly { readonly labels: Readonly<Record<string, string>>; readonly principal?: string }[];
    /**
     * The Service's ports. A route that names no port reaches a one-port Service on that port,
     * and a several-port Service on the listener's port (the Gateway server's, e.g. 443), which
     * usually does not exist (istio/istio:pilot/pkg/networking/core/route/route.go@1.30.3; IST0112).
     */
    readonly ports?: readonly number[];
}

export interface RouteRequest {
    /** `gateway`: enters through an ingress Gateway; `mesh`: sent by a sidecar. */
    readonly via: "gateway" | "mesh";
    /** Host/:authority: the public host through a gateway; a service host (FQDN or short name) in the mesh. */
    readonly host: string;
    /** May include a query string, which matching ignores. */
    readonly path: string;
    readonly method: string;
    /** Any header but `Authorization`: give a bearer token as `jwt`. */
    readonly headers?: Readonly<Record<string, string>>;
    /** The Gateway port, or the service port in the mesh. @default 443 through a gateway */
    readonly port?: number;
    /** SPIFFE principal without `spiffe://`; through a gateway, the gateway's own (the hop that reaches the model). */
    readonly sourcePrincipal: string;
    /** A bearer token in `Authorization`, taken as correctly signed by its issuer's JWKS (signatures are not checked). @default none */
    readonly jwt?: RequestToken;
}

export interface RoutedDestination {
    host: string;
    subset?: string;
    port?: number;
    /** Percent of the route's traffic. */
    weight: number;
    /** Label sets of the pods reached. */
    pods: Record<string, string>[];
    /** After rewrite, with the query string. */
    path: string;
    /** For gateway pods: whether their listener admitted the request (the rest is in `next`). */
    authorized: boolean;
    /** The policy and rule that allowed, or why the request is denied or cannot arrive. */
    reason: string;
    /** The pods are a gateway's with a server on this port: how that server routes the request, as a new request. */
    next?: RouteOutcome;
}

export type RouteOutcome =
    | {
        kind: "routed";
        /** `<namespace>/<name>`; undefined for default Kubernetes routing. */
        virtualService?: string;
        /** The http route's name. */
        route?: string;
        timeout?: string;
        retries?: unknown;
        destinations: RoutedDestination[];
        /** Configuration Istio ignores for this request, such as a second VirtualService for a mesh host. */
        notes?: string[];
    }
    | { kind: "no-route"; reason: string };
