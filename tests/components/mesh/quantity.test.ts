import * as assert from "node:assert/strict";
import { parseQuantity, requestAboveLimit, type QuantityKind } from "../../../components/mesh/quantity";

describe("parseQuantity", () => {
    const valid: [QuantityKind, string | number, number][] = [
        ["cpu", "500m", 0.5],
        ["cpu", "2", 2],
        ["cpu", "1.5", 1.5],
        ["cpu", "100m", 0.1],
        ["cpu", 2, 2],
        ["cpu", "1e3", 1000],
        ["memory", "512Mi", 512 * 2 ** 20],
        ["memory", "1Gi", 2 ** 30],
        ["memory", "1G", 1e9],
        ["memory", "128974848", 128974848],
        ["memory", "129e6", 129e6],
        ["memory", "123Mi", 123 * 2 ** 20],
    ];
    for (const [kind, text, expected] of valid) {
        it(`reads the ${kind} quantity ${JSON.stringify(text)} as ${expected}`, () => {
            assert.equal(parseQuantity(text, kind), expected);
        });
    }

    const examples: Record<QuantityKind, string> = { cpu: `"500m"`, memory: `"512Mi"` };
    const invalid = ["lots", "-1", "1.5.5", "Gi", "10 Mi", "1gi", ""];
    for (const kind of ["cpu", "memory"] as const) {
        for (const text of invalid) {
            it(`rejects the ${kind} text ${JSON.stringify(text)} with a reason giving a ${kind} example`, () => {
                const result = parseQuantity(text, kind);
                assert.equal(typeof result, "string");
                assert.match(result as string, /is not a Kubernetes quantity/);
                assert.ok((result as string).includes(examples[kind]), `${String(result)} should mention ${examples[kind]}`);
            });
        }
    }
});

describe("requestAboveLimit", () => {
    const table: [string, string, QuantityKind, string, boolean][] = [
        ["2", "500m", "cpu", "cpuLimit", true],
        ["500m", "1", "cpu", "cpuLimit", false],
        ["1", "1", "cpu", "cpuLimit", false],
        ["1Gi", "1024Mi", "memory", "memoryLimit", false],
        ["2Gi", "1G", "memory", "memoryLimit", true],
        // Equal quantities in milli and decimal notation: no floating-point rounding may make one "above".
        ["700m", "0.7", "cpu", "cpuLimit", false],
        ["3300m", "3.3", "cpu", "cpuLimit", false],
    ];
    for (const [request, limit, kind, limitName, above] of table) {
        it(`${above ? "reports" : "accepts"} a ${kind} request of ${request} against a limit of ${limit}`, () => {
            const reason = requestAboveLimit(request, limit, kind, limitName);
            if (!above) {
                assert.equal(reason, undefined);
                return;
            }
            assert.equal(typeof reason, "string");
            assert.ok(reason!.includes(`\`${limitName}\``), `${reason} should name \`${limitName}\``);
            assert.ok(reason!.includes(JSON.stringify(limit)), `${reason} should quote the limit`);
        });
    }

    it("leaves an invalid quantity to parseQuantity rather than comparing it", () => {
        assert.equal(requestAboveLimit("lots", "1", "cpu", "cpuLimit"), undefined);
        assert.equal(requestAboveLimit("2", "lots", "cpu", "cpuLimit"), undefined);
    });
});
