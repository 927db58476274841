import * as assert from "node:assert/strict";
import { clientTls, destinationRule } from "../../offline/routeDestinationRule";
import type { IstioObject } from "../../offline/routeObjects";

const HOST = "mlmesh-split.istio-ingress.svc.cluster.local";
const MUTUAL = { mode: "ISTIO_MUTUAL" };
const rule = (spec: Record<string, unknown>, name = "split", namespace = "istio-ingress"): IstioObject => ({ apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name, namespace }, spec: { host: HOST, ...spec } });
const tlsOf = (spec: Record<string, unknown>, subset?: string, port = 9443) => {
    const tls = clientTls(destinationRule([rule(spec)], "istio-ingress", HOST, "istio-ingress"), subset, port);
    return tls === undefined ? "plaintext" : `${tls.mode}${tls.sni ? ` ${tls.sni}` : ""} from ${tls.source}`;
};

describe("the TLS a client originates, from its DestinationRule", () => {
    const cases: [string, Record<string, unknown>, string | undefined, string][] = [
        ["has none without tls", {}, undefined, "plaintext"],
        ["takes the top-level tls", { trafficPolicy: { tls: MUTUAL } }, undefined, "ISTIO_MUTUAL from DestinationRule istio-ingress/split `spec.trafficPolicy.tls`"],
        ["carries the sni", { trafficPolicy: { tls: { ...MUTUAL, sni: "split.mlmesh.internal" } } }, undefined, "ISTIO_MUTUAL split.mlmesh.internal from DestinationRule istio-ingress/split `spec.trafficPolicy.tls`"],
        ["takes the port's settings, which do not inherit the top-level tls", { trafficPolicy: { tls: MUTUAL, portLevelSettings: [{ port: { number: 9443 } }] } }, undefined, "plaintext"],
        ["ignores another port's settings", { trafficPolicy: { portLevelSettings: [{ port: { number: 80 }, tls: MUTUAL }] } }, undefined, "plaintext"],
        ["lets a subset's tls override", { subsets: [{ name: "a", labels: {}, trafficPolicy: { tls: { ...MUTUAL, sni: "a" } } }], trafficPolicy: { tls: MUTUAL } }, "a", "ISTIO_MUTUAL a from DestinationRule istio-ingress/split `spec.subsets[0].trafficPolicy.tls`"],
        ["keeps the top-level tls for a subset whose policy sets none", { subsets: [{ name: "a", labels: {}, trafficPolicy: {} }], trafficPolicy: { tls: MUTUAL } }, "a", "ISTIO_MUTUAL from DestinationRule istio-ingress/split `spec.trafficPolicy.tls`"],
        ["lets a subset's port settings without tls clear it", { subsets: [{ name: "a", labels: {}, trafficPolicy: { portLevelSettings: [{ port: { number: 9443 } }] } }], trafficPolicy: { tls: MUTUAL } }, "a", "plaintext"],
    ];
    for (const [behaviour, spec, subset, expected] of cases) {
        it(behaviour, () => assert.equal(tlsOf(spec, subset), expected));
    }

    it("takes the first merged rule's top-level policy, as Istio merges rules for one host", () => {
        const merged = destinationRule([rule({ subsets: [{ name: "a", labels: {} }] }, "first"), rule({ trafficPolicy: { tls: MUTUAL } }, "second"), rule({ trafficPolicy: { tls: { ...MUTUAL, sni: "x" } } }, "third")], "istio-ingress", HOST, "istio-ingress");
        assert.deepEqual([merged?.ids, clientTls(merged, "a", 9443)?.source], [["istio-ingress/first", "istio-ingress/second", "istio-ingress/third"], "DestinationRule istio-ingress/second `spec.trafficPolicy.tls`"]);
    });

    const unmodelled: [string, Record<string, unknown>, RegExp][] = [
        ["a TLS mode other than ISTIO_MUTUAL", { trafficPolicy: { tls: { mode: "SIMPLE" } } }, /`spec\.trafficPolicy\.tls\.mode` SIMPLE replaces Istio mutual TLS/],
        ["subject alt names", { trafficPolicy: { tls: { ...MUTUAL, subjectAltNames: ["x"] } } }, /`spec\.trafficPolicy\.tls\.subjectAltNames` is not modelled/],
        ["a subset's port-level TLS mode", { subsets: [{ name: "a", labels: {}, trafficPolicy: { portLevelSettings: [{ port: { number: 1 }, tls: { mode: "DISABLE" } }] } }] }, /`spec\.subsets\[0\]\.trafficPolicy\.portLevelSettings\[0\]\.tls\.mode` DISABLE/],
    ];
    for (const [what, spec, error] of unmodelled) {
        it(`throws on ${what}`, () => assert.throws(() => tlsOf(spec), error));
    }
});
