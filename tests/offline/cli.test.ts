import * as assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { main, outputLines } from "../../offline/cli";
import { EXIT, plan } from "../../offline/plan";

const ROOT = path.join(__dirname, "..", "..");

interface CliRun {
    code: number;
    stdout: string;
    stderr: string;
}

async function cli(args: string[], cwd: string): Promise<CliRun> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(args, { out: (t) => out.push(t), err: (t) => err.push(t), cwd });
    return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}

describe("mlmesh plan", () => {
    // mlmesh's own project, planned from a scratch folder: --cwd names it.
    const ownCli = (args: string[], cwd: string) => cli(["plan", "routes"].includes(args[0]) && !args.includes("--cwd") ? [...args, "--cwd", ROOT] : args, cwd);
    let work: string;
    before(() => {
        work = mkdtempSync(path.join(tmpdir(), "mlmesh-cli-"));
    });
    after(() => rmSync(work, { recursive: true, force: true }));

    const write = (name: string, text: string): string => {
        const file = path.join(work, name);
        writeFileSync(file, text);
        return file;
    };

    describe("planning the dev stack", () => {
        let run: CliRun;
        const out = () => path.join(work, "dev");
        before(async () => {
            run = await ownCli(["plan", "--stack", "dev", "--out", "dev"], work);
        });

        it("exits 0 and prints the resource tree and the summary", () => {
            assert.equal(run.code, EXIT.ok, run.stderr);
            assert.match(run.stdout, /pulumi:pulumi:Stack\s+mlmesh-dev/);
            assert.match(run.stdout, /└─ mlmesh:platform:MlPlatform\s+mlmesh-dev/);
            assert.match(run.stdout, /aws:ec2:Vpc\s+mlmesh-dev-network-vpc/);
            assert.match(run.stdout, /Resources: \d+ to create/);
            // The per-type table is behind --verbose; the picture by component is in resources.md.
            assert.match(run.stdout, /by type: --verbose \(or resources\.md\)/);
            assert.match(run.stdout, /Next: `pulumi up -s dev`, then keep a copy of this plan\.json outside .*dev \(a CI artifact\)/);
            assert.match(run.stdout, /by provider: aws \d+, eks 1, kubernetes \d+, mlmesh \d+, pulumi 2/);
        });

        it("shows the mesh and the models, and writes every object valid against its schema", () => {
            assert.match(run.stdout, /mlmesh:mesh:IstioMesh\s+mlmesh-dev-mesh\n/);
            assert.match(run.stdout, /mlmesh:serving:TfServingModel\s+mlmesh-dev-ml-serving-resnet\n/);
            assert.match(run.stdout, /mlmesh:serving:KServeModel\s+mlmesh-dev-ml-serving-bert\n/);
            assert.match(run.stdout, /Manifests: 80 written, 0 invalid, 0 without a schema/);
            assert.match(run.stdout, /Routes: 42 public path\(s\), 57 leg\(s\), every one reaches a server that admits it/);
            const files = readdirSync(path.join(out(), "manifests"));
            for (const expected of [
                "peerauthentication-istio-system-default.yaml",
                "authorizationpolicy-ml-serving-default-deny.yaml",
                "gateway-istio-ingress-mlmesh-dev-mesh-gateway.yaml",
                "deployment-ml-serving-resnet-v1.yaml",
                "virtualservice-ml-serving-resnet.yaml",
                "destinationrule-ml-serving-resnet.yaml",
                "inferenceservice-ml-serving-bert.yaml",
            ]) {
                assert.ok(files.includes(expected), `${expected} missing from ${files.join(", ")}`);
            }
        });

        it("shows the cluster, its node groups and the device plugin", () => {
            assert.match(run.stdout, /mlmesh:cluster:GpuCluster\s+mlmesh-dev-cluster\n/);
            assert.match(run.stdout, /eks:index:Cluster\s+mlmesh-dev-cluster-eks {2}\[remote: children not visible offline\]/);
            assert.match(run.stdout, /aws:eks:NodeGroup\s+mlmesh-dev-cluster-system-ng/);
            assert.match(run.stdout, /mlmesh:cluster:GpuNodeGroup\s+mlmesh-dev-cluster-gpu-a10g/);
            assert.match(run.stdout, /aws:eks:NodeGroup\s+mlmesh-dev-cluster-gpu-a10g-ng/);
            assert.match(run.stdout, /kubernetes:helm.sh:Release\s+mlmesh-dev-cluster-nvidia-release/);
        });

        it("writes plan.json with the stack, project, outputs and every resource", () => {
            const planFile = JSON.parse(readFileSync(path.join(out(), "plan.json"), "utf8"));
            assert.equal(planFile.stack, "dev");
            assert.equal(planFile.project, "mlmesh");
            assert.match(planFile.outputs.vpcId, /^vpc-[0-9a-f]{17}$/);
            assert.equal(planFile.outputs.privateSubnetIds.length, 3);
            for (const resource of planFile.resources) {
                assert.deepEqual(Object.keys(resource).filter((k) => k !== "parent").sort(), ["custom", "inputs", "name", "options", "type", "urn"]);
            }
            const vpc = planFile.resources.find((r: { type: string }) => r.type === "aws:ec2/vpc:Vpc");
            assert.equal(vpc.inputs.cidrBlock, "10.40.0.0/16");
        });

        it("writes the policy report, with no mandatory violation, and a manifests folder", () => {
            const report = JSON.parse(readFileSync(path.join(out(), "policy-report.json"), "utf8")) as { level: string; policy: string; message: string }[];
            assert.ok(report.length > 0 && report.every((v) => v.level === "advisory" && v.policy && v.message), JSON.stringify(report.slice(0, 3)));
            assert.match(run.stdout, /Policies: 0 mandatory, \d+ advisory violation\(s\)/);
            assert.ok(existsSync(path.join(out(), "manifests")));
        });

        it("prints a machine-readable result with --json", async () => {
            const json = await ownCli(["plan", "--stack", "dev", "--out", "dev-json", "--json"], work);
            const result = JSON.parse(json.stdout);
            assert.equal(result.exitCode, 0);
            assert.equal(result.summary.byType["aws:ec2:Subnet"], 6);
        });
    });

    const badInputs: { name: string; args: (file: (name: string, text: string) => string) => string[]; message: RegExp }[] = [
        { name: "no command", args: () => ["--stack", "dev"], message: /error: unknown option '--stack'/ },
        { name: "an unknown flag", args: () => ["plan", "--stack", "dev", "--stakc", "x"], message: /error: unknown option '--stakc'\n\(Did you mean --stack\?\)/ },
        { name: "a missing --stack", args: () => ["plan"], message: /`--stack` is required/ },
        { name: "a stack name that climbs out of the folder", args: () => ["plan", "--stack", "../dev"], message: /`--stack` \("\.\.\/dev"\) must be a stack name \(letters, digits, '-', '_' and '\.'\) or org\/project\/stack/ },
        { name: "a stack without a stack file", args: () => ["plan", "--stack", "nope"], message: /Pulumi\.nope\.yaml: no such stack file/ },
        {
            name: "a setting dedented out of config (which Pulumi would ignore)",
            args: (f) => ["plan", "--stack", "x", "--config-file", f("dedented.yaml", "config:\n  aws:region: us-west-2\nreplicas: 3\n")],
            message: /dedented\.yaml: `replicas` \(line 3\) is not a stack file setting: a stack file holds config, environment, secretsprovider, encryptedkey, encryptionsalt; settings go under `config:` as namespace:key/,
        },
        { name: "a misspelt stack file key", args: (f) => ["plan", "--stack", "x", "--config-file", f("confg.yaml", "confg:\n  aws:region: us-west-2\n")], message: /`confg` \(line 1\) is not a stack file setting \(did you mean `config`\?\)/ },
        { name: "a stack file that is not YAML", args: (f) => ["plan", "--stack", "x", "--config-file", f("broken.yaml", "config: [unclosed\n")], message: /broken\.yaml: is not valid YAML/ },
        {
            name: "a config with a bad value",
            args: (f) => ["plan", "--stack", "x", "--config-file", f("bad.yaml", "config:\n  aws:region: us-west-2\n  mlmesh:environment: qa\n")],
            message: /bad\.yaml: stack config has 1 problem\(s\):\n {2}- `mlmesh:environment` \("qa"\) must be one of dev, staging, prod/,
        },
        { name: "`--out` given to routes, which writes only routes.md beside the plan", args: () => ["routes", "--stack", "dev", "--out", "x"], message: /error: unknown option '--out'/ },
        { name: "an unknown command", args: () => ["apply", "--stack", "dev"], message: /error: unknown command 'apply'/ },
        { name: "a mistyped command", args: () => ["plna", "-s", "dev"], message: /error: unknown command 'plna'\n\(Did you mean plan\?\)/ },
        {
            name: "a split whose weights do not add up",
            args: (f) => ["routes", "--stack", "x", "--config-file", f("split.yaml", [
                "config:", "  aws:region: us-west-2", "  mlmesh:environment: dev", "  mlmesh:models:",
                "    - { name: a, backend: kserve, modelFormat: xgboost, storageUri: s3://models/a }",
                "    - { name: b, backend: kserve, modelFormat: xgboost, storageUri: s3://models/b }",
                "    - { name: ab, backend: split, routes: [{ model: a, weight: 70 }, { model: b, weight: 20 }] }", "",
            ].join("\n"))],
            message: /`mlmesh:models\[2\]\.routes` \(\["a:70","b:20"\]\) have weights adding up to 90; they must add up to 100/,
        },
        { name: "a policy config naming an unknown policy", args: (f) => ["plan", "--stack", "dev", "--policy-config", f("policy.json", '{"no-such-policy": {}}')], message: /`no-such-policy` is not a policy of the mlmesh pack/ },
    ];
    for (const { name, args, message } of badInputs) {
        it(`exits 2 with a message for ${name}`, async () => {
            const run = await ownCli(args(write), work);
            assert.equal(run.code, EXIT.badInput, run.stdout);
            assert.match(run.stderr, message);
            assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace for bad input");
        });
    }

    it("mlmesh routes prints every public path with its legs, timeout and callers, and exits 0", async () => {
        const run = await ownCli(["routes", "--stack", "dev"], work);
        assert.equal(run.code, EXIT.ok, run.stderr);
        assert.match(run.stdout, /POST \/v1\/models\/churn:predict {2}\(ml-tabular\/churn, split, public\)\n +80% {2}sagemaker-bridge\.mlmesh-sagemaker\.svc\.cluster\.local\/ml-tabular-churn-sm:80 {2}\/endpoints\/churn-xgb-2024\/invocations\n +20% {2}churn-kserve-predictor\.ml-tabular\.svc\.cluster\.local:80 {2}\/v1\/models\/churn-kserve:predict/);
        assert.match(run.stdout, /callers: token from https:\/\/login\.dev\.example\.com\/oauth2\/default with groups ∈ \{fraud-analysts\}; mesh: cluster\.local\/ns\/ml-frontend\/sa\/frontend-sa/);
        assert.match(run.stdout, /Routes: 42 public path\(s\), 57 leg\(s\), every one reaches a server that admits it/);
    });

    it("exits 1 and names the file and field of an invalid manifest", async () => {
        const result = await plan({ stack: "test", projectDir: path.join(__dirname, "fixtures", "invalid-project"), outDir: path.join(work, "invalid") });
        assert.equal(result.exitCode, EXIT.unsafe);
        const [manifest] = result.manifests;
        assert.equal(manifest.fileName, "virtualservice-ml-serving-resnet.yaml");
        assert.equal(manifest.check.status, "invalid");
        assert.match(manifest.check.errors.join("\n"), /unknown field `timout`/);
        assert.deepEqual(readdirSync(path.join(work, "invalid", "manifests")), ["virtualservice-ml-serving-resnet.yaml"]);
    });

    it("removes manifests left from an earlier plan into the same folder", async () => {
        const outDir = path.join(work, "stale");
        await plan({ stack: "test", projectDir: path.join(__dirname, "fixtures", "invalid-project"), outDir });
        writeFileSync(path.join(outDir, "manifests", "old.yaml"), "kind: Old\n");
        await plan({ stack: "test", projectDir: path.join(__dirname, "fixtures", "invalid-project"), outDir });
        assert.deepEqual(readdirSync(path.join(outDir, "manifests")), ["virtualservice-ml-serving-resnet.yaml"]);
    });
});

describe("mlmesh plan of a project that reads a platform stack", () => {
    let work: string;
    before(() => {
        work = mkdtempSync(path.join(tmpdir(), "mlmesh-cli-platform-"));
        // An app project: it reads the platform through a StackReference and adds one Istio object.
        mkdirSync(path.join(work, "app"));
        writeFileSync(path.join(work, "app", "Pulumi.yaml"), "name: app-fixture\nruntime: nodejs\nmain: index.js\n");
        writeFileSync(path.join(work, "app", "Pulumi.dev.yaml"), "config:\n  aws:region: us-west-2\n");
        writeFileSync(path.join(work, "app", "index.js"), [
            `const pulumi = require(${JSON.stringify(require.resolve("@pulumi/pulumi"))});`,
            `const k8s = require(${JSON.stringify(require.resolve("@pulumi/kubernetes"))});`,
            "module.exports = () => {",
            "    const platform = new pulumi.StackReference('platform', { name: 'acme/mlmesh/dev' });",
            "    new k8s.apiextensions.CustomResource('calls', { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy',",
            "        metadata: { name: 'app-calls-resnet', namespace: 'ml-serving' },",
            "        spec: { action: 'ALLOW', selector: { matchLabels: { app: 'resnet' } }, rules: [{ from: [{ source: { principals: ['cluster.local/ns/ml-serving/sa/app'] } }] }] } });",
            "    return { vpcId: platform.getOutput('vpcId'), kubeconfig: platform.getOutput('kubeconfig'), models: platform.getOutput('models') };",
            "};", "",
        ].join("\n"));
        mkdirSync(path.join(work, "empty"));
        writeFileSync(path.join(work, "platform.json"), JSON.stringify({
            project: "mlmesh", stack: "dev", outputs: {
                contractVersion: "1.0.0", meshRevision: "1-30-3", vpcId: "vpc-0a1b2c3d4e5f60718", kubeconfig: "[secret]",
                models: [{ name: "resnet", backend: "tfserving" }, { name: "bert", backend: "kserve" }],
            },
        }));
        writeFileSync(path.join(work, "not-json.json"), "project: mlmesh\n");
        writeFileSync(path.join(work, "outputs-only.json"), JSON.stringify({ vpcId: "vpc-1" }));
    });
    after(() => rmSync(work, { recursive: true, force: true }));

    it("plans the project in --cwd against --platform-outputs, and prints its outputs with the secret masked", async () => {
        const run = await cli(["plan", "--cwd", "app", "--stack", "dev", "--platform-outputs", "platform.json", "--out", "app-plan"], work);
        assert.equal(run.code, EXIT.ok, `${run.stderr}\n${run.stdout}`);
        assert.match(run.stdout, /Previewing mlmesh plan \(app-fixture\/dev, offline\) from .*app\/Pulumi\.dev\.yaml/);
        assert.match(run.stdout, /Install order: every chart and object waits for what it needs/);
        assert.match(run.stdout, /\nOutputs:\n {4}kubeconfig: \[secret\]\n {4}models {4}: \[2\] resnet \(tfserving\), bert \(kserve\)\n {4}vpcId {5}: "vpc-0a1b2c3d4e5f60718"\n/);
        const planFile = JSON.parse(readFileSync(path.join(work, "app-plan", "plan.json"), "utf8"));
        assert.deepEqual([planFile.project, planFile.outputs.kubeconfig], ["app-fixture", "[secret]"]);
    });

    const refused: { name: string; args: string[]; message: (work: string) => string }[] = [
        { name: "--cwd to a folder without Pulumi.yaml", args: ["plan", "--cwd", "empty", "--stack", "dev"], message: (w) => `${path.join(w, "empty")} holds no Pulumi.yaml: run mlmesh in a Pulumi project's folder, name one with --cwd DIR, or make one with \`mlmesh new DIR\`` },
        { name: "a StackReference no --platform-outputs answers", args: ["plan", "--cwd", "app", "--stack", "dev", "--out", "app-unanswered"], message: () => "the program reads stack acme/mlmesh/dev through a StackReference, and no outputs of it were given" },
        { name: "--platform-outputs naming a missing file", args: ["plan", "--cwd", "app", "--stack", "dev", "--platform-outputs", "missing.json"], message: (w) => `${path.join(w, "missing.json")}: cannot read platform outputs as JSON` },
        { name: "--platform-outputs naming a file that is not JSON", args: ["plan", "--cwd", "app", "--stack", "dev", "--platform-outputs", "not-json.json"], message: (w) => `${path.join(w, "not-json.json")}: cannot read platform outputs as JSON` },
        { name: "--platform-outputs naming bare outputs without project and stack", args: ["plan", "--cwd", "app", "--stack", "dev", "--platform-outputs", "platform.json", "--platform-outputs", "outputs-only.json"], message: (w) => `${path.join(w, "outputs-only.json")}: platform outputs need \`project\`, \`stack\` and an \`outputs\` object` },
        { name: "--platform-outputs given to routes", args: ["routes", "--stack", "dev", "--platform-outputs", "platform.json"], message: () => "error: unknown option '--platform-outputs'" },
        { name: "--compare given to routes", args: ["routes", "--stack", "dev", "--compare", "plan.json"], message: () => "error: unknown option '--compare'" },
    ];
    for (const { name, args, message } of refused) {
        it(`exits 2 with a message for ${name}`, async () => {
            const run = await cli(args, work);
            assert.equal(run.code, EXIT.badInput, run.stdout);
            assert.ok(run.stderr.includes(message(work)), run.stderr);
            assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace for bad input");
        });
    }

    it("tells a terminal each stage of the plan as it starts, and nothing with --json", async () => {
        const stages: string[] = [];
        const io = { out: () => undefined, err: () => undefined, cwd: work, progress: (t: string) => stages.push(t) };
        assert.equal(await main(["routes", "--cwd", ROOT, "-s", "dev"], io), EXIT.ok);
        assert.deepEqual(stages.map((s) => s.replace(/\d+/, "N")), ["mlmesh: running mlmesh/dev offline…", "mlmesh: checking N resources: manifests, policies, images, routes…"]);
        stages.length = 0;
        await main(["routes", "--cwd", ROOT, "-s", "dev", "--json"], io);
        assert.deepEqual(stages, []);
    });

    it("counts the resources by type with --verbose, and writes resources.md with a Mermaid picture by component", async () => {
        const run = await cli(["plan", "--cwd", ROOT, "--stack", "dev", "--out", "dev-verbose", "--verbose"], work);
        assert.match(run.stdout, /by type:\n {4}aws:/);
        assert.match(run.stdout, /\n {4}aws:ec2:Subnet +6\n/);
        const picture = readFileSync(path.join(work, "dev-verbose", "resources.md"), "utf8");
        assert.match(picture, /```mermaid\nflowchart LR\n {4}subgraph n\d+\["mlmesh-dev \(mlmesh:platform:MlPlatform\)"\]/);
        assert.match(picture, /subgraph n\d+\["mlmesh-dev-network \(mlmesh:cluster:ClusterVpc\)"\]\n {12}n\d+_own\["1× aws:ec2:DefaultSecurityGroup<br\/>1× aws:ec2:Eip/);
        assert.equal((picture.match(/subgraph /g) ?? []).length, (picture.match(/^ *end$/gm) ?? []).length);
    });

    it("reports bad config in --json as a list of problems with path, value, message and fix", async () => {
        const file = path.join(work, "Pulumi.bad.yaml");
        writeFileSync(file, "config:\n  aws:region: us-west-2\n  mlmesh:environment: production\n  mlmesh:cluster: { kubernetesVersion: 1.30 }\n");
        const run = await cli(["plan", "--cwd", ROOT, "--config-file", file, "--json"], work);
        assert.equal(run.code, EXIT.badInput);
        assert.deepEqual(JSON.parse(run.stderr).errors, [
            { path: "mlmesh:environment", value: "production", message: "must be one of dev, staging, prod (did you mean `prod`?)" },
            { path: "mlmesh:cluster.kubernetesVersion", value: 1.3, message: "is a number, not a version: YAML reads an unquoted version as a number (1.30 becomes 1.3)", fix: "quote it, e.g. \"1.34\" (one of 1.32, 1.33, 1.34)" },
        ]);
    });

    it("reports a missing Pulumi.yaml in --json as an error object", async () => {
        const run = await cli(["plan", "--cwd", "empty", "--stack", "dev", "--json"], work);
        assert.equal(run.code, EXIT.badInput);
        assert.deepEqual(JSON.parse(run.stderr), { error: `${path.join(work, "empty")} holds no Pulumi.yaml: run mlmesh in a Pulumi project's folder, name one with --cwd DIR, or make one with \`mlmesh new DIR\``, errors: [{ path: null, value: null, message: `${path.join(work, "empty")} holds no Pulumi.yaml: run mlmesh in a Pulumi project's folder, name one with --cwd DIR, or make one with \`mlmesh new DIR\`` }], exitCode: EXIT.badInput });
    });
});

describe("the Outputs section of mlmesh plan", () => {
    // [what, outputs, lines printed]
    const CASES: [string, Record<string, unknown>, string[]][] = [
        ["no outputs", {}, []],
        ["names sorted and aligned, strings quoted", { vpcId: "vpc-1", clusterName: "mlmesh-dev", region: "us-west-2" },
            ["Outputs:", '    clusterName: "mlmesh-dev"', '    region     : "us-west-2"', '    vpcId      : "vpc-1"']],
        ["a secret kept masked", { kubeconfig: "[secret]", region: "us-west-2" }, ["Outputs:", "    kubeconfig: [secret]", '    region    : "us-west-2"']],
        ["models summarized by name and backend", { models: [{ name: "resnet", backend: "tfserving", url: "http://x" }, { name: "churn", backend: "split" }] },
            ["Outputs:", "    models: [2] resnet (tfserving), churn (split)"]],
        ["objects without a backend summarized by name", { gpuNodeGroups: [{ name: "a10g", instanceTypes: ["g5.xlarge"] }] }, ["Outputs:", "    gpuNodeGroups: [1] a10g"]],
        ["a list of strings as JSON", { meshNamespaces: ["ml-serving", "ml-tabular"], empty: [] }, ["Outputs:", "    empty         : []", '    meshNamespaces: ["ml-serving","ml-tabular"]']],
        ["numbers, booleans, null and objects as JSON", { replicas: 2, public: true, gatewayHost: null, access: { namespace: "ml" } },
            ["Outputs:", '    access     : {"namespace":"ml"}', "    gatewayHost: null", "    public     : true", "    replicas   : 2"]],
        ["a value over 100 characters cut to 100", { kubeconfigJson: "x".repeat(150) }, ["Outputs:", `    kubeconfigJson: "${"x".repeat(96)}...`]],
        ["a value of 100 characters kept whole", { id: "y".repeat(98) }, ["Outputs:", `    id: "${"y".repeat(98)}"`]],
    ];
    for (const [what, outputs, lines] of CASES) {
        it(`prints ${what}`, () => assert.deepEqual(outputLines(outputs), lines));
    }

    it("summarizes a list that mixes objects and null without failing", () => {
        assert.match(outputLines({ groups: [{ name: "a10g" }, null] })[1], /^ {4}groups: \[2\] a10g/);
    });
});

describe("mlmesh command conventions", () => {
    let work: string;
    before(() => {
        work = mkdtempSync(path.join(tmpdir(), "mlmesh-cli-conventions-"));
    });
    after(() => rmSync(work, { recursive: true, force: true }));

    it("prints its version with --version (and -v)", async () => {
        const version = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")).version;
        for (const flag of ["--version", "-v"]) {
            assert.deepEqual(await cli([flag], work), { code: EXIT.ok, stdout: `mlmesh ${version}`, stderr: "" });
        }
    });

    it("explains a command with `mlmesh help COMMAND`, and refuses one it does not have", async () => {
        const planHelp = await cli(["help", "plan"], work);
        assert.equal(planHelp.code, EXIT.ok);
        assert.match(planHelp.stdout, /Usage: mlmesh plan \[options\]\n[\s\S]*-s, --stack <name>[\s\S]*--compare <file>[\s\S]*Exit codes: 0 ok/);
        assert.match((await cli(["check", "--help"], work)).stdout, /Usage: mlmesh check \[options\] <paths\.\.\.>/);
        const unknown = await cli(["help", "deploy"], work);
        assert.deepEqual([unknown.code, /Usage: mlmesh \[options\] \[command\][\s\S]*plan \[options\][\s\S]*new <dir>/.test(unknown.stderr)], [EXIT.badInput, true]);
    });

    it("plans the project in the current folder, takes -s for --stack, and a stack file alone names its stack", async () => {
        const dir = path.join(work, "project");
        assert.equal((await cli(["new", dir], work)).code, EXIT.ok);
        // Planned against this checkout's sources (the consumer test installs the packed package).
        writeFileSync(path.join(dir, "index.ts"), `import { buildPlatform, loadPlatformConfig } from ${JSON.stringify(path.join(ROOT, "components"))};\nexport = async () => buildPlatform(loadPlatformConfig());\n`);
        const shortFlag = await cli(["routes", "-s", "dev"], dir);
        assert.equal(shortFlag.code, EXIT.ok, shortFlag.stderr);
        assert.match(shortFlag.stdout, /resnet/);
        const fileOnly = await cli(["routes", "--config-file", path.join(dir, "Pulumi.dev.yaml")], dir);
        assert.equal(fileOnly.code, EXIT.ok, fileOnly.stderr);
        // A fully qualified stack, as `pulumi -s acme/platform/dev` takes it, reads Pulumi.dev.yaml.
        const qualified = await cli(["routes", "-s", "acme/project/dev"], dir);
        assert.equal(qualified.code, EXIT.ok, qualified.stderr);
        const unnamed = await cli(["plan", "--config-file", path.join(dir, "index.ts")], dir);
        assert.deepEqual([unnamed.code, /`--stack` is required, e\.g\. -s dev \(or a --config-file named Pulumi\.<stack>\.yaml\)/.test(unnamed.stderr)], [EXIT.badInput, true]);
    });

    it("scaffolds only into a new or empty folder", async () => {
        const dir = path.join(work, "taken");
        mkdirSync(dir);
        writeFileSync(path.join(dir, "notes.txt"), "mine\n");
        const run = await cli(["new", dir], work);
        assert.deepEqual([run.code, run.stderr], [EXIT.badInput, `mlmesh new: ${dir} is not empty; give \`mlmesh new\` a new or empty folder`]);
        assert.deepEqual(readdirSync(dir), ["notes.txt"]);
        assert.deepEqual(await cli(["new"], work), { code: EXIT.badInput, stdout: "", stderr: "error: missing required argument 'dir'" });
    });
});
