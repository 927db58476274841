/**
 * The KServe guardrails: each policy on a happy-path InferenceService and on that object with one
 * field changed, KServe's replica arithmetic, the committed stacks, and the stack setting that
 * turns the replica guardrail off.
 */
import * as assert from "node:assert/strict";
import { isvcHosts, kserveMinReplicas, kservePolicies, kserveResources, modelWorkload, stablePredictorReplicas } from "../../policy-pack/kserve";
import { kubernetesObject } from "../../policy-pack/kubernetes";
import { PolicyConfigError, runPolicies, type PolicyConfig } from "../../offline/policyRunner";
import { plannedStack } from "../offline/fixtures/plannedStack";
import { changed, environmentConfig, firingAfter, resource, violationsOf } from "./harness";

const ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService";


const RESOURCES = { requests: { cpu: "1", memory: "2Gi" }, limits: { cpu: "1", memory: "2Gi" } };
const GPU_RESOURCES = { requests: { ...RESOURCES.requests, "nvidia.com/gpu": "1" }, limits: { ...RESOURCES.limits, "nvidia.com/gpu": "1" } };
const GPU_TOLERATION = [{ key: "nvidia.com/gpu", operator: "Equal", value: "true", effect: "NoSchedule" }];
const isvc = {
    metadata: { name: "bert", namespace: "ml-serving" },
    spec: { predictor: { minReplicas: 2, maxReplicas: 4, model: { modelFormat: { name: "tensorflow" }, storageUri: "s3://models/bert/v3", resources: RESOURCES } } },
};
const gpuIsvc = changed(changed(changed(isvc, "spec.predictor.tolerations", GPU_TOLERATION), "spec.predictor.model.resources", GPU_RESOURCES), "spec.predictor.model.runtimeVersion", "2.20.0-gpu");
const canary = (predictor: Record<string, unknown>, trafficPercent = 10) => changed(isvc, "spec.canary", [{ trafficPercent, predictor: { name: "canary", ...predictor } }]);
const messages = async (policy = kserveResources, props: Record<string, unknown> = isvc, config?: PolicyConfig, type = ISVC) => (await violationsOf(policy, resource(type, props), config)).map((v) => v.message);

describe("kserve-resources", () => {
    it("passes a model container with requests and limits, and a GPU model that asks for its GPUs", async () => {
        assert.deepEqual(await messages(), []);
        assert.deepEqual(await messages(kserveResources, gpuIsvc), []);
        assert.deepEqual(await messages(kserveResources, changed(isvc, "spec.predictor.model.resources.limits.cpu", undefined)), [], "no CPU limit required, as Kyverno's require-requests-limits");
    });
    for (const field of ["requests.cpu", "requests.memory", "limits.memory"]) {
        it(`refuses a model container without \`${field}\``, async () => {
            assert.deepEqual(await messages(kserveResources, changed(isvc, `spec.predictor.model.resources.${field}`, undefined)), [
                `InferenceService ml-serving/bert: \`spec.predictor.model.resources.${field}\` is not set; size the model server explicitly.`,
            ]);
        });
    }
    it("names every missing field at once", async () => {
        assert.match((await messages(kserveResources, changed(isvc, "spec.predictor.model.resources", undefined)))[0], /`spec.predictor.model.resources.requests.cpu`, `spec.predictor.model.resources.requests.memory`, `spec.predictor.model.resources.limits.memory` are not set/);
    });
    for (const [what, props] of [
        ["tolerates the GPU taint", changed(gpuIsvc, "spec.predictor.model.resources", RESOURCES)],
        ["runs a GPU runtime", changed(changed(gpuIsvc, "spec.predictor.tolerations", undefined), "spec.predictor.model.resources", RESOURCES)],
        ["asks for GPUs only as requests", changed(gpuIsvc, "spec.predictor.model.resources.limits.nvidia\\.com/gpu", undefined)],
        ["asks for zero GPUs", changed(gpuIsvc, "spec.predictor.model.resources.limits.nvidia\\.com/gpu", "0")],
    ] as const) {
        it(`refuses a model that ${what} without a GPU limit`, async () => {
            const found = await messages(kserveResources, props);
            assert.equal(found.length, 1);
            assert.match(found[0], /runs a GPU model .* `spec.predictor.model.resources.limits\["nvidia.com\/gpu"\]` is .*set it to a whole number of GPUs, at least 1/);
        });
    }
    it("refuses GPU requests that differ from the limit", async () => {
        assert.match((await messages(kserveResources, changed(gpuIsvc, "spec.predictor.model.resources.limits.nvidia\\.com/gpu", "2")))[0], /`spec.predictor.model.resources.requests\["nvidia.com\/gpu"\]` \(1\) differs from its limit \(2\)/);
    });
    it("judges the container KServe runs: a framework field, the custom `kserve-container`, or else the first custom container", async () => {
        const legacy = changed(isvc, "spec.predictor", { sklearn: { storageUri: "s3://m" } });
        assert.match((await messages(kserveResources, legacy)).join(), /`spec.predictor.sklearn.resources.requests.cpu`/);
        const custom = changed(isvc, "spec.predictor", { containers: [{ name: "proxy" }, { name: "kserve-container", image: "me/server:1" }] });
        assert.deepEqual((await messages(kserveResources, custom)).map((m) => /`(spec[^`]*)\.resources/.exec(m)?.[1]), ["spec.predictor.containers[1]"]);
        assert.deepEqual((await messages(kserveResources, changed(custom, "spec.predictor.containers.1.name", "server"))).map((m) => /`(spec[^`]*)\.resources/.exec(m)?.[1]), ["spec.predictor.containers[0]"]);
        assert.deepEqual(await messages(kserveResources, changed(custom, "spec.predictor.containers.1.resources", RESOURCES)), []);
        assert.deepEqual(await messages(kserveResources, changed(isvc, "spec.predictor.containers", [{ name: "logger" }])), [], "beside a model, custom containers are sidecars");
    });
    it("judges a canary's model as KServe merges it over the stable one", async () => {
        assert.deepEqual(await messages(kserveResources, canary({ model: { storageUri: "s3://models/bert/v4" } })), []);
        assert.deepEqual(await messages(kserveResources, canary({})), [], "a canary without a model runs the stable one");
        const found = await messages(kserveResources, changed(canary({ model: { resources: { limits: { "nvidia.com/gpu": "1" } } } }), "spec.predictor.model.resources.requests.nvidia\\.com/gpu", "2"));
        assert.ok(found.some((m) => /`spec.canary\[0\].predictor.model.resources.requests\["nvidia.com\/gpu"\]` \(2\) differs/.test(m)), found.join("\n"));
    });
    it("does not apply to other kinds", async () => {
        assert.deepEqual(await messages(kserveResources, changed(isvc, "spec.predictor.model.resources", undefined), undefined, "kubernetes:serving.kserve.io/v1alpha1:ServingRuntime"), []);
    });
});

describe("KServe's replica arithmetic (predictor.go@v0.20.0)", () => {
    const stable = (props: Record<string, unknown>) => stablePredictorReplicas(kubernetesObject(ISVC, props)!);
    for (const [what, props, expected] of [
        ["an unset minimum (KServe's default)", changed(isvc, "spec.predictor.minReplicas", undefined), { replicas: 1, canaryReplicas: 0 }],
        ["no canary", isvc, { replicas: 2, canaryReplicas: 0 }],
        ["a 10% canary: ceil(2 × 10%) pods", canary({}), { replicas: 1, canaryReplicas: 1 }],
        ["a canary with its own minimum", changed(canary({ minReplicas: 3 }), "spec.predictor.minReplicas", 4), { replicas: 1, canaryReplicas: 3 }],
        ["a canary as large as the minimum: the stable keeps one", canary({}, 100), { replicas: 1, canaryReplicas: 2 }],
    ] as const) {
        it(`keeps the stable predictor's pods with ${what}`, () => assert.deepEqual(stable(props), expected));
    }
    it("names the Service hosts of the predictor and each canary, and counts an InferenceService as a model workload", () => {
        const object = kubernetesObject(ISVC, canary({}))!;
        assert.deepEqual(isvcHosts(object), ["bert-predictor.ml-serving.svc.cluster.local", "bert-canary-predictor.ml-serving.svc.cluster.local"]);
        assert.equal(modelWorkload(object)?.pods[0].labels["serving.kserve.io/inferenceservice"], "bert");
    });
});

describe("kserve-min-replicas", () => {
    const withThreshold = (minReplicas: number): PolicyConfig => ({ "kserve-min-replicas": { enforcementLevel: "mandatory", minReplicas } });
    it("passes a stable predictor with at least two pods (the default threshold)", async () => {
        assert.deepEqual(await messages(kserveMinReplicas), []);
        assert.deepEqual(await messages(kserveMinReplicas, changed(canary({}), "spec.predictor.minReplicas", 3)), []);
    });
    for (const [what, props, expected] of [
        ["one replica", changed(isvc, "spec.predictor.minReplicas", 1), "the stable predictor keeps 1 pod(s): `spec.predictor.minReplicas` is 1, below 2; set `spec.predictor.minReplicas` to at least 2."],
        ["scale-to-zero", changed(isvc, "spec.predictor.minReplicas", 0), "the stable predictor keeps 0 pod(s): `spec.predictor.minReplicas` is 0, below 2; set `spec.predictor.minReplicas` to at least 2."],
        ["no minimum (KServe's default is one)", changed(isvc, "spec.predictor.minReplicas", undefined), "the stable predictor keeps 1 pod(s): `spec.predictor.minReplicas` is not set (KServe's default is 1), below 2; set `spec.predictor.minReplicas` to at least 2."],
        ["a canary taking pods from the minimum", canary({}), "the stable predictor keeps 1 pod(s): `spec.predictor.minReplicas` (2) less 1 canary pod(s), below 2; set `spec.predictor.minReplicas` to at least 3."],
    ] as const) {
        it(`refuses ${what}`, async () => {
            assert.deepEqual(await messages(kserveMinReplicas, props), [`InferenceService ml-serving/bert: ${expected}`]);
        });
    }
    it("takes its threshold from the config, and refuses a threshold below one", async () => {
        assert.deepEqual(await messages(kserveMinReplicas, changed(isvc, "spec.predictor.minReplicas", 1), withThreshold(1)), []);
        assert.equal((await messages(kserveMinReplicas, isvc, withThreshold(3))).length, 1);
        await assert.rejects(runPolicies([kserveMinReplicas], [resource(ISVC, isvc)], withThreshold(0)), PolicyConfigError);
    });
    it("does not apply to other kinds", async () => {
        const deployment = { metadata: { name: "bert", namespace: "ml-serving" }, spec: { replicas: 1, predictor: { minReplicas: 0 } } };
        assert.deepEqual(await messages(kserveMinReplicas, deployment, undefined, "kubernetes:apps/v1:Deployment"), []);
    });
});

/** The committed environment config, narrowed to the KServe policies (entries for others would name policies this run lacks). */
const configFor = (environment: string): PolicyConfig => environmentConfig(environment, kservePolicies);


describe("the KServe guardrails over the committed stacks", () => {
    for (const stack of ["dev", "prod"]) {
        it(`plans ${stack} with no mandatory violation under its environment's config`, async () => {
            const run = await runPolicies(kservePolicies, (await plannedStack(stack)).resources, configFor(stack));
            assert.deepEqual(run.violations.filter((v) => v.level === "mandatory").map((v) => `${v.policy}: ${v.message}`), []);
        });
    }
    const model = (min: number) => ({ name: "churn", namespace: "ml-serving", backend: "kserve", modelFormat: "xgboost", storageUri: "s3://models/churn/1", replicas: { min, max: 3 } });
    it("fires nothing when prod serves a KServe model with `replicas.min: 2`", async () => {
        assert.deepEqual(await firingAfter(kservePolicies, "prod", (c) => (c["mlmesh:models"] = [model(2)])), []);
    });
    // The tier's floor (components/platform/environment.ts) refuses it before the pack would.
    it("never gets to the pack with `replicas.min: 1` in prod: the stack config refuses it first", async () => {
        await assert.rejects(firingAfter(kservePolicies, "prod", (c) => (c["mlmesh:models"] = [model(1)])), /`mlmesh:models\[0\]\.replicas\.min` \(1\) must be at least 2 in prod/);
    });
});
