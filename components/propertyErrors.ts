import * as pulumi from "@pulumi/pulumi";

/** One bad input: where it is, what it was, and what is wrong with it (ending in the fix). */
export interface PropertyProblem {
    readonly path: string;
    readonly value: unknown;
    readonly reason: string;
}

/** Renders a problem the way every mlmesh error reads: `` `path` (value) reason ``. */
export function describeProblem(problem: PropertyProblem): string {
    return `\`${problem.path}\` (${renderValue(problem.value)}) ${problem.reason}`;
}

function renderValue(value: unknown): string {
    if (value === undefined) {
        return "unset";
    }
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Collects every problem with a component's arguments, then throws them all at once as a
 * `pulumi.InputPropertiesError`, before the component creates any child.
 */
export class PropertyErrors {
    private readonly problems: PropertyProblem[] = [];

    /** Records a problem when `reason` is defined; returns whether one was recorded. */
    check(path: string, value: unknown, reason: string | undefined): boolean {
        if (reason === undefined) {
            return false;
        }
        this.problems.push({ path, value, reason });
        return true;
    }

    get list(): readonly PropertyProblem[] {
        return this.problems;
    }

    throwIfAny(component: string): void {
        if (this.problems.length === 0) {
            return;
        }
        throw new pulumi.InputPropertiesError({
            message: `${component} has ${this.problems.length} invalid argument(s):\n${this.problems.map((p) => `  - ${describeProblem(p)}`).join("\n")}`,
            errors: this.problems.map((p) => ({ propertyPath: p.path, reason: describeProblem(p) })),
        });
    }
}
