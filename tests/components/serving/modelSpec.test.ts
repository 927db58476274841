import * as assert from "node:assert/strict";
import { gpuInstance, type GpuInstance } from "../../../components/cluster/gpuInstances";
import { gpuNodeGroupPlacement } from "../../../components/cluster/gpuPlacement";
import { SidecarResources } from "../../../components/mesh/sidecarResources";
import {
    chosenGpuGroup, parseDuration, parseS3Uri, tfServingImage, validateModels, validateModelSpec,
    TF_SERVING_GPU_IMAGE, TF_SERVING_IMAGE,
    type CommonModelSpec, type KServeModelFormat, type KServeModelSpec, type ModelContext, type ModelSpec, type TfServingModelSpec,
} from "../../../components/serving/modelSpec";
import { PropertyErrors } from "../../../components/propertyErrors";

const a10g = gpuNodeGroupPlacement({ name: "a10g", amiType: "AL2023_x86_64_NVIDIA", instance: gpuInstance("g5.2xlarge") as GpuInstance });
const l4 = gpuNodeGroupPlacement({ name: "l4", amiType: "AL2023_x86_64_NVIDIA", instance: gpuInstance("g6.xlarge") as GpuInstance });
const slicedL4 = gpuNodeGroupPlacement({ name: "shared", amiType: "AL2023_x86_64_NVIDIA", instance: gpuInstance("g6.xlarge") as GpuInstance, timeSlicingReplicas: 4 });
const defaultSidecar = SidecarResources.of({ cpu: "100m", memory: "128Mi", cpuLimit: "2", memoryLimit: "1Gi", concurrency: 2 });
const context: ModelContext = { gpuNodeGroups: [a10g], namespaces: ["ml-serving", "ml-batch"], defaultSidecar, knativeServing: true };

function tfSpec(overrides: Partial<TfServingModelSpec> = {}): TfServingModelSpec {
    return {
        backend: "tfserving",
        name: "resnet",
        namespace: "ml-serving",
        gpus: 1,
        gpuNodeGroup: "a10g",
        // A team's own build (not judged against gpus); the stock image has a test of its own.
        image: "123456789012.dkr.ecr.us-west-2.amazonaws.com/ml/tfserving:2.20.0-gpu",
        resources: { cpu: "2", memory: "8Gi" },
        sidecar: { cpu: "200m" },
        replicas: { min: 2, max: 10 },
        timeout: "30s",
        retries: { attempts: 3, perTryTimeout: "10s", retryOn: "5xx" },
        circuitBreaker: { consecutive5xxErrors: 5, interval: "30s", baseEjectionTime: "60s", maxEjectionPercent: 50 },
        allowedPrincipals: ["cluster.local/ns/ml-frontend/sa/frontend-sa"],
        versions: [
            { name: "v1", modelUri: "s3://models/resnet/v1", weight: 90 },
            { name: "v2", modelUri: "s3://models/resnet/v2", weight: 10 },
        ],
        ...overrides,
    };
}

function kserveSpec(overrides: Partial<KServeModelSpec> = {}): KServeModelSpec {
    return {
        backend: "kserve",
        name: "bert",
        namespace: "ml-serving",
        gpus: 1,
        gpuNodeGroup: "a10g",
        modelFormat: "tensorflow",
        storageUri: "s3://models/bert/v1",
        runtimeVersion: "2.20.0-gpu",
        deploymentMode: "Standard",
        canaryTrafficPercent: 10,
        canaryStorageUri: "s3://models/bert/v2",
        replicas: { min: 1, max: 4 },
        timeout: "30s",
        ...overrides,
    };
}

function problemsOf(spec: ModelSpec, ctx: ModelContext = context) {
    return validateModelSpec(spec, ctx, new PropertyErrors(), "models[0].").list;
}

describe("validateModelSpec happy paths", () => {
    const valid: [string, ModelSpec][] = [
        ["a GPU TF Serving model with two weighted versions", tfSpec()],
        ["a GPU KServe model with a Standard canary", kserveSpec()],
        ["a CPU TF Serving model with the pinned image", tfSpec({ gpus: 0, gpuNodeGroup: undefined, image: undefined })],
        ["a TF Serving model on the first GPU group by default", tfSpec({ gpuNodeGroup: undefined })],
        ["a TF Serving image pinned by digest", tfSpec({ image: `tensorflow/serving@sha256:${"a".repeat(64)}` })],
        ["a Knative KServe canary without canaryStorageUri", kserveSpec({ deploymentMode: "Knative", canaryStorageUri: undefined })],
        ["a KServe model without a canary", kserveSpec({ canaryTrafficPercent: undefined, canaryStorageUri: undefined })],
        ["a short timeout with retries turned off", tfSpec({ timeout: "5s", retries: { attempts: 0 } })],
        ["a Hugging Face model with a per-try timeout longer than 30s, under its 300s default", kserveSpec({ modelFormat: "huggingface", runtimeVersion: undefined, timeout: undefined, retries: { attempts: 1, perTryTimeout: "120s" } })],
    ];
    for (const [what, spec] of valid) {
        it(`accepts ${what}`, () => assert.deepEqual(problemsOf(spec), []));
    }
});

type Row<S> = [what: string, overrides: Partial<S>, path: string, value: unknown, reason: string, ctx?: Partial<ModelContext>];

const commonRows: Row<CommonModelSpec>[] = [
    ["a name that is not a DNS label", { name: "ResNet" }, "models[0].name", "ResNet", "DNS-1123 label"],
    ["a namespace outside the mesh", { namespace: "default" }, "models[0].namespace", "default", "is not a mesh namespace"],
    ["an unknown gpuNodeGroup", { gpuNodeGroup: "h100" }, "models[0].gpuNodeGroup", "h100", "is not a GPU node group"],
    ["GPUs on a cluster without GPU groups", { gpuNodeGroup: undefined }, "models[0].gpus", 1, "no GPU node group", { gpuNodeGroups: [] }],
    ["2 GPUs on the named 1-GPU group", { gpus: 2 }, "models[0].gpus", 2, "exceeds the 1 schedulable GPU(s)"],
    ["2 GPUs on the default (first) 1-GPU group", { gpus: 2, gpuNodeGroup: undefined }, "models[0].gpus", 2, "exceeds the 1 schedulable GPU(s)"],
    ["2 GPU shares on a time-sliced group", { gpus: 2, gpuNodeGroup: "shared" }, "models[0].gpus", 2, "must be 1 on group shared", { gpuNodeGroups: [a10g, slicedL4] }],
    ["a gpuNodeGroup with gpus 0", { gpus: 0 }, "models[0].gpuNodeGroup", "a10g", "has no effect with gpus: 0"],
    ["a resources.memory that is not a quantity", { resources: { cpu: "2", memory: "8GB" } }, "models[0].resources.memory", "8GB", "is not a Kubernetes quantity"],
    ["a sidecar cpu of 4 above the default cpuLimit 2", { sidecar: { cpu: "4" } }, "models[0].sidecar.cpu", "4", "is above `cpuLimit`"],
    ["replicas.max below replicas.min", { replicas: { min: 5, max: 2 } }, "models[0].replicas.max", 2, "is below `replicas.min` (5)"],
    ["a timeout that is not a duration", { timeout: "thirty" }, "models[0].timeout", "thirty", "is not a duration"],
    ["a perTryTimeout longer than the timeout", { timeout: "5s", retries: { perTryTimeout: "10s" } }, "models[0].retries.perTryTimeout", "10s", "is longer than `timeout`"],
    ["a perTryTimeout longer than the default 30s timeout", { timeout: undefined, retries: { perTryTimeout: "45s" } }, "models[0].retries.perTryTimeout", "45s", "is longer than `timeout`"],
    ["a timeout shorter than the default 10s perTryTimeout", { timeout: "5s", retries: undefined }, "models[0].timeout", "5s", "is shorter than `retries.perTryTimeout` (10s by default)"],
    ["11 retry attempts", { retries: { attempts: 11 } }, "models[0].retries.attempts", 11, "whole number from 0 to 10"],
    ["a perTryTimeout with retries turned off", { retries: { attempts: 0, perTryTimeout: "5s" } }, "models[0].retries.perTryTimeout", "5s", "has no effect with `attempts: 0`"],
    ["a retryOn with retries turned off", { retries: { attempts: 0, retryOn: "5xx" } }, "models[0].retries.retryOn", "5xx", "has no effect with `attempts: 0`"],
    ["the name default-deny, which the namespace's AuthorizationPolicy takes", { name: "default-deny" }, "models[0].name", "default-deny", "is reserved"],
    ["a circuitBreaker interval that is not a duration", { circuitBreaker: { interval: "soon" } }, "models[0].circuitBreaker.interval", "soon", "is not a duration"],
    ["a maxEjectionPercent of 101", { circuitBreaker: { maxEjectionPercent: 101 } }, "models[0].circuitBreaker.maxEjectionPercent", 101, "whole number from 0 to 100"],
    ["a wildcard principal", { allowedPrincipals: ["cluster.local/ns/*/sa/*"] }, "models[0].allowedPrincipals[0]", "cluster.local/ns/*/sa/*", "no wildcards"],
];

const tfRows: Row<TfServingModelSpec>[] = [
    ["TF Serving's GPU build with gpus 0", { gpus: 0, gpuNodeGroup: undefined, image: "tensorflow/serving:2.20.0-gpu" }, "models[0].image", "tensorflow/serving:2.20.0-gpu", "is TF Serving's GPU build, but the model asks for no GPU"],
    ["weights adding up to 90", { versions: [{ name: "v1", modelUri: "s3://models/resnet/v1", weight: 80 }, { name: "v2", modelUri: "s3://models/resnet/v2", weight: 10 }] },
        "models[0].versions", ["v1:80", "v2:10"], "adding up to 90"],
    ["a duplicate version name", { versions: [{ name: "v1", modelUri: "s3://models/resnet/v1", weight: 90 }, { name: "v1", modelUri: "s3://models/resnet/v2", weight: 10 }] },
        "models[0].versions[1].name", "v1", "version names must be unique"],
    ["a modelUri that is not s3://", { versions: [{ name: "v1", modelUri: "https://models/resnet/v1", weight: 100 }] },
        "models[0].versions[0].modelUri", "https://models/resnet/v1", "s3://bucket/prefix"],
    ["no versions", { versions: [] }, "models[0].versions", [], "at least one model version"],
    ["an image with the latest tag", { image: "tensorflow/serving:latest" }, "models[0].image", "tensorflow/serving:latest", "floating tag latest"],
    ["an image without a tag", { image: "tensorflow/serving" }, "models[0].image", "tensorflow/serving", "with a tag or digest"],
];

const kserveRows: Row<KServeModelSpec>[] = [
    ["an unknown modelFormat", { modelFormat: "keras" as KServeModelFormat }, "models[0].modelFormat", "keras", "must be one of tensorflow"],
    ["a storageUri that is not s3://", { storageUri: "gs://models/bert" }, "models[0].storageUri", "gs://models/bert", "s3://bucket/prefix"],
    ["a Standard canaryTrafficPercent without canaryStorageUri", { canaryStorageUri: undefined }, "models[0].canaryTrafficPercent", 10, "needs `canaryStorageUri`"],
    ["a canaryStorageUri in Knative mode", { deploymentMode: "Knative" }, "models[0].canaryStorageUri", "s3://models/bert/v2", "no effect in Knative mode"],
    ["a canaryStorageUri without canaryTrafficPercent", { canaryTrafficPercent: undefined }, "models[0].canaryStorageUri", "s3://models/bert/v2", "needs `canaryTrafficPercent`"],
    ["a canaryTrafficPercent of 101", { canaryTrafficPercent: 101 }, "models[0].canaryTrafficPercent", 101, "whole number from 0 to 100"],
    ["Knative mode on a cluster without Knative Serving", { deploymentMode: "Knative", canaryStorageUri: undefined }, "models[0].deploymentMode", "Knative", "needs Knative Serving", { knativeServing: false }],
    ["a runtimeVersion that is not an image tag", { runtimeVersion: "2.20 gpu" }, "models[0].runtimeVersion", "2.20 gpu", "must be an image tag"],
];

function checkRows<S extends ModelSpec>(backend: string, build: (overrides: Partial<S>) => S, rows: readonly Row<S>[]): void {
    for (const [what, overrides, path, value, reason, ctx] of rows) {
        it(`reports ${what} of a ${backend} model as one problem at ${path}`, () => {
            const problems = problemsOf(build(overrides), { ...context, ...ctx });
            assert.equal(problems.length, 1, JSON.stringify(problems));
            assert.equal(problems[0].path, path);
            assert.deepEqual(problems[0].value, value);
            assert.ok(problems[0].reason.includes(reason), `reason "${problems[0].reason}" should include "${reason}"`);
        });
    }
}

describe("validateModelSpec single-field mutations", () => {
    checkRows("TF Serving", tfSpec, [...commonRows as Row<TfServingModelSpec>[], ...tfRows]);
    checkRows("KServe", kserveSpec, [...commonRows as Row<KServeModelSpec>[], ...kserveRows]);
});

describe("validateModels", () => {
    it("reports a second model with the same name in one namespace at models[1].name", () => {
        const problems = validateModels([tfSpec(), kserveSpec({ name: "resnet" })], context).list;
        assert.equal(problems.length, 1, JSON.stringify(problems));
        assert.equal(problems[0].path, "models[1].name");
        assert.equal(problems[0].value, "resnet");
        assert.ok(problems[0].reason.includes("models[0] already uses in namespace ml-serving"));
    });

    it("reports a model whose name equals another model's version Deployment name", () => {
        const problems = validateModels([tfSpec(), kserveSpec({ name: "resnet-v1" })], context).list;
        assert.deepEqual(problems.map((p) => [p.path, p.value]), [["models[1].name", "resnet-v1"]]);
    });

    it("reports namespace and model names that run together into one component name", () => {
        const ctx = { ...context, namespaces: ["ml", "ml-serving"] };
        const problems = validateModels([kserveSpec({ namespace: "ml", name: "serving-bert" }), kserveSpec({ namespace: "ml-serving", name: "bert" })], ctx).list;
        assert.deepEqual(problems.map((p) => p.path), ["models[1].name"]);
        assert.ok(problems[0].reason.includes("run together"), problems[0].reason);
    });

    it("refuses the same name in two namespaces: the front door's paths carry the name alone", () => {
        const problems = validateModels([tfSpec(), tfSpec({ namespace: "ml-batch" })], context).list;
        assert.deepEqual(problems.map((p) => p.path), ["models[1].name"]);
        assert.match(problems[0].reason, /\/v1\/models\/resnet/);
    });

    const DERIVED: [string, ModelSpec, ModelSpec][] = [
        ["a model named like another's canary DestinationRule", kserveSpec({ name: "bert", canaryStorageUri: "s3://models/bert/v2", canaryTrafficPercent: 10, deploymentMode: "Standard" }), kserveSpec({ name: "bert-canary" })],
        ["a model named like another's KServe predictor Service", kserveSpec({ name: "bert" }), tfSpec({ name: "bert-predictor" })],
    ];
    for (const [what, first, second] of DERIVED) {
        it(`reports ${what}`, () => {
            assert.deepEqual(validateModels([first, second], context).list.map((p) => p.path), ["models[1].name"]);
        });
    }

    it("prefixes each model's problems with its index", () => {
        const problems = validateModels([tfSpec(), tfSpec({ name: "other", timeout: "later" })], context).list;
        assert.deepEqual(problems.map((p) => p.path), ["models[1].timeout"]);
    });
});

describe("parseDuration", () => {
    const accepted: [string, number][] = [["30s", 30_000], ["500ms", 500], ["2m", 120_000], ["1h", 3_600_000], ["1.5s", 1500]];
    for (const [text, ms] of accepted) {
        it(`reads "${text}" as ${ms} ms`, () => assert.equal(parseDuration(text), ms));
    }
    for (const text of ["30", "s", "-1s", "1d"]) {
        it(`rejects "${text}" with a reason`, () => {
            const result = parseDuration(text);
            assert.equal(typeof result, "string");
            assert.ok(String(result).includes("is not a duration"));
        });
    }
});

describe("parseS3Uri", () => {
    const table: [string, { bucket: string; prefix: string }][] = [
        ["s3://models/resnet/v1", { bucket: "models", prefix: "resnet/v1" }],
        ["s3://models/resnet/v1/", { bucket: "models", prefix: "resnet/v1" }],
        ["s3://models", { bucket: "models", prefix: "" }],
        ["s3://models/", { bucket: "models", prefix: "" }],
    ];
    for (const [uri, expected] of table) {
        it(`splits ${uri} into bucket "${expected.bucket}" and prefix "${expected.prefix}"`, () => assert.deepEqual(parseS3Uri(uri), expected));
    }
});

describe("tfServingImage", () => {
    const table: [string, Pick<TfServingModelSpec, "image" | "gpus">, string][] = [
        ["the pinned CPU image when no GPUs are asked for", {}, TF_SERVING_IMAGE],
        ["the pinned CPU image for gpus 0", { gpus: 0 }, "tensorflow/serving:2.20.0"],
        ["the pinned -gpu image for a GPU model", { gpus: 1 }, "tensorflow/serving:2.20.0-gpu"],
        ["an explicit image as given", { image: "registry.example.com/serving:1.2.3", gpus: 1 }, "registry.example.com/serving:1.2.3"],
    ];
    for (const [what, spec, image] of table) {
        it(`runs ${what}`, () => assert.equal(tfServingImage(spec), image));
    }
    it("pins the GPU image to the CPU image's release", () => assert.equal(TF_SERVING_GPU_IMAGE, `${TF_SERVING_IMAGE}-gpu`));
});

describe("chosenGpuGroup", () => {
    const groups = [a10g, l4];
    const table: [string, Partial<CommonModelSpec>, string | undefined][] = [
        ["no group for a CPU model", { gpus: 0 }, undefined],
        ["no group when gpus is unset", { gpus: undefined, gpuNodeGroup: undefined }, undefined],
        ["the named group", { gpus: 1, gpuNodeGroup: "l4" }, "l4"],
        ["the first group when none is named", { gpus: 1, gpuNodeGroup: undefined }, "a10g"],
    ];
    for (const [what, overrides, expected] of table) {
        it(`picks ${what}`, () => assert.equal(chosenGpuGroup(tfSpec(overrides), groups)?.name, expected));
    }
});
