/**
 * Other stacks' outputs for the offline engine. A program that reads a platform stack through
 * StackReference is planned against that stack's recorded outputs: the `outputs` of a plan.json
 * written by `mlmesh plan` (or any JSON file `{ project, stack, outputs }`, e.g. from
 * `pulumi stack output --json --show-secrets` wrapped with its project and stack).
 */
import { readFileSync } from "node:fs";
import { SECRET_PLACEHOLDER, type RecordedResource } from "./recorder";

export interface RecordedStack {
    readonly file: string;
    readonly project: string;
    readonly stack: string;
    readonly outputs: Readonly<Record<string, unknown>>;
    /**
     * What the recorded stack set up in the cluster that decides how this project's pods are
     * admitted: its Namespaces (Pod Security and injection labels) and Helm releases (istiod's
     * injection settings, KServe's runtimes). Empty when the file records outputs only.
     */
    readonly clusterSetup: readonly RecordedResource[];
}

const CLUSTER_SETUP_TYPES = new Set(["kubernetes:core/v1:Namespace", "kubernetes:helm.sh/v3:Release"]);

/** A platform-outputs file that cannot be used, or a StackReference no file answers: bad input (exit 2). */
export class StackOutputsError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "StackOutputsError";
    }
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);

/** Reads one recorded stack; the file must say which project and stack it records. */
export function readRecordedStack(file: string): RecordedStack {
    let parsed: unknown;
    try {
        parsed = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
        throw new StackOutputsError(`${file}: cannot read platform outputs as JSON (${(error as Error).message}); pass the plan.json \`mlmesh plan\` wrote for the platform stack`);
    }
    if (!isObject(parsed) || typeof parsed.project !== "string" || typeof parsed.stack !== "string" || !isObject(parsed.outputs)) {
        throw new StackOutputsError(`${file}: platform outputs need \`project\`, \`stack\` and an \`outputs\` object, as in the plan.json \`mlmesh plan\` writes`);
    }
    const resources = Array.isArray(parsed.resources) ? (parsed.resources as RecordedResource[]) : [];
    const clusterSetup = resources.filter((r) => isObject(r) && CLUSTER_SETUP_TYPES.has(String(r.type)) && isObject(r.inputs));
    return { file, project: parsed.project, stack: parsed.stack, outputs: parsed.outputs, clusterSetup };
}

/**
 * The project and stack a StackReference name resolves to, as the Pulumi backends read it:
 * `stack` and `org/stack` are stacks of the current project; only `org/project/stack` reaches
 * another project (pulumi/pulumi:pkg/backend/diy/store.go ParseReference, and the Pulumi Cloud
 * backend's identifier parsing, @v3.259.0).
 */
export function resolveReference(reference: string, currentProject: string): { project: string; stack: string } | undefined {
    const parts = reference.split("/");
    if (parts.length > 3 || parts.some((part) => part === "")) {
        return undefined;
    }
    return { project: parts.length === 3 ? parts[1] : currentProject, stack: parts[parts.length - 1] };
}

/**
 * The state the engine gives a StackReference: the referenced stack's outputs, and which are
 * secret (recorded secrets are "[secret]" placeholders and stay secret).
 */
export function stackReferenceState(reference: string, stacks: readonly RecordedStack[], currentProject: string): { name: string; outputs: Record<string, unknown>; secretOutputNames: string[] } {
    const target = resolveReference(reference, currentProject);
    if (!target) {
        throw new StackOutputsError(`the program reads stack ${JSON.stringify(reference)} through a StackReference, which is not a stack name: write stack, org/stack or org/project/stack`);
    }
    const recorded = stacks.find((candidate) => candidate.project === target.project && candidate.stack === target.stack);
    if (!recorded) {
        const known = stacks.map((s) => `${s.project}/${s.stack} (${s.file})`).join(", ");
        const hint = reference.split("/").length < 3 && target.project === currentProject ? ` (a name without a project means project ${currentProject}; another project's stack is org/project/stack)` : "";
        throw new StackOutputsError(`the program reads stack ${reference}${hint} through a StackReference, and ${known
            ? `no --platform-outputs file records it (given: ${known})`
            : "no outputs of it were given"}; plan that stack first and pass its plan.json with --platform-outputs FILE`);
    }
    return {
        name: reference,
        outputs: { ...recorded.outputs },
        secretOutputNames: Object.keys(recorded.outputs).filter((key) => recorded.outputs[key] === SECRET_PLACEHOLDER),
    };
}
