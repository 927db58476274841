/**
 * A route outcome flattened to where its traffic finally lands: through every gateway listener a
 * destination re-enters (`RoutedDestination.next`), with weights multiplied through the hops. Pure.
 */
import type { RoutedDestination, RouteOutcome } from "./routeTypes";

/** One routing decision on the way. */
export interface RouteHop {
    /** `<namespace>/<name>`; undefined for default Kubernetes routing. */
    readonly virtualService?: string;
    /** The http route's name. */
    readonly route?: string;
}

export interface RouteLeg {
    readonly host: string;
    readonly subset?: string;
    readonly port?: number;
    readonly pods: readonly Record<string, string>[];
    /** As the last hop sends it. */
    readonly path: string;
    /** Percent of the original request. */
    readonly weight: number;
    /** Whether every hop authorized it. */
    readonly authorized: boolean;
    /** The first refusal on the way, else the last destination's reason. */
    readonly reason: string;
    readonly hops: readonly RouteHop[];
}

function legs(outcome: Extract<RouteOutcome, { kind: "routed" }>, share: number, before: readonly RouteHop[], refusal: string | undefined): RouteLeg[] {
    const hops = [...before, { ...(outcome.virtualService !== undefined ? { virtualService: outcome.virtualService } : {}), ...(outcome.route !== undefined ? { route: outcome.route } : {}) }];
    return outcome.destinations.flatMap((d: RoutedDestination): RouteLeg[] => {
        const weight = (share * d.weight) / 100;
        const firstRefusal = refusal ?? (d.authorized ? undefined : d.reason);
        if (d.next?.kind === "routed") {
            return legs(d.next, weight, hops, firstRefusal);
        }
        const leaf = { host: d.host, ...(d.subset !== undefined ? { subset: d.subset } : {}), ...(d.port !== undefined ? { port: d.port } : {}), pods: d.pods, path: d.path, weight, hops };
        if (d.next?.kind === "no-route") {
            return [{ ...leaf, authorized: false, reason: firstRefusal ?? d.next.reason }];
        }
        return [{ ...leaf, authorized: firstRefusal === undefined, reason: firstRefusal ?? d.reason }];
    });
}

/** The leaf destinations of an outcome, each with its share of the original request and the hops it took; none for a no-route. */
export function finalLegs(outcome: RouteOutcome): RouteLeg[] {
    return outcome.kind === "routed" ? legs(outcome, 100, [], undefined) : [];
}
