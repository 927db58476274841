/**
 * What `npm run bench` reports: per stack size, the plan against its two baselines, the growth
 * exponent, and the goals judged on the numbers. Pure: the bench measures, this reads.
 */

/** One measured process: wall time from spawn to exit, and its peak resident set size. */
export interface Measurement {
    readonly wallMs: number;
    readonly peakRssBytes: number;
}

export interface SizeResult {
    readonly models: number;
    readonly resources: number;
    /** `mlmesh plan` as a user runs it: the installed CLI, as a process. */
    readonly plan: Measurement;
    /** The bare mock engine registering as many plain resources. */
    readonly plain: Measurement;
    /** The bare mock engine registering exactly the plan's resources. */
    readonly replay: Measurement;
}

export interface Goal {
    readonly name: string;
    readonly value: number;
    readonly limit: number;
    readonly met: boolean;
}

/**
 * The slope of log(y) against log(x) by least squares: 1 is linear growth, 2 quadratic. Needs
 * two points or more with distinct x.
 */
export function growthExponent(points: readonly { x: number; y: number }[]): number {
    const usable = points.filter((p) => p.x > 0 && p.y > 0);
    if (new Set(usable.map((p) => p.x)).size < 2) {
        throw new Error("a growth exponent needs two sizes or more");
    }
    const xs = usable.map((p) => Math.log(p.x));
    const ys = usable.map((p) => Math.log(p.y));
    const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
    const mx = mean(xs);
    const my = mean(ys);
    const covariance = xs.reduce((sum, x, i) => sum + (x - mx) * (ys[i] - my), 0);
    const variance = xs.reduce((sum, x) => sum + (x - mx) ** 2, 0);
    return covariance / variance;
}

const ratio = (a: number, b: number): number => a / b;

/** The goals of issue 16 that the numbers can judge (the largest size stands for "500 models"). */
export function goals(results: readonly SizeResult[]): Goal[] {
    const sorted = [...results].sort((a, b) => a.models - b.models);
    const largest = sorted[sorted.length - 1];
    const smallest = sorted[0];
    const list: Goal[] = [];
    const add = (name: string, value: number, limit: number) => list.push({ name, value, limit, met: value <= limit });
    if (largest) {
        add(`${largest.models} models: time / replay`, ratio(largest.plan.wallMs, largest.replay.wallMs), 1.2);
        add(`${largest.models} models: time / plain`, ratio(largest.plan.wallMs, largest.plain.wallMs), 1.5);
        add(`${largest.models} models: peak RSS / replay`, ratio(largest.plan.peakRssBytes, largest.replay.peakRssBytes), 1.2);
    }
    const from = sorted.find((r) => r.models >= 100 && r !== largest);
    if (from && largest) {
        add(`growth exponent ${from.models}→${largest.models} models`, growthExponent([from, largest].map((r) => ({ x: r.resources, y: r.plan.wallMs }))), 1.05);
    }
    if (smallest) {
        add(`${smallest.models} model(s): time / plain`, ratio(smallest.plan.wallMs, smallest.plain.wallMs), 2);
    }
    return list;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const megabytes = (bytes: number): string => `${Math.round(bytes / 2 ** 20)} MB`;
const times = (value: number): string => `${value.toFixed(2)}×`;

/** The terminal table: one row per size, then the growth exponent and the goals. */
export function renderBench(results: readonly SizeResult[], machine: string): string {
    const header = ["models", "resources", "plan", "ms/res", "replay", "plain", "÷replay", "÷plain", "plan RSS", "replay RSS", "RSS÷replay"];
    const rows = results.map((r) => [
        String(r.models), String(r.resources), seconds(r.plan.wallMs), (r.plan.wallMs / r.resources).toFixed(2),
        seconds(r.replay.wallMs), seconds(r.plain.wallMs), times(ratio(r.plan.wallMs, r.replay.wallMs)), times(ratio(r.plan.wallMs, r.plain.wallMs)),
        megabytes(r.plan.peakRssBytes), megabytes(r.replay.peakRssBytes), times(ratio(r.plan.peakRssBytes, r.replay.peakRssBytes)),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ");
    const fitted = results.filter((r) => r.models >= 10);
    const exponent = fitted.length >= 2 ? growthExponent(fitted.map((r) => ({ x: r.resources, y: r.plan.wallMs }))) : undefined;
    return [
        `mlmesh bench on ${machine}`,
        "",
        line(header),
        ...rows.map(line),
        "",
        ...(exponent === undefined ? [] : [`growth exponent (log-log fit of plan time on resources, ${fitted.map((r) => r.models).join(", ")} models): ${exponent.toFixed(3)}`]),
        "Goals:",
        ...goals(results).map((g) => `  ${g.met ? "met   " : "missed"} ${g.name}: ${g.value.toFixed(2)} (goal ≤ ${g.limit})`),
    ].join("\n");
}
