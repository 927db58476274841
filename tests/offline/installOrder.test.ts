import * as assert from "node:assert/strict";
import { installOrderProblems, PREREQUISITES, waitsFor } from "../../offline/installOrder";
import { plan } from "../../offline/plan";
import type { RecordedResource } from "../../offline/recorder";

/** A recorded resource with only what the check reads. */
function resource(name: string, type: string, inputs: Record<string, unknown> = {}, dependencies: string[] = []): RecordedResource {
    return { urn: `urn:${name}`, type, name, custom: true, inputs, outputs: {}, options: {}, dependencies: dependencies.map((d) => `urn:${d}`) };
}
const release = (name: string, chart: string, dependencies: string[] = []) => resource(name, "kubernetes:helm.sh/v3:Release", { chart }, dependencies);

/** A cluster that can run pods, and the charts, each waiting for what it needs. */
function soundPlan(): RecordedResource[] {
    const nodes = ["system", "vpc-cni", "coredns"];
    return [
        resource("system", "aws:eks/nodeGroup:NodeGroup", { labels: { "mlmesh.io/node-role": "system" } }),
        resource("vpc-cni", "aws:eks/addon:Addon", { addonName: "vpc-cni" }),
        resource("coredns", "aws:eks/addon:Addon", { addonName: "coredns" }, ["system"]),
        release("base", "base", nodes),
        release("istiod", "istiod", ["base"]),
        release("cert-manager", "cert-manager", nodes),
        release("kserve-crd", "oci://ghcr.io/kserve/charts/kserve-crd", nodes),
        release("kserve-resources", "oci://ghcr.io/kserve/charts/kserve-resources", ["kserve-crd", "cert-manager"]),
        release("runtimes", "oci://ghcr.io/kserve/charts/kserve-runtime-configs", ["kserve-resources"]),
        resource("bert", "kubernetes:serving.kserve.io/v1beta1:InferenceService", {}, ["runtimes", "istiod"]),
        resource("routes", "kubernetes:networking.istio.io/v1:VirtualService", {}, ["istiod"]),
        resource("resnet", "kubernetes:apps/v1:Deployment", {}, ["istiod"]),
    ];
}

describe("install order", () => {
    it("finds nothing wrong when every chart and object waits for what it needs", () => {
        assert.deepEqual(installOrderProblems(soundPlan()), []);
    });

    it("follows dependencies transitively", () => {
        assert.ok(waitsFor(soundPlan()).get("urn:bert")!.has("urn:cert-manager"));
    });

    // One broken edge per prerequisite kind: [what, resource, dependencies it gets instead, expected message part].
    const BROKEN: [string, string, string[], RegExp][] = [
        ["kserve-resources installed without waiting for cert-manager", "kserve-resources", ["kserve-crd"], /kserve-resources \(the kserve-resources chart\) does not wait for the cert-manager chart: it needs cert-manager's Certificate/],
        ["kserve-resources before the KServe CRDs", "kserve-resources", ["cert-manager"], /does not wait for the kserve-crd chart/],
        ["runtime configs before the controller's webhook", "runtimes", ["kserve-crd"], /runtimes \(the kserve-runtime-configs chart\) does not wait for the kserve-resources chart/],
        ["istiod before the Istio CRDs", "istiod", ["system", "vpc-cni", "coredns"], /istiod \(the istiod chart\) does not wait for the base chart/],
        ["cert-manager before any node exists", "cert-manager", [], /does not wait for the system node group/],
        ["an InferenceService before KServe", "bert", ["istiod"], /bert \(an InferenceService\) does not wait for the kserve-resources chart/],
        ["a VirtualService before istiod", "routes", ["base"], /routes \(an Istio object\) does not wait for the istiod chart/],
        ["a model Deployment before the sidecar injector", "resnet", [], /resnet \(a workload in a mesh namespace\) does not wait for the istiod chart/],
    ];
    for (const [what, name, dependencies, message] of BROKEN) {
        it(`reports ${what}`, () => {
            const resources = soundPlan().map((r) => (r.name === name ? { ...r, dependencies: dependencies.map((d) => `urn:${d}`) } : r));
            const problems = installOrderProblems(resources).filter((p) => p.urn === `urn:${name}`);
            assert.ok(problems.some((p) => message.test(p.message)), problems.map((p) => p.message).join("\n") || "no problem reported");
        });
    }

    it("reports a prerequisite the plan does not install at all", () => {
        const resources = soundPlan().filter((r) => r.name !== "cert-manager");
        assert.ok(installOrderProblems(resources).some((p) => /needs the cert-manager chart, which the plan does not install/.test(p.message)));
    });

    it("cites an upstream source for every prerequisite", () => {
        for (const consumer of PREREQUISITES) {
            for (const prerequisite of consumer.prerequisites) {
                assert.match(prerequisite.source, /^[\w.-]+\/[\w.-]+:.+@/, `${consumer.describe}: ${prerequisite.needs}`);
            }
        }
    });

    for (const stack of ["dev", "prod"]) {
        it(`finds every prerequisite waited for in the ${stack} stack's plan`, async () => {
            const result = await plan({ stack, outDir: `${require("node:os").tmpdir()}/mlmesh-install-order-${stack}` });
            assert.deepEqual(result.installOrder.map((p) => p.message), []);
        });
    }
});
