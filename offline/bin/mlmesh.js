#!/usr/bin/env node
// Entry point of the `mlmesh` command: compiles the TypeScript sources on the fly (type checks
// run in `npm run build`) and hands the arguments to offline/cli.ts.
"use strict";
const path = require("node:path");
require("ts-node").register({ transpileOnly: true, project: path.join(__dirname, "..", "..", "tsconfig.json") });
const { main } = require("../cli");
main(process.argv.slice(2), {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    cwd: process.cwd(),
    progress: process.stderr.isTTY ? (text) => process.stderr.write(`${text}\n`) : undefined,
}).then((code) => {
    process.exitCode = code;
});
