import * as assert from "node:assert/strict";
import fc from "fast-check";
import { PathIndex, type PathKeys } from "../../offline/pathIndex";

describe("path index", () => {
    const keys: (PathKeys | undefined)[] = [
        { exact: ["/v1/models/a"], prefixes: [] },
        undefined,
        { exact: [], prefixes: ["/v1/models/"] },
        { exact: ["/v1/models/b", "/v1/models/a"], prefixes: ["/v2/"] },
        { exact: [], prefixes: [""] },
    ];
    const index = new PathIndex(keys);
    const cases: [string, string | undefined, number[]][] = [
        ["/v1/models/a", undefined, [0, 1, 2, 3, 4]],
        ["/v1/models/b", undefined, [1, 2, 3, 4]],
        ["/v2/x", undefined, [1, 3, 4]],
        ["/other", undefined, [1, 4]],
        // An exact uri is compared without the query, a prefix with the whole path.
        ["/v1/models/a", "/v1/models/a?x=1", [0, 1, 2, 3, 4]],
        ["/v1/models/c", "/v2/?q", [1, 3, 4]],
    ];
    for (const [exact, prefix, expected] of cases) {
        it(`${exact}${prefix ? ` (prefix path ${prefix})` : ""} → rules ${expected.join(", ")}`, () => {
            assert.deepEqual(index.candidates(exact, prefix), expected);
        });
    }

    it("finds, in order, every rule whose paths match (a full scan finds no other)", () => {
        const segment = fc.constantFrom("a", "b", "v1", "models");
        const path = fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => `/${parts.join("/")}`);
        const rule = fc.option(fc.record({ exact: fc.array(path, { maxLength: 2 }), prefixes: fc.array(path.map((p) => p.slice(0, -1)), { maxLength: 2 }) }), { nil: undefined });
        fc.assert(fc.property(fc.array(rule, { maxLength: 8 }), path, (rules, request) => {
            const matches = rules.flatMap((r, i) => (r === undefined || r.exact.includes(request) || r.prefixes.some((p) => request.startsWith(p)) ? [i] : []));
            assert.deepEqual(new PathIndex(rules).candidates(request), matches);
        }), { numRuns: 300 });
    });
});
