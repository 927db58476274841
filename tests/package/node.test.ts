import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";

/**
 * The tests run on a Node the package supports. npm scripts put node_modules/.bin first, where the
 * `node` devDependency puts Node 22; if its install script was skipped (npm's allowScripts, or
 * --ignore-scripts), `node` falls back to the machine's, and this says so instead of passing.
 */
describe("the Node.js the tests run on", () => {
    it("is one the package's engines allow", () => {
        const engines = JSON.parse(readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8")).engines.node as string;
        const floor = Number(/^>=(\d+)$/.exec(engines)?.[1]);
        const major = Number(process.versions.node.split(".")[0]);
        assert.ok(major >= floor, `Node ${process.versions.node} is below engines ${engines}: run the tests through npm (npm test), which uses the node devDependency, and check that its install script ran`);
    });
});
