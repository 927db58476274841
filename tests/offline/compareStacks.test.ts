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
    async function changed(stack: string, change: (config: Record<string, any>) => void, allow?: string[], compare = previous[stack]): Promise<PlanResult> {
        const doc = parse(readFileSync(path.join(STACKS, `Pulumi.${stack}.yaml`), "utf8"));
        change(doc.config);
        const file = path.join(dir, `changed-${++counter}`, `Pulumi.${stack}.yaml`);
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, stringify(doc));
        return plan({ stack, configFile: file, outDir: path.join(dir, `out-${counter}`), compare, allow });
    }
    const kinds = (result: PlanResult, type: string) => result.comparison!.changes.filter((c) => c.type === type).map((c) => `${c.kind} ${c.name}`).sort();

    it("stops before planning when the previous plan cannot be read, naming the file and the fix", async () => {
        const notJson = path.join(dir, "not-a-plan.json");
        writeFileSync(notJson, "{}");
        for (const [file, message] of [[path.join(dir, "missing.json"), /cannot read the previous plan as JSON/], [notJson, /a previous plan needs `resources` with a urn and type each/]] as const) {
            await assert.rejects(plan({ stack: "dev", outDir: path.join(dir, "bad"), compare: file }), (error: unknown) => error instanceof PlanInputError && message.test(error.message) && error.message.includes(file));
        }
    });

    it("refuses a baseline that is the plan.json it would write: a second run would compare against itself", async () => {
        const outDir = path.join(dir, "self");
        await assert.rejects(plan({ stack: "dev", outDir, compare: path.join(outDir, "plan.json") }),
            (error: unknown) => error instanceof PlanInputError && /is the plan\.json this plan writes .*compare against a copy kept elsewhere/.test(error.message));
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

    it("(finding 2) updates a node group's scaling range in place, sending the live desired size raised to the new minimum", async () => {
        const scaling = (result: PlanResult, name: string) => result.resources.find((r) => r.name === name)!.inputs.scalingConfig;
        const raised = await changed("prod", (c) => { Object.assign(c["mlmesh:cluster"].gpuNodeGroups[0], { minSize: 3, desiredSize: 3 }); });
        assert.deepEqual(kinds(raised, "aws:eks/nodeGroup:NodeGroup"), ["update mlmesh-prod-cluster-gpu-a10g-ng"]);
        assert.deepEqual([scaling(raised, "mlmesh-prod-cluster-gpu-a10g-ng"), raised.comparison!.problems, raised.exitCode], [{ minSize: 3, maxSize: 16, desiredSize: 3 }, [], EXIT.ok]);
        // The autoscaler grew the group to 6 since the last update: a wider range keeps its 6.
        const grown = path.join(dir, "grown.json");
        const plan = JSON.parse(readFileSync(previous.prod, "utf8"));
        plan.resources.find((r: { name: string }) => r.name === "mlmesh-prod-cluster-gpu-a10g-ng").inputs.scalingConfig.desiredSize = 6;
        writeFileSync(grown, JSON.stringify(plan));
        const widened = await changed("prod", (c) => { c["mlmesh:cluster"].gpuNodeGroups[0].maxSize = 24; }, undefined, grown);
        assert.deepEqual([scaling(widened, "mlmesh-prod-cluster-gpu-a10g-ng"), widened.comparison!.problems, widened.exitCode], [{ minSize: 2, maxSize: 24, desiredSize: 6 }, [], EXIT.ok]);
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

    it("(finding 5) refuses removing the old istiod in the `pulumi up` that moves the namespaces off it; it goes in a later one", async () => {
        const refusal = /mlmesh-dev-mesh-istiod-1-30-2: removes istiod 1-30-2, which the namespaces used before this change; .*Keep 1\.30\.2 in mlmesh:mesh\.servedVersions .*no pod's `istio\.io\/rev` annotation is 1-30-2, and `istioctl proxy-status` lists no proxy on istiod-1-30-2/;
        // A platform on 1.30.2 (planned against the committed 1.30.3 plan, so that one is refused the same way).
        const onOld = await changed("dev", (c) => { c["mlmesh:mesh"].istioVersion = "1.30.2"; });
        assert.match(onOld.comparison!.problems.map((p) => p.message).join("\n"), /removes istiod 1-30-3/);
        const oldPlan = path.join(onOld.outDir, "plan.json");

        const inOneGo = await changed("dev", (c) => { c["mlmesh:mesh"].istioVersion = "1.30.3"; }, undefined, oldPlan);
        assert.deepEqual([inOneGo.comparison!.problems.map((p) => p.message).filter((m) => refusal.test(m)).length, inOneGo.exitCode], [1, EXIT.unsafe]);

        const served = await changed("dev", (c) => { Object.assign(c["mlmesh:mesh"], { istioVersion: "1.30.3", servedVersions: ["1.30.2", "1.30.3"] }); }, undefined, oldPlan);
        assert.deepEqual([served.comparison!.problems, served.exitCode], [[], EXIT.ok]);
        assert.deepEqual(kinds(served, "kubernetes:helm.sh/v3:Release").filter((k) => /istiod/.test(k)), ["create mlmesh-dev-mesh-istiod-1-30-3"]);
        assert.ok(kinds(served, "kubernetes:core/v1:Namespace").includes("update mlmesh-dev-mesh-ns-ml-serving"));

        const later = await changed("dev", (c) => { c["mlmesh:mesh"].istioVersion = "1.30.3"; }, undefined, path.join(served.outDir, "plan.json"));
        assert.deepEqual(kinds(later, "kubernetes:helm.sh/v3:Release"), ["delete mlmesh-dev-mesh-istiod-1-30-2"]);
        assert.deepEqual([later.comparison!.problems, later.exitCode], [[], EXIT.ok]);
    });

    it("(finding 6) stops before anything changes when the Kubernetes version goes back from the live one, in dev too", async () => {
        await assert.rejects(changed("dev", (c) => { c["mlmesh:cluster"].kubernetesVersion = "1.32"; }), (error: unknown) => error instanceof PlanInputError
            && /cluster\.kubernetesVersion: the live cluster mlmesh-dev runs 1\.33; the new setting goes back from Kubernetes 1\.33 to 1\.32: EKS cannot downgrade a cluster; keep 1\.33/.test(error.message));
    });
});
