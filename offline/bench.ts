/**
 * `npm run bench`: `mlmesh plan` at scale, measured as a user runs it (the compiled CLI as a
 * process) against two baselines in the same run: the bare mock engine registering as many plain
 * resources, and a replay of exactly the plan's resources (benchBaselines.ts). Each size is
 * planned from a generated prod stack (benchStacks.ts). The table goes to the terminal and the
 * numbers to `.mlmesh/bench/` as JSON. One unmeasured round warms Node's compile cache first.
 *   MLMESH_BENCH_SIZES=1,10,100,500   the model counts to plan (the default)
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { stringify } from "yaml";
import { benchStackConfig } from "./benchStacks";
import { goals, renderBench, type Measurement, type SizeResult } from "./benchReport";
import { packageRoot } from "./programEntry";

const ROOT = packageRoot(__dirname) ?? process.cwd();
const OUT = path.join(ROOT, ".mlmesh", "bench");
const RSS_PRELOAD = path.join(ROOT, "offline", "bin", "peakRss.js");

/** Runs `node ARGS` with the RSS probe loaded; fails when the process does. */
function measure(args: readonly string[], cwd: string): Measurement {
    const rssFile = path.join(OUT, "peak-rss");
    rmSync(rssFile, { force: true });
    const start = performance.now();
    // Every process, the baselines too, keeps its compiled code in one compile cache, as the installed CLI does.
    const env = { ...process.env, MLMESH_BENCH_RSS_FILE: rssFile, NODE_COMPILE_CACHE: path.join(OUT, "compile-cache") };
    const run = spawnSync(process.execPath, ["--require", RSS_PRELOAD, ...args], { cwd, env, encoding: "utf8", maxBuffer: 1 << 30 });
    const wallMs = performance.now() - start;
    if (run.status !== 0) {
        throw new Error(`node ${args.join(" ")} exited ${run.status}:\n${run.stderr}\n${run.stdout.split("\n").slice(-20).join("\n")}`);
    }
    return { wallMs, peakRssBytes: Number(readFileSync(rssFile, "utf8")) };
}

/** A project folder planning the compiled program on a generated stack of `models` models. */
function benchProject(models: number): string {
    const dir = path.join(OUT, "projects", `models-${models}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const main = path.relative(dir, path.join(ROOT, "dist", "stacks", "index.js"));
    writeFileSync(path.join(dir, "Pulumi.yaml"), `name: bench\nruntime: nodejs\nmain: ${main}\n`);
    writeFileSync(path.join(dir, "Pulumi.bench.yaml"), stringify({ config: benchStackConfig(models, path.join(ROOT, "stacks")) }));
    return dir;
}

function benchSize(models: number): SizeResult {
    const dir = benchProject(models);
    const plan = measure([path.join(ROOT, "bin", "mlmesh.js"), "plan", "-s", "bench"], dir);
    const planFile = path.join(dir, ".mlmesh", "plan", "bench", "plan.json");
    const resources = (JSON.parse(readFileSync(planFile, "utf8")) as { resources: unknown[] }).resources.length;
    const baselines = path.join(ROOT, "dist", "offline", "benchBaselines.js");
    const replay = measure([baselines, "replay", planFile], dir);
    const plain = measure([baselines, "plain", String(resources)], dir);
    const result = { models, resources, plan, plain, replay };
    console.log(`  ${models} model(s): ${resources} resources, plan ${(plan.wallMs / 1000).toFixed(1)} s, replay ${(replay.wallMs / 1000).toFixed(1)} s, plain ${(plain.wallMs / 1000).toFixed(1)} s`);
    return result;
}

function main(): void {
    const sizes = (process.env.MLMESH_BENCH_SIZES ?? "1,10,100,500").split(",").map(Number);
    mkdirSync(OUT, { recursive: true });
    const cpus = os.cpus();
    const machine = `${cpus.length} × ${cpus[0]?.model.trim() ?? "unknown CPU"}, ${Math.round(os.totalmem() / 2 ** 30)} GB, Node ${process.version}, ${os.platform()} ${os.release()}`;
    console.log(`Planning generated stacks of ${sizes.join(", ")} models (compiled CLI, one process each) and their baselines`);
    // One unmeasured round first, so every measured process starts with its code compiled.
    benchSize(Math.min(...sizes));
    console.log("  (that round warmed the compile cache; measuring)");
    const results = sizes.map(benchSize);
    console.log(`\n${renderBench(results, machine)}`);
    const report = { date: new Date().toISOString(), machine, results, goals: goals(results) };
    const file = path.join(OUT, `bench-${report.date.replace(/[:.]/g, "-")}.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(path.join(OUT, "latest.json"), `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nWrote ${path.relative(process.cwd(), file)} (and latest.json)`);
}

main();
