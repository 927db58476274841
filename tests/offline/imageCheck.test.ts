import * as assert from "node:assert/strict";
import { chartImages } from "../../offline/chartImages";
import { imageReport } from "../../offline/imageCheck";
import type { PlanResult } from "../../offline/plan";
import { plannedStack } from "./fixtures/plannedStack";
import type { RecordedResource } from "../../offline/recorder";

describe("chartImages: what each pinned chart renders from its values", () => {
    const cases: [string, Record<string, unknown>, string[]][] = [
        ["istiod", {}, ["registry.istio.io/release/pilot:1.30.3", "registry.istio.io/release/proxyv2:1.30.3", "registry.istio.io/release/proxyv2:1.30.3"]],
        ["istiod", { global: { hub: "cache/docker-hub/istio" } }, ["cache/docker-hub/istio/pilot:1.30.3", "cache/docker-hub/istio/proxyv2:1.30.3", "cache/docker-hub/istio/proxyv2:1.30.3"]],
        ["cni", { global: { hub: "cache/docker-hub/istio" } }, ["cache/docker-hub/istio/install-cni:1.30.3"]],
        ["cert-manager", { imageRegistry: "cache/quay" }, ["controller", "webhook", "cainjector", "startupapicheck", "acmesolver"].map((n) => `cache/quay/jetstack/cert-manager-${n}:v1.21.1`)],
        ["metrics-server", {}, ["registry.k8s.io/metrics-server/metrics-server:v0.8.1"]],
        ["nvidia-device-plugin", { image: { repository: "mirror/k8s-device-plugin" } }, ["mirror/k8s-device-plugin:v0.18.2"]],
        ["oci://ghcr.io/kserve/charts/kserve-resources", {}, [
            "kserve/kserve-controller:v0.20.0", "quay.io/brancz/kube-rbac-proxy:v0.18.0", "kserve/storage-initializer:v0.20.0", "kserve/agent:v0.20.0",
            "kserve/router:v0.20.0", "kserve/art-explainer:v0.20.0", "kserve/storage-initializer:v0.20.0",
        ]],
    ];
    for (const [chart, values, images] of cases) {
        it(`${chart} with ${JSON.stringify(values)}`, () => assert.deepEqual(chartImages(chart, values), images));
    }
    it("leaves out the KServe runtimes that are disabled (never selected, never pulled)", () => {
        const only = Object.fromEntries(["mlserver", "sklearnserver", "xgbserver", "huggingfaceserver", "tritonserver", "pmmlserver", "predictiveserver", "paddleserver", "lgbserver", "autogluonserver", "torchserve", "vllmserver"]
            .map((runtime) => [runtime, { disabled: true }]));
        assert.deepEqual(chartImages("kserve-runtime-configs", { kserve: { servingruntime: { ...only, tensorflow: { tag: "2.20.0" } } } }), ["tensorflow/serving:2.20.0"]);
    });
});

describe("imageReport on the planned dev stack", () => {
    let result: PlanResult;
    before(async () => {
        result = await plannedStack("dev");
    });

    it("pulls every image through the cache or from private ECR", () => {
        assert.deepEqual([...new Set(result.images.uses.map((use) => use.source))].sort(), ["cache", "private-ecr"]);
        assert.deepEqual([result.images.problems, result.images.warnings], [[], []]);
    });
    it("serves Istio's proxy, KServe's storage initializer and TF Serving from the Docker Hub cache", () => {
        const images = result.images.uses.map((use) => use.image);
        for (const upstream of ["istio/proxyv2:1.30.3", "kserve/storage-initializer:v0.20.0", "tensorflow/serving:2.20.0-gpu"]) {
            assert.ok(images.some((image) => /^123456789012\.dkr\.ecr\.us-west-2\.amazonaws\.com\/mlmesh-[0-9a-f]{8}\/docker-hub\//.test(image) && image.endsWith(upstream)), upstream);
        }
    });
    it("lists the upstream digest of the autoscaler it pulls by tag through the cache, to check the cached copy against", () => {
        assert.deepEqual(result.images.digestsToVerify.map((d) => [d.image.replace(/^.*\/k8s\//, ""), d.digest]), [
            ["autoscaling/cluster-autoscaler:v1.33.0", "sha256:6ef10d108e0e45ecd883e074682330bbd4a3403e767ad56804800f2f4ee816da"],
        ]);
    });
    it("reports an image a release would pull from upstream behind the cache's back", () => {
        const release = result.resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.inputs.chart === "metrics-server") as RecordedResource;
        const bypassed = { ...release, inputs: { ...release.inputs, values: { image: { repository: "registry.k8s.io/metrics-server/metrics-server" } } } };
        const report = imageReport(result.resources.map((r) => (r === release ? bypassed : r)));
        assert.deepEqual(report.problems.map((use) => use.image), ["registry.k8s.io/metrics-server/metrics-server:v0.8.1"]);
    });
    it("counts Docker Hub images as the stack's opt-out (a warning) when no Docker Hub rule exists", () => {
        const withoutDockerHub = result.resources.filter((r) => !(r.type === "aws:ecr/pullThroughCacheRule:PullThroughCacheRule" && r.inputs.upstreamRegistryUrl === "registry-1.docker.io"));
        const deployment = withoutDockerHub.find((r) => r.type === "kubernetes:apps/v1:Deployment" && r.name.endsWith("resnet-v1")) as RecordedResource;
        const spec = deployment.inputs.spec as { template: { spec: { containers: Record<string, unknown>[] } } };
        const direct = { ...deployment, inputs: { ...deployment.inputs, spec: { ...spec, template: { ...spec.template, spec: { ...spec.template.spec, containers: [{ ...spec.template.spec.containers[0], image: "docker.io/tensorflow/serving:2.20.0-gpu" }] } } } } };
        const report = imageReport(withoutDockerHub.map((r) => (r === deployment ? direct : r)));
        assert.deepEqual([report.problems.length, report.warnings.map((use) => use.image)], [0, ["docker.io/tensorflow/serving:2.20.0-gpu"]]);
    });
});
