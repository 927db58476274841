import * as assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as ts from "typescript";
import { parse } from "yaml";
import { programEntry } from "../../offline/programEntry";

const ROOT = path.join(__dirname, "..", "..");

describe("programEntry: the module `pulumi up` runs", () => {
    let work: string;
    before(() => {
        work = mkdtempSync(path.join(tmpdir(), "mlmesh-entry-"));
        mkdirSync(path.join(work, "lib"));
        mkdirSync(path.join(work, "prog"));
        mkdirSync(path.join(work, "bare", "prog"), { recursive: true });
        writeFileSync(path.join(work, "package.json"), JSON.stringify({ name: "pkg", main: "lib/index.ts" }));
        writeFileSync(path.join(work, "lib", "index.ts"), "export {};\n");
        writeFileSync(path.join(work, "prog", "index.ts"), "export = () => ({});\n");
        writeFileSync(path.join(work, "bare", "package.json"), JSON.stringify({ name: "bare" }));
        writeFileSync(path.join(work, "bare", "prog", "index.ts"), "export = () => ({});\n");
        mkdirSync(path.join(work, "exp", "prog"), { recursive: true });
        writeFileSync(path.join(work, "exp", "package.json"), JSON.stringify({ name: "exp", main: "nope.js", exports: { ".": { require: "./prog/index.ts" } } }));
        writeFileSync(path.join(work, "exp", "prog", "index.ts"), "export = () => ({});\n");
    });
    after(() => rmSync(work, { recursive: true, force: true }));

    // [what, project dir (relative to the temp dir), main, the module run (relative)]
    const TABLE: [string, string, string | undefined, string][] = [
        ["a file main is run as it is", ".", "prog/index.ts", "prog/index.ts"],
        ["a folder main runs the package.json's main, not the folder", ".", "prog/", "lib/index.ts"],
        ["no main runs the package.json's main too", ".", undefined, "lib/index.ts"],
        ["a folder main under a package.json without an entry runs the folder", "bare", "prog", "bare/prog"],
        ["package.json exports win over main", "exp", "prog", "exp/prog/index.ts"],
    ];
    for (const [what, dir, main, expected] of TABLE) {
        it(what, () => {
            assert.equal(programEntry(path.join(work, dir), main), path.join(work, expected));
        });
    }

    // The projects in this repository run their programs, not the component library (package.json `main`).
    for (const [project, expected] of [[".", "stacks/index.ts"], ["stacks/app-team", "stacks/app-team/index.ts"]]) {
        it(`runs ${expected} for the project in ${project}`, () => {
            const dir = path.join(ROOT, project);
            const { main } = parse(readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")) as { main?: string };
            assert.equal(programEntry(dir, main), path.join(ROOT, expected));
        });
    }

    // Pulumi's Node.js host runs the program from its folder and type-checks it with runtime.options.tsconfig
    // (relative to that folder) (@pulumi/pulumi 3.270.0 cmd/run/run.js): it must exist and need no dev-only types.
    for (const project of [".", "stacks/app-team"]) {
        it(`type-checks the program of ${project} with a tsconfig that needs only production types`, () => {
            const dir = path.join(ROOT, project);
            const { main, runtime } = parse(readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")) as { main: string; runtime: { options: { tsconfig: string } } };
            const file = path.resolve(path.dirname(programEntry(dir, main)), runtime.options.tsconfig);
            const config = ts.parseJsonConfigFileContent(ts.readConfigFile(file, ts.sys.readFile).config, ts.sys, path.dirname(file));
            assert.deepEqual(config.options.types, ["node"], file);
            assert.equal(config.options.strict, true, "the project's own settings, extended");
        });
    }
});
