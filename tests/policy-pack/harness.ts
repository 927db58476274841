/**
 * Runs pack policies the way the engine would, through mlmesh's in-process runner: on one
 * resource built here, or on a committed stack's plan.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { plan } from "../../offline/plan";
import { policies } from "../../policy-pack/policies";
import { runPolicies, type PolicyConfig, type PolicyRun, type PolicyViolation } from "../../offline/policyRunner";
import type { RecordedResource } from "../../offline/recorder";
import { plannedStack } from "../offline/fixtures/plannedStack";

type AnyPolicy = ResourceValidationPolicy | StackValidationPolicy;

/** A recorded resource of `type` with `props` as its inputs. */
export function resource(type: string, props: Record<string, unknown>, extra: Partial<RecordedResource> = {}): RecordedResource {
    const name = String((props.metadata as { name?: string } | undefined)?.name ?? "r");
    // Outputs echo the inputs, as a provider returns them for what these rules read (and as the mocks do).
    return { urn: `urn:pulumi:test::mlmesh::${type}::${name}`, type, name, custom: true, inputs: props, outputs: props, options: {}, dependencies: [], inputDependencies: [], ...extra };
}

/** The violations `policy` reports on these resources, at the level the config gives it (mandatory unless set). */
export async function violationsOf(policy: AnyPolicy, resources: RecordedResource | RecordedResource[], config: PolicyConfig = { [policy.name]: { enforcementLevel: policy.enforcementLevel ?? "mandatory" } }): Promise<PolicyViolation[]> {
    const run = await runPolicies([policy], Array.isArray(resources) ? resources : [resources], config);
    return [...run.violations];
}

/**
 * The committed environment config of the pack; with `only`, narrowed to those policies (the
 * runner refuses config naming a policy the run lacks, as the engine refuses it for a pack).
 */
export function environmentConfig(environment: string, only?: readonly AnyPolicy[]): PolicyConfig {
    const config = JSON.parse(readFileSync(path.join(__dirname, "..", "..", "policy-pack", "config", `${environment}.json`), "utf8")) as PolicyConfig;
    const names = only && new Set(["all", ...only.map((p) => p.name)]);
    return names ? Object.fromEntries(Object.entries(config).filter(([name]) => names.has(name))) : config;
}

/** Every pack policy over a committed stack's plan, with its environment's config. */
export async function stackRun(stack: "dev" | "prod", environment: string = stack): Promise<PolicyRun> {
    const plan = await plannedStack(stack);
    return runPolicies(policies, plan.resources, environmentConfig(environment));
}

/** A copy of `object` with the value at `at` (dot path, `\\.` a dot in a key; numbers index arrays) set, or deleted when `value` is undefined. */
export function changed<O>(object: O, at: string, value: unknown): O {
    const copy = structuredClone(object) as any;
    const keys = at.split(/(?<!\\)\./).map((key) => key.replace(/\\\./g, "."));
    const holder = keys.slice(0, -1).reduce((node, key) => (node[key] ??= {}), copy);
    if (value === undefined) {
        delete holder[keys[keys.length - 1]];
    } else {
        holder[keys[keys.length - 1]] = value;
    }
    return copy;
}

/** The policies with a mandatory violation after planning committed `stack` with one stack setting changed. */
export async function firingAfter(policies: readonly AnyPolicy[], stack: string, change: (config: Record<string, any>) => void): Promise<string[]> {
    const doc = parse(readFileSync(path.join(__dirname, "..", "..", "stacks", `Pulumi.${stack}.yaml`), "utf8"));
    change(doc.config);
    const dir = mkdtempSync(path.join(tmpdir(), `mlmesh-${stack}-policy-`));
    try {
        writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), stringify(doc));
        const planned = await plan({ stack, configFile: path.join(dir, `Pulumi.${stack}.yaml`), outDir: path.join(dir, "out") });
        const run = await runPolicies(policies, planned.resources, environmentConfig(stack, policies));
        return [...new Set(run.violations.filter((v) => v.level === "mandatory").map((v) => v.policy))].sort();
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}
