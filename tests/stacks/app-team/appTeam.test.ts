import * as assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { CONTRACT_VERSION, contractMismatch, type AppTeam, type ContractModel } from "../../../components/platform";
import { main } from "../../../offline/cli";
import { plan, PlanInputError, type PlanResult } from "../../../offline/plan";
import { planBackends } from "../../../offline/planBackends";
import { podSecurityReport } from "../../../offline/podSecurityCheck";
import type { RecordedResource } from "../../../offline/recorder";
import { decide, policiesFor, type Workload } from "../../../offline/routeAuthz";
import { evaluateRequest, type IstioObject, type RouteOutcome } from "../../../offline/routes";

const ROOT = path.join(__dirname, "..", "..", "..");
const PROJECT = path.join(ROOT, "stacks", "app-team");
const AUTHORIZATION_POLICY = "kubernetes:security.istio.io/v1:AuthorizationPolicy";
const CHOSEN = "churn-kserve";
const STACK_TRACE = /\n\s+at .+:\d+:\d+\)?/;

const ofType = (resources: readonly RecordedResource[], type: string) => resources.filter((r) => r.type === type);
const authorizationPolicies = (resources: readonly RecordedResource[]): IstioObject[] => ofType(resources, AUTHORIZATION_POLICY).map((r) => r.inputs as unknown as IstioObject);
const istioObjects = (resources: readonly RecordedResource[]): IstioObject[] => resources.filter((r) => /\.istio\.io\//.test(r.type)).map((r) => r.inputs as unknown as IstioObject);

/** Runs the CLI from the repository root and captures what it prints. */
async function cli(argv: readonly string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(argv, { out: (text) => out.push(text), err: (text) => err.push(text), cwd: ROOT });
    return { code, out: out.join("\n"), err: err.join("\n") };
}

/** The destinations a request finally reaches (through any gateway hop), and whether each admits it. */
function leaves(outcome: RouteOutcome): { host: string; path: string; authorized: boolean; reason: string }[] {
    if (outcome.kind !== "routed") {
        return [];
    }
    return outcome.destinations.flatMap((d) => (d.next ? leaves(d.next) : [{ host: d.host, path: d.path, authorized: d.authorized, reason: d.reason }]));
}

/** The stack's `churn-report:` settings, as its file has them. */
const settingsOf = (stack: string): Record<string, string> => parse(readFileSync(path.join(PROJECT, `Pulumi.${stack}.yaml`), "utf8")).config;

/** The app's stack file with one setting's line changed, written to `file`. */
function changedStackFile(file: string, from: string, to: string): string {
    const original = readFileSync(path.join(PROJECT, "Pulumi.dev.yaml"), "utf8");
    assert.ok(original.includes(from), `Pulumi.dev.yaml has ${from}`);
    writeFileSync(file, original.replace(from, to));
    return file;
}

type Kubeconfig = { clusters: { cluster: Record<string, string> }[]; users: { user: { exec: { command: string; args: string[] } } }[] };

/** The app's Kubernetes provider kubeconfig, and the platform's admin one (its EKS cluster's). */
function kubeconfigs(platformPlan: PlanResult, appPlan: PlanResult): { text: string; app: Kubeconfig; admin: string } {
    const [provider] = ofType(appPlan.resources, "pulumi:providers:kubernetes");
    const eks = ofType(platformPlan.resources, "eks:index:Cluster")[0] ?? assert.fail("the platform plan has no EKS cluster");
    const text = String(provider.inputs.kubeconfig);
    return { text, app: JSON.parse(text) as Kubeconfig, admin: String(eks.outputs.kubeconfigJson) };
}

/** The call a model's workload receives for its main inference call: the bridge's endpoint path for SageMaker. */
const callOnWorkload = (model: ContractModel): string => (model.backend === "sagemaker" ? `/endpoints/${model.endpointName}/invocations` : new URL(model.url).pathname);

describe("the app-team example stack, planned against a platform plan", () => {
    let work: string;
    let platform: PlanResult;
    let platformFile: string;
    let prodPlatform: PlanResult;
    let prodFile: string;
    let app: PlanResult;
    let models: ContractModel[];
    let chosen: ContractModel;
    let principal: string;

    before(async () => {
        work = mkdtempSync(path.join(tmpdir(), "mlmesh-app-team-"));
        platform = await plan({ stack: "dev", outDir: path.join(work, "platform-dev") });
        platformFile = path.join(work, "platform-dev", "plan.json");
        prodPlatform = await plan({ stack: "prod", outDir: path.join(work, "platform-prod") });
        prodFile = path.join(prodPlatform.outDir, "plan.json");
        app = await plan({ stack: "dev", projectDir: PROJECT, platformOutputs: [platformFile], outDir: path.join(work, "app") });
        models = platform.outputs.models as ContractModel[];
        chosen = models.find((m) => m.name === CHOSEN)!;
        principal = String(app.outputs.principal);
    });
    after(() => rmSync(work, { recursive: true, force: true }));

    describe("against the dev platform", () => {
        it("plans cleanly: exit 0, no mandatory violation, every manifest valid, nothing installed before what it needs", () => {
            assert.equal(app.exitCode, 0);
            assert.deepEqual(app.policyViolations.filter((v) => v.level === "mandatory"), []);
            assert.deepEqual(app.manifests.filter((m) => m.check.status !== "valid").map((m) => `${m.fileName}: ${m.check.status} ${m.check.errors.join("; ")}`), []);
            assert.equal(app.manifests.length, 4);
            assert.deepEqual(app.installOrder, []);
        });

        it("creates exactly a Kubernetes provider, a ServiceAccount, a Deployment, a disruption budget and one AuthorizationPolicy", () => {
            assert.deepEqual(app.resources.map((r) => r.type).sort(), [
                "kubernetes:apps/v1:Deployment",
                "kubernetes:core/v1:ServiceAccount",
                "kubernetes:policy/v1:PodDisruptionBudget",
                AUTHORIZATION_POLICY,
                "pulumi:providers:kubernetes",
                "pulumi:pulumi:Stack",
            ]);
        });

        it("deploys as the team's own role, which the platform lists as an app team of the model's namespace", () => {
            const roleArn = settingsOf("dev")["churn-report:roleArn"];
            const team = (platform.outputs.appTeams as AppTeam[]).find((t) => t.roleArn === roleArn) ?? assert.fail(`${roleArn} is no app team of the dev platform`);
            assert.ok(team.namespaces.includes(chosen.namespace), JSON.stringify(team));
        });

        it("talks to the cluster as the team's role, at the platform's endpoint and CA, never with the platform's admin kubeconfig", () => {
            const { text, app: kubeconfig, admin } = kubeconfigs(platform, app);
            assert.deepEqual(kubeconfig.clusters.map((c) => c.cluster), [{ server: platform.outputs.clusterEndpoint, "certificate-authority-data": platform.outputs.clusterCertificateAuthority }]);
            const [{ exec }] = kubeconfig.users.map((u) => u.user);
            assert.equal(exec.command, "aws");
            assert.deepEqual(exec.args, ["eks", "get-token", "--cluster-name", platform.outputs.clusterName, "--region", "us-west-2", "--role-arn", settingsOf("dev")["churn-report:roleArn"]]);
            const adminRole = (JSON.parse(admin) as Kubeconfig).users[0].user.exec.args.at(-1)!;
            assert.match(adminRole, /role\/mlmesh-dev-deployer$/);
            assert.ok(!text.includes(adminRole) && text !== admin && text !== "[secret]", text);
        });

        it("sends every Kubernetes object through that provider", () => {
            const [provider] = ofType(app.resources, "pulumi:providers:kubernetes");
            for (const resource of app.resources.filter((r) => r.type.startsWith("kubernetes:"))) {
                assert.equal(resource.options.provider, provider.urn, resource.urn);
            }
        });

        it("runs the Deployment in the model's namespace under the ServiceAccount, created first", () => {
            const [account] = ofType(app.resources, "kubernetes:core/v1:ServiceAccount");
            const [deployment] = ofType(app.resources, "kubernetes:apps/v1:Deployment");
            const accountMeta = account.inputs.metadata as { name: string; namespace: string };
            const deploymentMeta = deployment.inputs.metadata as { namespace: string };
            assert.equal(deploymentMeta.namespace, chosen.namespace);
            assert.equal(accountMeta.namespace, chosen.namespace);
            assert.equal((deployment.inputs.spec as any).template.spec.serviceAccountName, accountMeta.name);
            assert.ok(deployment.dependencies.includes(account.urn));
        });

        it("outputs the service's principal and the model url from the platform's `models` output", () => {
            const [account] = ofType(app.resources, "kubernetes:core/v1:ServiceAccount");
            const accountMeta = account.inputs.metadata as { name: string; namespace: string };
            assert.deepEqual(app.outputs, { principal: `cluster.local/ns/${accountMeta.namespace}/sa/${accountMeta.name}`, model: CHOSEN, modelUrl: chosen.url });
            const [deployment] = ofType(app.resources, "kubernetes:apps/v1:Deployment");
            assert.deepEqual((deployment.inputs.spec as any).template.spec.containers[0].env, [{ name: "MODEL_URL", value: chosen.url }]);
        });

        it("runs pods that the platform's restricted Pod Security admits, sidecar included", () => {
            const report = podSecurityReport([...platform.resources, ...app.resources]);
            const where = `Deployment ${chosen.namespace}/churn-report`;
            assert.ok(report.pods.includes(where), `${where} is not judged: ${report.pods.join(", ")}`);
            assert.deepEqual(report.findings.filter((f) => f.where === where), []);
        });
    });

    describe("against the prod platform", () => {
        let prodApp: PlanResult;
        before(async () => {
            prodApp = await plan({ stack: "prod", projectDir: PROJECT, platformOutputs: [prodFile], outDir: path.join(work, "app-prod") });
        });

        it("plans cleanly with exit 0, the same objects as in dev", () => {
            assert.equal(prodApp.exitCode, 0);
            assert.deepEqual(prodApp.policyViolations.filter((v) => v.level === "mandatory"), []);
            assert.deepEqual(prodApp.manifests.filter((m) => m.check.status !== "valid").map((m) => m.fileName), []);
            assert.deepEqual(prodApp.installOrder, []);
            assert.deepEqual(prodApp.resources.map((r) => r.type).sort(), app.resources.map((r) => r.type).sort());
        });

        it("deploys to the prod cluster as prod's own team role, which the prod platform lists, without assuming it again (CI runs as it)", () => {
            const roleArn = settingsOf("prod")["churn-report:roleArn"];
            assert.notEqual(roleArn, settingsOf("dev")["churn-report:roleArn"]);
            assert.ok((prodPlatform.outputs.appTeams as AppTeam[]).some((team) => team.roleArn === roleArn), roleArn);
            const { app: kubeconfig, admin } = kubeconfigs(prodPlatform, prodApp);
            assert.deepEqual(kubeconfig.clusters.map((c) => c.cluster), [{ server: prodPlatform.outputs.clusterEndpoint, "certificate-authority-data": prodPlatform.outputs.clusterCertificateAuthority }]);
            // A role may assume itself only when its trust policy names it, so a pipeline running as the role must not.
            assert.equal(settingsOf("prod")["churn-report:assumeRole"], undefined);
            assert.deepEqual(kubeconfig.users[0].user.exec.args, ["eks", "get-token", "--cluster-name", prodPlatform.outputs.clusterName, "--region", "us-east-1"]);
            assert.notEqual(JSON.stringify(kubeconfig), admin);
        });
    });

    describe("judged by evaluating the platform's and the app's AuthorizationPolicies", () => {
        /** Every served model's pods (one per label set), with the call each model is known by. */
        const modelWorkloads = () => {
            const backends = planBackends(platform.resources);
            return models.filter((m) => m.access !== null).flatMap((model) => {
                const access = model.access!;
                return backends
                    .filter((b) => b.namespace === access.namespace)
                    .flatMap((b) => b.pods.filter((pod) => Object.entries(access.selector).every(([k, v]) => pod.labels[k] === v)).map((pod) => ({ model, backend: b, labels: pod.labels })));
            });
        };
        const admitted = (objects: readonly IstioObject[], w: ReturnType<typeof modelWorkloads>[number], path: string, source: string, method = "POST"): { allowed: boolean; reason: string } => {
            const workload: Workload = { namespace: w.backend.namespace, labels: w.labels, labelsComplete: true, description: `${w.backend.host} pods` };
            const decisions = (w.backend.ports ?? [80]).map((port) => decide(policiesFor(objects, workload), { principal: source, method, path, authority: w.backend.host, port }));
            return decisions.find((d) => d.allowed) ?? decisions[0];
        };

        it("finds a workload for every served model, and the platform admits its own gateway to each model's call (the calls are real)", () => {
            const workloads = modelWorkloads();
            const served = models.filter((m) => m.access !== null);
            assert.deepEqual([...new Set(workloads.map((w) => w.model.name))].sort(), served.map((m) => m.name).sort());
            const platformPolicies = authorizationPolicies(platform.resources);
            for (const w of workloads) {
                const decision = admitted(platformPolicies, w, callOnWorkload(w.model), "cluster.local/ns/istio-ingress/sa/istio-ingressgateway");
                assert.ok(decision.allowed, `${w.model.name} on ${w.backend.host}: ${decision.reason}`);
            }
        });

        it("admits the client to the chosen model's main call on that model's workload, by the app's policy", () => {
            const objects = [...authorizationPolicies(platform.resources), ...authorizationPolicies(app.resources)];
            const mine = modelWorkloads().filter((w) => w.model.name === CHOSEN);
            assert.ok(mine.length > 0);
            for (const w of mine) {
                const decision = admitted(objects, w, callOnWorkload(chosen), principal);
                assert.deepEqual(decision, { allowed: true, reason: `allowed by ${chosen.access!.namespace}/churn-report-calls-${CHOSEN} (rules[0])` });
                assert.equal(admitted(objects, w, callOnWorkload(chosen), `cluster.local/ns/${chosen.namespace}/sa/someone-else`).allowed, false);
            }
        });

        it("denies the client every other model's call (GET or POST) on every model workload, the SageMaker bridge's other endpoints included", () => {
            const objects = [...authorizationPolicies(platform.resources), ...authorizationPolicies(app.resources)];
            const calls = models.filter((m) => m.access !== null).map(callOnWorkload);
            assert.ok(calls.some((c) => c.startsWith("/endpoints/")), "the dev platform bridges SageMaker endpoints");
            const allowed = modelWorkloads().flatMap((w) => ["GET", "POST"].flatMap((method) => calls
                .filter((call) => admitted(objects, w, call, principal, method).allowed).map((call) => `${w.model.name} on ${w.backend.host}: ${method} ${call}`)));
            assert.deepEqual([...new Set(allowed)], ["GET", "POST"].map((method) => `${CHOSEN} on ${chosen.serviceHost}: ${method} ${callOnWorkload(chosen)}`));
        });

        it("denies the client the chosen model without the app's policy, so that policy is what grants it", () => {
            const mine = modelWorkloads().filter((w) => w.model.name === CHOSEN);
            for (const w of mine) {
                const decision = admitted(authorizationPolicies(platform.resources), w, callOnWorkload(chosen), principal);
                assert.equal(decision.allowed, false, decision.reason);
                assert.match(decision.reason, /no ALLOW policy matches/);
            }
        });

        it("reaches the chosen model through `models[].url` from the client's sidecar, and no other model that way", () => {
            const backends = planBackends([...platform.resources, ...app.resources]);
            const objects = istioObjects([...platform.resources, ...app.resources]);
            const reached = (model: ContractModel, objs: readonly IstioObject[]) => {
                const url = new URL(model.url);
                return leaves(evaluateRequest(objs, backends, { via: "mesh", host: url.host, port: Number(url.port || 80), path: url.pathname, method: "POST", sourcePrincipal: principal }));
            };
            const mine = reached(chosen, objects);
            assert.ok(mine.length > 0);
            assert.deepEqual(mine.filter((leaf) => !leaf.authorized), []);
            assert.deepEqual(reached(chosen, istioObjects(platform.resources)).filter((leaf) => leaf.authorized), []);
            for (const other of models.filter((m) => m.name !== CHOSEN)) {
                const leak = reached(other, objects).filter((leaf) => leaf.authorized);
                assert.deepEqual(leak, [], `${other.name} (${other.backend})`);
            }
        });
    });

    describe("errors as a user meets them", () => {
        it("asks for --platform-outputs when no platform outputs are given", async () => {
            await assert.rejects(plan({ stack: "dev", projectDir: PROJECT, outDir: path.join(work, "none") }), (error: Error) => {
                assert.ok(error instanceof PlanInputError, error.name);
                assert.match(error.message, /reads stack acme\/mlmesh\/dev .*--platform-outputs FILE/);
                return true;
            });
            const run = await cli(["plan", "--cwd", "stacks/app-team", "--stack", "dev", "--out", path.join(work, "none-cli")]);
            assert.equal(run.code, 2);
            assert.match(run.err, /--platform-outputs/);
            assert.doesNotMatch(run.err, STACK_TRACE);
        });

        it("names the stack it wanted when only the prod platform's outputs are given", async () => {
            const run = await cli(["plan", "--cwd", "stacks/app-team", "--stack", "dev", "--out", path.join(work, "prod-cli"), "--platform-outputs", prodFile]);
            assert.equal(run.code, 2);
            assert.match(run.err, /reads stack acme\/mlmesh\/dev/);
            assert.ok(run.err.includes(`mlmesh/prod (${prodFile})`), run.err);
        });

        describe("a platform publishing contract 2.0.0", () => {
            let v2File: string;
            before(() => {
                const recorded = JSON.parse(readFileSync(platformFile, "utf8"));
                v2File = path.join(work, "platform-v2.json");
                writeFileSync(v2File, JSON.stringify({ ...recorded, outputs: { ...recorded.outputs, contractVersion: "2.0.0" } }));
            });

            it("fails the plan with the PlatformContractError message, naming both versions", async () => {
                await assert.rejects(plan({ stack: "dev", projectDir: PROJECT, platformOutputs: [v2File], outDir: path.join(work, "v2") }), (error: Error) => {
                    assert.equal(error.message, `platform stack acme/mlmesh/dev ${contractMismatch("2.0.0")}`);
                    assert.ok(error.message.includes("2.0.0") && error.message.includes(CONTRACT_VERSION), error.message);
                    return true;
                });
            });

            it("is reported by the CLI as bad input (exit 2) in a clean message, without a stack trace", async () => {
                const run = await cli(["plan", "--cwd", "stacks/app-team", "--stack", "dev", "--out", path.join(work, "v2-cli"), "--platform-outputs", v2File]);
                assert.match(run.err, /publishes contract 2\.0\.0, and this app reads contract 1\.x/);
                assert.deepEqual({ code: run.code, stackTrace: STACK_TRACE.test(run.err) }, { code: 2, stackTrace: false }, run.err);
            });
        });

        it("refuses a role the platform lists as no app team, naming the teams it admits, as bad config (exit 2)", async () => {
            const configFile = changedStackFile(path.join(work, "Pulumi.role.yaml"), "role/crm-deployer\n", "role/someone-else\n");
            const run = await cli(["plan", "--cwd", "stacks/app-team", "--stack", "dev", "--config-file", configFile, "--out", path.join(work, "role-cli"), "--platform-outputs", platformFile]);
            assert.match(run.err, /config `roleArn` \("arn:aws:iam::123456789012:role\/someone-else"\) is not an app team of the platform \(it admits: crm arn:aws:iam::123456789012:role\/crm-deployer\)/);
            assert.deepEqual({ code: run.code, stackTrace: STACK_TRACE.test(run.err) }, { code: 2, stackTrace: false }, run.err);
        });

        it("refuses an image outside the team's repositories, as bad config (exit 2)", async () => {
            const configFile = changedStackFile(path.join(work, "Pulumi.image.yaml"), ".amazonaws.com/crm/churn-report:", ".amazonaws.com/payments/app:");
            const run = await cli(["plan", "--cwd", "stacks/app-team", "--stack", "dev", "--config-file", configFile, "--out", path.join(work, "image-cli"), "--platform-outputs", platformFile]);
            assert.match(run.err, /config `image` \(".*\/payments\/app:2\.3\.1@sha256:[0-9a-f]{64}"\) is not in a repository the platform's nodes may pull for team crm/);
            assert.deepEqual({ code: run.code, stackTrace: STACK_TRACE.test(run.err) }, { code: 2, stackTrace: false }, run.err);
        });

        describe("a stack file naming a model the platform does not serve", () => {
            let configFile: string;
            before(() => {
                configFile = changedStackFile(path.join(work, "Pulumi.dev.yaml"), "churn-report:model: churn-kserve", "churn-report:model: nope");
            });

            it("fails the plan with a message that lists the platform's models", async () => {
                await assert.rejects(plan({ stack: "dev", projectDir: PROJECT, configFile, platformOutputs: [platformFile], outDir: path.join(work, "nope") }), (error: Error) => {
                    assert.match(error.message, /config `model` \("nope"\) is not a model of the platform/);
                    assert.ok(error.message.endsWith(`it serves: ${models.map((m) => m.name).join(", ")}`), error.message);
                    return true;
                });
            });

            it("is reported by the CLI as bad config (exit 2) in a clean message, without a stack trace", async () => {
                const run = await cli(["plan", "--cwd", "stacks/app-team", "--stack", "dev", "--config-file", configFile, "--out", path.join(work, "nope-cli"), "--platform-outputs", platformFile]);
                assert.match(run.err, /it serves: resnet, /);
                assert.deepEqual({ code: run.code, stackTrace: STACK_TRACE.test(run.err) }, { code: 2, stackTrace: false }, run.err);
            });
        });
    });
});
