import * as assert from "node:assert/strict";
import fc from "fast-check";
import { changedFields, classify, comparePlans, type PlannedResource } from "../../offline/compare";
import { kubernetesVersionProblem } from "../../components/cluster/liveState";
import { replaceRuleOf } from "../../offline/replaceFields";

type Inputs = Record<string, unknown>;

const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
const SUBNET = "aws:ec2/subnet:Subnet";
const CLUSTER = "eks:index:Cluster";
const RULE_TYPES = [NODE_GROUP, SUBNET] as const;
const RUNS = { numRuns: 1000 };

/** Names that collide with the rule fields of both types (and their parts), plus free ones. */
const KEYS = ["launchTemplate", "id", "name", "version", "scalingConfig", "minSize", "desiredSize", "instanceTypes", "subnetIds", "amiType",
    "cidrBlock", "vpcId", "availabilityZone", "tags", "labels", "mapPublicIpOnLaunch", "a", "b"] as const;
const keyArbitrary = fc.constantFrom(...KEYS);

const leafArbitrary: fc.Arbitrary<unknown> = fc.oneof(
    fc.string({ maxLength: 4 }),
    fc.integer({ min: -3, max: 3 }),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.oneof(fc.string({ maxLength: 3 }), fc.integer({ min: 0, max: 3 })), { maxLength: 3 }),
);

/** Nested input objects up to three levels, empty objects included. */
const inputsArbitrary: fc.Arbitrary<Inputs> = fc.letrec<{ node: unknown; object: Inputs }>((tie) => ({
    node: fc.oneof({ depthSize: "small", withCrossShrink: true }, leafArbitrary, tie("object")),
    object: fc.dictionary(keyArbitrary, tie("node"), { maxKeys: 4, depthIdentifier: "inputs" }) as fc.Arbitrary<Inputs>,
})).object;

const pathArbitrary = fc.array(keyArbitrary, { minLength: 1, maxLength: 3 }).map((segments) => segments.join("."));

const resource = (type: string, inputs: Inputs, options?: PlannedResource["options"], name = "r"): PlannedResource =>
    ({ urn: `urn:pulumi:dev::mlmesh::${type}::${name}`, type, name, inputs, ...(options ? { options } : {}) });

/** Independent of compare.ts: `a` is `b`, inside it, or holds it, segment by segment. */
function related(a: string, b: string): boolean {
    const [x, y] = [a.split("."), b.split(".")];
    const n = Math.min(x.length, y.length);
    return x.slice(0, n).every((segment, i) => segment === y[i]);
}

const isObject = (value: unknown): value is Inputs => value !== null && typeof value === "object" && !Array.isArray(value);

/** The value at a dotted path, or undefined. */
function valueAt(root: unknown, path: string): unknown {
    return path.split(".").reduce<unknown>((node, key) => (isObject(node) ? node[key] : undefined), root);
}

/** Whether every ancestor of `path` in `root` is an object or absent (so setting it changes nothing else). */
function ancestorsAreObjects(root: Inputs, path: string): boolean {
    const keys = path.split(".");
    let node: unknown = root;
    for (const key of keys.slice(0, -1)) {
        node = (node as Inputs)[key];
        if (node === undefined) {
            return true;
        }
        if (!isObject(node)) {
            return false;
        }
    }
    return true;
}

/** A deep copy of `root` with `value` at `path`, creating objects on the way. */
function withValue(root: Inputs, path: string, value: unknown): Inputs {
    const copy = structuredClone(root);
    const keys = path.split(".");
    let node = copy;
    for (const key of keys.slice(0, -1)) {
        if (!isObject(node[key])) {
            node[key] = {};
        }
        node = node[key] as Inputs;
    }
    node[keys[keys.length - 1]] = value;
    return copy;
}

const differentLeaves = fc.tuple(leafArbitrary, leafArbitrary).filter(([a, b]) => JSON.stringify(a) !== JSON.stringify(b));

describe("changedFields and classify (properties)", () => {
    it("find a resource the same as itself (or a deep copy of itself), whatever its type, inputs and options", () => {
        const typeArbitrary = fc.constantFrom(NODE_GROUP, SUBNET, CLUSTER, "kubernetes:apps/v1:Deployment", "mlmesh:serving:KServeModel");
        fc.assert(fc.property(typeArbitrary, inputsArbitrary, fc.array(pathArbitrary, { maxLength: 2 }), (type, inputs, ignoreChanges) => {
            const r = resource(type, inputs, { ignoreChanges, replaceOnChanges: ["a"] });
            for (const other of [r, structuredClone(r)]) {
                const change = classify(r, other);
                assert.deepEqual([change.kind, change.fields, change.replacedBy], ["same", [], []]);
            }
        }), RUNS);
    });

    it("create what only the new plan has and delete what only the old one had, with no fields", () => {
        fc.assert(fc.property(fc.constantFrom(...RULE_TYPES), inputsArbitrary, (type, inputs) => {
            const r = resource(type, inputs);
            assert.deepEqual([classify(undefined, r).kind, classify(undefined, r).fields], ["create", []]);
            assert.deepEqual([classify(r, undefined).kind, classify(r, undefined).fields], ["delete", []]);
            assert.equal(classify(r, undefined).urn, r.urn);
        }), RUNS);
    });

    it("replace on a change to any field of the type's replace rule, naming that field", () => {
        const ruleChange = fc.constantFrom(...RULE_TYPES).chain((type) =>
            fc.record({ type: fc.constant(type), field: fc.constantFrom(...replaceRuleOf(type)!.fields), inputs: inputsArbitrary, values: differentLeaves }));
        fc.assert(fc.property(ruleChange, ({ type, field, inputs, values: [before, after] }) => {
            const old = resource(type, withValue(inputs, field, before));
            const change = classify(old, resource(type, withValue(old.inputs, field, after)));
            assert.equal(change.kind, "replace", JSON.stringify(change));
            assert.ok(change.replacedBy.includes(field), `${field} not in ${JSON.stringify(change.replacedBy)}`);
            assert.ok(change.replacedBy.every((path) => change.fields.includes(path)));
        }), RUNS);
    });

    // Fails: an empty object that holds a rule field (`launchTemplate: {}` on a node group, whose
    // rule lists `launchTemplate.id` and `.name`) gaining any other key is classified "replace",
    // although no rule field exists before or after. flatten() records `launchTemplate` as "{}"
    // before and nothing after, and touches("launchTemplate", "launchTemplate.id") is true since
    // the path holds the field. Shrunk counterexample (every seed tried finds one within a few runs):
    //   { type: "aws:eks/nodeGroup:NodeGroup", inputs: {}, path: "launchTemplate.launchTemplate",
    //     value: [], emptyParent: true }, i.e. { launchTemplate: {} } → { launchTemplate: { launchTemplate: [] } }
    //   → kind "replace", fields ["launchTemplate", "launchTemplate.launchTemplate"], replacedBy ["launchTemplate"].
    // Likewise `dnsOptions: {}` on a VPC endpoint (prod would refuse it as traffic-bearing) and
    // `autoMode: {}` on a cluster. mlmesh's own plans always set `launchTemplate.id`, so they do not
    // hit it; a hand-edited or older plan can. Fix in offline/compare.ts classify(): let a changed
    // path that only holds a rule field (`field.startsWith(path + ".")`) force replacement only when
    // the field's own value differs, e.g. JSON.stringify(valueAt(before.inputs, field)) !==
    // JSON.stringify(valueAt(after.inputs, field)).
    it("update, never replace, on a change only to paths outside the type's replace rule", () => {
        const NESTED_RULE_TYPES = [...RULE_TYPES, "aws:ec2/vpcEndpoint:VpcEndpoint", CLUSTER] as const;
        /** A key beside a nested rule field (`launchTemplate.version`), where the rule's parent may be an empty object. */
        const beside = (type: string): fc.Arbitrary<string>[] => {
            const parents = [...new Set(replaceRuleOf(type)!.fields.filter((f) => f.includes(".")).map((f) => f.slice(0, f.lastIndexOf("."))))];
            return parents.length === 0 ? [] : [fc.tuple(fc.constantFrom(...parents), keyArbitrary).map(([parent, key]) => `${parent}.${key}`)];
        };
        const otherChange = fc.constantFrom(...NESTED_RULE_TYPES).chain((type) =>
            fc.record({ type: fc.constant(type), inputs: inputsArbitrary, path: fc.oneof(pathArbitrary, ...beside(type)), value: leafArbitrary, emptyParent: fc.boolean() })
                .filter(({ path }) => !replaceRuleOf(type)!.fields.some((field) => related(path, field))));
        fc.assert(fc.property(otherChange, ({ type, inputs, path, value, emptyParent }) => {
            // Optionally start from an empty object where the changed key goes (`launchTemplate: {}`).
            const start = emptyParent && path.includes(".") ? withValue(inputs, path.slice(0, path.lastIndexOf(".")), {}) : inputs;
            fc.pre(ancestorsAreObjects(start, path) && JSON.stringify(valueAt(start, path)) !== JSON.stringify(value));
            const change = classify(resource(type, start), resource(type, withValue(start, path, value)));
            assert.deepEqual([change.kind, change.replacedBy], ["update", []], JSON.stringify({ start, path, value, change }));
            assert.ok(change.fields.length > 0);
        }), RUNS);
    });

    it("never count a path that ignoreChanges names, is inside or holds", () => {
        fc.assert(fc.property(fc.constantFrom(...RULE_TYPES), inputsArbitrary, inputsArbitrary, fc.array(pathArbitrary, { minLength: 1, maxLength: 3 }), (type, a, b, ignoreChanges) => {
            const before = resource(type, a);
            const after = resource(type, b, { ignoreChanges });
            const fields = changedFields(before, after);
            for (const field of fields) {
                assert.ok(!ignoreChanges.some((ignored) => related(field, ignored)), `${field} counted though ignoreChanges is ${JSON.stringify(ignoreChanges)}`);
            }
            // Without the ignore list the same diff has every counted field and more only under the ignored paths.
            const all = changedFields(before, resource(type, b));
            assert.deepEqual(all.filter((path) => !ignoreChanges.some((ignored) => related(path, ignored))), fields);
        }), RUNS);
    });

    it("find a resource whose only changes are under ignoreChanges the same, even on rule fields", () => {
        const ignoredChange = fc.constantFrom(...RULE_TYPES).chain((type) =>
            fc.record({ type: fc.constant(type), inputs: inputsArbitrary, paths: fc.array(fc.oneof(pathArbitrary, fc.constantFrom(...replaceRuleOf(type)!.fields)), { minLength: 1, maxLength: 3 }), value: leafArbitrary }));
        fc.assert(fc.property(ignoredChange, ({ type, inputs, paths, value }) => {
            const next = paths.reduce((acc, path) => withValue(acc, path, value), inputs);
            const change = classify(resource(type, inputs), resource(type, next, { ignoreChanges: paths }));
            assert.equal(change.kind, "same", JSON.stringify({ inputs, next, paths, change }));
        }), RUNS);
    });
});

const sizeArbitrary = fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined });
const scalingArbitrary = fc.option(fc.record({ minSize: sizeArbitrary, desiredSize: sizeArbitrary, maxSize: sizeArbitrary }), { nil: undefined });

/** A plan of up to five resources on fixed urns, each with a fixed type; either plan may lack any of them. */
const PLAN_TYPES = [CLUSTER, NODE_GROUP, SUBNET, "kubernetes:apps/v1:Deployment", "aws:ec2/vpc:Vpc"] as const;
const resourceInputsArbitrary = (type: string): fc.Arbitrary<Inputs> => {
    if (type === CLUSTER) {
        return fc.record({ version: fc.oneof(fc.integer({ min: 30, max: 33 }).map((n) => `1.${n}`), fc.constant(undefined)), name: fc.constantFrom("a", "b") });
    }
    if (type === NODE_GROUP) {
        return fc.record({ scalingConfig: scalingArbitrary, instanceTypes: fc.constantFrom(["g5.2xlarge"], ["g5.4xlarge"]), labels: fc.constantFrom({ a: "1" }, { a: "2" }) });
    }
    return fc.record({ cidrBlock: fc.constantFrom("10.0.0.0/24", "10.0.1.0/24"), tags: fc.constantFrom({}, { Name: "x" }), metadata: fc.record({ name: fc.constantFrom("m", "n") }) });
};
const planArbitrary = fc.tuple(...PLAN_TYPES.map((type, i) =>
    fc.option(fc.record({ inputs: resourceInputsArbitrary(type), protect: fc.boolean() }).map(({ inputs, protect }) => resource(type, inputs, { protect, ignoreChanges: ["scalingConfig.desiredSize"] }, `r${i}`)), { nil: undefined })))
    .map((resources) => resources.filter((r): r is PlannedResource => r !== undefined));

describe("comparePlans (properties)", () => {
    it("refuses nothing in dev (or staging, or no environment) but Kubernetes version skips or downgrades", () => {
        fc.assert(fc.property(planArbitrary, planArbitrary, fc.option(fc.constantFrom("dev", "staging"), { nil: undefined }), (previous, current, environment) => {
            const { problems } = comparePlans(previous, current, { environment });
            const before = new Map(previous.map((r) => [r.urn, r]));
            const expected: string[] = [];
            for (const next of current) {
                const old = before.get(next.urn);
                const version = old && next.type === CLUSTER ? kubernetesVersionProblem(old.inputs.version, next.inputs.version) : undefined;
                if (version) {
                    expected.push(`${next.name}: the cluster ${version}`);
                }
            }
            assert.deepEqual(problems.map((p) => p.message).sort(), expected.sort());
        }), RUNS);
    });

    it("refuses in prod everything it refuses in dev, and more only for replacements and deletions", () => {
        fc.assert(fc.property(planArbitrary, planArbitrary, (previous, current) => {
            const dev = comparePlans(previous, current, { environment: "dev" });
            const prod = comparePlans(previous, current, { environment: "prod" });
            const prodMessages = prod.problems.map((p) => p.message);
            assert.ok(dev.problems.every((p) => prodMessages.includes(p.message)));
            const destructive = new Set(prod.changes.filter((c) => c.kind === "replace" || c.kind === "delete").map((c) => c.urn));
            const extra = prod.problems.filter((p) => !dev.problems.some((d) => d.message === p.message));
            assert.ok(extra.every((p) => destructive.has(p.urn)), JSON.stringify(extra));
        }), RUNS);
    });
});
