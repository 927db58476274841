#!/usr/bin/env node
// The installed `mlmesh` command: runs the compiled CLI in dist/ (npm run build). No TypeScript
// compiler is loaded for mlmesh itself; a TypeScript program being planned is compiled on load.
"use strict";
const { main } = require("../dist/offline/cli");
main(process.argv.slice(2), {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    cwd: process.cwd(),
    progress: process.stderr.isTTY ? (text) => process.stderr.write(`${text}\n`) : undefined,
}).then((code) => {
    process.exitCode = code;
});
