/**
 * Other stacks' outputs for the offline engine. A program that reads a platform stack through
 * StackReference is planned against that stack's recorded outputs: the `outputs` of a plan.json
 * written by `mlmesh plan` (or any JSON file `{ project, stack, outputs }`, e.g. from
 * `pulumi stack output --json --show-secrets` wrapped with its project and stack).
 */
import { readFileSync } from "node:fs";
import { SECRET_PLACEHOLDER } from "./recorder";

export interface RecordedStack {
    readonly file: string;
    readonly project: string;
    readonly stack: string;
    readonly outputs: Readonly<Record<string, unknown>>;
}

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
    return { file, project: parsed.project, stack: parsed.stack, outputs: parsed.outputs };
}

/** Whether a StackReference name (`org/project/stack`, `project/stack` or `stack`) names this recorded stack. */
function names(reference: string, recorded: RecordedStack): boolean {
    const parts = reference.split("/");
    return parts[parts.length - 1] === recorded.stack && (parts.length < 2 || parts[parts.length - 2] === recorded.project);
}

/**
 * The state the engine gives a StackReference: the referenced stack's outputs, and which are
 * secret (recorded secrets are "[secret]" placeholders and stay secret).
 */
export function stackReferenceState(reference: string, stacks: readonly RecordedStack[]): { name: string; outputs: Record<string, unknown>; secretOutputNames: string[] } {
    const recorded = stacks.find((candidate) => names(reference, candidate));
    if (!recorded) {
        const known = stacks.map((s) => `${s.project}/${s.stack} (${s.file})`).join(", ");
        throw new StackOutputsError(`the program reads stack ${reference} through a StackReference, and ${known
            ? `no --platform-outputs file records it (given: ${known})`
            : "no outputs of it were given"}; plan that stack first and pass its plan.json with --platform-outputs FILE`);
    }
    return {
        name: reference,
        outputs: { ...recorded.outputs },
        secretOutputNames: Object.keys(recorded.outputs).filter((key) => recorded.outputs[key] === SECRET_PLACEHOLDER),
    };
}
