import * as assert from "node:assert/strict";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { enforcementLevelOf, PolicyConfigError, policySettings, runPolicies, UNKNOWN_PLACEHOLDER } from "../../offline/policyRunner";
import type { RecordedResource } from "../../offline/recorder";

const bucket = (name: string, props: Record<string, unknown>, extra: Partial<RecordedResource> = {}): RecordedResource => ({
    urn: `urn:pulumi:s::p::aws:s3/bucket:Bucket::${name}`, type: "aws:s3/bucket:Bucket", name, custom: true, inputs: props, outputs: props, options: {}, dependencies: [], inputDependencies: [], ...extra,
});

const versioned: ResourceValidationPolicy = {
    name: "bucket-versioned",
    description: "Checks whether buckets are versioned.",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        if (args.type === "aws:s3/bucket:Bucket" && args.props.versioning?.enabled !== true) {
            report(`bucket ${args.name} is not versioned`);
        }
    },
    remediateResource: (args) => (args.type === "aws:s3/bucket:Bucket" ? { ...args.props, versioning: { enabled: true } } : undefined),
};

describe("the in-process policy runner, with the engine's semantics", () => {
    const levels: [string, Record<string, unknown>, string][] = [
        ["the policy's own level without config", {}, "mandatory"],
        ["`all` over the policy's own level", { all: "advisory" }, "advisory"],
        ["the policy's entry over `all`", { all: "advisory", "bucket-versioned": { enforcementLevel: "disabled" } }, "disabled"],
        ["a bare level string as the entry", { "bucket-versioned": "remediate" }, "remediate"],
    ];
    for (const [what, config, level] of levels) {
        it(`takes ${what}`, () => assert.equal(enforcementLevelOf(versioned, config), level));
    }
    it("takes the pack's default, advisory, when neither the policy nor the config sets a level", () => {
        assert.equal(enforcementLevelOf({ ...versioned, enforcementLevel: undefined }, {}), "advisory");
    });

    it("reports a violation at the policy's level with the resource's URN", async () => {
        const run = await runPolicies([versioned], [bucket("logs", {})]);
        assert.deepEqual(run.violations, [{ policy: "bucket-versioned", level: "mandatory", message: "bucket logs is not versioned", urn: "urn:pulumi:s::p::aws:s3/bucket:Bucket::logs" }]);
    });
    it("skips a disabled policy", async () => {
        assert.deepEqual((await runPolicies([versioned], [bucket("logs", {})], { "bucket-versioned": "disabled" })).violations, []);
    });
    it("remediates first and validates the remediated props, reporting the change", async () => {
        const run = await runPolicies([versioned], [bucket("logs", {})], { "bucket-versioned": "remediate" });
        assert.deepEqual([run.violations, run.remediations.map((r) => [r.policy, r.after]), run.props.get("urn:pulumi:s::p::aws:s3/bucket:Bucket::logs")], [
            [], [["bucket-versioned", { versioning: { enabled: true } }]], { versioning: { enabled: true } },
        ]);
    });
    it("reports a violation a remediation could not fix as mandatory", async () => {
        const stubborn: ResourceValidationPolicy = { ...versioned, remediateResource: () => undefined };
        assert.deepEqual((await runPolicies([stubborn], [bucket("logs", {})], { "bucket-versioned": "remediate" })).violations.map((v) => v.level), ["mandatory"]);
    });
    it("reports, at advisory level, a policy that reads a value unknown during preview", async () => {
        const run = await runPolicies([versioned], [bucket("logs", { versioning: UNKNOWN_PLACEHOLDER })]);
        assert.equal(run.violations.length, 1);
        assert.equal(run.violations[0].level, "advisory");
        assert.match(run.violations[0].message, /can't run policy 'bucket-versioned' during preview/);
    });

    const sized: ResourceValidationPolicy = {
        name: "bucket-size",
        description: "Checks whether buckets stay under a size.",
        enforcementLevel: "advisory",
        configSchema: { properties: { maxGiB: { type: "number", minimum: 1, default: 100 } } },
        validateResource: (args, report) => {
            const { maxGiB } = args.getConfig<{ maxGiB: number }>();
            if (Number(args.props.sizeGiB) > maxGiB) {
                report(`over ${maxGiB} GiB`);
            }
        },
    };
    it("fills in the configSchema's defaults", async () => {
        assert.deepEqual((await runPolicies([sized], [bucket("a", { sizeGiB: 150 })])).violations.map((v) => v.message), ["over 100 GiB"]);
        assert.deepEqual((await runPolicies([sized], [bucket("a", { sizeGiB: 150 })], { "bucket-size": { maxGiB: 200 } })).violations, []);
    });
    it("refuses config the schema refuses, and config for a policy the pack lacks", () => {
        assert.throws(() => policySettings([sized], { "bucket-size": { maxGiB: 0 } }), (e: Error) => e instanceof PolicyConfigError && /bucket-size.*maxGiB must be >= 1/.test(e.message));
        assert.throws(() => policySettings([sized], { "no-such": {} }), /`no-such` is not a policy of the pack/);
    });

    it("gives stack policies every resource with its parent and dependencies", async () => {
        const seen: string[] = [];
        const wiring: StackValidationPolicy = {
            name: "wiring",
            description: "Checks whether resources know their parents.",
            enforcementLevel: "mandatory",
            validateStack: (args, report) => {
                for (const r of args.resources) {
                    seen.push(`${r.name}<${r.parent?.name ?? "-"}|${r.dependencies.map((d) => d.name).join(",")}`);
                }
                report("stack-wide");
            },
        };
        const parent = bucket("parent", {});
        const run = await runPolicies([wiring], [parent, bucket("child", {}, { parent: parent.urn, dependencies: [parent.urn] })]);
        assert.deepEqual(seen, ["parent<-|", "child<parent|parent"]);
        assert.deepEqual(run.violations, [{ policy: "wiring", level: "mandatory", message: "stack-wide" }]);
    });
    it("lets a policy declare itself not applicable without a violation", async () => {
        const picky: ResourceValidationPolicy = { ...versioned, validateResource: (args) => args.notApplicable("not mine") };
        assert.deepEqual((await runPolicies([picky], [bucket("a", {})])).violations, []);
    });
});
