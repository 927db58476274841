/**
 * Which module a Pulumi Node.js project runs, decided the way the Pulumi CLI and the Node.js
 * language host decide it, so the offline plan never runs a different program than `pulumi up`.
 *
 * - The CLI splits `main` into a working directory and an entry: a file is itself; a folder (or no
 *   `main`) becomes the entry `.` in that folder (pulumi/pulumi:pkg/engine/project.go getPwdMain@v3.259.0).
 * - For the entry `.`, the language host takes the nearest package.json above the folder and runs
 *   its `exports` (`.`) or `main` when that file exists; only without either does it load the
 *   folder itself (@pulumi/pulumi 3.270.0 cmd/run/run.js, `hasEntrypoint` and `resolveEntrypoint`).
 *   So `main: stacks/` in a package whose package.json names a library entry runs the library.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";

/** The nearest folder at or above `dir` holding a package.json, or undefined. */
export function packageRoot(dir: string): string | undefined {
    for (let current = dir; ; current = path.dirname(current)) {
        if (existsSync(path.join(current, "package.json"))) {
            return current;
        }
        if (path.dirname(current) === current) {
            return undefined;
        }
    }
}

/** What package.json names as the package's entry: `exports` (a string or `.`), else `main`. */
function packageEntry(root: string): string | undefined {
    let manifest: { exports?: unknown; main?: unknown };
    try {
        manifest = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as typeof manifest;
    } catch {
        return undefined;
    }
    const exported = manifest.exports;
    if (typeof exported === "string") {
        return exported;
    }
    if (exported !== null && typeof exported === "object") {
        const dot = (exported as Record<string, unknown>)["."];
        if (typeof dot === "string") {
            return dot;
        }
        if (dot !== null && typeof dot === "object") {
            const conditions = dot as Record<string, unknown>;
            const chosen = conditions.default ?? conditions.require ?? conditions.import;
            return typeof chosen === "string" ? chosen : undefined;
        }
        return undefined;
    }
    return typeof manifest.main === "string" ? manifest.main : undefined;
}

/** The absolute path of the module `pulumi up` would load for a project in `projectDir` with `main`. */
export function programEntry(projectDir: string, main: string | undefined): string {
    const target = path.resolve(projectDir, main ?? ".");
    if (existsSync(target) && !statSync(target).isDirectory()) {
        return target;
    }
    const root = packageRoot(target);
    const entry = root === undefined ? undefined : packageEntry(root);
    if (root !== undefined && entry !== undefined && existsSync(path.join(root, entry))) {
        return path.join(root, entry);
    }
    return target;
}
