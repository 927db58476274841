#!/usr/bin/env node
// The installed `mlmesh` command: runs the compiled CLI in dist/ (npm run build). No TypeScript
// compiler is loaded for mlmesh itself; a TypeScript program being planned is compiled on load.
// Node's compile cache (22.1 and later) keeps the compiled code of mlmesh and the provider SDKs
// between runs, which is most of a small plan's start-up.
"use strict";
require("node:module").enableCompileCache?.();
require("../dist/offline/cli").runFromProcess();
