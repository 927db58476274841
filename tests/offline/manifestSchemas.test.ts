import * as assert from "node:assert/strict";
import Ajv from "ajv";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { closeObjects, crdSchema, isNamespaced, shareRepeatedSubschemas, validateManifest, writeValidators } from "../../offline/manifestSchemas";

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
        { name: "an InferenceService whose transformer container port is a string", object: { apiVersion: "serving.kserve.io/v1beta1", kind: "InferenceService", metadata: { name: "bert" }, spec: { predictor: { model: { modelFormat: { name: "xgboost" } } }, transformer: { containers: [{ name: "t", image: "x", ports: [{ containerPort: "http" }] }] } } }, status: "invalid", error: /\/spec\/transformer\/containers\/0\/ports\/0\/containerPort: must be integer/ },
        { name: "an InferenceService with a misspelt field in its xgboost predictor's resources", object: { apiVersion: "serving.kserve.io/v1beta1", kind: "InferenceService", metadata: { name: "bert" }, spec: { predictor: { xgboost: { storageUri: "s3://m", resources: { limit: {} } } } } }, status: "invalid", error: /\/spec\/predictor\/xgboost\/resources: unknown field `limit`/ },
        { name: "a VirtualService too large for etcd", object: virtualService({ hosts: ["resnet"], http: Array.from({ length: 6000 }, (_, i) => ({ name: `route-${i}-${"x".repeat(200)}`, route: [{ destination: { host: "resnet" } }] })) }), status: "invalid", error: /over the 1507328 the API server can store .*etcdserver: request is too large/ },
        { name: "a ConfigMap holding more than 1 MiB", object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "big", namespace: "ml" }, data: { a: "x".repeat(600_000), b: "y".repeat(600_000) } }, status: "invalid", error: /\/data: 1200002 bytes, over the 1048576 a ConfigMap may hold/ },
        { name: "an object with 300 KiB of annotations", object: { ...deployment({ image: "x" }), metadata: { name: "resnet", namespace: "ml-serving", annotations: { note: "z".repeat(300 * 1024) } } }, status: "invalid", error: /annotations: .* over the 262144/ },
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

    describe("shared subschemas", () => {
        const container = { type: "object", properties: { name: { type: "string" }, image: { type: "string" }, ports: { type: "array", items: { type: "object", properties: { containerPort: { type: "integer" } } } } } };
        const schema = {
            type: "object",
            properties: {
                predictor: { type: "object", description: "runs the model", properties: { container } },
                transformer: { type: "object", description: "pre- and post-processing", properties: { container } },
                mode: { type: "string", enum: [{ a: 1 }, { a: 1 }] },
                tiny: { type: "string" },
            },
        };

        it("moves a repeated subschema to $defs once and references it from each place", () => {
            const shared = shareRepeatedSubschemas(schema, 50) as any;
            assert.deepEqual(Object.keys(shared.$defs), ["shared0"]);
            assert.deepEqual(shared.$defs.shared0, container);
            assert.deepEqual(shared.properties.predictor.properties.container, { $ref: "#/$defs/shared0" });
            assert.deepEqual(shared.properties.transformer.properties.container, { $ref: "#/$defs/shared0" });
        });

        it("leaves data (enum values) and subschemas shorter than the threshold in place", () => {
            const shared = shareRepeatedSubschemas(schema, 50) as any;
            assert.deepEqual(shared.properties.mode, schema.properties.mode);
            assert.deepEqual(shared.properties.tiny, { type: "string" });
            assert.deepEqual(shareRepeatedSubschemas(schema, 10_000), schema);
        });

        const schemaDir = path.join(__dirname, "..", "..", "offline", "schemas");
        for (const file of ["serving.kserve.io_v1alpha1_ServingRuntime.json", "networking.istio.io_v1_DestinationRule.json"]) {
            it(`judges every object as the unshared schema does (${file})`, () => {
                const closed = closeObjects(JSON.parse(readFileSync(path.join(schemaDir, file), "utf8"))) as Record<string, unknown>;
                const compile = (s: Record<string, unknown>) => new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(s);
                const plain = compile(closed);
                const shared = compile(shareRepeatedSubschemas(closed));
                const spec = file.includes("ServingRuntime")
                    ? (ports: unknown) => ({ containers: [{ name: "s", image: "i", ports }], supportedModelFormats: [{ name: "xgboost" }], volumes: [{ name: "v", emptyDir: { sizeLimit: 1 } }] })
                    : (ports: unknown) => ({ host: "h", trafficPolicy: { portLevelSettings: [{ port: { number: ports } }] }, subsets: [{ name: "v1", trafficPolicy: { portLevelSettings: [{ port: { numbr: 1 } }] } }] });
                for (const ports of [[{ containerPort: 8080 }], [{ containerPort: "http" }], 8080, "x", [{ contanerPort: 1 }]]) {
                    const object = { spec: spec(ports) };
                    const errors = (validate: typeof plain) => (validate(object), (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`).sort());
                    assert.deepEqual(errors(shared), errors(plain), JSON.stringify(object));
                }
            });
        }
    });

    describe("validators written ahead (npm run build)", () => {
        // Inside the checkout: the modules require ajv's runtime helpers, as they do from dist/.
        const scratch = path.join(__dirname, "..", "..", ".mlmesh");
        mkdirSync(scratch, { recursive: true });
        const dir = mkdtempSync(path.join(scratch, "validators-"));
        let files: string[] = [];
        before(function () {
            this.timeout(120_000);
            files = writeValidators(dir);
        });
        after(() => rmSync(dir, { recursive: true, force: true }));

        it("writes one module per shipped CRD schema", () => {
            assert.ok(files.includes("serving.kserve.io_v1beta1_InferenceService.json"), files.join(", "));
            assert.ok(files.includes("security.istio.io_v1_AuthorizationPolicy.json"));
        });

        const samples: [string, Record<string, unknown>][] = [
            ["serving.kserve.io_v1beta1_InferenceService.json", { apiVersion: "serving.kserve.io/v1beta1", kind: "InferenceService", metadata: { name: "a" }, spec: { predictor: { model: { modelFormat: { name: "xgboost" } } } } }],
            ["serving.kserve.io_v1beta1_InferenceService.json", { apiVersion: "serving.kserve.io/v1beta1", kind: "InferenceService", metadata: { name: "a" }, spec: { predictor: { modle: {}, minReplicas: "two" }, transformer: { containers: [{ name: "t", ports: [{ containerPort: "x" }] }] } } }],
            ["security.istio.io_v1_AuthorizationPolicy.json", { apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name: "a" }, spec: { action: "ALOW", rules: [{ to: [{ operation: { ports: [443] } }] }] } }],
        ];
        for (const [file, object] of samples) {
            it(`judges as the schema compiled at run time does (${file}, ${JSON.stringify(object.spec).slice(0, 40)}…)`, () => {
                // eslint-disable-next-line @typescript-eslint/no-require-imports
                const built = require(path.join(dir, file.replace(/\.json$/, ".js"))) as ReturnType<Ajv["compile"]>;
                const runtime = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(crdSchema(file));
                const errors = (validate: typeof runtime) => [validate(object), (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`).sort()];
                assert.deepEqual(errors(built), errors(runtime));
            });
        }
    });
});
