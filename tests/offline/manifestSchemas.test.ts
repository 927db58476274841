import * as assert from "node:assert/strict";
import { closeObjects, isNamespaced, validateManifest } from "../../offline/manifestSchemas";

const virtualService = (spec: Record<string, unknown>) => ({
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: "resnet", namespace: "ml-serving" },
    spec,
});

const deployment = (container: Record<string, unknown>) => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "resnet", namespace: "ml-serving" },
    spec: { selector: { matchLabels: { app: "resnet" } }, template: { spec: { containers: [{ name: "server", ...container }] } } },
});

describe("manifest schema validation", () => {
    const cases: { name: string; object: Record<string, unknown>; status: string; error?: RegExp }[] = [
        { name: "a valid Istio VirtualService", object: virtualService({ hosts: ["resnet"], http: [{ timeout: "30s", route: [{ destination: { host: "resnet", subset: "v1" }, weight: 100 }] }] }), status: "valid" },
        { name: "a VirtualService with a misspelt field", object: virtualService({ hosts: ["resnet"], http: [{ timout: "30s", route: [{ destination: { host: "resnet" } }] }] }), status: "invalid", error: /\/spec\/http\/0: unknown field `timout`/ },
        { name: "a VirtualService with a string weight", object: virtualService({ hosts: ["resnet"], http: [{ route: [{ destination: { host: "resnet" }, weight: "ninety" }] }] }), status: "invalid", error: /\/spec\/http\/0\/route\/0\/weight: must be integer/ },
        { name: "a VirtualService with no routes, which Istio's webhook refuses", object: virtualService({ hosts: ["resnet"], http: [] }), status: "invalid", error: /http, tcp or tls must be provided/ },
        { name: "a valid core Deployment", object: deployment({ image: "tensorflow/serving:2.20.0", ports: [{ containerPort: 8500, name: "grpc" }] }), status: "valid" },
        { name: "a Deployment whose port is a string", object: deployment({ image: "x", ports: [{ containerPort: "http" }] }), status: "invalid", error: /containerPort/ },
        { name: "a KServe InferenceService", object: { apiVersion: "serving.kserve.io/v1beta1", kind: "InferenceService", metadata: { name: "bert", namespace: "ml" }, spec: { predictor: { model: { modelFormat: { name: "tensorflow" }, storageUri: "s3://models/bert" } } } }, status: "valid" },
        { name: "an InferenceService with an unknown predictor field", object: { apiVersion: "serving.kserve.io/v1beta1", kind: "InferenceService", metadata: { name: "bert" }, spec: { predictor: { modle: {} } } }, status: "invalid", error: /unknown field `modle`/ },
        { name: "a kind mlmesh has no schema for", object: { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } }, status: "unchecked", error: /no schema for example\.com\/v1 Widget/ },
    ];
    for (const { name, object, status, error } of cases) {
        it(`judges ${name} ${status}`, () => {
            const check = validateManifest(object);
            assert.equal(check.status, status, check.errors.join("\n"));
            if (error) {
                assert.ok(check.errors.some((e) => error.test(e)), `no error matches ${error}: ${check.errors.join("; ")}`);
            }
        });
    }

    it("closes object schemas that list properties, but not ones that preserve unknown fields", () => {
        const closed = closeObjects({
            type: "object",
            properties: {
                spec: { type: "object", properties: { a: { type: "string" } } },
                free: { type: "object", "x-kubernetes-preserve-unknown-fields": true, properties: { b: {} } },
                labels: { type: "object", additionalProperties: { type: "string" } },
            },
        }) as { additionalProperties: boolean; properties: Record<string, { additionalProperties?: unknown }> };
        assert.equal(closed.additionalProperties, false);
        assert.equal(closed.properties.spec.additionalProperties, false);
        assert.equal(closed.properties.free.additionalProperties, undefined);
        assert.deepEqual(closed.properties.labels.additionalProperties, { type: "string" });
    });

    it("knows which kinds are cluster-scoped", () => {
        assert.equal(isNamespaced("v1", "Namespace"), false);
        assert.equal(isNamespaced("rbac.authorization.k8s.io/v1", "ClusterRole"), false);
        assert.equal(isNamespaced("serving.kserve.io/v1alpha1", "ClusterServingRuntime"), false);
        assert.equal(isNamespaced("networking.istio.io/v1", "Gateway"), true);
        assert.equal(isNamespaced("apps/v1", "Deployment"), true);
    });
});
