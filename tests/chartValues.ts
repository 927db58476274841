/**
 * Test helpers that check Helm values against a pinned chart's `values.yaml` (and, for Istio,
 * its `template-value-refs.tsv`), so that a misspelt key, which Helm silently ignores, fails a test.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

export type Segment = string | number;

/** Every path to a scalar in `value`, with list items as numeric segments. */
export function leafPaths(value: unknown, prefix: Segment[] = []): Segment[][] {
    if (Array.isArray(value)) {
        return value.flatMap((item, i) => leafPaths(item, [...prefix, i]));
    }
    if (value !== null && typeof value === "object") {
        return Object.entries(value).flatMap(([key, item]) => leafPaths(item, [...prefix, key]));
    }
    return [prefix];
}

/** Whether `segments` exists in `chartValues`, or the walk reaches a free-form `{}` or a list. */
export function walkAccepts(chartValues: unknown, segments: readonly Segment[]): boolean {
    let node = chartValues;
    for (const segment of segments) {
        if (Array.isArray(node)) {
            return true;
        }
        if (node === null || typeof node !== "object") {
            return false;
        }
        if (Object.keys(node).length === 0) {
            return true;
        }
        if (typeof segment !== "string" || !Object.prototype.hasOwnProperty.call(node, segment)) {
            return false;
        }
        node = (node as Record<string, unknown>)[segment];
    }
    return true;
}

/** The node at `segments`, or `undefined` when the path is absent. */
function nodeAt(values: unknown, segments: readonly Segment[]): unknown {
    let node = values;
    for (const segment of segments) {
        if (node === null || typeof node !== "object" || !Object.prototype.hasOwnProperty.call(node, segment)) {
            return undefined;
        }
        node = (node as Record<string, unknown>)[String(segment)];
    }
    return node;
}

/** One template reference: the `.Values` path and whether values.yaml has it. */
interface TemplateRef {
    readonly segments: readonly string[];
    readonly inValues: boolean;
}

/** An Istio chart's user-facing defaults and the paths its templates read. */
export interface IstioChart {
    readonly name: string;
    /** values.yaml with the `_internal_defaults_do_not_set` wrapper removed. */
    readonly defaults: unknown;
    readonly refs: readonly TemplateRef[];
    /** Paths accepted though values.yaml and the templates' regex miss them (README "Keys accepted at the top level"). */
    readonly extraKeys: readonly string[];
    /** Legacy alias merged onto the root: `pilot.X` (istiod) or `cni.X` (cni) means `X`. */
    readonly alias?: string;
}

/** Template refs that are chart internals, not user keys (`defaults.*` makes the chart fail on purpose). */
const INTERNAL_REFS = new Set(["_internal_defaults_do_not_set", "_original", "defaults"]);

export function loadIstioChart(chartsDir: string, name: "base" | "istiod" | "gateway" | "cni"): IstioChart {
    const dir = path.join(chartsDir, name);
    const values = parse(fs.readFileSync(path.join(dir, "values.yaml"), "utf8")) as Record<string, unknown>;
    const refs = fs.readFileSync(path.join(dir, "template-value-refs.tsv"), "utf8").split("\n")
        .filter((line) => line.trim() !== "" && !line.startsWith("#"))
        .map((line) => line.split("\t"))
        .map(([status, ref]) => ({ segments: ref.split("."), inValues: status === "in-values" }))
        .filter((ref) => !INTERNAL_REFS.has(ref.segments[0]));
    const platform = name === "base" ? [] : ["platform", "global.platform"];
    return {
        name,
        defaults: values._internal_defaults_do_not_set,
        refs,
        extraKeys: ["profile", "global.profile", "compatibilityVersion", ...platform],
        alias: name === "istiod" ? "pilot" : name === "cni" ? "cni" : undefined,
    };
}

function startsWith(segments: readonly Segment[], prefix: readonly string[]): boolean {
    return prefix.length <= segments.length && prefix.every((part, i) => segments[i] === part);
}

/**
 * Whether an Istio chart accepts the user path `segments` (no `_internal_defaults_do_not_set`):
 * - the walk of the unwrapped defaults finds it, or reaches an empty map `{}` or a list; or
 * - a template reads exactly this path (e.g. `global.proxy.holdApplicationUntilProxyStarts`); or
 * - a template reads a prefix of it whose defaults node is absent (read but not defaulted), a list,
 *   or a free-form map: a map no `in-values` template ref goes below (e.g. `meshConfig`, read whole).
 *   A map whose sub-keys the templates read one by one (`global`, `service`) is not free-form, so
 *   a misspelt key below it is reported.
 */
export function istioChartAccepts(chart: IstioChart, segments: readonly Segment[]): boolean {
    if (chart.alias !== undefined && segments.length > 1 && segments[0] === chart.alias) {
        return istioChartAccepts(chart, segments.slice(1));
    }
    if (chart.extraKeys.includes(segments.join("."))) {
        return true;
    }
    if (walkAccepts(chart.defaults, segments)) {
        return true;
    }
    for (let length = segments.length; length > 0; length--) {
        const prefix = segments.slice(0, length);
        if (!chart.refs.some((ref) => ref.segments.length === length && startsWith(prefix, ref.segments))) {
            continue;
        }
        if (length === segments.length) {
            return true;
        }
        const node = nodeAt(chart.defaults, prefix);
        const readBelow = chart.refs.some((ref) => ref.inValues && ref.segments.length > length && startsWith(ref.segments, prefix.map(String)));
        if (node === undefined || Array.isArray(node) || (node !== null && typeof node === "object" && !readBelow)) {
            return true;
        }
    }
    return false;
}

/** The dotted leaf paths of `values` that the chart does not accept. */
export function unknownIstioPaths(chart: IstioChart, values: unknown): string[] {
    return leafPaths(values).filter((segments) => !istioChartAccepts(chart, segments)).map((segments) => segments.join("."));
}
