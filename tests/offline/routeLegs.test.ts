import * as assert from "node:assert/strict";
import { finalLegs } from "../../offline/routeLegs";
import type { RoutedDestination, RouteOutcome } from "../../offline/routeTypes";

const destination = (host: string, weight: number, extra: Partial<RoutedDestination> = {}): RoutedDestination => ({ host, weight, pods: [{ app: host }], path: `/${host}`, authorized: true, reason: `allowed at ${host}`, ...extra });
const routed = (virtualService: string, destinations: RoutedDestination[]): RouteOutcome => ({ kind: "routed", virtualService, route: "r", destinations });

describe("final legs of an outcome", () => {
    it("multiplies weights through the hops and lists each hop", () => {
        const outcome = routed("ns/front", [
            destination("gw", 80, { next: routed("ns/legs", [destination("a", 50), destination("b", 50)]) }),
            destination("c", 20),
        ]);
        assert.deepEqual(finalLegs(outcome).map((l) => [l.host, l.weight, l.authorized, l.hops.map((h) => h.virtualService)]), [
            ["a", 40, true, ["ns/front", "ns/legs"]],
            ["b", 40, true, ["ns/front", "ns/legs"]],
            ["c", 20, true, ["ns/front"]],
        ]);
    });

    it("refuses a leg when any hop refused, with the first refusal's reason", () => {
        const outcome = routed("ns/front", [destination("gw", 100, { authorized: false, reason: "403 at the gateway", next: routed("ns/legs", [destination("a", 100)]) })]);
        assert.deepEqual(finalLegs(outcome).map((l) => [l.host, l.authorized, l.reason]), [["a", false, "403 at the gateway"]]);
    });

    it("ends a leg at a gateway listener that finds no route, unauthorized with why", () => {
        const outcome = routed("ns/front", [destination("gw", 100, { next: { kind: "no-route", reason: "404 NR: nothing" } })]);
        assert.deepEqual(finalLegs(outcome).map((l) => [l.host, l.path, l.authorized, l.reason]), [["gw", "/gw", false, "404 NR: nothing"]]);
    });

    it("has no legs without a route", () => assert.deepEqual(finalLegs({ kind: "no-route", reason: "x" }), []));
});
