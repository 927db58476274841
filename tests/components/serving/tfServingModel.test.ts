import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import type { TfServingModelSpec } from "../../../components/serving/modelSpec";
import { TfServingModel } from "../../../components/serving/tfServingModel";
import { renderManifests } from "../../../offline/manifests";
import { validateManifest } from "../../../offline/manifestSchemas";
import type { RecordedResource, RecordedRun } from "../../../offline/recorder";
import { recordOffline } from "../../offline/fixtures/offlineRun";
import { ISSUER, servingContext } from "./fixtures/servingContext";
import { cachedUnder } from "../fixtures/images";

const T = {
    deployment: "kubernetes:apps/v1:Deployment", service: "kubernetes:core/v1:Service", serviceAccount: "kubernetes:core/v1:ServiceAccount",
    hpa: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", pdb: "kubernetes:policy/v1:PodDisruptionBudget",
    role: "aws:iam/role:Role", rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    virtualService: "kubernetes:networking.istio.io/v1:VirtualService", destinationRule: "kubernetes:networking.istio.io/v1:DestinationRule",
    authorizationPolicy: "kubernetes:security.istio.io/v1:AuthorizationPolicy",
} as const;

const FRONTEND = "cluster.local/ns/ml-frontend/sa/frontend-sa";
const INGRESS = "cluster.local/ns/istio-ingress/sa/istio-ingressgateway";
const HOST = "resnet.ml-serving.svc.cluster.local";
const VERSIONS = [{ name: "v1", modelUri: "s3://models/resnet/v1", weight: 90 }, { name: "v2", modelUri: "s3://models/resnet/v2", weight: 10 }];
const RESNET: TfServingModelSpec = {
    backend: "tfserving", name: "resnet", namespace: "ml-serving", versions: VERSIONS, gpus: 1, gpuNodeGroup: "a10g",
    resources: { cpu: "2", memory: "8Gi" }, sidecar: { cpu: "500m", concurrency: 4 }, replicas: { min: 2, max: 10 },
    timeout: "20s", retries: { attempts: 2 }, circuitBreaker: { consecutive5xxErrors: 7 }, allowedPrincipals: [FRONTEND],
};
const ECR_IMAGE = "123456789012.dkr.ecr.us-west-2.amazonaws.com/tfserving:2.20.0-custom";


const newModels = (models: Record<string, TfServingModelSpec>) => {
    const { cluster, mesh } = servingContext();
    Object.entries(models).forEach(([name, model]) => new TfServingModel(name, { model, cluster, mesh }));
};

/** The value at `keys` inside nested objects. */
const at = (value: unknown, ...keys: (string | number)[]): unknown => keys.reduce<unknown>((inner, key) => (inner as Record<string, unknown> | undefined)?.[key], value);

interface Container {
    image: string; args: string[]; ports: { name: string; containerPort: number }[];
    resources: { requests: Record<string, string>; limits: Record<string, string> };
    readinessProbe: { httpGet: { path: string; port: number } };
    startupProbe: { httpGet: { path: string; port: number }; periodSeconds: number; failureThreshold: number };
    securityContext: Record<string, unknown>; volumeMounts: { name: string; mountPath: string }[];
}
interface PodSpec {
    containers: Container[]; volumes: { name: string; emptyDir?: object }[]; serviceAccountName: string;
    securityContext: Record<string, unknown>; nodeSelector?: Record<string, string>; tolerations?: Record<string, string>[];
}

interface Plan {
    readonly run: RecordedRun;
    of(type: string): RecordedResource[];
    one(type: string): RecordedResource;
    /** The one resource of `type` whose Kubernetes metadata.name is `name`. */
    named(type: string, name: string): RecordedResource;
    pod(deployment: string): PodSpec;
    container(deployment: string): Container;
}

async function plan(models: Record<string, TfServingModelSpec>): Promise<Plan> {
    const run = await recordOffline(() => newModels(models));
    const of = (type: string) => run.resources.filter((r) => r.type === type);
    const only = (found: RecordedResource[], what: string) => {
        assert.equal(found.length, 1, `expected one ${what}; found ${found.map((r) => r.name).join(", ") || "none"}`);
        return found[0];
    };
    const named = (type: string, name: string) => only(of(type).filter((r) => at(r.inputs, "metadata", "name") === name), `${type} ${name}`);
    const pod = (deployment: string) => at(named(T.deployment, deployment).inputs, "spec", "template", "spec") as PodSpec;
    return { run, of, one: (type) => only(of(type), type), named, pod, container: (deployment) => pod(deployment).containers[0] };
}

/** Every rendered Kubernetes object of a run whose schema check is not `valid`. */
const invalidManifests = (run: RecordedRun) => renderManifests(run.resources)
    .map((m) => ({ file: m.fileName, check: validateManifest(m.object) }))
    .filter(({ check }) => check.status !== "valid");

describe("TfServingModel resnet on the a10g GPU group with versions v1 (90%) and v2 (10%)", () => {
    let p: Plan;
    before(async () => {
        p = await plan({ resnet: RESNET });
    });

    it("creates one Deployment per version, named resnet-v1 and resnet-v2", () => {
        assert.deepEqual(p.of(T.deployment).map((d) => at(d.inputs, "metadata", "name")).sort(), ["resnet-v1", "resnet-v2"]);
    });

    for (const { name: version, modelUri } of VERSIONS) {
        const deployment = `resnet-${version}`;
        describe(`the ${version} Deployment`, () => {
            it(`labels its pods app=resnet and version=${version}`, () => {
                const labels = at(p.named(T.deployment, deployment).inputs, "spec", "template", "metadata", "labels") as Record<string, string>;
                assert.deepEqual([labels.app, labels.version], ["resnet", version]);
            });
            it("runs the pinned GPU image tensorflow/serving:2.20.0-gpu, through the cluster's Docker Hub cache, when no image is given", () => {
                assert.equal(p.container(deployment).image, `${cachedUnder("docker-hub")}tensorflow/serving:2.20.0-gpu`);
            });
            const ARGS = ["--port=8500", "--rest_api_port=8501", "--model_name=resnet", "--model_base_path=/models/resnet"];
            for (const arg of ARGS) {
                it(`passes ${arg} to the server`, () => assert.ok(p.container(deployment).args.includes(arg), `args ${p.container(deployment).args}`));
            }
            it(`downloads ${modelUri} into /models/resnet before the server starts, through the mesh as the pod's own user`, () => {
                const [init] = at(p.named(T.deployment, deployment).inputs, "spec", "template", "spec", "initContainers") as {
                    image: string; args: string[]; securityContext: { runAsUser: number }; volumeMounts: { name: string; mountPath: string }[];
                }[];
                assert.equal(init.image, `${cachedUnder("docker-hub")}kserve/storage-initializer:v0.20.0`);
                assert.deepEqual(init.args, [`${modelUri}/`, "/models/resnet"]);
                // Istio runs as a native sidecar that is up before init containers, so the download
                // needs no exemption from the mesh (UID 1337 would bypass mTLS and egress policy).
                assert.equal(init.securityContext.runAsUser, undefined);
                const serverMounts = p.container(deployment).volumeMounts as { name: string; mountPath: string; readOnly?: boolean }[];
                assert.deepEqual(serverMounts.find((m) => m.name === "model"), { name: "model", mountPath: "/models", readOnly: true });
                assert.ok(init.volumeMounts.some((m) => m.name === "model" && m.mountPath === "/models"));
            });
            it("sizes the downloader as KServe sizes its storage initializer, so the namespace's quota and the scheduler can count it", () => {
                const [init] = at(p.named(T.deployment, deployment).inputs, "spec", "template", "spec", "initContainers") as { resources: unknown }[];
                assert.deepEqual(init.resources, { requests: { cpu: "100m", memory: "100Mi" }, limits: { cpu: "1", memory: "1Gi" } });
            });
            it("tells the downloader's SDK to use the regional STS endpoint, the one the mesh lets out", () => {
                const [init] = at(p.named(T.deployment, deployment).inputs, "spec", "template", "spec", "initContainers") as { env: { name: string; value: string }[] }[];
                assert.deepEqual(init.env.find((e) => e.name === "AWS_STS_REGIONAL_ENDPOINTS"), { name: "AWS_STS_REGIONAL_ENDPOINTS", value: "regional" });
            });
            it("carries the mesh revision in its pod template, so a new Istio revision rolls the pods onto its proxy", () => {
                const annotations = at(p.named(T.deployment, deployment).inputs, "spec", "template", "metadata", "annotations") as Record<string, string>;
                assert.equal(annotations["mlmesh.io/mesh-revision"], "1-30-3");
            });
            it("passes a --monitoring_config_file to the server", () => {
                assert.ok(p.container(deployment).args.some((a) => a.startsWith("--monitoring_config_file=")), `args ${p.container(deployment).args}`);
            });
            it("exposes the ports grpc 8500 and http 8501", () => {
                assert.deepEqual(p.container(deployment).ports.map((port) => [port.name, port.containerPort]), [["grpc", 8500], ["http", 8501]]);
            });
            it("is ready when GET /v1/models/resnet on 8501 answers", () => {
                assert.deepEqual(p.container(deployment).readinessProbe.httpGet, { path: "/v1/models/resnet", port: 8501 });
            });
            it("probes startup on /v1/models/resnet for at least 600 seconds", () => {
                const { httpGet, periodSeconds, failureThreshold } = p.container(deployment).startupProbe;
                assert.deepEqual(httpGet, { path: "/v1/models/resnet", port: 8501 });
                assert.ok(periodSeconds * failureThreshold >= 600, `${periodSeconds}s × ${failureThreshold}`);
            });
            it("runs as non-root with a read-only root filesystem, no privilege escalation and no capabilities", () => {
                const { securityContext } = p.container(deployment);
                assert.equal(p.pod(deployment).securityContext.runAsNonRoot, true);
                assert.deepEqual([securityContext.readOnlyRootFilesystem, securityContext.allowPrivilegeEscalation, securityContext.capabilities], [true, false, { drop: ["ALL"] }]);
            });
            it("mounts an emptyDir at /tmp", () => {
                const mount = p.container(deployment).volumeMounts.find((m) => m.mountPath === "/tmp") ?? assert.fail("nothing mounted at /tmp");
                assert.deepEqual(p.pod(deployment).volumes.find((v) => v.name === mount.name), { name: mount.name, emptyDir: {} });
            });
            it("requests and limits 2 CPUs, 8Gi of memory and one GPU", () => {
                const amounts = { cpu: "2", memory: "8Gi", "nvidia.com/gpu": "1" };
                assert.deepEqual(p.container(deployment).resources, { requests: amounts, limits: amounts });
            });
            it("selects the a10g node group's nodes", () => assert.deepEqual(p.pod(deployment).nodeSelector, { "mlmesh.io/node-group": "a10g" }));
            it("tolerates exactly the GPU group's taint", () => {
                assert.deepEqual(p.pod(deployment).tolerations, [{ key: "nvidia.com/gpu", operator: "Equal", value: "true", effect: "NoSchedule" }]);
            });
            const ANNOTATIONS: [string, string, string][] = [
                ["sizes the sidecar CPU request from the model's override", "sidecar.istio.io/proxyCPU", "500m"],
                ["keeps the mesh default sidecar memory request", "sidecar.istio.io/proxyMemory", "128Mi"],
                ["keeps the mesh default sidecar CPU limit", "sidecar.istio.io/proxyCPULimit", "2"],
                ["keeps the mesh default sidecar memory limit", "sidecar.istio.io/proxyMemoryLimit", "1Gi"],
                ["gives the sidecar the model's 4 Envoy workers", "proxy.istio.io/config", JSON.stringify({ concurrency: 4 })],
                ["asks Prometheus to scrape the pod", "prometheus.io/scrape", "true"],
                ["points Prometheus at the REST port", "prometheus.io/port", "8501"],
                ["points Prometheus at TF Serving's metrics path", "prometheus.io/path", "/monitoring/prometheus/metrics"],
            ];
            for (const [what, key, value] of ANNOTATIONS) {
                it(what, () => assert.equal(at(p.named(T.deployment, deployment).inputs, "spec", "template", "metadata", "annotations", key), value));
            }
            it("runs as the IRSA ServiceAccount resnet-tfserving", () => {
                assert.deepEqual([p.pod(deployment).serviceAccountName, at(p.one(T.serviceAccount).inputs, "metadata", "name")], ["resnet-tfserving", "resnet-tfserving"]);
            });
            it(`has a PodDisruptionBudget selecting the ${version} pods`, () => {
                assert.deepEqual(at(p.named(T.pdb, deployment).inputs, "spec", "selector", "matchLabels"), { app: "resnet", version });
            });
        });
    }

    it("creates one Service resnet with ports grpc 8500 and http 8501 selecting app=resnet", () => {
        const { spec } = p.one(T.service).inputs as { spec: { ports: { name: string; port: number }[]; selector: Record<string, string> } };
        assert.equal(at(p.one(T.service).inputs, "metadata", "name"), "resnet");
        assert.deepEqual([spec.ports.map((port) => [port.name, port.port]), spec.selector], [[["grpc", 8500], ["http", 8501]], { app: "resnet" }]);
    });

    // 2 to 10 pods together: one each, the rest by weight (versionReplicas).
    const SCALING: [string, number, number][] = [["v1", 1, 8], ["v2", 1, 2]];
    for (const [version, min, max] of SCALING) {
        it(`autoscales ${version} from ${min} to ${max} replicas, targeting its Deployment`, () => {
            const { spec } = p.named(T.hpa, `resnet-${version}`).inputs as { spec: Record<string, unknown> };
            assert.deepEqual([spec.minReplicas, spec.maxReplicas, spec.scaleTargetRef], [min, max, { apiVersion: "apps/v1", kind: "Deployment", name: `resnet-${version}` }]);
        });
    }

    describe("S3 access through IRSA", () => {
        const statements = () => (JSON.parse(String(p.one(T.rolePolicy).inputs.policy)) as { Statement: { Action: string[]; Resource: string[]; Condition?: unknown }[] }).Statement;
        it("grants s3:GetObject only under the two version prefixes", () => {
            const gets = statements().filter((s) => s.Action.includes("s3:GetObject"));
            assert.deepEqual(gets.flatMap((s) => s.Resource), ["arn:aws:s3:::models/resnet/v1/*", "arn:aws:s3:::models/resnet/v2/*"]);
        });
        it("limits prefixed s3:ListBucket on the models bucket to the version directories", () => {
            const lists = statements().filter((s) => s.Action.includes("s3:ListBucket") && JSON.stringify(s.Condition).includes("StringLike"));
            assert.deepEqual(lists.map((s) => [s.Resource, s.Condition]), [[["arn:aws:s3:::models"], { StringLike: { "s3:prefix": ["resnet/v1/", "resnet/v1/*", "resnet/v2/", "resnet/v2/*"] } }]]);
        });
        it("lets only the resnet-tfserving ServiceAccount of ml-serving assume the role", () => {
            const trust = JSON.parse(String(p.one(T.role).inputs.assumeRolePolicy)) as { Statement: { Condition: { StringEquals: Record<string, string> } }[] };
            assert.deepEqual(trust.Statement.map((s) => s.Condition.StringEquals[`${ISSUER}:sub`]), ["system:serviceaccount:ml-serving:resnet-tfserving"]);
        });
    });

    describe("Istio policy", () => {
        type HttpRoute = { name: string; match?: unknown[]; route: { destination: { host: string; subset?: string }; weight?: number }[]; timeout: string; retries: { attempts: number } };
        const routes = () => at(p.one(T.virtualService).inputs, "spec", "http") as HttpRoute[];
        for (const version of ["v1", "v2"]) {
            it(`routes requests with header x-model-version: ${version} to subset ${version}`, () => {
                const pinned = routes().find((r) => JSON.stringify(r.match) === JSON.stringify([{ headers: { "x-model-version": { exact: version } } }])) ?? assert.fail(`no route for ${version}`);
                assert.deepEqual(pinned.route, [{ destination: { host: HOST, subset: version } }]);
            });
        }
        it("splits every other request 90/10 between v1 and v2", () => {
            const split = routes().find((r) => r.match === undefined) ?? assert.fail("no unmatched route");
            assert.deepEqual(split.route.map((r) => [r.destination.subset, r.weight]), [["v1", 90], ["v2", 10]]);
        });
        it("gives every route a 20s timeout and 2 retry attempts", () => {
            assert.deepEqual(routes().map((r) => [r.timeout, r.retries.attempts]), routes().map(() => ["20s", 2]));
        });
        it("declares DestinationRule subsets v1 and v2 by version label", () => {
            assert.deepEqual(at(p.one(T.destinationRule).inputs, "spec", "subsets"), [{ name: "v1", labels: { version: "v1" } }, { name: "v2", labels: { version: "v2" } }]);
        });
        it("ejects a host after 7 consecutive 5xx errors", () => {
            assert.equal(at(p.one(T.destinationRule).inputs, "spec", "trafficPolicy", "outlierDetection", "consecutive5xxErrors"), 7);
        });
        const rules = () => at(p.one(T.authorizationPolicy).inputs, "spec", "rules") as { from: { source: { principals: string[] } }[]; to: { operation: { paths: string[] } }[] }[];
        it("allows, rather than denies, in its AuthorizationPolicy", () => assert.equal(at(p.one(T.authorizationPolicy).inputs, "spec", "action"), "ALLOW"));
        it("lets the frontend and the ingress gateway call the model", () => {
            for (const rule of rules()) {
                const principals = rule.from.flatMap((f) => f.source.principals);
                assert.ok(principals.includes(FRONTEND) && principals.includes(INGRESS), `principals ${principals}`);
            }
        });
        it("admits TF Serving's read and predict gRPC methods and never HandleReloadConfigRequest", () => {
            const grpc = rules().filter((r) => r.to.some((t) => t.operation.paths.some((path) => path.startsWith("/tensorflow."))));
            assert.deepEqual(grpc.flatMap((r) => r.to.flatMap((t) => t.operation.paths)), [
                "/tensorflow.serving.PredictionService/Classify",
                "/tensorflow.serving.PredictionService/Regress",
                "/tensorflow.serving.PredictionService/Predict",
                "/tensorflow.serving.PredictionService/MultiInference",
                "/tensorflow.serving.PredictionService/GetModelMetadata",
                "/tensorflow.serving.ModelService/GetModelStatus",
            ]);
        });
        it("allows the /v1/models/resnet REST paths", () => {
            const paths = rules().flatMap((r) => r.to.flatMap((t) => t.operation.paths));
            assert.ok(["/v1/models/resnet", "/v1/models/resnet/*", "/v1/models/resnet:*"].every((path) => paths.includes(path)), `paths ${paths}`);
        });
    });

    it("renders every Kubernetes object valid against its schema", () => assert.deepEqual(invalidManifests(p.run), []));
});

describe("TfServingModel on CPU and with an explicit image", () => {
    let p: Plan;
    before(async () => {
        const cpu: TfServingModelSpec = { ...RESNET, name: "resnet-cpu", gpus: 0, gpuNodeGroup: undefined };
        p = await plan({ cpu, custom: { ...RESNET, name: "custom", image: ECR_IMAGE } });
    });
    const CPU = ["resnet-cpu-v1", "resnet-cpu-v2"];
    it("gives a CPU model no nodeSelector and no tolerations", () => {
        assert.deepEqual(CPU.map((d) => [p.pod(d).nodeSelector, p.pod(d).tolerations]), CPU.map(() => [undefined, undefined]));
    });
    it("asks for no nvidia.com/gpu on a CPU model", () => {
        assert.deepEqual(CPU.map((d) => JSON.stringify(p.container(d).resources).includes("nvidia.com/gpu")), [false, false]);
    });
    it("runs the pinned CPU image tensorflow/serving:2.20.0, through the cache, on a CPU model", () => {
        assert.deepEqual(CPU.map((d) => p.container(d).image), CPU.map(() => `${cachedUnder("docker-hub")}tensorflow/serving:2.20.0`));
    });
    it("runs an image already in private ECR exactly as given", () => {
        assert.deepEqual(["custom-v1", "custom-v2"].map((d) => p.container(d).image), [ECR_IMAGE, ECR_IMAGE]);
    });
    it("renders every Kubernetes object valid against its schema", () => assert.deepEqual(invalidManifests(p.run), []));
});

describe("TfServingModel argument validation", () => {
    const BAD: [string, string, Partial<TfServingModelSpec>][] = [
        ["versions weighted 90 and 20", "versions", { versions: [VERSIONS[0], { ...VERSIONS[1], weight: 20 }] }],
        ["an unknown gpuNodeGroup", "gpuNodeGroup", { gpuNodeGroup: "h100" }],
        ["a :latest image", "image", { image: "tensorflow/serving:latest" }],
        ["a sidecar CPU request of 4 above the default limit of 2", "sidecar.cpu", { sidecar: { cpu: "4" } }],
        ["the default namespace", "namespace", { namespace: "default" }],
    ];
    const pathsOf = (error: unknown): string[] => {
        assert.ok(pulumi.InputPropertiesError.isInstance(error), `not an InputPropertiesError: ${error}`);
        return error.errors.map((e) => e.propertyPath);
    };
    for (const [what, path, overrides] of BAD) {
        it(`rejects ${what} with an InputPropertiesError at exactly ${path}`, async () => {
            await assert.rejects(recordOffline(() => newModels({ resnet: { ...RESNET, ...overrides } })), (error) => {
                assert.deepEqual(pathsOf(error), [path]);
                return true;
            });
        });
        it(`registers no Kubernetes or AWS resource when given ${what}`, async () => {
            let caught: unknown;
            const run = await recordOffline(() => {
                try {
                    newModels({ resnet: { ...RESNET, ...overrides } });
                } catch (error) {
                    caught = error;
                }
            });
            assert.ok(pathsOf(caught).includes(path), `paths ${pathsOf(caught)}`);
            assert.deepEqual(run.resources.filter((r) => r.type.startsWith("kubernetes:") || r.type.startsWith("aws:")).map((r) => r.name), []);
        });
    }
});
