// `npm run bench` loads this into each process it measures (`node --require`): at exit, the
// process's peak resident set size in bytes is written to the file MLMESH_BENCH_RSS_FILE names.
"use strict";
const { writeFileSync } = require("node:fs");
const file = process.env.MLMESH_BENCH_RSS_FILE;
if (file) {
    process.on("exit", () => writeFileSync(file, String(process.resourceUsage().maxRSS * 1024)));
}
