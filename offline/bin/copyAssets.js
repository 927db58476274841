// Part of `npm run build`: copies the data files the compiled engine reads beside it in dist/
// (the manifest schemas, the policy pack's per-environment settings, the project templates).
"use strict";
const { cpSync } = require("node:fs");
const path = require("node:path");
const root = path.join(__dirname, "..", "..");
for (const dir of ["offline/schemas", "policy-pack/config", "templates"]) {
    cpSync(path.join(root, dir), path.join(root, "dist", dir), { recursive: true });
}
