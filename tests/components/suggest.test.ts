import * as assert from "node:assert/strict";
import { closestName, didYouMean } from "../../components/suggest";

describe("closestName", () => {
    // [typed, candidates, suggested]
    const TABLE: [string, string[], string | undefined][] = [
        ["gpuNodegroup", ["gpus", "gpuNodeGroup", "resources"], "gpuNodeGroup"],
        ["production", ["dev", "staging", "prod"], "prod"],
        ["stagin", ["dev", "staging", "prod"], "staging"],
        ["mlmesh:modles", ["mlmesh:mesh", "mlmesh:models"], "mlmesh:models"],
        ["replicas", ["config", "environment", "secretsprovider"], undefined],
        ["qa", ["dev", "staging", "prod"], undefined],
        ["dev", ["dev", "staging"], undefined],
    ];
    for (const [typed, candidates, suggested] of TABLE) {
        it(`${typed} → ${suggested ?? "nothing"}`, () => assert.equal(closestName(typed, candidates), suggested));
    }

    it("words the hint for a message, and gives none for a value that is not a string", () => {
        assert.equal(didYouMean("prodution", ["dev", "prod"]), " (did you mean `prod`?)");
        assert.equal(didYouMean(1.3, ["1.33"]), "");
    });
});
