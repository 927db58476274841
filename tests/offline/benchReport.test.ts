import * as assert from "node:assert/strict";
import { goals, growthExponent, renderBench, type SizeResult } from "../../offline/benchReport";

const size = (models: number, resources: number, planMs: number, replayMs: number, plainMs: number, rss = [400, 300]): SizeResult => ({
    models, resources,
    plan: { wallMs: planMs, peakRssBytes: rss[0] * 2 ** 20 },
    replay: { wallMs: replayMs, peakRssBytes: rss[1] * 2 ** 20 },
    plain: { wallMs: plainMs, peakRssBytes: 100 * 2 ** 20 },
});

describe("bench report", () => {
    const exponents: { name: string; points: { x: number; y: number }[]; exponent: number }[] = [
        { name: "linear", points: [{ x: 10, y: 20 }, { x: 100, y: 200 }, { x: 1000, y: 2000 }], exponent: 1 },
        { name: "quadratic", points: [{ x: 10, y: 1 }, { x: 100, y: 100 }], exponent: 2 },
        { name: "constant", points: [{ x: 10, y: 5 }, { x: 500, y: 5 }], exponent: 0 },
    ];
    for (const { name, points, exponent } of exponents) {
        it(`fits a ${name} growth exponent of ${exponent}`, () => {
            assert.ok(Math.abs(growthExponent(points) - exponent) < 1e-9);
        });
    }

    it("refuses a fit from fewer than two sizes", () => {
        assert.throws(() => growthExponent([{ x: 10, y: 1 }, { x: 10, y: 2 }]), /two sizes/);
    });

    it("judges the goals on the largest and smallest sizes", () => {
        const judged = goals([size(1, 140, 1800, 1300, 1000), size(100, 1400, 11000, 10000, 8000), size(500, 7000, 60000, 40000, 45000, [450, 400])]);
        const byName = Object.fromEntries(judged.map((g) => [g.name, g]));
        assert.deepEqual(Object.keys(byName), ["500 models: time / replay", "500 models: time / plain", "500 models: peak RSS / replay", "growth exponent 100→500 models", "1 model(s): time / plain"]);
        assert.equal(byName["500 models: time / replay"].value, 1.5);
        assert.equal(byName["500 models: time / replay"].met, false);
        assert.equal(byName["500 models: peak RSS / replay"].met, true);
        assert.equal(byName["1 model(s): time / plain"].value, 1.8);
        assert.ok(Math.abs(byName["growth exponent 100→500 models"].value - Math.log(60000 / 11000) / Math.log(5)) < 1e-9);
    });

    it("renders one row per size with ratios, the fitted exponent and each goal", () => {
        const text = renderBench([size(10, 250, 2500, 2000, 1000), size(100, 1400, 14000, 11200, 5600)], "test machine");
        assert.match(text, /^mlmesh bench on test machine/);
        assert.match(text, /\n10 +250 +2\.50 s +10\.00 +2\.00 s +1\.00 s +1\.25× +2\.50× +400 MB +300 MB +1\.33×\n/);
        assert.match(text, /growth exponent \(log-log fit of plan time on resources, 10, 100 models\): 1\.000/);
        assert.match(text, /missed 100 models: time \/ replay: 1\.25 \(goal ≤ 1\.2\)/);
    });
});
