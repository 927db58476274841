import * as assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { EXIT, plan, PlanInputError, type PlanResult } from "../../offline/plan";
import { plannedStack } from "./fixtures/plannedStack";

const STACKS = path.join(__dirname, "..", "..", "stacks");

/**
 * The day-2 findings, driven through `mlmesh plan --compare`: plan a committed stack, change one
 * setting, plan again against the first plan, and read what `pulumi up` would do.
 */
describe("mlmesh plan --compare over the committed stacks", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "mlmesh-compare-"));
    const previous: Record<string, string> = {};
    before(async () => {
        for (const stack of ["dev", "prod"]) {
            previous[stack] = path.join((await plannedStack(stack)).outDir, "plan.json");
        }
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    let counter = 0;
    async function changed(stack: string, change: (config: Record<string, any>) => void, allow?: string[]): Promise<PlanResult> {
        const doc = parse(readFileSync(path.join(STACKS, `Pulumi.${stack}.yaml`), "utf8"));
        change(doc.config);
        const file = path.join(dir, `changed-${++counter}`, `Pulumi.${stack}.yaml`);
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, stringify(doc));
        return plan({ stack, configFile: file, outDir: path.join(dir, `out-${counter}`), compare: previous[stack], allow });
    }
    const kinds = (result: PlanResult, type: string) => result.comparison!.changes.filter((c) => c.type === type).map((c) => `${c.kind} ${c.name}`).sort();

    it("stops before planning when the previous plan cannot be read, naming the file and the fix", async () => {
        const notJson = path.join(dir, "not-a-plan.json");
        writeFileSync(notJson, "{}");
        for (const [file, message] of [[path.join(dir, "missing.json"), /cannot read the previous plan as JSON/], [notJson, /a previous plan needs `resources` with a urn and type each/]] as const) {
            await assert.rejects(plan({ stack: "dev", outDir: path.join(dir, "bad"), compare: file }), (error: unknown) => error instanceof PlanInputError && message.test(error.message) && error.message.includes(file));
        }
    });

    it("finds nothing to do for the same config", async () => {
        const result = await changed("prod", () => undefined);
        assert.deepEqual([result.comparison!.changes, result.comparison!.problems, result.exitCode], [[], [], EXIT.ok]);
    });

    it("(finding 1) refuses replacing a serving GPU group in prod when its instance types change, and says how", async () => {
        const result = await changed("prod", (c) => { c["mlmesh:cluster"].gpuNodeGroups[0].instanceTypes = ["g5.4xlarge"]; });
        assert.deepEqual(kinds(result, "aws:eks/nodeGroup:NodeGroup"), ["replace mlmesh-prod-cluster-gpu-a10g-ng"]);
        assert.equal(result.exitCode, EXIT.unsafe);
        assert.match(result.comparison!.problems.map((p) => p.message).join("\n"), /mlmesh-prod-cluster-gpu-a10g-ng .* would be replaced \(instanceTypes.* changed\) in prod: .*add a group beside it under a new name/);
    });

    it("(finding 1) lets the replacement through when it is named with --allow", async () => {
        const result = await changed("prod", (c) => { c["mlmesh:cluster"].gpuNodeGroups[0].instanceTypes = ["g5.4xlarge"]; }, ["mlmesh-prod-cluster-gpu-a10g-ng"]);
        assert.deepEqual([result.comparison!.problems, result.exitCode], [[], EXIT.ok]);
    });

    it("(finding 2) updates a node group's scaling range in place, and refuses a minimum above the desired size Pulumi would resend", async () => {
        const raised = await changed("prod", (c) => { Object.assign(c["mlmesh:cluster"].gpuNodeGroups[0], { minSize: 3, desiredSize: 3 }); });
        assert.deepEqual(kinds(raised, "aws:eks/nodeGroup:NodeGroup"), ["update mlmesh-prod-cluster-gpu-a10g-ng"]);
        assert.match(raised.comparison!.problems.map((p) => p.message).join("\n"), /raises minSize to 3, above the desired size Pulumi would send \(2/);
        // Any scaling change sends the desired size Pulumi last recorded: prod asks for a refresh first, then --allow.
        const widened = await changed("prod", (c) => { c["mlmesh:cluster"].gpuNodeGroups[0].maxSize = 20; });
        assert.deepEqual(kinds(widened, "aws:eks/nodeGroup:NodeGroup"), ["update mlmesh-prod-cluster-gpu-a10g-ng"]);
        assert.match(widened.comparison!.problems.map((p) => p.message).join("\n"), /its scaling range changes, .*run `pulumi up --refresh`.*--allow mlmesh-prod-cluster-gpu-a10g-ng/);
        const allowed = await changed("prod", (c) => { c["mlmesh:cluster"].gpuNodeGroups[0].maxSize = 20; }, ["mlmesh-prod-cluster-gpu-a10g-ng"]);
        assert.deepEqual(allowed.comparison!.problems, []);
    });

    it("(finding 3) refuses a fourth availability zone in prod: every subnet's CIDR moves, and prod protects them", async () => {
        const result = await changed("prod", (c) => { c["mlmesh:network"].availabilityZoneIds = ["use1-az1", "use1-az2", "use1-az4", "use1-az5"]; });
        assert.ok(kinds(result, "aws:ec2/subnet:Subnet").filter((k) => k.startsWith("replace")).length >= 6, kinds(result, "aws:ec2/subnet:Subnet").join("\n"));
        assert.match(result.comparison!.problems.map((p) => p.message).join("\n"), /network-private-1 \(aws:ec2\/subnet:Subnet\) would be replaced \(cidrBlock changed\), and prod protects it/);
    });

    it("(finding 4) keeps KServe installed when the last KServe model goes: it is its own setting", async () => {
        const result = await changed("prod", (c) => {
            c["mlmesh:models"] = c["mlmesh:models"].filter((m: { backend: string; name: string }) => m.backend !== "kserve" && m.name !== "churn");
        });
        // Only the runtimes the models use are offered, so the runtime configs update; nothing is uninstalled.
        assert.deepEqual(kinds(result, "kubernetes:helm.sh/v3:Release").filter((k) => /kserve/.test(k)), ["update mlmesh-prod-kserve-kserve-runtime-configs"]);
        assert.deepEqual(kinds(result, "kubernetes:serving.kserve.io/v1beta1:InferenceService"), ["delete mlmesh-prod-ml-tabular-churn-kserve-isvc"]);
    });

    it("(finding 4) refuses uninstalling KServe in prod; its CRD release (and every InferenceService) is kept", async () => {
        const result = await changed("prod", (c) => {
            c["mlmesh:models"] = c["mlmesh:models"].filter((m: { backend: string; name: string }) => m.backend !== "kserve" && m.name !== "churn");
            c["mlmesh:cluster"].kserve = false;
        });
        const releases = kinds(result, "kubernetes:helm.sh/v3:Release").filter((k) => /kserve/.test(k));
        assert.ok(releases.includes("delete mlmesh-prod-kserve-kserve-crd") && releases.includes("delete mlmesh-prod-kserve-kserve-resources"), releases.join("\n"));
        const refused = result.comparison!.problems.map((p) => p.message).join("\n");
        assert.match(refused, /mlmesh-prod-kserve-kserve-resources \(kubernetes:helm.sh\/v3:Release\) would be deleted in prod/);
        assert.doesNotMatch(refused, /kserve-crd/, "the retained CRD release leaves the stack, not the cluster");
    });

    it("(finding 6) refuses a Kubernetes version that goes back, in dev too", async () => {
        const result = await changed("dev", (c) => { c["mlmesh:cluster"].kubernetesVersion = "1.32"; });
        assert.match(result.comparison!.problems.map((p) => p.message).join("\n"), /goes back from Kubernetes 1\.33 to 1\.32/);
        assert.equal(result.exitCode, EXIT.unsafe);
    });
});
