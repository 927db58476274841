import * as assert from "node:assert/strict";
import { installOrderProblems, PREREQUISITES, waitsFor } from "../../offline/installOrder";
import { plan } from "../../offline/plan";
import type { RecordedResource } from "../../offline/recorder";

/** A recorded resource with only what the check reads. */
function resource(name: string, type: string, inputs: Record<string, unknown> = {}, dependencies: string[] = []): RecordedResource {
    return { urn: `urn:${name}`, type, name, custom: true, inputs, outputs: {}, options: {}, dependencies: dependencies.map((d) => `urn:${d}`), inputDependencies: [] };
}
const release = (name: string, chart: string, dependencies: string[] = []) => resource(name, "kubernetes:helm.sh/v3:Release", { chart }, dependencies);

/** A cluster that can run pods, and the charts, each waiting for what it needs. */
function soundPlan(): RecordedResource[] {
    const nodes = ["system", "vpc-cni", "coredns"];
    return [
        resource("system", "aws:eks/nodeGroup:NodeGroup", { labels: { "mlmesh.io/node-role": "system" } }, ["vpc-cni"]),
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
        ["a node group before the VPC CNI", "system", [], /system \(a managed node group\) does not wait for the vpc-cni add-on/],
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

describe("install order in a project that reads an mlmesh platform", () => {
    /** An app team's plan: a caller policy and a workload in a mesh namespace, and no charts of its own. */
    const appPlan = (): RecordedResource[] => [
        resource("calls-churn", "kubernetes:security.istio.io/v1:AuthorizationPolicy"),
        resource("churn-report", "kubernetes:apps/v1:Deployment"),
    ];
    const platform = (extra: Record<string, unknown> = {}) => ({ contractVersion: "1.0.0", meshRevision: "1-30-3", models: [{ name: "resnet", backend: "tfserving" }], ...extra });
    const messages = (resources: RecordedResource[], stacksRead: Record<string, unknown>[] = []) => installOrderProblems(resources, stacksRead).map((p) => p.message);

    it("reports the Istio charts as missing when the project reads no stack", () => {
        assert.deepEqual(messages(appPlan()), [
            "calls-churn (an Istio object) needs the base chart, which the plan does not install: it needs the Istio CRDs (istio/istio:manifests/charts/base@1.30.3)",
            "calls-churn (an Istio object) needs the istiod chart, which the plan does not install: it needs istiod, which validates it and pushes it to the proxies (istio/istio:manifests/charts/istio-control/istio-discovery@1.30.3)",
            "churn-report (a workload in a mesh namespace) needs the istiod chart, which the plan does not install: it needs istiod's sidecar injector; a pod created before it runs without a proxy and STRICT mTLS refuses it (istio/istio:manifests/charts/istio-control/istio-discovery/templates/mutatingwebhook.yaml@1.30.3)",
        ]);
    });

    // [stacks read, whether they hold an mlmesh platform (so Istio is installed before the project runs)]
    const STACKS_READ: [string, Record<string, unknown>[], boolean][] = [
        ["an mlmesh platform", [platform()], true],
        ["a platform among other stacks", [{ vpcId: "vpc-1" }, platform()], true],
        ["a stack that is not a platform", [{ vpcId: "vpc-1" }], false],
        ["a stack without `meshRevision`", [platform({ meshRevision: undefined })], false],
        ["a stack without `contractVersion`", [platform({ contractVersion: undefined })], false],
        ["a stack whose `contractVersion` is not a string", [platform({ contractVersion: 1 })], false],
    ];
    for (const [what, stacksRead, satisfied] of STACKS_READ) {
        it(`${satisfied ? "finds nothing missing" : "still reports the Istio charts"} for an app reading ${what}`, () => {
            assert.equal(messages(appPlan(), stacksRead).length, satisfied ? 0 : 3);
        });
    }

    // [the platform's models, whether KServe is installed for the app's InferenceService]
    const MODELS: [string, unknown, boolean][] = [
        ["a KServe model", [{ name: "resnet", backend: "tfserving" }, { name: "bert", backend: "kserve" }], true],
        ["no KServe model", [{ name: "resnet", backend: "tfserving" }, { name: "churn", backend: "sagemaker" }], false],
        ["no models", [], false],
        ["`models` that is not a list", "[secret]", false],
    ];
    for (const [what, models, satisfied] of MODELS) {
        it(`${satisfied ? "finds KServe installed" : "still reports KServe missing"} for an InferenceService when the platform serves ${what}`, () => {
            const problems = messages([resource("scorer", "kubernetes:serving.kserve.io/v1beta1:InferenceService")], [platform({ models })]);
            assert.deepEqual(problems, satisfied ? [] : [
                "scorer (an InferenceService) needs the kserve-resources chart, which the plan does not install: it needs KServe's controller and its admission webhooks (kserve/kserve:charts/kserve-resources@v0.20.0)",
                "scorer (an InferenceService) needs the kserve-runtime-configs chart, which the plan does not install: it needs the serving runtimes its model format selects (kserve/kserve:charts/kserve-runtime-configs@v0.20.0)",
            ]);
        });
    }

    it("does not excuse a chart the project installs itself from waiting for what it needs", () => {
        const problems = messages([release("own-istiod", "istiod")], [platform()]);
        assert.ok(problems.some((m) => /own-istiod \(the istiod chart\) needs the base chart/.test(m)), problems.join("\n"));
    });
});
