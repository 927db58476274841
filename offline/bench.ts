/**
 * `npm run bench`: what the offline engine costs, as ratios measured in one run.
 *   baseline  the dev program under plain `pulumi.runtime.setMocks` (no recording)
 *   record    the same program through the recording monitor (runProgram)
 *   plan      the whole `mlmesh plan`: record, render and validate manifests, write files
 * Each is run `ROUNDS` times after a warm-up; medians are compared.
 */
import * as pulumi from "@pulumi/pulumi";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { DEFAULT_OFFLINE_ACCOUNT, PlanMocks } from "./mockOutputs";
import { plan } from "./plan";
import { runProgram } from "./recorder";
import { readStackFile } from "./stackFile";

const ROUNDS = Number(process.env.MLMESH_BENCH_ROUNDS ?? 15);
const ROOT = path.join(__dirname, "..");

// eslint-disable-next-line @typescript-eslint/no-require-imports
const program = require(path.join(ROOT, "stacks")) as () => Promise<unknown>;

async function median(label: string, run: () => Promise<unknown>): Promise<number> {
    await run();
    const times: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
        const start = performance.now();
        await run();
        times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    const value = times[Math.floor(times.length / 2)];
    console.log(`${label.padEnd(9)} median ${value.toFixed(1)} ms over ${ROUNDS} rounds (min ${times[0].toFixed(1)}, max ${times[times.length - 1].toFixed(1)})`);
    return value;
}

async function bench(): Promise<void> {
    const stackFile = readStackFile(path.join(ROOT, "stacks", "Pulumi.dev.yaml"));
    const mocks = new PlanMocks({ ...DEFAULT_OFFLINE_ACCOUNT, region: stackFile.config["aws:region"] });
    const out = mkdtempSync(path.join(tmpdir(), "mlmesh-bench-"));
    try {
        const baseline = await median("baseline", async () => {
            await pulumi.runtime.setMocks(mocks, "mlmesh", "dev", false);
            pulumi.runtime.setAllConfig(stackFile.config);
            await pulumi.runtime.runInPulumiStack(program);
            await pulumi.runtime.disconnect();
        });
        const record = await median("record", () => runProgram({ project: "mlmesh", stack: "dev", config: stackFile.config, mocks, program }));
        const full = await median("plan", () => plan({ stack: "dev", outDir: out }));
        console.log(`ratios: record/baseline ${(record / baseline).toFixed(2)}x, plan/baseline ${(full / baseline).toFixed(2)}x`);
    } finally {
        rmSync(out, { recursive: true, force: true });
    }
}

bench().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
});
