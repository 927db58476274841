import * as assert from "node:assert/strict";
import { applyHeaderOperations, headerOperations, removesToken, rewrittenAuthority } from "../../offline/routeHeaders";

const OWNER = "VirtualService ns/vs";
const ops = (request: Record<string, unknown>, field = "spec.http[0].headers") => headerOperations({ request }, OWNER, field);
const apply = (route: Record<string, unknown> | undefined, destination: Record<string, unknown> | undefined, weighted = false, headers: [string, string][] = [["x-leg", "old"], ["x-keep", "1"]]) =>
    Object.fromEntries(applyHeaderOperations(new Map(headers), route && ops(route), destination && ops(destination, "spec.http[0].route[0].headers"), weighted, OWNER, "spec.http[0].route[0].headers"));

describe("header operations", () => {
    it("sets, adds and removes request headers for the next hop, lower-cased", () => {
        assert.deepEqual(apply({ set: { "X-Leg": "churn-sm" }, add: { "X-Keep": "2", "x-new": "n" }, remove: ["x-gone"] }, undefined, false, [["x-leg", "old"], ["x-keep", "1"], ["x-gone", "g"]]),
            { "x-leg": "churn-sm", "x-keep": "1,2", "x-new": "n" });
    });

    it("applies a single destination's operations after the route's, so its set wins", () => {
        assert.deepEqual(apply({ set: { "x-leg": "route" } }, { set: { "x-leg": "destination" } }), { "x-leg": "destination", "x-keep": "1" });
    });

    it("combines a weighted destination's and its route's operations on different headers", () => {
        assert.deepEqual(apply({ set: { "x-route": "r" } }, { set: { "x-leg": "d" } }, true), { "x-leg": "d", "x-keep": "1", "x-route": "r" });
    });

    it("refuses to order a weighted destination's and its route's operations on one header", () => {
        assert.throws(() => apply({ set: { "x-leg": "route" } }, { set: { "x-leg": "destination" } }, true), /both change header x-leg on a weighted destination/);
    });

    it("refuses to order removing and writing one header", () => {
        assert.throws(() => apply({ remove: ["x-leg"] }, { set: { "x-leg": "d" } }), /removes and writes header x-leg/);
    });

    it("ignores response operations once they are valid", () => {
        assert.deepEqual(headerOperations({ response: { set: { "x-served-by": "mlmesh" }, remove: ["server"] } }, OWNER, "h"), { writes: [], remove: [] });
    });

    const authorities: [string, string | undefined, Record<string, unknown> | undefined, Record<string, unknown> | undefined, string][] = [
        ["keeps the request's host without a rewrite", undefined, undefined, undefined, "inference.example.com"],
        ["rewrites to rewrite.authority", "split.mlmesh.internal", undefined, undefined, "split.mlmesh.internal"],
        ["rewrites to a host set on the destination", undefined, undefined, { set: { host: "a.internal" } }, "a.internal"],
        ["prefers set to add for :authority", undefined, { add: { ":authority": "added" }, set: { ":authority": "set" } }, undefined, "set"],
        ["prefers the route's authority to the destination's", undefined, { set: { host: "route.internal" } }, { set: { host: "destination.internal" } }, "route.internal"],
        ["prefers rewrite.authority to the route's headers", "rewrite.internal", { set: { host: "route.internal" } }, undefined, "rewrite.internal"],
    ];
    for (const [behaviour, rewrite, route, destination, expected] of authorities) {
        it(behaviour, () => assert.equal(rewrittenAuthority("inference.example.com", rewrite, route && ops(route), destination && ops(destination)), expected));
    }

    it("does not send a host set as a header", () => {
        assert.deepEqual(apply({ set: { host: "a.internal" } }, undefined), { "x-leg": "old", "x-keep": "1" });
    });

    it("drops the bearer token when Authorization is removed", () => {
        assert.deepEqual([removesToken(ops({ remove: ["Authorization"] })), removesToken(ops({ remove: ["x-leg"] }), undefined)], [true, false]);
    });

    const invalid: [string, Record<string, unknown>, RegExp][] = [
        ["a pseudo-header write", { request: { set: { ":path": "/x" } } }, /`h\.request\.set\.:path` is rejected by Istio validation/],
        ["removing Host", { request: { remove: ["Host"] } }, /`h\.request\.remove\[0\]` is rejected by Istio validation/],
        ["an Envoy format string", { request: { set: { "x-node": "%HOSTNAME%" } } }, /is an Envoy format string/],
        ["writing the bearer token", { request: { set: { authorization: "Bearer x" } } }, /writes the bearer token/],
        ["setting Host in a response", { response: { set: { host: "x" } } }, /rejected by Istio validation/],
        ["an unknown block", { request: { append: { a: "b" } } }, /`h\.request\.append` is not modelled/],
    ];
    for (const [what, spec, error] of invalid) {
        it(`throws on ${what}`, () => assert.throws(() => headerOperations(spec, OWNER, "h"), error));
    }
});
