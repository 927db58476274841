import * as assert from "node:assert/strict";
import { GOLDEN_STACKS, readGolden } from "../../offline/goldenUrns";
import { plannedStack } from "./fixtures/plannedStack";

/**
 * A URN that changes is a delete and a create for `pulumi up`: a renamed, re-parented or
 * re-typed resource must carry `aliases` for its old URN, and the golden list is regenerated on
 * purpose (`npm run golden`).
 */
describe("golden URN lists of the committed stacks", () => {
    for (const stack of GOLDEN_STACKS) {
        it(`${stack}: every URN is the one tests/golden/${stack}.urns lists`, async () => {
            const urns = (await plannedStack(stack)).resources.map((r) => r.urn);
            const golden = new Set(readGolden(stack));
            const now = new Set(urns);
            const gone = [...golden].filter((urn) => !now.has(urn));
            const added = urns.filter((urn) => !golden.has(urn));
            assert.deepEqual({ gone, added }, { gone: [], added: [] },
                "URNs changed: a resource that is gone would be deleted by `pulumi up` unless its new self has `aliases` for it; add them, then run `npm run golden`");
        });
    }
});
