import * as assert from "node:assert/strict";
import fc from "fast-check";
import { parsePlatformConfig } from "../../stacks/config";
import { problemsOf, type Raw, validRaw } from "./fixtures/rawConfig";

// parsePlatformConfig takes about 0.3 ms per config (1,000 parses of validRaw() ≈ 0.3 s), so each
// property runs the full 1,000 cases: about 0.5 s and 0.8 s measured on a 2-core machine. Loading
// @pulumi/pulumi through stacks/config costs another ~5 s of process start, as for config.test.ts.
const RUNS = { numRuns: 1000 };

type Kind = "string" | "quantity" | "number" | "boolean" | "list" | "mapping";
type Segment = string | number;

/** Fields that take a Kubernetes quantity, which may be written as a string or a number. */
const QUANTITIES = /^mlmesh:mesh\.defaultSidecar\.(cpu|memory|cpuLimit|memoryLimit)$/;

/** `mlmesh:cluster.gpuNodeGroups[0].maxSize`, the way a problem names a setting. */
function pathText(segments: readonly Segment[]): string {
    const [key, ...rest] = segments;
    return rest.reduce<string>((text, s) => (typeof s === "number" ? `${text}[${s}]` : `${text}.${s}`), String(key));
}

function kindOf(value: unknown, path: string): Kind {
    if (Array.isArray(value)) return "list";
    if (value !== null && typeof value === "object") return "mapping";
    if (typeof value === "string") return QUANTITIES.test(path) ? "quantity" : "string";
    return typeof value as "number" | "boolean";
}

/** Every setting validRaw() writes, containers included (top-level keys, nested mappings, lists, list items). */
function settingsOf(value: unknown, prefix: Segment[] = []): { segments: Segment[]; kind: Kind }[] {
    const children: [Segment, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : value !== null && typeof value === "object" ? Object.entries(value) : [];
    return children.flatMap(([key, child]) => {
        const segments = [...prefix, key];
        return [{ segments, kind: kindOf(child, pathText(segments)) }, ...settingsOf(child, segments)];
    });
}

const SETTINGS = settingsOf(validRaw());

/**
 * Values of every other type than `kind` (a number is a fine quantity, so not wrong for one; a
 * null top-level mapping reads as unset, so null is left out for mappings and lists).
 */
const WRONG: Readonly<Record<Kind, readonly unknown[]>> = {
    string: [7, true, {}, [], null],
    quantity: [true, {}, [], null],
    number: ["8", true, {}, [], null],
    boolean: ["false", 0, {}, [], null],
    list: [{}, "a", 1, true],
    mapping: [[], "a", 1, true],
};

function withValue(segments: readonly Segment[], value: unknown): Raw {
    const raw = validRaw();
    let node: any = raw;
    for (const segment of segments.slice(0, -1)) {
        node = node[segment];
    }
    node[segments[segments.length - 1]] = value;
    return raw;
}

const wrongSettingArbitrary = fc.constantFrom(...SETTINGS).chain(({ segments, kind }) =>
    fc.record({ segments: fc.constant(segments), wrong: fc.constantFrom(...WRONG[kind]) }));

/** Every key meshSchema knows (the docs' list, written out here rather than read from the schema). */
const MESH_KEYS = ["istioVersion", "mtls", "ingressGateway", "tracing", "defaultSidecar", "namespaces", "inferenceExtension", "cni", "podSecurity", "egress"];

describe("parsePlatformConfig (properties)", () => {
    it("starts from a config it accepts, which names every kind of setting", () => {
        assert.doesNotThrow(() => parsePlatformConfig(validRaw(), "dev"));
        assert.deepEqual([...new Set(SETTINGS.map((s) => s.kind))].sort(), ["boolean", "list", "mapping", "number", "quantity", "string"]);
        assert.ok(SETTINGS.some((s) => pathText(s.segments) === "mlmesh:cluster.gpuNodeGroups[0].maxSize"));
    });

    it("refuses a value of the wrong type at any setting with exactly one problem, naming that setting and its value", () => {
        fc.assert(fc.property(wrongSettingArbitrary, ({ segments, wrong }) => {
            const path = pathText(segments);
            const problems = problemsOf(withValue(segments, wrong));
            // One bad setting, one problem: a broken mapping does not also report its children.
            assert.equal(problems.length, 1, `${path} = ${JSON.stringify(wrong)}: ${JSON.stringify(problems.map((p) => p.path))}`);
            assert.equal(problems[0].path, path);
            assert.equal(JSON.stringify(problems[0].value), JSON.stringify(wrong), path);
        }), RUNS);
    });

    it("refuses any unknown key under mlmesh:mesh with exactly one problem that names it and shows its value", () => {
        const keyArbitrary = fc.oneof(
            fc.string({ maxLength: 12 }),
            fc.constantFrom("toString", "constructor", "__proto__", "hasOwnProperty", "valueOf", "MTLS", "mtls ", "ingressgateway", "sidecar"),
        ).filter((key) => !MESH_KEYS.includes(key));
        fc.assert(fc.property(keyArbitrary, fc.jsonValue({ maxDepth: 2 }), (key, value) => {
            const raw = validRaw();
            // defineProperty, so that "__proto__" is an own key as a YAML or JSON parser makes it.
            Object.defineProperty(raw["mlmesh:mesh"], key, { value, enumerable: true, writable: true, configurable: true });
            const problems = problemsOf(raw);
            assert.equal(problems.length, 1, JSON.stringify(problems));
            const [problem] = problems;
            const named = /^[A-Za-z_$][\w$]*$/.test(key) ? `mlmesh:mesh.${key}` : `mlmesh:mesh["${key}"]`;
            assert.equal(problem.path, named);
            assert.equal(JSON.stringify(problem.value), JSON.stringify(value));
            assert.match(problem.reason, /is not a known setting( \(did you mean `\w+`\?\))?; use one of: .*istioVersion/);
        }), RUNS);
    });
});
