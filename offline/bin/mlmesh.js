#!/usr/bin/env node
// `npm run plan` in a checkout: compiles the TypeScript sources on the fly (type checks run in
// `npm run typecheck`) and runs offline/cli.ts. The installed command is bin/mlmesh.js.
"use strict";
const path = require("node:path");
require("ts-node").register({ transpileOnly: true, project: path.join(__dirname, "..", "..", "tsconfig.json") });
require("../cli").runFromProcess();
