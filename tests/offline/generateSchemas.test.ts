import * as assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { buildSchemas, SCHEMA_OUT_DIR, stripDescriptions } from "../../offline/generateSchemas";

const SHARED_SCHEMAS = path.join(__dirname, "..", "..", "..", "shared", "schemas");

describe("shipped CRD schemas", () => {
    it("drops descriptions and keeps every structural keyword", () => {
        assert.deepEqual(
            stripDescriptions({ description: "prose", type: "object", properties: { description: { type: "string", description: "a field named description" } } }),
            { type: "object", properties: { description: { type: "string" } } },
        );
    });

    it("match what the generator builds from the upstream CRDs in ../shared/schemas", function () {
        if (!existsSync(SHARED_SCHEMAS)) {
            console.warn(`      skipped: ${SHARED_SCHEMAS} is absent (it sits beside CI checkouts, not in a user's own clone), so there are no upstream CRDs to compare with`);
            this.skip();
        }
        const { files, index } = buildSchemas(SHARED_SCHEMAS);
        const shipped = readdirSync(SCHEMA_OUT_DIR).filter((f) => f !== "index.json").sort();
        assert.deepEqual(shipped, Object.keys(files).sort(), "run `npm run schemas` to regenerate offline/schemas");
        for (const [file, text] of Object.entries(files)) {
            assert.equal(readFileSync(path.join(SCHEMA_OUT_DIR, file), "utf8"), text, `${file} is stale; run \`npm run schemas\``);
        }
        assert.deepEqual(JSON.parse(readFileSync(path.join(SCHEMA_OUT_DIR, "index.json"), "utf8")), index);
    });
});
