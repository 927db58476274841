import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { configReferenceRows, renderConfigReference } from "../../offline/configReference";
import { SETTINGS } from "../../offline/projectConfig";

describe("the README's generated config reference", () => {
    const rows = configReferenceRows();
    const row = (at: string) => rows.find((r) => r.path === at);

    it("is in the README as generated from the schema", () => {
        const readme = readFileSync(path.join(__dirname, "..", "..", "README.md"), "utf8");
        assert.ok(readme.includes(renderConfigReference()), "README.md's config reference is stale: run npx ts-node --transpile-only offline/configReference.ts");
    });

    it("lists every top-level setting, and the settings inside them with type, default and allowed values", () => {
        for (const key of Object.keys(SETTINGS)) {
            assert.ok(rows.some((r) => r.path === `mlmesh:${key}` || r.path.startsWith(`mlmesh:${key} (`)), key);
        }
        assert.deepEqual(row("mlmesh:mesh.istioVersion"), { path: "mlmesh:mesh.istioVersion", type: "string", default: '`"1.30.3"`', allowed: "`1.30.2`, `1.30.3`" });
        assert.deepEqual(row("mlmesh:cluster.gpuNodeGroups[].maxSize"), { path: "mlmesh:cluster.gpuNodeGroups[].maxSize", type: "integer", default: "required", allowed: "≥ 1, ≤ 1000" });
        assert.ok(rows.some((r) => r.path === "mlmesh:models[] (backend: sagemaker)"));
        assert.ok(rows.some((r) => r.path === "mlmesh:network (the form with vpcId)"));
    });
});
