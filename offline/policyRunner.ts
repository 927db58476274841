/**
 * Runs CrossGuard policies in-process over recorded resources, with the engine's semantics as
 * pulumi-policy 1.21's analyzer server applies them (pulumi/pulumi-policy:sdk/nodejs/policy/server.ts@v1.21.0):
 * - enforcement level: the policy's config entry, else the config's `all`, else the policy's own,
 *   else the pack's (advisory); `disabled` policies do not run;
 * - remediations run first, in list order, each on the props the previous one returned, and the
 *   validations then see the remediated props; a `remediate` policy that still finds a violation
 *   reports it as mandatory;
 * - `getConfig()` returns the policy's config without `enforcementLevel`, with the configSchema's
 *   defaults filled in and checked against the schema, as the CLI does before it starts the pack;
 * - a value unknown during preview throws when a policy reads it, and the policy reports, at
 *   advisory level, that it cannot run during preview;
 * - stack policies see every resource's outputs with its parent and dependencies (property
 *   dependencies are not recorded, so they are empty).
 */
import type { EnforcementLevel, PolicyResource, ReportViolation, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import Ajv from "ajv";
import * as path from "node:path";
import { replaceWhere, type RecordedResource } from "./recorder";

/** The policy pack's per-environment settings shipped with mlmesh (beside the engine in dist/ too). */
export const PACK_CONFIG_DIR = path.join(__dirname, "..", "policy-pack", "config");

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { secretsPreservingProxy } = require("@pulumi/policy/secret") as { secretsPreservingProxy(value: unknown): any };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { unknownCheckingProxy, unknownStringValue, UnknownValueError } = require("@pulumi/policy/proxy") as {
    unknownCheckingProxy(value: unknown): any;
    unknownStringValue: string;
    UnknownValueError: new (...args: any[]) => Error;
};

/** The placeholder the recorder writes for a value unknown during preview. */
export const UNKNOWN_PLACEHOLDER = "[unknown]";

export type PolicyConfig = Readonly<Record<string, unknown>>;

export interface PolicyViolation {
    readonly policy: string;
    readonly level: "advisory" | "mandatory";
    readonly message: string;
    /** Undefined for a stack policy's violation that names no resource. */
    readonly urn?: string;
}

export interface PolicyRemediation {
    readonly policy: string;
    readonly urn: string;
    /** The props before and after, as the engine would diff them. */
    readonly before: Record<string, unknown>;
    readonly after: Record<string, unknown>;
}

export interface PolicyRun {
    readonly violations: readonly PolicyViolation[];
    readonly remediations: readonly PolicyRemediation[];
    /** The props each resource is validated with (remediated where a remediation applied), by URN. */
    readonly props: ReadonlyMap<string, Record<string, unknown>>;
}

/** Bad policy config: a value the policy's configSchema refuses, or a policy the pack lacks. */
export class PolicyConfigError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "PolicyConfigError";
    }
}

type AnyPolicy = ResourceValidationPolicy | StackValidationPolicy;
const isResourcePolicy = (p: AnyPolicy): p is ResourceValidationPolicy => "validateResource" in p || "remediateResource" in p;

/** A config entry may be a level (`"mandatory"`) or an object with `enforcementLevel` and properties. */
function entryOf(config: PolicyConfig, name: string): Record<string, unknown> | undefined {
    const entry = config[name];
    return typeof entry === "string" ? { enforcementLevel: entry } : (entry as Record<string, unknown> | undefined);
}

export function enforcementLevelOf(policy: AnyPolicy, config: PolicyConfig, packLevel: EnforcementLevel = "advisory"): EnforcementLevel {
    return (entryOf(config, policy.name)?.enforcementLevel ?? entryOf(config, "all")?.enforcementLevel ?? policy.enforcementLevel ?? packLevel) as EnforcementLevel;
}

/** Each policy's config properties with the schema's defaults, checked; throws PolicyConfigError. */
export function policySettings(policies: readonly AnyPolicy[], config: PolicyConfig): Map<string, Record<string, unknown>> {
    const known = new Set(policies.map((p) => p.name));
    const unknown = Object.keys(config).filter((name) => name !== "all" && !known.has(name));
    if (unknown.length > 0) {
        throw new PolicyConfigError(`\`${unknown.join("`, `")}\` ${unknown.length === 1 ? "is not a policy" : "are not policies"} of the pack`);
    }
    const ajv = new Ajv({ useDefaults: true, allErrors: true, strict: false });
    return new Map(policies.map((policy) => {
        const { enforcementLevel: _level, ...properties } = entryOf(config, policy.name) ?? {};
        const settings: Record<string, unknown> = structuredClone(properties);
        if (policy.configSchema) {
            const validate = ajv.compile({ type: "object", ...policy.configSchema });
            if (!validate(settings)) {
                const errors = (validate.errors ?? []).map((e) => `${e.instancePath || "(config)"} ${e.message}`).join("; ");
                throw new PolicyConfigError(`config of policy \`${policy.name}\` is invalid: ${errors}`);
            }
        }
        return [policy.name, settings];
    }));
}

/** Turns the recorder's unknown placeholders back into the runtime's unknown sentinel, which the policy proxy detects. */
export function withUnknowns(value: unknown): unknown {
    return replaceWhere(value, (v) => v === UNKNOWN_PLACEHOLDER, () => unknownStringValue);
}

function resourceOptions(resource: RecordedResource) {
    const o = resource.options;
    return {
        protect: o.protect ?? false,
        ignoreChanges: o.ignoreChanges ?? [],
        deleteBeforeReplace: o.deleteBeforeReplace,
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
    };
}

const notApplicable = (reason?: string): never => {
    throw Object.assign(new Error(reason ?? "not applicable"), { notApplicable: true });
};

/** Runs every enabled policy over the resources (components and providers included, as the engine sends them). */
export async function runPolicies(policies: readonly AnyPolicy[], resources: readonly RecordedResource[], config: PolicyConfig = {}, stackTags: ReadonlyMap<string, string> = new Map()): Promise<PolicyRun> {
    const settings = policySettings(policies, config);
    const violations: PolicyViolation[] = [];
    const remediations: PolicyRemediation[] = [];
    const props = new Map<string, Record<string, unknown>>();
    const level = (p: AnyPolicy) => enforcementLevelOf(p, config);
    const reporter = (p: AnyPolicy, urn?: string): ReportViolation => (message: string, violationUrn?: string) => {
        const reported = level(p) === "remediate" ? "mandatory" : level(p);
        violations.push({ policy: p.name, level: reported as "advisory" | "mandatory", message, ...((violationUrn ?? urn) ? { urn: violationUrn ?? urn } : {}) });
    };
    const failed = (p: AnyPolicy, urn: string | undefined, error: unknown): void => {
        if (error instanceof UnknownValueError) {
            violations.push({ policy: p.name, level: "advisory", message: `can't run policy '${p.name}' during preview: ${error.message}`, ...(urn ? { urn } : {}) });
        } else if (!(error as { notApplicable?: boolean }).notApplicable) {
            throw new Error(`policy ${p.name} failed on ${urn ?? "the stack"}: ${(error as Error).message}`);
        }
    };
    // A policy that returns a promise is awaited; one that returns at once (most) costs no turn of
    // the event loop, which over thousands of resources times every policy adds up.
    const run = (p: AnyPolicy, urn: string | undefined, body: () => unknown): Promise<void> | undefined => {
        try {
            const result = body();
            return result instanceof Promise ? result.then(() => undefined, (error: unknown) => failed(p, urn, error)) : undefined;
        } catch (error) {
            failed(p, urn, error);
            return undefined;
        }
    };
    const enabled = policies.filter((p) => level(p) !== "disabled");
    const resourcePolicies = enabled.filter(isResourcePolicy);
    for (const resource of resources) {
        let current = withUnknowns(resource.inputs) as Record<string, unknown>;
        const base = { urn: resource.urn, name: resource.name, type: resource.type, opts: { ...resourceOptions(resource), parent: resource.parent }, stackTags, isType: () => false, asType: () => undefined, notApplicable };
        for (const p of resourcePolicies) {
            if (level(p) !== "remediate" || !p.remediateResource) {
                continue;
            }
            const remediate = p.remediateResource;
            await run(p, resource.urn, async () => {
                // The engine hands remediations props deserialized with secrets kept, then proxied for unknowns (server.ts: makeRemediateRpcFun).
                const result = await Promise.resolve(remediate({ ...base, props: unknownCheckingProxy(secretsPreservingProxy(current)), getConfig: () => settings.get(p.name) as any } as any));
                if (result) {
                    remediations.push({ policy: p.name, urn: resource.urn, before: current, after: result as Record<string, unknown> });
                    current = result as Record<string, unknown>;
                }
            });
        }
        props.set(resource.urn, current);
        const checked = unknownCheckingProxy(current);
        for (const p of resourcePolicies) {
            const validations = p.validateResource === undefined ? [] : Array.isArray(p.validateResource) ? p.validateResource : [p.validateResource];
            for (const validate of validations) {
                const pending = run(p, resource.urn, () => validate({ ...base, props: checked, getConfig: () => settings.get(p.name) as any } as any, reporter(p, resource.urn)));
                if (pending) {
                    await pending;
                }
            }
        }
    }
    const byUrn = new Map<string, PolicyResource>();
    // Stack policies see each resource's outputs, not its inputs ("AnalyzeStack is called on the final outputs",
    // pulumi/pulumi:pkg/resource/deploy/step_generator.go; pulumi-policy server.ts). Under mocks a remote
    // component's outputs echo its inputs, so a rule that reads a component input passes here and not for real:
    // read component inputs in resource policies.
    const stackResources: PolicyResource[] = resources.map((r) => {
        const outputs = withUnknowns(r.outputs) as Record<string, unknown>;
        const resource = { type: r.type, props: unknownCheckingProxy(outputs), urn: r.urn, name: r.name, opts: { ...resourceOptions(r), parent: r.parent }, dependencies: [], propertyDependencies: {}, isType: () => false, asType: () => undefined } as unknown as PolicyResource;
        byUrn.set(r.urn, resource);
        return resource;
    });
    resources.forEach((r, i) => {
        const resource = stackResources[i] as { parent?: PolicyResource; dependencies: PolicyResource[] };
        resource.parent = r.parent ? byUrn.get(r.parent) : undefined;
        resource.dependencies = r.dependencies.map((urn) => byUrn.get(urn)).filter((d): d is PolicyResource => d !== undefined);
    });
    for (const p of enabled.filter((p): p is StackValidationPolicy => !isResourcePolicy(p))) {
        await run(p, undefined, () => p.validateStack({ resources: stackResources, stackTags, getConfig: () => settings.get(p.name) as any, notApplicable } as any, reporter(p)));
    }
    return { violations, remediations, props };
}
