import * as assert from "node:assert/strict";
import * as path from "node:path";
import { BENCH_NAMESPACES, benchModel, benchStackConfig } from "../../offline/benchStacks";
import { parseStackConfig } from "../../stacks/config";

const STACKS = path.join(__dirname, "..", "..", "stacks");

describe("bench stacks", () => {
    const models: { index: number; backend: string; namespace: string; name: string }[] = [
        { index: 0, backend: "tfserving", namespace: "ml-a", name: "tf-0" },
        { index: 1, backend: "kserve", namespace: "ml-b", name: "ks-1" },
        { index: 6, backend: "tfserving", namespace: "ml-c", name: "tf-6" },
        { index: 7, backend: "kserve", namespace: "ml-d", name: "ks-7" },
    ];
    for (const { index, backend, namespace, name } of models) {
        it(`model ${index} is ${backend} ${namespace}/${name}`, () => {
            const model = benchModel(index);
            assert.deepEqual([model.backend, model.namespace, model.name], [backend, namespace, name]);
        });
    }

    it("TF Serving models carry a stable and a canary version", () => {
        assert.deepEqual((benchModel(0).versions as { weight: number }[]).map((v) => v.weight), [90, 10]);
    });

    for (const count of [1, 10, 37]) {
        it(`a stack of ${count} model(s) is a valid prod config over the bench namespaces`, () => {
            const config = benchStackConfig(count, STACKS);
            const flat = Object.fromEntries(Object.entries(config).map(([key, value]) => [key, typeof value === "string" ? value : JSON.stringify(value)]));
            const platform = parseStackConfig(flat, "bench");
            assert.equal(platform.environment, "prod");
            assert.equal(platform.models.length, count);
            assert.deepEqual(platform.mesh.namespaces, [...BENCH_NAMESPACES]);
        });
    }

    it("refuses a count that is not a whole number of at least 1", () => {
        assert.throws(() => benchStackConfig(0, STACKS), /at least 1, got 0/);
        assert.throws(() => benchStackConfig(2.5, STACKS), /got 2\.5/);
    });
});
