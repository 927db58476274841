/**
 * `mlmesh new DIR`: a platform project that plans at once (Pulumi.yaml, a config-driven program,
 * a dev stack, package.json, tsconfig.json, .gitignore), from templates/platform.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { packageRoot } from "./programEntry";

/** Beside the engine: templates/ in a checkout, dist/templates in the package. */
const TEMPLATE_DIR = path.join(__dirname, "..", "templates", "platform");

export class NewProjectError extends Error {}

/** mlmesh's own package.json: the nearest one above this file (offline/ and dist/offline/ have none). */
export function ownPackage(): { version: string; dependencies: Record<string, string> } {
    return JSON.parse(readFileSync(path.join(packageRoot(__dirname)!, "package.json"), "utf8"));
}

/** A Pulumi project name from a folder name: letters, digits, '-', '_' and '.'. */
export function projectName(dir: string): string {
    const name = path.basename(path.resolve(dir)).replace(/[^A-Za-z0-9_.-]+/g, "-").replace(/^[-.]+/, "");
    return name || "ml-platform";
}

/** Writes the project into `dir` (created if missing; it must be empty) and returns the files written. */
export function scaffoldProject(dir: string): string[] {
    if (existsSync(dir) && readdirSync(dir).length > 0) {
        throw new NewProjectError(`${dir} is not empty; give \`mlmesh new\` a new or empty folder`);
    }
    mkdirSync(dir, { recursive: true });
    const own = ownPackage();
    const values: Record<string, string> = { name: projectName(dir), mlmeshVersion: `^${own.version}`, pulumiVersion: `^${own.dependencies["@pulumi/pulumi"]}` };
    const written: string[] = [];
    for (const file of readdirSync(TEMPLATE_DIR).sort()) {
        // npm leaves .gitignore files out of packages, so the template is stored without the dot.
        const target = file === "gitignore" ? ".gitignore" : file;
        const text = readFileSync(path.join(TEMPLATE_DIR, file), "utf8").replace(/\{\{(\w+)\}\}/g, (_, key: string) => values[key] ?? `{{${key}}}`);
        writeFileSync(path.join(dir, target), text);
        written.push(target);
    }
    return written;
}
