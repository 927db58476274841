import * as assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import { isKubernetesObject, manifestFileName, renderManifests, type RenderedManifest } from "../../offline/manifests";
import type { RecordedResource } from "../../offline/recorder";
import { recordOffline } from "./fixtures/offlineRun";
import { workloadProgram } from "./fixtures/workloads";

function resource(overrides: Partial<RecordedResource>): RecordedResource {
    return { urn: "urn:x", type: "kubernetes:core/v1:ConfigMap", name: "cm", custom: true, inputs: {}, outputs: {}, options: {}, dependencies: [], inputDependencies: [], ...overrides };
}

describe("manifest rendering", () => {
    let manifests: RenderedManifest[];
    let resources: RecordedResource[];

    before(async () => {
        resources = (await recordOffline(workloadProgram)).resources;
        manifests = renderManifests(resources);
    });

    it("renders every typed and custom Kubernetes object, and nothing else", () => {
        const expected = [
            /^clusterrole-cluster-model-reader\.yaml$/,
            /^deployment-ml-serving-app-server-[0-9a-f]{8}\.yaml$/,
            /^namespace-cluster-ml-serving\.yaml$/,
            /^secret-ml-serving-app-token-[0-9a-f]{8}\.yaml$/,
            /^virtualservice-ml-serving-resnet\.yaml$/,
        ];
        assert.equal(manifests.length, expected.length, manifests.map((m) => m.fileName).join(", "));
        manifests.forEach((manifest, i) => assert.match(manifest.fileName, expected[i]));
    });

    it("leaves out Helm releases, providers, components and non-Kubernetes resources", () => {
        const rendered = new Set(manifests.map((m) => m.urn));
        for (const skipped of resources.filter((r) => /helm|providers|Workload|Stack|aws:/.test(r.type))) {
            assert.ok(!rendered.has(skipped.urn), skipped.type);
        }
    });

    it("fills in the provider-generated name of an object declared without one", () => {
        const deployment = manifests.find((m) => m.object.kind === "Deployment")!;
        assert.match((deployment.object.metadata as { name: string }).name, /^app-server-[0-9a-f]{8}$/);
        assert.equal(deployment.fileName, `deployment-ml-serving-${(deployment.object.metadata as { name: string }).name}.yaml`);
    });

    it("writes one object per file that parses back to the same object", () => {
        for (const manifest of manifests) {
            const documents = parseAllDocuments(manifest.yaml);
            assert.equal(documents.length, 1, manifest.fileName);
            assert.deepEqual(documents[0].toJS(), manifest.object, manifest.fileName);
        }
    });

    it("keeps the apiVersion and kind of custom resources", () => {
        const route = manifests.find((m) => m.fileName === "virtualservice-ml-serving-resnet.yaml")!;
        assert.equal(route.object.apiVersion, "networking.istio.io/v1");
        assert.deepEqual((route.object.spec as { hosts: string[] }).hosts, ["resnet"]);
    });

    it("keeps secret values out of rendered objects", () => {
        const secret = manifests.find((m) => m.object.kind === "Secret")!;
        assert.doesNotMatch(secret.yaml, /s3cr3t/);
        assert.match(secret.yaml, /\[secret\]/);
    });

    it("refuses two resources that declare the same object", () => {
        const object = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "same", namespace: "a" } };
        assert.throws(
            () => renderManifests([resource({ urn: "urn:one", inputs: object }), resource({ urn: "urn:two", inputs: object })]),
            /same Kubernetes object configmap-a-same\.yaml: urn:one and urn:two/,
        );
    });
});

describe("manifest file names", () => {
    const cases: { object: Record<string, unknown>; fileName: string }[] = [
        { object: { apiVersion: "v1", kind: "Service", metadata: { name: "resnet", namespace: "ml" } }, fileName: "service-ml-resnet.yaml" },
        { object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cfg" } }, fileName: "configmap-default-cfg.yaml" },
        { object: { apiVersion: "v1", kind: "Namespace", metadata: { name: "ml" } }, fileName: "namespace-cluster-ml.yaml" },
        { object: { apiVersion: "serving.kserve.io/v1alpha1", kind: "ClusterServingRuntime", metadata: { name: "tf" } }, fileName: "clusterservingruntime-cluster-tf.yaml" },
        { object: { apiVersion: "serving.kserve.io/v1beta1", kind: "InferenceService", metadata: { name: "bert", namespace: "ml" } }, fileName: "inferenceservice-ml-bert.yaml" },
    ];
    for (const { object, fileName } of cases) {
        it(`names a ${String(object.kind)} ${fileName}`, () => {
            assert.equal(manifestFileName(object), fileName);
        });
    }

    it("treats Helm releases, patches and kind-less kubernetes resources as not objects", () => {
        assert.equal(isKubernetesObject(resource({ type: "kubernetes:helm.sh/v3:Release", inputs: { chart: "x" } })), false);
        assert.equal(isKubernetesObject(resource({ type: "kubernetes:core/v1:NamespacePatch", inputs: { apiVersion: "v1", kind: "Namespace" } })), false);
        assert.equal(isKubernetesObject(resource({ type: "kubernetes:core/v1:ConfigMap", inputs: { apiVersion: "v1", kind: "ConfigMap" } })), true);
        assert.equal(isKubernetesObject(resource({ custom: false, type: "kubernetes:yaml/v2:ConfigGroup", inputs: { apiVersion: "v1", kind: "ConfigMap" } })), false);
    });
});
