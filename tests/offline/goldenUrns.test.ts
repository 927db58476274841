import * as assert from "node:assert/strict";
import { previousUrns } from "../../offline/aliases";
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
            const resources = (await plannedStack(stack)).resources;
            const golden = new Set(readGolden(stack));
            // A golden URN is kept when some resource now answers to it, under its own URN or an alias.
            const olds = previousUrns(resources);
            const answered = new Set([...olds.values()].flatMap((urns) => [...urns]));
            const gone = [...golden].filter((urn) => !answered.has(urn));
            const added = resources.map((r) => r.urn).filter((urn) => ![...olds.get(urn)!].some((old) => golden.has(old)));
            assert.deepEqual({ gone, added }, { gone: [], added: [] },
                "URNs changed: a resource that is gone would be deleted by `pulumi up` unless its new self has `aliases` for it; add them, then run `npm run golden`");
        });
    }
});
