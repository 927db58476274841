import * as assert from "node:assert/strict";
import type { IstioObject } from "../../offline/routeObjects";
import { checkVirtualService, virtualServices } from "../../offline/routeVirtualService";

const vs = (spec: Record<string, unknown>): IstioObject => ({ apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "resnet", namespace: "ml-serving" }, spec: { hosts: ["resnet"], ...spec } });
const check = (spec: Record<string, unknown>) => virtualServices([vs(spec)]).forEach(checkVirtualService);
const destination = { destination: { host: "resnet" } };

describe("VirtualService reading", () => {
    it("resolves short hosts and gateway names in the VirtualService's namespace, and no gateway as the mesh", () => {
        const [read] = virtualServices([vs({ gateways: ["mlmesh", "istio-ingress/door"] }), vs({})]);
        assert.deepEqual([read.hosts, read.gateways, virtualServices([vs({})])[0].gateways], [["resnet.ml-serving.svc.cluster.local"], ["ml-serving/mlmesh", "istio-ingress/door"], ["mesh"]]);
    });

    it("accepts route- and destination-level header operations", () => {
        assert.doesNotThrow(() => check({ http: [{ headers: { request: { remove: ["x-a"] } }, route: [{ ...destination, headers: { request: { set: { "x-leg": "a" } } } }] }] }));
    });

    const invalid: [string, Record<string, unknown>, RegExp][] = [
        ["an invalid header operation in a route the request may not take", { http: [{ route: [destination] }, { route: [{ ...destination, headers: { request: { set: { ":path": "/" } } } }] }] }, /`spec\.http\[1\]\.route\[0\]\.headers\.request\.set\.:path` is rejected by Istio validation/],
        ["a route-level header block it does not know", { http: [{ route: [destination], headers: { requests: {} } }] }, /`spec\.http\[0\]\.headers\.requests` is not modelled/],
        ["a route with nowhere to go", { http: [{ name: "empty" }] }, /`spec\.http\[0\]` has no route, redirect or directResponse/],
    ];
    for (const [what, spec, error] of invalid) {
        it(`throws on ${what}`, () => assert.throws(() => check(spec), error));
    }
});
