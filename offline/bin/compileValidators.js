// Part of `npm run build`, after tsc: writes each shipped CRD schema's validator as code into
// dist/offline/schemas/validators/, so `mlmesh plan` loads validators instead of compiling schemas.
"use strict";
const path = require("node:path");
const { writeValidators } = require("../../dist/offline/manifestSchemas");
const dir = path.join(__dirname, "..", "..", "dist", "offline", "schemas", "validators");
const files = writeValidators(dir);
process.stderr.write(`compiled ${files.length} CRD schema validators into ${path.relative(process.cwd(), dir)}\n`);
