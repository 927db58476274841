import * as assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { plan } from "../../offline/plan";
import { COMPONENT_RULE, KUBERNETES_GENERIC_RULE, REPLACE_FIELDS, renderReplaceTable, replaceRuleOf, type ReplaceRule } from "../../offline/replaceFields";

const STACKS = ["dev", "staging", "prod"] as const;
const SOURCE = /^[\w.-]+\/[\w.-]+:[\w./-]+\.\w+@[\w.-]+$/;

/**
 * Fields a planned type's rule may name although no plan sets them and its note does not say so.
 * Empty today; an entry needs a reason, e.g. a field set only by a stack that is not committed.
 */
const ALLOW: Readonly<Record<string, readonly string[]>> = {};

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);

/** Whether some recorded inputs hold `field`: every segment exists, or the walk reaches a list or a value first. */
function isSet(samples: readonly Record<string, unknown>[], field: string): boolean {
    return samples.some((inputs) => {
        let value: unknown = inputs;
        for (const segment of field.split(".")) {
            if (!isObject(value)) {
                return true;
            }
            if (!(segment in value)) {
                return false;
            }
            value = value[segment];
        }
        return true;
    });
}

/** The backticked fields of a note's "Not set by mlmesh: ..." sentence. */
function declaredUnset(rule: ReplaceRule): string[] {
    const sentence = /Not set by mlmesh: ((?:`[^`]*`|[^`.;])*)/.exec(rule.note ?? "")?.[1] ?? "";
    return [...sentence.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
}

describe("replaceFields: the inputs whose change replaces a resource", () => {
    const inputsByType = new Map<string, Record<string, unknown>[]>();
    const dir = mkdtempSync(path.join(tmpdir(), "mlmesh-replace-fields-"));
    before(async () => {
        for (const stack of STACKS) {
            const result = await plan({ stack, outDir: path.join(dir, stack) });
            for (const resource of result.resources) {
                const samples = inputsByType.get(resource.type) ?? [];
                samples.push(resource.inputs as Record<string, unknown>);
                inputsByType.set(resource.type, samples);
            }
        }
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("has a rule for every resource type the dev, staging and prod plans contain", () => {
        assert.ok(inputsByType.size > 50, `only ${inputsByType.size} types planned`);
        assert.deepEqual([...inputsByType.keys()].filter((type) => replaceRuleOf(type) === undefined).sort(), []);
    });

    it("cites a repo:path@tag source for every rule", () => {
        const rules = [...Object.values(REPLACE_FIELDS), KUBERNETES_GENERIC_RULE, COMPONENT_RULE];
        assert.deepEqual(rules.map((rule) => rule.source).filter((source) => !SOURCE.test(source)), []);
    });

    it("names only inputs mlmesh sets, or says in the note that mlmesh does not set them", () => {
        const problems: string[] = [];
        for (const [type, samples] of inputsByType) {
            const rule = replaceRuleOf(type)!;
            const unset = declaredUnset(rule);
            for (const field of rule.fields) {
                const set = isSet(samples, field);
                if (!set && !unset.includes(field) && !(ALLOW[type] ?? []).includes(field)) {
                    problems.push(`${type}: \`${field}\` is in no plan's inputs; fix a typo or list it under "Not set by mlmesh"`);
                }
                if (set && unset.includes(field)) {
                    problems.push(`${type}: the note says \`${field}\` is not set by mlmesh, but a plan sets it`);
                }
            }
            problems.push(...unset.filter((field) => !rule.fields.includes(field)).map((field) => `${type}: the note names \`${field}\`, which is not one of its fields`));
        }
        assert.deepEqual(problems, []);
    });

    it("lists each field of a rule once", () => {
        assert.deepEqual(Object.entries(REPLACE_FIELDS).filter(([, rule]) => new Set(rule.fields).size !== rule.fields.length).map(([type]) => type), []);
    });

    const includes: [string, string[]][] = [
        ["aws:eks/nodeGroup:NodeGroup", ["instanceTypes", "amiType", "capacityType", "subnetIds", "nodeGroupName", "launchTemplate.id"]],
        ["aws:ec2/subnet:Subnet", ["cidrBlock", "availabilityZone", "vpcId"]],
        ["aws:sagemaker/model:Model", ["primaryContainer", "executionRoleArn"]],
        ["eks:index:Cluster", ["name", "serviceRole"]],
        ["kubernetes:apps/v1:Deployment", ["spec.selector", "metadata.name"]],
        ["kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", ["roleRef"]],
        ["kubernetes:core/v1:ConfigMap", ["data"]],
        ["kubernetes:helm.sh/v3:Release", ["name", "namespace"]],
        ["kubernetes:networking.istio.io/v1:VirtualService", ["metadata.name", "metadata.namespace"]],
        ["kubernetes:serving.kserve.io/v1beta1:InferenceService", ["metadata.name"]],
    ];
    for (const [type, fields] of includes) {
        it(`replaces ${type} when ${fields.join(", ")} change`, () => {
            const rule = replaceRuleOf(type);
            assert.ok(rule, `no rule for ${type}`);
            assert.deepEqual(fields.filter((field) => !rule.fields.includes(field)), []);
        });
    }

    const excludes: [string, string[]][] = [
        ["aws:eks/nodeGroup:NodeGroup", ["scalingConfig", "launchTemplate.version", "labels", "taints", "version"]],
        ["aws:sagemaker/endpoint:Endpoint", ["endpointConfigName"]],
        ["eks:index:Cluster", ["privateSubnetIds", "vpcId", "version"]],
        ["kubernetes:core/v1:Service", ["spec.type", "spec.ports"]],
        ["kubernetes:policy/v1:PodDisruptionBudget", ["spec"]],
        ["kubernetes:apps/v1:DaemonSetPatch", ["spec.selector"]],
        ["kubernetes:helm.sh/v3:Release", ["values", "version"]],
    ];
    for (const [type, fields] of excludes) {
        it(`updates ${type} in place when ${fields.join(", ")} change`, () => {
            assert.deepEqual(fields.filter((field) => replaceRuleOf(type)!.fields.includes(field)), []);
        });
    }

    it("falls back to the generic Kubernetes rule for unlisted kinds, and to the component rule for components", () => {
        assert.equal(replaceRuleOf("kubernetes:telemetry.istio.io/v1:Telemetry"), KUBERNETES_GENERIC_RULE);
        assert.equal(replaceRuleOf("kubernetes:apps/v1:StatefulSetPatch"), KUBERNETES_GENERIC_RULE);
        assert.deepEqual(replaceRuleOf("mlmesh:cluster:GpuCluster"), { fields: [], source: COMPONENT_RULE.source, note: "component" });
        assert.deepEqual(replaceRuleOf("pulumi:pulumi:Stack")?.fields, []);
        assert.equal(replaceRuleOf("aws:s3/bucket:Bucket"), undefined);
        assert.equal(replaceRuleOf("kubernetes:not-a-type"), undefined);
    });

    it("renders one table row per listed type, with its notes numbered below", () => {
        const table = renderReplaceTable();
        const rows = table.split("\n").filter((line) => line.startsWith("| `"));
        assert.equal(rows.length, Object.keys(REPLACE_FIELDS).length + 2);
        for (const type of Object.keys(REPLACE_FIELDS)) {
            assert.ok(rows.some((row) => row.startsWith(`| \`${type}\` |`)), `no row for ${type}`);
        }
        const refs = [...table.matchAll(/\(note (\d+)\)/g)].map((m) => Number(m[1]));
        assert.deepEqual(refs, refs.map((_, i) => i + 1));
        assert.ok(table.includes(`\n${refs.length}. `));
    });
});
