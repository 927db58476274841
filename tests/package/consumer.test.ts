import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

const ROOT = path.join(__dirname, "..", "..");

/**
 * mlmesh as a platform team uses it: packed, installed from the tarball into a project that
 * `mlmesh new` made, type-checked there, and planned with the installed `mlmesh` command. The
 * project's program uses MlPlatform (through the config-driven program) and a lower-level
 * component (ClusterVpc) directly.
 */
describe("the packed package in a new project", function () {
    this.timeout(600_000);
    const dir = mkdtempSync(path.join(tmpdir(), "mlmesh-consumer-"));
    const project = path.join(dir, "platform");
    let tarball: string;

    before(() => {
        // `npm pack` runs prepack, which builds dist/.
        const packed = execFileSync("npm", ["pack", "--json", "--pack-destination", dir], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        const [{ filename }] = JSON.parse(packed) as { filename: string }[];
        tarball = path.join(dir, filename);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("ships the compiled API, its declarations, the CLI and the LICENSE, and no TypeScript sources or tests", () => {
        const files = execFileSync("tar", ["tzf", tarball], { encoding: "utf8" }).split("\n").filter(Boolean);
        for (const needed of ["package/dist/components/index.js", "package/dist/components/index.d.ts", "package/dist/components/index.js.map", "package/dist/offline/cli.js", "package/bin/mlmesh.js", "package/LICENSE", "package/dist/templates/platform/Pulumi.yaml", "package/dist/offline/schemas/index.json", "package/dist/policy-pack/config/prod.json"]) {
            assert.ok(files.includes(needed), `${needed} is not in the package`);
        }
        assert.deepEqual(files.filter((f) => /^package\/(tests|stacks|components|offline)\//.test(f) || (f.endsWith(".ts") && !f.endsWith(".d.ts") && !f.includes("/templates/"))), []);
    });

    it("scaffolds a project with `mlmesh new`", () => {
        const out = execFileSync(process.execPath, [path.join(ROOT, "bin", "mlmesh.js"), "new", project], { encoding: "utf8" });
        assert.match(out, /Created a platform project in .*platform: Pulumi\.dev\.yaml, Pulumi\.yaml, \.gitignore, index\.ts, package\.json, tsconfig\.json/);
        assert.match(out, /npx mlmesh plan -s dev/);
        assert.equal(JSON.parse(readFileSync(path.join(project, "package.json"), "utf8")).name, "platform");
    });

    it("installs from the tarball, type-checks a program using MlPlatform and ClusterVpc, and plans it with the installed mlmesh", () => {
        writeFileSync(path.join(project, "index.ts"), [
            `import * as mlmesh from "mlmesh";`,
            ``,
            `export = async () => {`,
            `    const outputs = mlmesh.buildPlatform(mlmesh.loadPlatformConfig());`,
            `    // A lower-level component on its own: a second network for a batch cluster.`,
            `    const batch = new mlmesh.ClusterVpc("batch-network", { cidrBlock: "10.90.0.0/16", availabilityZoneCount: 2, clusterName: "batch" });`,
            `    return { ...outputs, batchVpcId: batch.vpcId };`,
            `};`,
            ``,
        ].join("\n"));
        const install = spawnSync("npm", ["install", tarball, "--prefer-offline", "--no-audit", "--no-fund"], { cwd: project, encoding: "utf8" });
        assert.equal(install.status, 0, install.stderr);
        // The types resolve from the installed package: dist/components/index.d.ts.
        const tsc = spawnSync(process.execPath, [path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "--noEmit", "-p", "tsconfig.json"], { cwd: project, encoding: "utf8" });
        assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
        const bin = path.join(project, "node_modules", ".bin", "mlmesh");
        assert.ok(existsSync(bin), "the package installs an mlmesh command");
        const plan = spawnSync(bin, ["plan", "-s", "dev"], { cwd: project, encoding: "utf8" });
        assert.equal(plan.status, 0, plan.stdout.slice(-3000) + plan.stderr.slice(-3000));
        assert.match(plan.stdout, /Previewing mlmesh plan \(platform\/dev, offline\) from .*Pulumi\.dev\.yaml/);
        assert.match(plan.stdout, /Policies: 0 mandatory/);
        assert.match(plan.stdout, /batchVpcId/);
        const recorded = JSON.parse(readFileSync(path.join(project, ".mlmesh", "plan", "dev", "plan.json"), "utf8")) as { resources: { type: string; name: string }[] };
        assert.ok(recorded.resources.some((r) => r.type === "mlmesh:platform:MlPlatform"));
        assert.ok(recorded.resources.some((r) => r.type === "mlmesh:cluster:ClusterVpc" && r.name === "batch-network"));
        // Installed, the engine runs as JavaScript: no TypeScript compiler of mlmesh's own is loaded.
        assert.ok(readdirSync(path.join(project, "node_modules", "mlmesh", "dist", "offline")).includes("cli.js"));
    });
});
