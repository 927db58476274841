import * as assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { parse } from "yaml";
import { INFERENCE_SERVICE } from "../../../components/gateway/doorRoutes";
import {
    CONTRACT_FIELDS, CONTRACT_VERSION, DEPRECATED_OUTPUTS, contractModels,
    type ContractField, type ContractModel, type ModelFacts,
} from "../../../components/platform/contract";
import { bridgeAccess } from "../../../components/sagemaker/bridgeManifests";
import { endpointArn, endpointNameOf, type SageMakerModelSpec } from "../../../components/sagemaker/sagemakerSpec";
import { isServed, type KServeModelSpec, type ModelEntry, type ModelSpec, type SplitModelSpec, type TfServingModelSpec } from "../../../components/serving/modelSpec";
import type { ModelAccess } from "../../../components/serving/trafficPolicy";
import { plan, type PlanResult } from "../../../offline/plan";
import { planBackends } from "../../../offline/planBackends";
import { SECRET_PLACEHOLDER } from "../../../offline/recorder";
import { evaluateRequest, type IstioObject } from "../../../offline/routes";

const CLUSTER = "mlmesh-test";
const MESH_HOST = INFERENCE_SERVICE.host;
const PUBLIC_HOST = "inference.test.example.com";
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

const resnet: TfServingModelSpec = {
    backend: "tfserving", name: "resnet", namespace: "ml-serving",
    versions: [{ name: "v1", modelUri: "s3://models/resnet/v1", weight: 90 }, { name: "v2", modelUri: "s3://models/resnet/v2", weight: 10 }],
};
const bert: KServeModelSpec = { backend: "kserve", name: "bert", namespace: "ml-serving", modelFormat: "tensorflow", storageUri: "s3://models/bert/v3" };
const bertCanary: KServeModelSpec = { ...bert, canaryStorageUri: "s3://models/bert/v4", canaryTrafficPercent: 15 };
const vision: KServeModelSpec = { backend: "kserve", name: "vision", namespace: "ml-serving", modelFormat: "onnx", storageUri: "s3://models/vision/v1" };
const assistant: KServeModelSpec = { backend: "kserve", name: "assistant", namespace: "ml-serving", modelFormat: "huggingface", storageUri: "s3://models/assistant/v1" };
const churnSm: SageMakerModelSpec = { backend: "sagemaker", name: "churn-sm", namespace: "ml-tabular", endpointName: "churn-xgb-2024" };
const churnKserve: KServeModelSpec = { backend: "kserve", name: "churn-kserve", namespace: "ml-tabular", modelFormat: "xgboost", storageUri: "s3://models/churn/2025-11" };
const churn: SplitModelSpec = {
    backend: "split", name: "churn", namespace: "ml-tabular",
    routes: [{ model: "churn-sm", weight: 80 }, { model: "churn-kserve", weight: 20 }],
};

/** What each served model's ALLOW policy selects: its own pods, or the bridge for SageMaker. */
function accessOf(spec: ModelSpec): ModelAccess {
    return spec.backend === "sagemaker"
        ? bridgeAccess({ endpointName: endpointNameOf(spec, CLUSTER) })
        : { namespace: spec.namespace, selector: { app: spec.name }, operations: [{ methods: ["GET", "POST"], paths: [`/v1/models/${spec.name}:*`] }] };
}

/** The facts MlPlatform would hand over for `entries`, with a public host unless told otherwise. */
function factsFor(entries: readonly ModelEntry[], gatewayHost: string | null = PUBLIC_HOST): ModelFacts {
    const served = entries.filter(isServed);
    const onSageMaker = served.filter((spec): spec is SageMakerModelSpec => spec.backend === "sagemaker");
    return {
        clusterName: CLUSTER,
        meshHost: MESH_HOST,
        gatewayHost,
        serviceHosts: Object.fromEntries(served.map((spec) => [spec.name, `${spec.name}.${spec.namespace}.svc.cluster.local`])),
        access: Object.fromEntries(served.map((spec) => [spec.name, accessOf(spec)])),
        endpoints: Object.fromEntries(onSageMaker.map((spec) => {
            const name = endpointNameOf(spec, CLUSTER);
            return [spec.name, { name, arn: endpointArn("aws", "us-west-2", "123456789012", name) }];
        })),
    };
}

function contractModelOf(entries: readonly ModelEntry[], name: string): ContractModel {
    const found = contractModels(entries, factsFor(entries)).filter((model) => model.name === name);
    assert.equal(found.length, 1, `${name} listed once`);
    return found[0];
}

/** A served model's expected entry: its call on both hosts, its own Service and its access. */
function servedModel(spec: ModelSpec, call: string, versions: ContractModel["versions"], extra: Partial<ContractModel> = {}): ContractModel {
    return {
        name: spec.name,
        namespace: spec.namespace,
        backend: spec.backend,
        url: `http://${MESH_HOST}${call}`,
        publicUrl: `https://${PUBLIC_HOST}${call}`,
        serviceHost: `${spec.name}.${spec.namespace}.svc.cluster.local`,
        versions,
        access: accessOf(spec),
        ...extra,
    };
}

describe("contract models", () => {
    const cases: [string, readonly ModelEntry[], ContractModel][] = [
        ["a TF Serving model by its REST predict call, with each version's weight", [resnet],
            servedModel(resnet, "/v1/models/resnet:predict", [{ name: "v1", weight: 90 }, { name: "v2", weight: 10 }])],
        ["a KServe model without a canary as one stable version", [bert],
            servedModel(bert, "/v1/models/bert:predict", [{ name: "stable", weight: 100 }])],
        ["a KServe model with a canary as stable and canary, shared by the canary percent", [bertCanary],
            servedModel(bertCanary, "/v1/models/bert:predict", [{ name: "stable", weight: 85 }, { name: "canary", weight: 15 }])],
        ["an ONNX model, which speaks only the v2 protocol, by its v2 infer call", [vision],
            servedModel(vision, "/v2/models/vision/infer", [{ name: "stable", weight: 100 }])],
        ["a Hugging Face model by the first POST the door routes for it (v1 predict), with its OpenAI base URL in the mesh", [assistant],
            servedModel(assistant, "/v1/models/assistant:predict", [{ name: "stable", weight: 100 }], { openaiBaseUrl: `http://${MESH_HOST}/openai/assistant/v1` })],
        ["a SageMaker model with its endpoint, reached through the bridge", [churnSm],
            servedModel(churnSm, "/v1/models/churn-sm:predict", [{ name: "churn-xgb-2024", weight: 100 }], {
                access: { namespace: "mlmesh-sagemaker", selector: { app: "sagemaker-bridge" }, operations: [{ methods: ["POST"], paths: ["/endpoints/churn-xgb-2024/invocations"] }] },
                endpointName: "churn-xgb-2024",
                endpointArn: "arn:aws:sagemaker:us-west-2:123456789012:endpoint/churn-xgb-2024",
            })],
        ["a split as its legs, at the mesh host, with no access of its own", [churnSm, churnKserve, churn], {
            name: "churn",
            namespace: "ml-tabular",
            backend: "split",
            url: `http://${MESH_HOST}/v1/models/churn:predict`,
            publicUrl: `https://${PUBLIC_HOST}/v1/models/churn:predict`,
            serviceHost: MESH_HOST,
            versions: [{ name: "churn-sm", weight: 80 }, { name: "churn-kserve", weight: 20 }],
            access: null,
        }],
    ];
    for (const [what, entries, expected] of cases) {
        it(`describes ${what}`, () => {
            assert.deepEqual(contractModelOf(entries, expected.name), expected);
        });
    }

    it("names a SageMaker endpoint mlmesh creates as the endpoint component does", () => {
        const created: SageMakerModelSpec = {
            backend: "sagemaker", name: "fraud-sm", namespace: "ml-tabular",
            model: { image: "123456789012.dkr.ecr.us-west-2.amazonaws.com/fraud:1.4.2", modelDataUrl: "s3://models/fraud/model.tar.gz", instanceType: "ml.g5.xlarge", initialInstanceCount: 1 },
        };
        const model = contractModelOf([created], "fraud-sm");
        assert.equal(model.endpointName, endpointNameOf(created, CLUSTER));
        assert.deepEqual(model.versions, [{ name: endpointNameOf(created, CLUSTER), weight: 100 }]);
        assert.deepEqual(model.access?.operations, [{ methods: ["POST"], paths: [`/endpoints/${model.endpointName}/invocations`] }]);
    });

    it("gives an OpenAI base URL to the Hugging Face model only, the models that do not speak the OpenAI API having none", () => {
        const entries = [resnet, bertCanary, vision, assistant, churnSm, churnKserve, churn];
        const withBase = contractModels(entries, factsFor(entries)).filter((model) => "openaiBaseUrl" in model).map((model) => [model.name, model.openaiBaseUrl]);
        assert.deepEqual(withBase, [["assistant", `http://${MESH_HOST}/openai/assistant/v1`]]);
    });

    it("gives no public URL when the gateway has no public host, and keeps the in-mesh URL", () => {
        const entries = [resnet, bertCanary, vision, churnSm, churnKserve, churn];
        const withHost = contractModels(entries, factsFor(entries));
        const without = contractModels(entries, factsFor(entries, null));
        assert.deepEqual(without.map((model) => model.publicUrl), entries.map(() => null));
        assert.deepEqual(without.map((model) => model.url), withHost.map((model) => model.url));
    });

    it("lists every model and split once in config order, a split listed before its legs included", () => {
        const entries = [churn, resnet, churnSm, churnKserve];
        assert.deepEqual(contractModels(entries, factsFor(entries)).map((model) => model.name), ["churn", "resnet", "churn-sm", "churn-kserve"]);
    });
});

describe("contract version", () => {
    const parts = (version: string): number[] => {
        const match = SEMVER.exec(version);
        assert.ok(match, `${version} is a semantic version`);
        return match.slice(1).map(Number);
    };
    const compare = (a: string, b: string): number => {
        const [x, y] = [parts(a), parts(b)];
        return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
    };

    it("is a semantic version, and no field was added in a later version than it", () => {
        parts(CONTRACT_VERSION);
        const later = Object.entries(CONTRACT_FIELDS).filter(([, info]) => compare(info.since, CONTRACT_VERSION) > 0).map(([field, info]) => `${field} (${info.since})`);
        assert.deepEqual(later, []);
    });

    it("still publishes each deprecated output: its removal is due in a later major version", () => {
        for (const [output, info] of Object.entries(DEPRECATED_OUTPUTS)) {
            assert.ok(parts(info.removedIn)[0] > parts(CONTRACT_VERSION)[0], `${output} is removed in ${info.removedIn}, so the contract ${CONTRACT_VERSION} must drop it`);
        }
    });
});

/** Every place in `value` that holds the secret placeholder, as a dotted path. */
function secretPaths(value: unknown, at = ""): string[] {
    if (value === SECRET_PLACEHOLDER) {
        return [at];
    }
    if (value !== null && typeof value === "object") {
        return Object.entries(value).flatMap(([key, inner]) => secretPaths(inner, at ? `${at}.${key}` : key));
    }
    return [];
}

describe("the dev stack's contract, planned offline", () => {
    let work: string;
    let dev: PlanResult;
    let config: { models: { name: string; backend: string; endpointName?: string }[]; namespaces: string[]; hosts: string[] };
    const outputs = () => dev.outputs as Record<string, unknown> & { models: ContractModel[]; meshHost: string; gatewayHost: string };

    before(async () => {
        work = mkdtempSync(path.join(tmpdir(), "mlmesh-contract-"));
        dev = await plan({ stack: "dev", outDir: work });
        const stackConfig = parse(readFileSync(dev.configFile, "utf8")).config;
        config = {
            models: stackConfig["mlmesh:models"],
            namespaces: stackConfig["mlmesh:mesh"].namespaces,
            hosts: stackConfig["mlmesh:mesh"].ingressGateway.hosts,
        };
    });
    after(() => rmSync(work, { recursive: true, force: true }));

    it("publishes exactly the contract's fields and the deprecated aliases", () => {
        const expected = [...Object.keys(CONTRACT_FIELDS), ...Object.keys(DEPRECATED_OUTPUTS)].sort();
        assert.deepEqual(Object.keys(dev.outputs).sort(), expected);
    });

    it("publishes the contract version it was built with", () => {
        assert.equal(dev.outputs.contractVersion, CONTRACT_VERSION);
        assert.match(CONTRACT_VERSION, SEMVER);
    });

    it("keeps the kubeconfig secret, in the plan and in the written plan.json", () => {
        const written = JSON.parse(readFileSync(path.join(work, "plan.json"), "utf8")) as { outputs: Record<string, unknown> };
        assert.equal(dev.outputs.kubeconfig, SECRET_PLACEHOLDER);
        assert.equal(written.outputs.kubeconfig, SECRET_PLACEHOLDER);
        assert.deepEqual(written.outputs, dev.outputs);
    });

    it("keeps secret only the outputs the contract marks secret", () => {
        const marked = (Object.keys(CONTRACT_FIELDS) as ContractField[]).filter((field) => CONTRACT_FIELDS[field].secret);
        assert.deepEqual(secretPaths(dev.outputs), marked);
    });

    it("keeps inferenceHost as meshHost, and gatewayServiceHost as the gateway pods' Service", () => {
        assert.equal(dev.outputs.meshHost, INFERENCE_SERVICE.host);
        assert.equal(dev.outputs.inferenceHost, dev.outputs.meshHost);
        assert.notEqual(dev.outputs.gatewayServiceHost, dev.outputs.meshHost);
        assert.match(String(dev.outputs.gatewayServiceHost), /^[a-z0-9-]+\.istio-ingress\.svc\.cluster\.local$/);
    });

    it("fills the nullable outputs dev has: its public host, its Gateway and its SageMaker endpoint", () => {
        assert.equal(dev.outputs.gatewayHost, config.hosts[0]);
        assert.match(String(dev.outputs.gatewayName), /^istio-ingress\/[a-z0-9-]+$/);
        assert.match(String(dev.outputs.sagemakerVpcEndpointDns), /^vpce-[a-z0-9-]+\.runtime\.sagemaker\.us-west-2\.vpce\.amazonaws\.com$/);
        const empty = (Object.keys(CONTRACT_FIELDS) as ContractField[]).filter((field) => dev.outputs[field] === null || dev.outputs[field] === undefined);
        assert.deepEqual(empty, []);
    });

    it("echoes the stack config: environment, region, mesh namespaces and Istio revision", () => {
        assert.equal(dev.outputs.environment, "dev");
        assert.equal(dev.outputs.region, "us-west-2");
        assert.deepEqual(dev.outputs.meshNamespaces, config.namespaces);
        assert.equal(dev.outputs.meshRevision, "1-30-3");
    });

    it("lists every model of the config once, in its order, reached through the mesh host", () => {
        const { models, meshHost, gatewayHost } = outputs();
        assert.deepEqual(models.map((model) => model.name), config.models.map((model) => model.name));
        for (const model of models) {
            assert.ok(model.url.startsWith(`http://${meshHost}/`), model.url);
            assert.equal(model.publicUrl, `https://${gatewayHost}${model.url.slice(`http://${meshHost}`.length)}`);
        }
    });

    it("sends all of each model's traffic somewhere", () => {
        for (const model of outputs().models) {
            assert.equal(model.versions.reduce((sum, version) => sum + version.weight, 0), 100, model.name);
        }
    });

    it("gives the SageMaker models, and only those, their endpoint in the stack's region and account", () => {
        const onSageMaker = config.models.filter((model) => model.backend === "sagemaker").map((model) => model.name);
        const models = outputs().models;
        assert.deepEqual(models.filter((model) => model.endpointName !== undefined).map((model) => model.name), onSageMaker);
        assert.equal(models.find((model) => model.name === "churn-sm")?.endpointName, config.models.find((model) => model.name === "churn-sm")?.endpointName);
        for (const model of models.filter((m) => m.backend === "sagemaker")) {
            assert.equal(model.endpointArn, `arn:aws:sagemaker:us-west-2:123456789012:endpoint/${model.endpointName!.toLowerCase()}`);
            assert.deepEqual(model.access?.operations, [{ methods: ["POST"], paths: [`/endpoints/${model.endpointName}/invocations`] }]);
        }
    });

    it("admits in `access` exactly the operations of each model's own AuthorizationPolicy (the bridge's: its endpoint's rule)", () => {
        const policies = dev.resources.filter((r) => r.type === "kubernetes:security.istio.io/v1:AuthorizationPolicy")
            .map((r) => r.inputs as { metadata: { namespace: string }; spec: { selector?: { matchLabels: Record<string, string> }; rules: { to: { operation: unknown }[] }[] } });
        for (const model of outputs().models.filter((m) => m.access !== null)) {
            const access = model.access!;
            const own = policies.filter((p) => p.metadata.namespace === access.namespace && isDeepStrictEqual(p.spec.selector?.matchLabels, access.selector));
            assert.equal(own.length, 1, `${model.name}: one policy selects ${JSON.stringify(access.selector)} in ${access.namespace}`);
            const rules = own[0].spec.rules.map((rule) => rule.to.map((to) => to.operation));
            const expected = access.operations.map((operation) => ({ methods: [...operation.methods], paths: [...operation.paths] }));
            if (model.backend === "sagemaker") {
                assert.ok(rules.some((operations) => isDeepStrictEqual(operations, expected)), `${model.name}: ${JSON.stringify(rules)}`);
            } else {
                assert.deepEqual(rules.map((operations) => operations[0]), expected, model.name);
                assert.ok(rules.every((operations) => operations.length === 1), model.name);
            }
        }
    });

    it("admits a TF Serving model's gRPC methods by POST only, in an operation of their own", () => {
        const resnet = outputs().models.find((m) => m.name === "resnet")!;
        const grpc = resnet.access!.operations.filter((operation) => operation.paths.some((p) => p.startsWith("/tensorflow.serving.")));
        assert.equal(grpc.length, 1, JSON.stringify(resnet.access));
        assert.deepEqual(grpc[0].methods, ["POST"]);
        assert.ok(grpc[0].paths.every((p) => p.startsWith("/tensorflow.serving.")), JSON.stringify(grpc[0].paths));
    });

    it("gives the OpenAI base URL to the Hugging Face model only, under the mesh host", () => {
        const withBase = outputs().models.filter((m) => m.openaiBaseUrl !== undefined).map((m) => [m.name, m.openaiBaseUrl]);
        const huggingFace = config.models.filter((m) => (m as { modelFormat?: string }).modelFormat === "huggingface").map((m) => m.name);
        assert.deepEqual(withBase, huggingFace.map((name) => [name, `http://${outputs().meshHost}/openai/${name}/v1`]));
    });

    it("routes a chat call under the OpenAI base URL to that model's pods, at the server's own path", () => {
        const objects = dev.resources.filter((r) => /\.istio\.io\//.test(r.type)).map((r) => r.inputs as unknown as IstioObject);
        for (const model of outputs().models.filter((m) => m.openaiBaseUrl !== undefined)) {
            const url = new URL(`${model.openaiBaseUrl}/chat/completions`);
            const outcome = evaluateRequest(objects, planBackends(dev.resources), { via: "mesh", host: url.host, port: 80, path: url.pathname, method: "POST", sourcePrincipal: "cluster.local/ns/ml-serving/sa/caller" });
            assert.equal(outcome.kind, "routed", JSON.stringify(outcome));
            assert.deepEqual(outcome.kind === "routed" && outcome.destinations.map((d) => [d.host, d.path]), [[model.serviceHost, "/openai/v1/chat/completions"]]);
        }
    });

    it("publishes the certificate authority and endpoint the cluster's own kubeconfig trusts", () => {
        const eks = dev.resources.find((r) => r.type === "eks:index:Cluster") ?? assert.fail("no EKS cluster");
        const kubeconfig = JSON.parse(String(eks.outputs.kubeconfigJson)) as { clusters: { cluster: { server: string; "certificate-authority-data": string } }[] };
        assert.deepEqual(
            { server: dev.outputs.clusterEndpoint, "certificate-authority-data": dev.outputs.clusterCertificateAuthority },
            kubeconfig.clusters[0].cluster,
        );
        assert.match(String(dev.outputs.clusterCertificateAuthority), /^[A-Za-z0-9+/]+=*$/);
    });

    it("lists the config's app teams with their Kubernetes group, namespaces and repositories", () => {
        const teams = parse(readFileSync(dev.configFile, "utf8")).config["mlmesh:cluster"].access.appTeams as { name: string; roleArn: string; namespaces: string[]; imageRepositories: string[] }[];
        assert.ok(teams.length > 0, "the dev stack lists an app team");
        assert.deepEqual(dev.outputs.appTeams, teams.map((team) => ({
            name: team.name, roleArn: team.roleArn, group: `mlmesh-app-${team.name}`, namespaces: team.namespaces, imageRepositories: team.imageRepositories,
        })));
    });
});
