import * as assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { readRecordedStack, stackReferenceState, StackOutputsError, type RecordedStack } from "../../offline/stackOutputs";

describe("recorded stack outputs", () => {
    let work: string;
    before(() => {
        work = mkdtempSync(path.join(tmpdir(), "mlmesh-stack-outputs-"));
    });
    after(() => rmSync(work, { recursive: true, force: true }));

    const write = (name: string, text: string): string => {
        const file = path.join(work, name);
        writeFileSync(file, text);
        return file;
    };

    describe("readRecordedStack", () => {
        it("reads the project, stack and outputs of a plan.json, and of its resources only the cluster setup (Namespaces, Helm releases)", () => {
            const namespace = { urn: "urn:ns", type: "kubernetes:core/v1:Namespace", inputs: { metadata: { name: "ml-serving" } } };
            const release = { urn: "urn:istiod", type: "kubernetes:helm.sh/v3:Release", inputs: { chart: "istiod" } };
            const file = write("plan.json", JSON.stringify({
                stack: "dev", project: "mlmesh", outputs: { contractVersion: "1.0.0", kubeconfig: "[secret]" },
                resources: [{ urn: "urn:x" }, namespace, { urn: "urn:d", type: "kubernetes:apps/v1:Deployment", inputs: {} }, release, null],
            }));
            assert.deepEqual(readRecordedStack(file), { file, project: "mlmesh", stack: "dev", outputs: { contractVersion: "1.0.0", kubeconfig: "[secret]" }, clusterSetup: [namespace, release] });
        });

        it("reads outputs alone (no resources) with no cluster setup", () => {
            const file = write("outputs.json", JSON.stringify({ stack: "dev", project: "mlmesh", outputs: { vpcId: "vpc-1" } }));
            assert.deepEqual(readRecordedStack(file).clusterSetup, []);
        });

        // [what, file contents (undefined: no such file), what the message says besides the file name]
        const UNUSABLE: [string, string | undefined, RegExp][] = [
            ["a file that does not exist", undefined, /cannot read platform outputs as JSON \(ENOENT.*\); pass the plan\.json `mlmesh plan` wrote for the platform stack/],
            ["a file that is not JSON", "project: mlmesh\nstack: dev\n", /cannot read platform outputs as JSON \([^]+\); pass the plan\.json/],
            ["a JSON array", "[]", /platform outputs need `project`, `stack` and an `outputs` object, as in the plan\.json `mlmesh plan` writes/],
            ["JSON null", "null", /need `project`, `stack` and an `outputs` object/],
            ["the bare outputs of `pulumi stack output --json`", JSON.stringify({ vpcId: "vpc-1" }), /need `project`, `stack` and an `outputs` object/],
            ["a file without a project", JSON.stringify({ stack: "dev", outputs: {} }), /need `project`, `stack` and an `outputs` object/],
            ["a stack that is not a string", JSON.stringify({ project: "mlmesh", stack: 1, outputs: {} }), /need `project`, `stack` and an `outputs` object/],
            ["outputs that are a list", JSON.stringify({ project: "mlmesh", stack: "dev", outputs: [] }), /need `project`, `stack` and an `outputs` object/],
            ["outputs that are null", JSON.stringify({ project: "mlmesh", stack: "dev", outputs: null }), /need `project`, `stack` and an `outputs` object/],
        ];
        UNUSABLE.forEach(([what, contents, message], i) => {
            it(`refuses ${what}, naming the file and the fix`, () => {
                const file = contents === undefined ? path.join(work, "missing.json") : write(`unusable-${i}.json`, contents);
                assert.throws(() => readRecordedStack(file), (error: unknown) => {
                    assert.ok(error instanceof StackOutputsError, String(error));
                    assert.ok(error.message.startsWith(`${file}: `), error.message);
                    assert.match(error.message, message);
                    return true;
                });
            });
        });
    });

    describe("stackReferenceState", () => {
        const recorded = (project: string, stack: string, outputs: Record<string, unknown>): RecordedStack => ({ file: `/plans/${project}-${stack}.json`, project, stack, outputs, clusterSetup: [] });
        const STACKS = [
            recorded("mlmesh", "dev", { contractVersion: "1.0.0", kubeconfig: "[secret]", models: [{ name: "bert", backend: "kserve" }] }),
            recorded("mlmesh", "prod", { contractVersion: "1.0.0", kubeconfig: "[secret]", oidcProviderArn: "[secret]", vpcId: "vpc-prod" }),
            recorded("churn-report", "dev", { principal: "cluster.local/ns/ml-tabular/sa/churn-report" }),
        ];

        // [reference, the recorded stack it reads (project/stack), or undefined when none does]
        const REFERENCES: [string, string | undefined][] = [
            ["acme/mlmesh/dev", "mlmesh/dev"],
            ["acme/mlmesh/prod", "mlmesh/prod"],
            ["organization/mlmesh/prod", "mlmesh/prod"],
            ["acme/churn-report/dev", "churn-report/dev"],
            ["acme/mlmesh/staging", undefined],
            ["acme/platform/dev", undefined],
            ["acme/churn-report/prod", undefined],
        ];
        for (const [reference, expected] of REFERENCES) {
            it(`${expected ? `answers ${reference} with ${expected}` : `refuses ${reference}, which no file records`}`, () => {
                if (expected === undefined) {
                    assert.throws(() => stackReferenceState(reference, STACKS, "churn-report"), StackOutputsError);
                    return;
                }
                const state = stackReferenceState(reference, STACKS, "churn-report");
                const source = STACKS.find((s) => `${s.project}/${s.stack}` === expected)!;
                assert.equal(state.name, reference);
                assert.deepEqual(state.outputs, source.outputs);
            });
        }

        // [reference, the outputs it reads that are secret]
        const SECRETS: [string, string[]][] = [
            ["acme/mlmesh/dev", ["kubeconfig"]],
            ["acme/mlmesh/prod", ["kubeconfig", "oidcProviderArn"]],
            ["acme/churn-report/dev", []],
        ];
        for (const [reference, secret] of SECRETS) {
            it(`marks ${secret.length ? secret.join(" and ") : "nothing"} of ${reference} secret`, () => {
                assert.deepEqual(stackReferenceState(reference, STACKS, "churn-report").secretOutputNames.sort(), secret);
            });
        }

        it("marks only top-level placeholders secret, not a \"[secret]\" inside a value", () => {
            const stack = recorded("mlmesh", "dev", { gpu: { token: "[secret]" }, list: ["[secret]"] });
            assert.deepEqual(stackReferenceState("acme/mlmesh/dev", [stack], "churn-report").secretOutputNames, []);
        });

        it("hands out a copy of the outputs, so the engine cannot change the recording", () => {
            const state = stackReferenceState("acme/mlmesh/prod", STACKS, "churn-report");
            state.outputs.vpcId = "changed";
            assert.equal(STACKS[1].outputs.vpcId, "vpc-prod");
        });

        it("refuses a stack no file records, listing the files given and saying how to fix it", () => {
            assert.throws(() => stackReferenceState("acme/mlmesh/staging", STACKS, "churn-report"), (error: unknown) => {
                assert.ok(error instanceof StackOutputsError);
                assert.match(error.message, /reads stack acme\/mlmesh\/staging through a StackReference/);
                assert.match(error.message, /no --platform-outputs file records it \(given: mlmesh\/dev \(\/plans\/mlmesh-dev\.json\), mlmesh\/prod \(\/plans\/mlmesh-prod\.json\), churn-report\/dev \(\/plans\/churn-report-dev\.json\)\)/);
                assert.match(error.message, /plan that stack first and pass its plan\.json with --platform-outputs FILE/);
                return true;
            });
        });

        it("says no outputs were given when no file was", () => {
            assert.throws(() => stackReferenceState("acme/mlmesh/dev", [], "churn-report"), (error: unknown) => {
                assert.ok(error instanceof StackOutputsError);
                assert.match(error.message, /reads stack acme\/mlmesh\/dev through a StackReference, and no outputs of it were given; plan that stack first and pass its plan\.json with --platform-outputs FILE/);
                assert.doesNotMatch(error.message, /given:/);
                return true;
            });
        });
    });
});
