import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { CertManager } from "../../../components/cluster/certManager";
import { KServe } from "../../../components/serving/kserve";
import { KServeModel } from "../../../components/serving/kserveModel";
import type { KServeModelFormat, KServeModelSpec } from "../../../components/serving/modelSpec";
import { renderManifests } from "../../../offline/manifests";
import { validateManifest } from "../../../offline/manifestSchemas";
import type { RecordedResource, RecordedRun } from "../../../offline/recorder";
import { recordOffline } from "../../offline/fixtures/offlineRun";
import { servingContext } from "./fixtures/servingContext";

const T = {
    release: "kubernetes:helm.sh/v3:Release", namespace: "kubernetes:core/v1:Namespace", serviceAccount: "kubernetes:core/v1:ServiceAccount",
    isvc: "kubernetes:serving.kserve.io/v1beta1:InferenceService", role: "aws:iam/role:Role", rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    virtualService: "kubernetes:networking.istio.io/v1:VirtualService", destinationRule: "kubernetes:networking.istio.io/v1:DestinationRule",
    authorizationPolicy: "kubernetes:security.istio.io/v1:AuthorizationPolicy",
} as const;

const BERT: KServeModelSpec = {
    backend: "kserve", name: "bert", namespace: "ml-serving", modelFormat: "tensorflow", storageUri: "s3://models/bert/v3",
    gpus: 1, canaryTrafficPercent: 10, canaryStorageUri: "s3://models/bert/v4",
};
const KNATIVE: KServeModelSpec = { ...BERT, deploymentMode: "Knative", canaryStorageUri: undefined };


/** KServe `ks` (with Knative Serving for Knative-mode models) and the model `bert` built from `model`. */
const kserveProgram = (model: KServeModelSpec) => () => {
    const { cluster, mesh } = servingContext();
    const certManager = new CertManager("cm", { provider: cluster.provider, images: cluster.images });
    const kserve = new KServe("ks", { cluster, images: cluster.images, modelFormats: [model.modelFormat], certManager, knativeServing: model.deploymentMode === "Knative" });
    new KServeModel("bert", { model, cluster, mesh, kserve });
};

/** The value at `keys` inside nested objects. */
const at = (value: unknown, ...keys: (string | number)[]): unknown => keys.reduce<unknown>((inner, key) => (inner as Record<string, unknown> | undefined)?.[key], value);
const dependsOn = (resource: RecordedResource) => resource.options.dependsOn ?? [];

interface Plan {
    readonly run: RecordedRun;
    of(type: string): RecordedResource[];
    one(type: string): RecordedResource;
    /** The one Helm release whose release name (inputs.name) is `name`. */
    release(name: string): RecordedResource;
    /** The value at `keys` in the InferenceService's spec. */
    isvc(...keys: (string | number)[]): unknown;
}

async function plan(model: KServeModelSpec): Promise<Plan> {
    const run = await recordOffline(kserveProgram(model));
    const of = (type: string) => run.resources.filter((r) => r.type === type);
    const only = (found: RecordedResource[], what: string) => {
        assert.equal(found.length, 1, `expected one ${what}; found ${found.map((r) => r.name).join(", ") || "none"}`);
        return found[0];
    };
    return {
        run, of,
        one: (type) => only(of(type), type),
        release: (name) => only(of(T.release).filter((r) => r.inputs.name === name), `release ${name}`),
        isvc: (...keys) => at(only(of(T.isvc), "InferenceService").inputs, "spec", ...keys),
    };
}

/** Every rendered Kubernetes object of a run whose schema check is not `valid`. */
const invalidManifests = (run: RecordedRun) => renderManifests(run.resources)
    .map((m) => ({ file: m.fileName, check: validateManifest(m.object) }))
    .filter(({ check }) => check.status !== "valid");

/** The GetObject resources of the model's inline IAM policy. */
const readableObjects = (p: Plan): string[] => {
    const document = JSON.parse(String(p.one(T.rolePolicy).inputs.policy)) as { Statement: { Action: string[]; Resource: string[] }[] };
    return document.Statement.filter((s) => s.Action.includes("s3:GetObject")).flatMap((s) => s.Resource);
};

describe("KServe with KServeModel bert: a Standard-mode 10% canary on s3://models/bert/v4", () => {
    let p: Plan;
    before(async () => {
        p = await plan(BERT);
    });

    describe("KServe releases", () => {
        const RELEASES = [
            { name: "kserve-crd", after: undefined },
            { name: "kserve-resources", after: "kserve-crd" },
            { name: "kserve-runtime-configs", after: "kserve-resources" },
        ];
        it("installs exactly kserve-crd, kserve-resources and kserve-runtime-configs (and cert-manager beside them)", () => {
            assert.deepEqual(p.of(T.release).map((r) => r.inputs.name).filter((name) => name !== "cert-manager").sort(), RELEASES.map((r) => r.name));
        });
        // The CRD chart's templates hold the CRDs: uninstalling it would delete every InferenceService in the cluster, app teams' too.
        it("keeps kserve-crd (and so the CRDs and every InferenceService) when KServe leaves the stack; the other releases go", () => {
            assert.deepEqual(RELEASES.map((r) => [r.name, p.release(r.name).options.retainOnDelete === true]), [["kserve-crd", true], ["kserve-resources", false], ["kserve-runtime-configs", false]]);
        });
        it("installs kserve-resources only after cert-manager, whose Certificate and Issuer its webhook needs", () => {
            const certManager = p.run.resources.find((r) => r.type === "mlmesh:cluster:CertManager")!;
            assert.ok(dependsOn(p.release("kserve-resources")).includes(certManager.urn), `dependsOn ${dependsOn(p.release("kserve-resources"))}`);
        });
        for (const { name, after } of RELEASES) {
            it(`installs ${name} from oci://ghcr.io/kserve/charts/${name} v0.20.0 into kserve`, () => {
                const { chart, version, namespace } = p.release(name).inputs;
                assert.deepEqual({ chart, version, namespace }, { chart: `oci://ghcr.io/kserve/charts/${name}`, version: "v0.20.0", namespace: "kserve" });
            });
            if (after) {
                it(`installs ${name} only after ${after}`, () => {
                    assert.ok(dependsOn(p.release(name)).includes(p.release(after).urn), `dependsOn ${dependsOn(p.release(name))}`);
                });
            } else {
                it(`installs ${name} only after the kserve namespace`, () => {
                    assert.ok(dependsOn(p.release(name)).includes(p.of(T.namespace).find((ns) => ns.name === "ks-ns")!.urn), `dependsOn ${dependsOn(p.release(name))}`);
                });
            }
        }
        const VALUES: [string, string, string[], unknown][] = [
            ["runs the controller in Standard deployment mode", "kserve-resources", ["kserve", "controller", "deploymentMode"], "Standard"],
            ["creates no Ingress of KServe's own", "kserve-resources", ["kserve", "controller", "gateway", "disableIngressCreation"], true],
            ["pins the TensorFlow runtime to TF Serving 2.20.0", "kserve-runtime-configs", ["kserve", "servingruntime", "tensorflow", "tag"], "2.20.0"],
        ];
        for (const [what, release, keys, expected] of VALUES) {
            it(what, () => assert.deepEqual(at(p.release(release).inputs.values, ...keys), expected));
        }
    });

    describe("the InferenceService", () => {
        it("gets a disruption budget over its predictor pods, which KServe creates none for, so a node drain never evicts them all at once", () => {
            const pdb = p.run.resources.find((r) => r.type === "kubernetes:policy/v1:PodDisruptionBudget")!;
            assert.deepEqual(pdb.inputs.spec, { maxUnavailable: 1, selector: { matchLabels: { "serving.kserve.io/inferenceservice": "bert", component: "predictor" } } });
            assert.ok(dependsOn(pdb).includes(p.one(T.isvc).urn));
        });
        it("is created only after the whole KServe install, runtimes included", () => {
            const isvc = p.one(T.isvc);
            const kserve = p.run.resources.find((r) => r.type === "mlmesh:serving:KServe")!;
            assert.ok(dependsOn(isvc).includes(kserve.urn), `dependsOn ${dependsOn(isvc)}`);
            assert.equal(p.release("kserve-runtime-configs").parent, kserve.urn);
        });
        const PREDICTOR: [string, (string | number)[], unknown][] = [
            ["runs the predictor as the bert-kserve ServiceAccount", ["predictor", "serviceAccountName"], "bert-kserve"],
            ["puts the predictor on the a10g node group", ["predictor", "nodeSelector"], { "mlmesh.io/node-group": "a10g" }],
            ["limits the predictor's model to one GPU", ["predictor", "model", "resources", "limits", "nvidia.com/gpu"], "1"],
            ["runs the GPU build 2.20.0-gpu of the TensorFlow runtime", ["predictor", "model", "runtimeVersion"], "2.20.0-gpu"],
            ["serves the directory s3://models/bert/v3/ from the predictor", ["predictor", "model", "storageUri"], "s3://models/bert/v3/"],
            ["sends 10% of traffic to the canary", ["canary", 0, "trafficPercent"], 10],
            ["serves the directory s3://models/bert/v4/ from the canary", ["canary", 0, "predictor", "model", "storageUri"], "s3://models/bert/v4/"],
            ["names the canary predictor canary, so KServe runs it as bert-canary-predictor", ["canary", 0, "predictor", "name"], "canary"],
            ["runs one canary pod, KServe's ceil(1 × 10%)", ["canary", 0, "predictor", "minReplicas"], 1],
            ["asks for the stable minimum plus the canary pod, which KServe subtracts again", ["predictor", "minReplicas"], 2],
            ["keeps the stable maximum at 3", ["predictor", "maxReplicas"], 3],
            ["sets no app label on predictor pods, which KServe overwrites with isvc.<service>", ["predictor", "labels"], undefined],
            ["carries the mesh revision on the predictor's pods, so a new Istio revision rolls them", ["predictor", "annotations", "mlmesh.io/mesh-revision"], "1-30-3"],
            ["carries the mesh revision on the canary's pods too", ["canary", 0, "predictor", "annotations", "mlmesh.io/mesh-revision"], "1-30-3"],
        ];
        for (const [what, keys, expected] of PREDICTOR) {
            it(what, () => assert.deepEqual(p.isvc(...keys), expected));
        }
    });

    describe("S3 access through IRSA", () => {
        const annotations = () => at(p.one(T.serviceAccount).inputs, "metadata", "annotations") as Record<string, string>;
        it("tells KServe's storage initializer the region us-west-2", () => assert.equal(annotations()["serving.kserve.io/s3-region"], "us-west-2"));
        it("annotates the ServiceAccount with the IRSA role's ARN", () => {
            assert.equal(annotations()["eks.amazonaws.com/role-arn"], p.one(T.role).outputs.arn);
        });
        it("grants s3:GetObject under both the model's and the canary's prefixes", () => {
            assert.deepEqual(readableObjects(p), ["arn:aws:s3:::models/bert/v3/*", "arn:aws:s3:::models/bert/v4/*"]);
        });
    });

    it("routes with a VirtualService on bert-predictor.ml-serving.svc.cluster.local", () => {
        assert.deepEqual(at(p.one(T.virtualService).inputs, "spec", "hosts"), ["bert-predictor.ml-serving.svc.cluster.local"]);
    });
    it("sends 90% to the stable predictor Service and 10% to the canary's own Service", () => {
        const http = at(p.one(T.virtualService).inputs, "spec", "http") as { name: string; route: { destination: { host: string }; weight: number }[] }[];
        const split = http.find((route) => route.name === "weighted")!;
        assert.deepEqual(split.route.map((r) => [r.destination.host, r.weight]), [
            ["bert-predictor.ml-serving.svc.cluster.local", 90],
            ["bert-canary-predictor.ml-serving.svc.cluster.local", 10],
        ]);
    });
    it("limits connections and ejects failing pods of the canary Service too", () => {
        assert.deepEqual(p.of(T.destinationRule).map((r) => at(r.inputs, "spec", "host")).sort(), [
            "bert-canary-predictor.ml-serving.svc.cluster.local", "bert-predictor.ml-serving.svc.cluster.local",
        ]);
    });
    it("does not await the InferenceService's conditions, which KServe gates on its Deployment's generation and would hang a change that leaves that Deployment alone", () => {
        const annotations = at(p.one(T.isvc).inputs, "metadata", "annotations") as Record<string, string>;
        assert.equal(annotations["pulumi.com/waitFor"], undefined);
    });
    it("changes routing only after KServe has admitted the InferenceService", () => {
        for (const route of [...p.of(T.virtualService), ...p.of(T.destinationRule)]) {
            assert.ok(dependsOn(route).includes(p.one(T.isvc).urn), `${route.name} dependsOn ${dependsOn(route)}`);
        }
    });
    it("lets callers reach only the pods of InferenceService bert", () => {
        assert.deepEqual(at(p.one(T.authorizationPolicy).inputs, "spec", "selector", "matchLabels"), { "serving.kserve.io/inferenceservice": "bert" });
    });
    it("renders every Kubernetes object valid against its schema", () => assert.deepEqual(invalidManifests(p.run), []));
});

describe("KServeModel bert in Knative mode with a 10% canary", () => {
    let p: Plan;
    before(async () => {
        p = await plan(KNATIVE);
    });
    it("declares no VirtualService, since Knative owns routing", () => assert.deepEqual(p.of(T.virtualService).map((r) => r.name), []));
    it("declares a DestinationRule on bert-predictor.ml-serving.svc.cluster.local", () => {
        assert.equal(at(p.one(T.destinationRule).inputs, "spec", "host"), "bert-predictor.ml-serving.svc.cluster.local");
    });
    it("declares an AuthorizationPolicy selecting the pods of InferenceService bert", () => {
        assert.deepEqual(at(p.one(T.authorizationPolicy).inputs, "spec", "selector", "matchLabels"), { "serving.kserve.io/inferenceservice": "bert" });
    });
    it("sets the predictor's canaryTrafficPercent to 10", () => assert.equal(p.isvc("predictor", "canaryTrafficPercent"), 10));
    it("declares no Standard-mode canary predictor", () => assert.equal(p.isvc("canary"), undefined));
    it("grants s3:GetObject only under the model's prefix", () => assert.deepEqual(readableObjects(p), ["arn:aws:s3:::models/bert/v3/*"]));
    it("renders every Kubernetes object valid against its schema", () => assert.deepEqual(invalidManifests(p.run), []));
});

describe("KServeModel llm: a Hugging Face model with no timeout or retries of its own", () => {
    let p: Plan;
    before(async () => {
        p = await plan({ ...BERT, name: "llm", modelFormat: "huggingface", canaryStorageUri: undefined, canaryTrafficPercent: undefined });
    });
    it("gives every route a 300s timeout and no retries, so a long completion is neither cut nor run twice", () => {
        const http = at(p.one(T.virtualService).inputs, "spec", "http") as { timeout: string; retries: unknown }[];
        assert.deepEqual(http.map((r) => [r.timeout, r.retries]), http.map(() => ["300s", { attempts: 0 }]));
    });
    it("keeps a timeout and retries the model sets", async () => {
        const own = await plan({ ...BERT, name: "llm", modelFormat: "huggingface", canaryStorageUri: undefined, canaryTrafficPercent: undefined, timeout: "60s", retries: { attempts: 1, perTryTimeout: "60s" } });
        const http = at(own.one(T.virtualService).inputs, "spec", "http") as { timeout: string; retries: { attempts: number } }[];
        assert.deepEqual(http.map((r) => [r.timeout, r.retries.attempts]), http.map(() => ["60s", 1]));
    });
    it("renders every Kubernetes object valid against its schema", () => assert.deepEqual(invalidManifests(p.run), []));
});

describe("KServeModel argument validation", () => {
    const BAD: [string, string, Partial<KServeModelSpec>][] = [
        ["a Standard-mode canary without canaryStorageUri", "canaryTrafficPercent", { canaryStorageUri: undefined }],
        ["an unknown modelFormat", "modelFormat", { modelFormat: "keras" as KServeModelFormat }],
    ];
    const pathsOf = (error: unknown): string[] => {
        assert.ok(pulumi.InputPropertiesError.isInstance(error), `not an InputPropertiesError: ${error}`);
        return error.errors.map((e) => e.propertyPath);
    };
    for (const [what, path, overrides] of BAD) {
        it(`rejects ${what} with an InputPropertiesError at exactly ${path}`, async () => {
            await assert.rejects(recordOffline(kserveProgram({ ...BERT, ...overrides })), (error) => {
                assert.deepEqual(pathsOf(error), [path]);
                return true;
            });
        });
    }
});
