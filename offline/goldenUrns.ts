/**
 * Golden URN lists: every URN each committed stack registers, in tests/golden/<stack>.urns. A
 * change that renames, re-parents or re-types a resource changes its URN, and `pulumi up` would
 * then delete the old resource and create a new one unless the resource carries `aliases` for
 * its old URN. The test keeps the lists equal to the plans; regenerate them on purpose with
 * `npm run golden` after adding the aliases a rename needs.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { plan } from "./plan";
import type { RecordedResource } from "./recorder";

export const GOLDEN_DIR = path.join(__dirname, "..", "tests", "golden");
export const GOLDEN_STACKS = ["dev", "staging", "prod"] as const;

/** The stack's URNs, one per line, sorted. */
export function renderUrns(resources: readonly Pick<RecordedResource, "urn">[]): string {
    return `${resources.map((r) => r.urn).sort().join("\n")}\n`;
}

export function goldenFile(stack: string): string {
    return path.join(GOLDEN_DIR, `${stack}.urns`);
}

/** The URNs the golden file lists for `stack`. */
export function readGolden(stack: string): string[] {
    return readFileSync(goldenFile(stack), "utf8").split("\n").filter(Boolean);
}

async function main(): Promise<void> {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    for (const stack of GOLDEN_STACKS) {
        const result = await plan({ stack, outDir: path.join(__dirname, "..", ".mlmesh", "golden", stack) });
        writeFileSync(goldenFile(stack), renderUrns(result.resources));
        process.stdout.write(`${goldenFile(stack)}: ${result.resources.length} URNs\n`);
    }
}

if (require.main === module) {
    main().catch((error) => {
        process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
        process.exitCode = 1;
    });
}
