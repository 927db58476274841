import * as assert from "node:assert/strict";
import type { AppTeam, ContractModel } from "../../../components/platform";
import { injectedContainers, restrictedViolations, type Pod } from "../../../offline/podSecurityCheck";
import { checkImage, clientWorkload, modelCallerPolicy, modelToCall, teamOf, type ClientArgs } from "../../../stacks/app-team/client";

const MESH_HOST = "inference.istio-ingress.svc.cluster.local";

/** A served model as the contract publishes it; `overrides` changes one field. */
function served(name: string, overrides: Partial<ContractModel> = {}): ContractModel {
    const namespace = overrides.namespace ?? "ml-tabular";
    return {
        name,
        namespace,
        backend: "kserve",
        url: `http://${MESH_HOST}/v1/models/${name}:predict`,
        publicUrl: null,
        serviceHost: `${name}-predictor.ml-tabular.svc.cluster.local`,
        versions: [{ name: "stable", weight: 100 }],
        access: {
            // A TF Serving or KServe model is admitted in its own namespace.
            namespace,
            selector: { "serving.kserve.io/inferenceservice": name },
            operations: [{ methods: ["GET", "POST"], paths: [`/v1/models/${name}`, `/v1/models/${name}:*`] }],
        },
        ...overrides,
    };
}

const SPLIT: ContractModel = {
    ...served("churn"),
    backend: "split",
    serviceHost: MESH_HOST,
    versions: [{ name: "churn-sm", weight: 80 }, { name: "churn-kserve", weight: 20 }],
    access: null,
};

const REGISTRY = "123456789012.dkr.ecr.us-west-2.amazonaws.com";
const CRM: AppTeam = {
    name: "crm",
    roleArn: "arn:aws:iam::123456789012:role/crm-deployer",
    group: "mlmesh-app-crm",
    namespaces: ["ml-tabular"],
    imageRepositories: [`${REGISTRY}/crm/*`, `${REGISTRY}/shared/report-base`],
};
const PAYMENTS: AppTeam = { ...CRM, name: "payments", roleArn: "arn:aws:iam::123456789012:role/payments-deployer", group: "mlmesh-app-payments", imageRepositories: [] };

/** A SageMaker model of ml-tabular, admitted at the bridge in mlmesh-sagemaker. */
const BRIDGED = served("churn-sm", {
    backend: "sagemaker",
    access: { namespace: "mlmesh-sagemaker", selector: { app: "sagemaker-bridge" }, operations: [{ methods: ["POST"], paths: ["/endpoints/churn-xgb-2024/invocations"] }] },
});

const PLATFORM = {
    meshNamespaces: ["ml-serving", "ml-tabular"],
    models: [served("resnet", { namespace: "ml-serving", backend: "tfserving" }), served("churn-kserve"), SPLIT, BRIDGED],
    appTeams: [CRM, PAYMENTS],
};

describe("teamOf", () => {
    it("returns the platform's app team that deploys as the role", () => {
        assert.equal(teamOf(PLATFORM, PAYMENTS.roleArn), PAYMENTS);
        assert.equal(teamOf(PLATFORM, CRM.roleArn), CRM);
    });

    it("refuses a role that is no app team's, listing each team the platform admits with its role", () => {
        assert.throws(() => teamOf(PLATFORM, "arn:aws:iam::123456789012:role/crm-deployer-prod"), (error: Error) => {
            assert.match(error.message, /config `roleArn` \("arn:aws:iam::123456789012:role\/crm-deployer-prod"\) is not an app team of the platform/);
            assert.ok(error.message.includes(`it admits: crm ${CRM.roleArn}, payments ${PAYMENTS.roleArn}`), error.message);
            assert.match(error.message, /mlmesh:cluster\.access\.appTeams/);
            return true;
        });
    });

    it("says the platform admits none when it lists no app teams", () => {
        assert.throws(() => teamOf({ appTeams: [] }, CRM.roleArn), /it admits: none\)/);
    });
});

describe("checkImage", () => {
    const DIGEST = `sha256:${"4c1e2f0b8a7d6e5c".repeat(4)}`;
    const cases: [string, string, boolean][] = [
        ["an exact repository, untagged", `${REGISTRY}/shared/report-base`, true],
        ["an exact repository, tagged", `${REGISTRY}/shared/report-base:1.0`, true],
        ["a repository under a prefix, tagged", `${REGISTRY}/crm/churn-report:2.3.1`, true],
        ["a repository under a prefix, by digest", `${REGISTRY}/crm/churn-report@${DIGEST}`, true],
        ["a repository under a prefix, by tag and digest", `${REGISTRY}/crm/churn-report:2.3.1@${DIGEST}`, true],
        ["a repository nested deeper under the prefix", `${REGISTRY}/crm/x/y:1`, true],
        ["another team's repository", `${REGISTRY}/payments/app:1.0`, false],
        ["a repository whose name only starts like the prefix", `${REGISTRY}/crm-legacy/app:1.0`, false],
        ["the prefix itself as a repository", `${REGISTRY}/crm:1.0`, false],
        ["a repository under an exact one", `${REGISTRY}/shared/report-base/extra:1.0`, false],
        ["the same path in another account's registry", "210987654321.dkr.ecr.us-west-2.amazonaws.com/crm/churn-report:2.3.1", false],
        ["the same path in another region's registry", "123456789012.dkr.ecr.us-east-1.amazonaws.com/crm/churn-report:2.3.1", false],
        ["a Docker Hub image", "crm/churn-report:2.3.1", false],
    ];
    for (const [what, image, allowed] of cases) {
        it(`${allowed ? "accepts" : "refuses"} ${what}`, () => {
            if (allowed) {
                assert.doesNotThrow(() => checkImage(CRM, image));
            } else {
                assert.throws(() => checkImage(CRM, image), (error: Error) => {
                    assert.ok(error.message.startsWith(`config \`image\` (${JSON.stringify(image)}) is not in a repository the platform's nodes may pull for team crm (${CRM.imageRepositories.join(", ")})`), error.message);
                    assert.match(error.message, /ImagePullBackOff/);
                    return true;
                });
            }
        });
    }

    it("refuses every image of a team with no repositories, saying it has none", () => {
        assert.throws(() => checkImage(PAYMENTS, `${REGISTRY}/payments/app:1.0`), /for team payments \(none\)/);
    });
});

describe("modelToCall", () => {
    it("returns the platform's model of that name, with its access", () => {
        const model = modelToCall(PLATFORM, CRM, "churn-kserve");
        assert.equal(model, PLATFORM.models[1]);
        assert.deepEqual(model.access.selector, { "serving.kserve.io/inferenceservice": "churn-kserve" });
    });

    it("refuses an unknown name and lists every model the platform serves", () => {
        assert.throws(() => modelToCall(PLATFORM, CRM, "nope"), (error: Error) => {
            assert.match(error.message, /config `model` \("nope"\) is not a model of the platform/);
            assert.match(error.message, /it serves: resnet, churn-kserve, churn, churn-sm$/);
            return true;
        });
    });

    it("says the platform serves none when its models output is empty", () => {
        assert.throws(() => modelToCall({ ...PLATFORM, models: [] }, CRM, "churn"), /it serves: \(none\)/);
    });

    it("refuses a split and tells the team to ask the platform team, or call one of its legs", () => {
        assert.throws(() => modelToCall(PLATFORM, CRM, "churn"), (error: Error) => {
            assert.match(error.message, /is a split/);
            assert.match(error.message, /ask the platform team to add this service's identity/);
            assert.match(error.message, /\(churn-sm, churn-kserve\)/);
            return true;
        });
    });

    it("refuses a model whose namespace the platform does not mesh, naming the meshed ones", () => {
        const platform = { ...PLATFORM, models: [served("legacy", { namespace: "batch" })] };
        assert.throws(() => modelToCall(platform, CRM, "legacy"), /model legacy lives in batch, which the platform does not list in meshNamespaces \(ml-serving, ml-tabular\)/);
    });

    it("refuses a model in a mesh namespace the team may not deploy into, naming the team's namespaces", () => {
        assert.throws(() => modelToCall(PLATFORM, CRM, "resnet"), (error: Error) => {
            assert.match(error.message, /^model resnet lives in namespace ml-serving, where team crm may not deploy \(its namespaces: ml-tabular\)/);
            assert.match(error.message, /add ml-serving to the team's namespaces/);
            return true;
        });
        assert.equal(modelToCall(PLATFORM, { ...CRM, namespaces: ["ml-tabular", "ml-serving"] }, "resnet"), PLATFORM.models[0]);
    });

    it("refuses a SageMaker model of the team's namespace, whose callers are admitted at the bridge's namespace", () => {
        assert.throws(() => modelToCall(PLATFORM, CRM, "churn-sm"), /model churn-sm is a sagemaker model admitted at a proxy in mlmesh-sagemaker that serves other models too, where no app team may write policy/);
    });

    it("sends a SageMaker model's caller to allowedPrincipals only, never to edit rights on the bridge's namespace (every endpoint's policy)", () => {
        assert.throws(() => modelToCall(PLATFORM, CRM, "churn-sm"), (error: Error) => {
            assert.match(error.message, /`allowedPrincipals`/);
            assert.doesNotMatch(error.message, /add mlmesh-sagemaker to the team's namespaces/);
            return true;
        });
    });
});

describe("clientWorkload", () => {
    const ARGS: ClientArgs = {
        app: "churn-report",
        namespace: "ml-tabular",
        image: "123456789012.dkr.ecr.us-west-2.amazonaws.com/crm/churn-report:2.3.1",
        replicas: 3,
        modelUrl: `http://${MESH_HOST}/v1/models/churn-kserve:predict`,
    };
    const { deployment, disruptionBudget } = clientWorkload(ARGS);
    const spec = deployment.spec as any;
    const pod = spec.template.spec;
    const [container] = pod.containers;

    it("runs in the given namespace under the app's own ServiceAccount, without mounting its token", () => {
        assert.deepEqual(deployment.metadata, { name: "churn-report", namespace: "ml-tabular", labels: { app: "churn-report" } });
        assert.equal(pod.serviceAccountName, "churn-report");
        assert.equal(pod.automountServiceAccountToken, false);
    });

    it("meets restricted Pod Security: non-root, RuntimeDefault seccomp, no escalation, no capabilities, read-only root", () => {
        assert.equal(pod.securityContext.runAsNonRoot, true);
        assert.notEqual(pod.securityContext.runAsUser, 0);
        assert.deepEqual(pod.securityContext.seccompProfile, { type: "RuntimeDefault" });
        assert.equal(pod.containers.length, 1);
        assert.deepEqual(container.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    });

    it("is admitted by restricted Pod Security with the sidecar the platform's injector adds", () => {
        assert.deepEqual(restrictedViolations({ ...(pod as Pod), initContainers: injectedContainers({ cni: true }) }), []);
    });

    it("sets requests and limits for the app, and for its sidecar through the injector's annotations", () => {
        assert.deepEqual(container.resources, { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } });
        const annotations = spec.template.metadata.annotations;
        for (const key of ["proxyCPU", "proxyMemory", "proxyCPULimit", "proxyMemoryLimit"]) {
            assert.ok(annotations[`sidecar.istio.io/${key}`], key);
        }
    });

    it("is ready only when its health endpoint answers on its own port", () => {
        assert.deepEqual(container.readinessProbe.httpGet, { path: "/healthz", port: "http" });
        assert.ok(container.ports.some((p: { name: string }) => p.name === "http"));
    });

    it("passes the model's url as MODEL_URL and runs the image it was given", () => {
        assert.deepEqual(container.env, [{ name: "MODEL_URL", value: ARGS.modelUrl }]);
        assert.equal(container.image, ARGS.image);
    });

    it("runs the requested replicas", () => {
        assert.equal(spec.replicas, 3);
        assert.equal((clientWorkload({ ...ARGS, replicas: 2 }).deployment.spec as any).replicas, 2);
    });

    it("selects its own pods with the disruption budget, and lets one go at a time", () => {
        const budget = disruptionBudget.spec as any;
        assert.deepEqual(budget.selector, { matchLabels: spec.template.metadata.labels });
        assert.deepEqual(spec.selector, { matchLabels: spec.template.metadata.labels });
        assert.equal(budget.maxUnavailable, 1);
        assert.equal((disruptionBudget.metadata as any).namespace, "ml-tabular");
    });
});

describe("modelCallerPolicy", () => {
    const model = modelToCall(PLATFORM, CRM, "churn-kserve");
    const principal = "cluster.local/ns/ml-tabular/sa/churn-report";
    const policy = modelCallerPolicy("churn-report-calls-churn-kserve", model, principal);
    const spec = policy.spec as any;

    it("is an Istio ALLOW policy in the model's access namespace, on the model's workload", () => {
        assert.equal(policy.apiVersion, "security.istio.io/v1");
        assert.equal(policy.kind, "AuthorizationPolicy");
        assert.deepEqual(policy.metadata, { name: "churn-report-calls-churn-kserve", namespace: "ml-tabular", labels: { "mlmesh.io/model": "churn-kserve" } });
        assert.equal(spec.action, "ALLOW");
        assert.deepEqual(spec.selector, { matchLabels: { "serving.kserve.io/inferenceservice": "churn-kserve" } });
    });

    it("admits only the one principal, to exactly the model's operations", () => {
        assert.deepEqual(spec.rules, [{
            from: [{ source: { principals: [principal] } }],
            to: [{ operation: { methods: ["GET", "POST"], paths: ["/v1/models/churn-kserve", "/v1/models/churn-kserve:*"] } }],
        }]);
    });

    it("follows access where it differs from the model's own namespace (a SageMaker model's bridge)", () => {
        const bridged = served("fraud-sm", {
            backend: "sagemaker",
            access: { namespace: "mlmesh-sagemaker", selector: { app: "sagemaker-bridge" }, operations: [{ methods: ["POST"], paths: ["/endpoints/fraud-sm-1/invocations"] }] },
        });
        const bridgePolicy = modelCallerPolicy("p", bridged as typeof model, principal);
        assert.equal((bridgePolicy.metadata as any).namespace, "mlmesh-sagemaker");
        assert.deepEqual((bridgePolicy.spec as any).selector, { matchLabels: { app: "sagemaker-bridge" } });
        assert.deepEqual((bridgePolicy.spec as any).rules[0].to, [{ operation: { methods: ["POST"], paths: ["/endpoints/fraud-sm-1/invocations"] } }]);
    });

    it("gives each of the model's operations a rule of its own, so gRPC methods stay POST-only (TF Serving)", () => {
        const tfServing = served("resnet", {
            backend: "tfserving",
            access: {
                namespace: "ml-tabular", selector: { app: "resnet" },
                operations: [{ methods: ["GET", "POST"], paths: ["/v1/models/resnet", "/v1/models/resnet:*"] }, { methods: ["POST"], paths: ["/tensorflow.serving.PredictionService/Predict"] }],
            },
        });
        const rules = (modelCallerPolicy("p", tfServing as typeof model, principal).spec as any).rules;
        assert.deepEqual(rules, [
            { from: [{ source: { principals: [principal] } }], to: [{ operation: { methods: ["GET", "POST"], paths: ["/v1/models/resnet", "/v1/models/resnet:*"] } }] },
            { from: [{ source: { principals: [principal] } }], to: [{ operation: { methods: ["POST"], paths: ["/tensorflow.serving.PredictionService/Predict"] } }] },
        ]);
    });

    it("copies the access lists, so the policy never shares arrays with the contract", () => {
        assert.notEqual(spec.rules[0].to[0].operation.paths, model.access.operations[0].paths);
        assert.notEqual(spec.rules[0].to[0].operation.methods, model.access.operations[0].methods);
        assert.notEqual(spec.selector.matchLabels, model.access.selector);
    });
});
