#!/usr/bin/env node
// The installed `mlmesh` command: runs the compiled CLI in dist/ (npm run build). No TypeScript
// compiler is loaded for mlmesh itself; a TypeScript program being planned is compiled on load.
"use strict";
require("../dist/offline/cli").runFromProcess();
