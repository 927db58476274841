/**
 * The pack's integrity: every policy is reachable, named and described as the house rules say,
 * its config schema compiles, and the pack imports nothing from outside policy-pack/ (it is
 * published alone).
 */
import * as assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import Ajv from "ajv";
import { policies } from "../../policy-pack/policies";
import { plannedStack } from "../offline/fixtures/plannedStack";
import { environmentConfigs, policyTable } from "../../offline/policyTable";

const PACK = path.join(__dirname, "..", "..", "policy-pack");
const sources = readdirSync(PACK).filter((f) => f.endsWith(".ts"));

describe("the policy pack", () => {
    it("names every policy once, in kebab-case", () => {
        const names = policies.map((p) => p.name);
        assert.deepEqual(names.filter((n, i) => names.indexOf(n) !== i), [], "duplicate names");
        assert.deepEqual(names.filter((n) => !/^[a-z0-9]+(-[a-z0-9]+)*$/.test(n)), []);
    });
    it("describes every policy with a sentence starting \"Checks whether\", and gives it remediation steps", () => {
        assert.deepEqual(policies.filter((p) => !/^Checks whether .+\.$/s.test(p.description)).map((p) => p.name), []);
        assert.deepEqual(policies.filter((p) => !p.remediationSteps?.trim()).map((p) => p.name), []);
    });
    it("gives every policy a default level, and something to run: a validation or a remediation", () => {
        assert.deepEqual(policies.filter((p) => p.enforcementLevel === undefined).map((p) => p.name), []);
        assert.deepEqual(policies.filter((p) => !("validateResource" in p && p.validateResource) && !("remediateResource" in p && p.remediateResource) && !("validateStack" in p)).map((p) => p.name), []);
    });
    it("compiles every config schema, and no schema claims enforcementLevel (the engine refuses that)", () => {
        const ajv = new Ajv({ strict: false });
        for (const p of policies.filter((p) => p.configSchema)) {
            assert.doesNotThrow(() => ajv.compile({ type: "object", ...p.configSchema }), p.name);
            assert.equal(p.configSchema?.properties?.enforcementLevel, undefined, p.name);
        }
    });
    it("lists every policy each domain module exports", async () => {
        for (const file of sources.filter((f) => !["index.ts", "policies.ts", "kubernetes.ts"].includes(f))) {
            const exported = Object.values(await import(path.join(PACK, file))).filter(Array.isArray).flat() as { name: string }[];
            assert.deepEqual(exported.filter((p) => !policies.includes(p as never)).map((p) => p.name), [], file);
        }
    });
    it("imports nothing from outside policy-pack/, so it publishes alone", () => {
        const outside = sources.flatMap((f) => [...readFileSync(path.join(PACK, f), "utf8").matchAll(/from "(\.\.\/[^"]+)"/g)].map((m) => `${f}: ${m[1]}`));
        assert.deepEqual(outside, []);
    });
    it("declares, in its own package.json, every package it imports", () => {
        const declared = Object.keys((JSON.parse(readFileSync(path.join(PACK, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies);
        const imported = new Set(sources.flatMap((f) => [...readFileSync(path.join(PACK, f), "utf8").matchAll(/from "((?:@[^/"]+\/)?[^./"][^/"]*)/g)].map((m) => m[1])));
        assert.deepEqual([...imported].filter((p) => !declared.includes(p) && !p.startsWith("node:")), []);
    });
});

describe("every committed stack under its environment's policy config", () => {
    const stacks = readdirSync(path.join(__dirname, "..", "..", "stacks")).map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => s !== undefined);
    for (const stack of stacks) {
        it(`plans ${stack} with no mandatory violation (CI fails on one)`, async () => {
            const result = await plannedStack(stack);
            assert.deepEqual(result.policyViolations.filter((v) => v.level === "mandatory").map((v) => `${v.policy}: ${v.message}`), []);
            assert.equal(result.exitCode, 0);
        });
    }
});

describe("the README's table of guardrails", () => {
    it("is the table the pack generates: every policy, its level per environment, what it checks and how to fix it", () => {
        const readme = readFileSync(path.join(__dirname, "..", "..", "README.md"), "utf8");
        const inReadme = /<!-- policy-table:start -->\n([\s\S]*?)\n<!-- policy-table:end -->/.exec(readme)?.[1];
        assert.equal(inReadme, policyTable(policies, environmentConfigs(PACK)), "regenerate the table in README.md from offline/policyTable.ts");
    });
});
