import * as assert from "node:assert/strict";
import fc from "fast-check";
import { versionReplicas } from "../../../components/serving/workloadPlacement";

/** 1 to 5 non-negative whole weights adding up to 100: the gaps between sorted cut points in [0, 100]. */
const weightsArbitrary = fc.integer({ min: 1, max: 5 }).chain((versions) =>
    fc.array(fc.integer({ min: 0, max: 100 }), { minLength: versions - 1, maxLength: versions - 1 }).map((cuts) => {
        const points = [0, ...[...cuts].sort((a, b) => a - b), 100];
        return points.slice(1).map((point, i) => point - points[i]);
    }));

/** Weights, a floor of 1 to 3 and a model range that holds every version's floor. */
const caseArbitrary = fc.record({ weights: weightsArbitrary, floor: fc.integer({ min: 1, max: 3 }) }).chain(({ weights, floor }) =>
    fc.record({
        weights: fc.constant(weights),
        floor: fc.constant(floor),
        spareMin: fc.integer({ min: 0, max: 60 }),
        spread: fc.integer({ min: 0, max: 60 }),
    }).map(({ spareMin, spread }) => {
        const min = floor * weights.length + spareMin;
        return { weights, floor, range: { min, max: min + spread } };
    }));

const sum = (values: readonly number[]) => values.reduce((total, n) => total + n, 0);
const RUNS = { numRuns: 2000 };

describe("versionReplicas (properties)", () => {
    it("gives every version at least the floor, and a max no lower than its min", () => {
        fc.assert(fc.property(caseArbitrary, ({ weights, floor, range }) => {
            const replicas = versionReplicas(range, weights, floor);
            assert.equal(replicas.length, weights.length);
            for (const version of replicas) {
                assert.ok(Number.isInteger(version.min) && Number.isInteger(version.max), JSON.stringify(version));
                assert.ok(version.min >= floor, `min ${version.min} below the floor ${floor}`);
                assert.ok(version.max >= version.min, `max ${version.max} below min ${version.min}`);
            }
        }), RUNS);
    });

    it("runs exactly the model's minimum across the versions", () => {
        fc.assert(fc.property(caseArbitrary, ({ weights, floor, range }) => {
            assert.equal(sum(versionReplicas(range, weights, floor).map((v) => v.min)), range.min);
        }), RUNS);
    });

    // The maxes can add up to more than range.max, although the TSDoc says "at most range.max".
    // Mins and maxes are apportioned separately by largest remainder, which has the Alabama
    // paradox: a version can win the last spare pod of the smaller total (the min) and lose it in
    // the larger one (the max); `Math.max(min, …)` then lifts that version's max by one. Shrunk
    // counterexample to "≤ range.max":
    //   range { min: 69, max: 70 }, weights [4, 69, 27], floor 3
    //   → mins [6, 44, 19] (sum 69), maxes [6, 45, 20] (sum 71 = range.max + 1).
    // Each version loses at most one pod that way (its floor share only grows with the total), and
    // the bigger total cannot take a pod from every version, so the overshoot is at most
    // versions - 1: one version is always exact. Apportioning the maxes as
    // `mins[i] + apportion(range.max - range.min, weights)[i]` would make the sum exactly range.max.
    it("adds the maxes up to at most range.max + versions - 1", () => {
        fc.assert(fc.property(caseArbitrary, ({ weights, floor, range }) => {
            const total = sum(versionReplicas(range, weights, floor).map((v) => v.max));
            assert.ok(total <= range.max + weights.length - 1, `maxes add up to ${total}, range.max is ${range.max}`);
        }), RUNS);
    });

    it("adds the maxes up to at least range.max, and a fixed range (max = min) gives fixed versions", () => {
        fc.assert(fc.property(caseArbitrary, ({ weights, floor, range }) => {
            const replicas = versionReplicas(range, weights, floor);
            assert.ok(sum(replicas.map((v) => v.max)) >= range.max);
            if (range.max === range.min) {
                assert.deepEqual(replicas.map((v) => v.max), replicas.map((v) => v.min));
            }
        }), RUNS);
    });

    it("never gives a heavier version a smaller min (or max) than a lighter one", () => {
        fc.assert(fc.property(caseArbitrary, ({ weights, floor, range }) => {
            const replicas = versionReplicas(range, weights, floor);
            weights.forEach((heavy, i) => weights.forEach((light, j) => {
                if (heavy > light) {
                    assert.ok(replicas[i].min >= replicas[j].min, `weight ${heavy} got min ${replicas[i].min} < ${replicas[j].min} of weight ${light}`);
                    assert.ok(replicas[i].max >= replicas[j].max, `weight ${heavy} got max ${replicas[i].max} < ${replicas[j].max} of weight ${light}`);
                }
            }));
        }), RUNS);
    });

    it("gives versions of equal weight mins that differ by at most one", () => {
        fc.assert(fc.property(caseArbitrary, ({ weights, floor, range }) => {
            const replicas = versionReplicas(range, weights, floor);
            weights.forEach((a, i) => weights.forEach((b, j) => {
                if (a === b) {
                    assert.ok(Math.abs(replicas[i].min - replicas[j].min) <= 1, JSON.stringify(replicas));
                }
            }));
        }), RUNS);
    });
});
