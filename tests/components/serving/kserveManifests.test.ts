import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { gpuInstance, type GpuInstance } from "../../../components/cluster/gpuInstances";
import { gpuNodeGroupPlacement, type GpuNodeGroupPlacement } from "../../../components/cluster/gpuPlacement";
import { SidecarResources } from "../../../components/mesh/sidecarResources";
import { kserveResourcesValues, kserveRuntimeValues } from "../../../components/serving/kserve";
import { inferenceServiceManifest, kserveRuntimeVersion } from "../../../components/serving/kserveModel";
import { TF_SERVING_VERSION, type KServeModelFormat, type KServeModelSpec } from "../../../components/serving/modelSpec";
import { validateManifest } from "../../../offline/manifestSchemas";
import { leafPaths, walkAccepts, type Segment } from "../../chartValues";
import { cachedUnder, TEST_IMAGES } from "../fixtures/images";

/** Manifests and values read loosely: the tests check their shape. */
type Loose = Record<string, any>;

const a10g = gpuNodeGroupPlacement({ name: "a10g", amiType: "AL2023_x86_64_NVIDIA", instance: gpuInstance("g5.2xlarge") as GpuInstance });
const sidecar = SidecarResources.of({ cpu: "100m", memory: "128Mi", cpuLimit: "2", memoryLimit: "1Gi", concurrency: 2 });

function spec(overrides: Partial<KServeModelSpec> = {}): KServeModelSpec {
    return {
        backend: "kserve",
        name: "bert",
        namespace: "ml-serving",
        modelFormat: "tensorflow",
        storageUri: "s3://models/bert/v1",
        gpus: 1,
        gpuNodeGroup: "a10g",
        resources: { cpu: "4", memory: "16Gi" },
        replicas: { min: 2, max: 6 },
        ...overrides,
    };
}

/** The InferenceService of `spec(overrides)` on `group` (the a10g group unless given, `null` for CPU). */
function isvc(overrides: Partial<KServeModelSpec> = {}, group: GpuNodeGroupPlacement | null = a10g): Loose {
    return inferenceServiceManifest({ spec: spec(overrides), serviceAccountName: "bert-kserve", group: group ?? undefined, sidecar, meshRevision: "1-30-3" });
}

const standardCanary: Partial<KServeModelSpec> = { canaryTrafficPercent: 10, canaryStorageUri: "s3://models/bert/v2" };
const knativeCanary: Partial<KServeModelSpec> = { deploymentMode: "Knative", canaryTrafficPercent: 10 };

describe("inferenceServiceManifest in Standard mode", () => {
    const manifest = isvc();
    const predictor = manifest.spec.predictor;

    it("is a serving.kserve.io/v1beta1 InferenceService annotated for Standard mode by default", () => {
        assert.equal(manifest.apiVersion, "serving.kserve.io/v1beta1");
        assert.equal(manifest.kind, "InferenceService");
        assert.equal(manifest.metadata.name, "bert");
        assert.equal(manifest.metadata.namespace, "ml-serving");
        assert.deepEqual(manifest.metadata.annotations, { "serving.kserve.io/deploymentMode": "Standard" });
    });

    it("runs the predictor's pod non-root with the runtime's seccomp profile, which also covers the storage initializer and Istio's containers", () => {
        assert.deepEqual(predictor.securityContext, { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } });
    });

    it("keeps the model container from escalating privileges, with every capability dropped", () => {
        assert.deepEqual(predictor.model.securityContext, { runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    });

    it("sizes the predictor from the replica range and runs it as the service account", () => {
        assert.equal(predictor.minReplicas, 2);
        assert.equal(predictor.maxReplicas, 6);
        assert.equal(predictor.serviceAccountName, "bert-kserve");
    });

    it("places the predictor on the GPU group's nodes", () => {
        assert.deepEqual(predictor.nodeSelector, { "mlmesh.io/node-group": "a10g" });
        assert.deepEqual(predictor.tolerations, [{ key: "nvidia.com/gpu", operator: "Equal", value: "true", effect: "NoSchedule" }]);
    });

    it("leaves a CPU predictor without a selector, tolerations or GPUs, with 1 to 3 replicas by default", () => {
        const cpu = isvc({ gpus: 0, gpuNodeGroup: undefined, replicas: undefined }, null).spec.predictor;
        assert.deepEqual([cpu.minReplicas, cpu.maxReplicas], [1, 3]);
        assert.equal("nvidia.com/gpu" in cpu.model.resources.limits, false);
        assert.equal("nodeSelector" in cpu, false);
        assert.equal("tolerations" in cpu, false);
    });

    it("sizes the predictor's sidecar with the injector annotations", () => {
        assert.deepEqual(predictor.annotations, { ...sidecar.annotations(), "mlmesh.io/mesh-revision": "1-30-3" });
    });

    it("serves the model format from the storage URI with requests equal to limits, GPU included", () => {
        assert.deepEqual(predictor.model.modelFormat, { name: "tensorflow" });
        assert.equal(predictor.model.storageUri, "s3://models/bert/v1/");
        const amounts = { cpu: "4", memory: "16Gi", "nvidia.com/gpu": "1" };
        assert.deepEqual(predictor.model.resources, { requests: amounts, limits: amounts });
    });

    it("has no canary and no canaryTrafficPercent without a canary", () => {
        assert.equal("canary" in manifest.spec, false);
        assert.equal("canaryTrafficPercent" in predictor, false);
    });
});

describe("kserveRuntimeVersion and the predictor's runtimeVersion", () => {
    const table: [string, Partial<KServeModelSpec>, string | undefined][] = [
        ["the pinned -gpu TF Serving for a GPU tensorflow model", {}, "2.20.0-gpu"],
        ["the pinned TF Serving for a CPU tensorflow model", { gpus: 0, gpuNodeGroup: undefined }, "2.20.0"],
        ["an explicit runtimeVersion as given", { runtimeVersion: "2.19.1-gpu" }, "2.19.1-gpu"],
        ["an explicit runtimeVersion of a pytorch model", { modelFormat: "pytorch", runtimeVersion: "0.12.0" }, "0.12.0"],
        ...(["pytorch", "sklearn", "huggingface"] as KServeModelFormat[]).map((modelFormat): [string, Partial<KServeModelSpec>, undefined] =>
            [`no runtimeVersion for a ${modelFormat} model`, { modelFormat }, undefined]),
    ];
    for (const [what, overrides, expected] of table) {
        it(`uses ${what}`, () => {
            assert.equal(kserveRuntimeVersion(spec(overrides)), expected);
            const model = isvc(overrides).spec.predictor.model;
            assert.equal(model.runtimeVersion, expected);
            assert.equal("runtimeVersion" in model, expected !== undefined);
        });
    }
});

describe("inferenceServiceManifest canaries", () => {
    it("runs a Standard canary as a named canary predictor serving canaryStorageUri", () => {
        const manifest = isvc(standardCanary);
        assert.equal(manifest.spec.canary.length, 1);
        const [canary] = manifest.spec.canary;
        assert.equal(canary.trafficPercent, 10);
        assert.equal(canary.predictor.name, "canary");
        assert.equal(canary.predictor.model.name, "kserve-container");
        assert.equal(canary.predictor.model.storageUri, "s3://models/bert/v2/");
        assert.deepEqual(canary.predictor.model.modelFormat, { name: "tensorflow" });
        assert.equal(canary.predictor.serviceAccountName, "bert-kserve");
        assert.deepEqual(canary.predictor.nodeSelector, { "mlmesh.io/node-group": "a10g" });
        assert.equal(manifest.spec.predictor.model.storageUri, "s3://models/bert/v1/");
    });

    it("does not set predictor.canaryTrafficPercent in Standard mode", () => {
        assert.equal("canaryTrafficPercent" in isvc(standardCanary).spec.predictor, false);
    });

    it("splits Knative traffic with predictor.canaryTrafficPercent and no spec.canary", () => {
        const manifest = isvc(knativeCanary);
        assert.equal(manifest.metadata.annotations["serving.kserve.io/deploymentMode"], "Knative");
        assert.equal(manifest.spec.predictor.canaryTrafficPercent, 10);
        assert.equal("canary" in manifest.spec, false);
    });
});

describe("InferenceServices against the shipped schema", () => {
    before(function () {
        // The first check compiles the InferenceService schema, which takes a few seconds.
        this.timeout(60_000);
        validateManifest(isvc());
    });

    const table: [string, Partial<KServeModelSpec>, GpuNodeGroupPlacement | null][] = [
        ["a Standard GPU model", {}, a10g],
        ["a Standard CPU model with default replicas", { gpus: 0, gpuNodeGroup: undefined, replicas: undefined, resources: undefined }, null],
        ["a Standard canary", standardCanary, a10g],
        ["a Knative canary", knativeCanary, a10g],
        ["a pytorch model without runtimeVersion", { modelFormat: "pytorch" }, a10g],
    ];
    for (const [what, overrides, group] of table) {
        it(`validates ${what}`, () => {
            const check = validateManifest(isvc(overrides, group));
            assert.equal(check.status, "valid", check.errors.join("; "));
        });
    }
});

describe("kserveResourcesValues", () => {
    const values = kserveResourcesValues(TEST_IMAGES) as Loose;
    const controller = values.kserve.controller;

    it("runs InferenceServices in Standard mode", () => assert.equal(controller.deploymentMode, "Standard"));

    it("creates no Ingress of its own, so the mesh Gateway stays the only way in", () => {
        assert.deepEqual(controller.gateway, { disableIngressCreation: true });
    });

    it("puts the controller on the system nodes", () => {
        assert.deepEqual(controller.nodeSelector, { "mlmesh.io/node-role": "system" });
    });

    it("pulls the controller, its RBAC proxy and the storage initializer KServe injects through the cluster's cache", () => {
        assert.deepEqual([controller.image, controller.rbacProxyImage, values.kserve.storage.image], [
            `${cachedUnder("docker-hub")}kserve/kserve-controller`, `${cachedUnder("quay")}brancz/kube-rbac-proxy:v0.18.0`, `${cachedUnder("docker-hub")}kserve/storage-initializer`,
        ]);
    });
});

describe("kserveRuntimeValues", () => {
    const values = kserveRuntimeValues(TEST_IMAGES, ["tensorflow"]) as Loose;

    it("enables the serving runtimes and pins TF Serving to mlmesh's release", () => {
        assert.equal(values.kserve.servingruntime.enabled, true);
        assert.equal(values.kserve.servingruntime.tensorflow.tag, TF_SERVING_VERSION);
    });

    it("offers only the runtimes of the formats served (vLLM's `latest` and Triton on nvcr.io stay off)", () => {
        const enabled = (formats: KServeModelFormat[]) => {
            const runtimes = (kserveRuntimeValues(TEST_IMAGES, formats) as Loose).kserve.servingruntime;
            return Object.keys(runtimes).filter((key) => typeof runtimes[key] === "object" && runtimes[key].disabled === false).sort();
        };
        assert.deepEqual(enabled(["tensorflow"]), ["tensorflow"]);
        assert.deepEqual(enabled(["onnx", "triton", "huggingface"]), ["huggingfaceserver", "tritonserver"]);
    });

    it("pulls each runtime through the cache, and Triton from its mirror", () => {
        const runtimes = values.kserve.servingruntime;
        assert.deepEqual([runtimes.tensorflow.image, runtimes.sklearnserver.image, runtimes.tritonserver.image], [
            `${cachedUnder("docker-hub")}tensorflow/serving`, `${cachedUnder("docker-hub")}kserve/sklearnserver`, TEST_IMAGES.mirrors["nvcr.io/nvidia/tritonserver"],
        ]);
    });
});

describe("KServe values against the pinned charts", () => {
    const chartsDir = path.join(__dirname, "../../../../shared/charts/kserve-v0.20.0");
    const chartValues: Record<string, unknown> = {};

    before(function () {
        if (!fs.existsSync(chartsDir)) {
            console.warn(`skipping the KServe chart-values check: ../shared is absent (it exists only beside CI checkouts), looked in ${chartsDir}`);
            this.skip();
        }
        for (const chart of ["kserve-resources", "kserve-runtime-configs"]) {
            chartValues[chart] = parse(fs.readFileSync(path.join(chartsDir, chart, "values.yaml"), "utf8"));
        }
    });

    const table: [string, Record<string, unknown>][] = [
        ["kserve-resources", kserveResourcesValues(TEST_IMAGES)],
        ["kserve-runtime-configs", kserveRuntimeValues(TEST_IMAGES, ["tensorflow"])],
    ];
    for (const [chart, values] of table) {
        it(`sets only keys that ${chart}/values.yaml has`, () => {
            const unknown = leafPaths(values).filter((segments) => !walkAccepts(chartValues[chart], segments)).map((s) => s.join("."));
            assert.deepEqual(unknown, []);
        });
    }

    const misspelt: [string, Segment[]][] = [
        ["kserve-resources", ["kserve", "controler", "deploymentMode"]],
        ["kserve-resources", ["kserve", "controller", "gateway", "ingresGateway", "className"]],
        ["kserve-resources", ["kserve", "servingruntime", "tensorflow", "tag"]],
        ["kserve-runtime-configs", ["kserve", "servingruntime", "tensorflow", "tags"]],
    ];
    for (const [chart, segments] of misspelt) {
        it(`rejects ${segments.join(".")} for ${chart}`, () => {
            assert.equal(walkAccepts(chartValues[chart], segments), false);
        });
    }
});
