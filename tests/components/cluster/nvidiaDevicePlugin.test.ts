import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { gpuInstance, type GpuAmiType, type GpuInstance } from "../../../components/cluster/gpuInstances";
import { GPU_TAINT, gpuNodeGroupPlacement, type GpuNodeGroupPlacement } from "../../../components/cluster/gpuPlacement";
import { NVIDIA_DEVICE_PLUGIN_CHART, devicePluginValues, needsDevicePlugin } from "../../../components/cluster/nvidiaDevicePlugin";
import { leafPaths, walkAccepts, type Segment } from "../../chartValues";
import { TEST_IMAGES } from "../fixtures/images";

function placement(name: string, amiType: GpuAmiType, type: string, timeSlicingReplicas?: number): GpuNodeGroupPlacement {
    return gpuNodeGroupPlacement({ name, amiType, instance: gpuInstance(type) as GpuInstance, timeSlicingReplicas });
}

const plain = placement("plain", "AL2023_x86_64_NVIDIA", "g5.xlarge");
const sharedBy4 = placement("shared-4", "AL2023_x86_64_NVIDIA", "g6.xlarge", 4);
const sharedBy2 = placement("shared-2", "AL2023_ARM_64_NVIDIA", "g5g.xlarge", 2);
const rocketBy8 = placement("rocket-8", "BOTTLEROCKET_x86_64_NVIDIA", "g5.xlarge", 8);
const rocket = placement("rocket", "BOTTLEROCKET_x86_64_NVIDIA", "p4d.24xlarge");
/** The input that makes devicePluginValues set the most keys. */
const richest = [sharedBy4, sharedBy2, rocketBy8, plain];

/** Helm values read loosely: the tests check their shape. */
type Values = Record<string, any>;

describe("devicePluginValues", () => {
    const groupSets: [string, GpuNodeGroupPlacement[]][] = [
        ["no groups", []],
        ["one AL2023 group without sharing", [plain]],
        ["time-slicing AL2023 and Bottlerocket groups", richest],
    ];
    for (const [what, placements] of groupSets) {
        it(`tolerates the GPU taint and requires helm-labelled GPU nodes for ${what}`, () => {
            const values = devicePluginValues(placements, TEST_IMAGES) as Values;
            assert.ok(values.tolerations.some((t: Values) => t.key === GPU_TAINT.key && t.operator === "Exists" && t.effect === GPU_TAINT.effect));
            assert.deepEqual(values.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms, [{
                matchExpressions: [
                    { key: "mlmesh.io/gpu", operator: "In", values: ["true"] },
                    { key: "mlmesh.io/device-plugin", operator: "In", values: ["helm"] },
                ],
            }]);
        });
    }

    const noSharing: [string, GpuNodeGroupPlacement[]][] = [
        ["no group time-slices", [plain]],
        ["only a Bottlerocket group time-slices (its host plugin does it)", [plain, rocketBy8]],
        ["there are no groups", []],
    ];
    for (const [what, placements] of noSharing) {
        it(`sets no config when ${what}`, () => {
            assert.ok(!("config" in devicePluginValues(placements, TEST_IMAGES)));
        });
    }

    it("carries one named config per AL2023 replica count plus the default, and defaults to it", () => {
        const config = (devicePluginValues(richest, TEST_IMAGES) as Values).config;
        assert.equal(config.default, "default");
        assert.deepEqual(Object.keys(config.map).sort(), ["default", "time-slicing-2", "time-slicing-4"]);
    });

    it("writes the default entry as a v1 config with no sharing", () => {
        const entry = parse((devicePluginValues(richest, TEST_IMAGES) as Values).config.map.default);
        assert.equal(entry.version, "v1");
        assert.ok(!("sharing" in entry));
    });

    for (const replicas of [2, 4]) {
        it(`writes time-slicing-${replicas} as a v1 config sharing nvidia.com/gpu ${replicas} ways and refusing requests above one`, () => {
            const text = (devicePluginValues(richest, TEST_IMAGES) as Values).config.map[`time-slicing-${replicas}`];
            assert.equal(typeof text, "string");
            const entry = parse(text);
            assert.equal(entry.version, "v1");
            assert.deepEqual(entry.sharing.timeSlicing.resources, [{ name: "nvidia.com/gpu", replicas }]);
            assert.equal(entry.sharing.timeSlicing.failRequestsGreaterThanOne, true);
        });
    }

    it("names one config per replica count even when two groups share it", () => {
        const twin = placement("twin-4", "AL2023_x86_64_NVIDIA", "g6.2xlarge", 4);
        const config = (devicePluginValues([sharedBy4, twin], TEST_IMAGES) as Values).config;
        assert.deepEqual(Object.keys(config.map).sort(), ["default", "time-slicing-4"]);
    });
});

describe("needsDevicePlugin", () => {
    const table: [string, GpuNodeGroupPlacement[], boolean][] = [
        ["no groups", [], false],
        ["Bottlerocket groups only", [rocket, rocketBy8], false],
        ["one AL2023 group", [plain], true],
        ["AL2023 and Bottlerocket groups", [rocket, sharedBy2], true],
    ];
    for (const [what, placements, expected] of table) {
        it(`is ${expected} for ${what}`, () => {
            assert.equal(needsDevicePlugin(placements), expected);
        });
    }
});

function unknownPaths(chartValues: unknown, values: unknown): string[] {
    return leafPaths(values).filter((segments) => !walkAccepts(chartValues, segments)).map((segments) => segments.join("."));
}

describe("devicePluginValues against the nvidia-device-plugin chart", () => {
    const chartsDir = path.join(__dirname, "../../../../shared/charts");
    const chartDir = path.join(chartsDir, `nvidia-device-plugin-${NVIDIA_DEVICE_PLUGIN_CHART.version}`);
    let chartValues: unknown;

    before(function () {
        if (!fs.existsSync(chartsDir)) {
            console.warn(`skipping the chart-values check: ../shared is absent (it exists only beside CI checkouts), looked in ${chartsDir}`);
            this.skip();
        }
        chartValues = parse(fs.readFileSync(path.join(chartDir, "values.yaml"), "utf8"));
    });

    it("pins the chart version of the vendored Chart.yaml", () => {
        const chart = parse(fs.readFileSync(path.join(chartDir, "Chart.yaml"), "utf8"));
        assert.equal(NVIDIA_DEVICE_PLUGIN_CHART.version, chart.version);
        assert.equal(NVIDIA_DEVICE_PLUGIN_CHART.chart, chart.name);
    });

    it("sets only keys that exist in the chart's values.yaml", () => {
        const values = devicePluginValues(richest, TEST_IMAGES);
        assert.ok(leafPaths(values).length > 10, "the richest input should set many keys");
        assert.deepEqual(unknownPaths(chartValues, values), []);
    });

    const accepted: [string, Segment[]][] = [
        ["an existing scalar", ["config", "default"]],
        ["an entry of the free-form config.map", ["config", "map", "anything"]],
        ["an item of the tolerations list", ["tolerations", 5, "key"]],
        ["a nested key of a nodeSelectorTerms item", ["affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms", 0, "matchExpressions", 0, "key"]],
    ];
    for (const [what, segments] of accepted) {
        it(`accepts ${what} (${segments.join(".")})`, () => {
            assert.equal(walkAccepts(chartValues, segments), true);
        });
    }

    const misspelt: [string, Record<string, unknown>, string[]][] = [
        ["a misspelt top-level key", { tolerationz: [{ key: "nvidia.com/gpu" }] }, ["tolerationz.0.key"]],
        ["a misspelt nested key", { config: { mapp: { default: "x" } } }, ["config.mapp.default"]],
        ["a key below a scalar", { image: { tag: { major: 1 } } }, ["image.tag.major"]],
    ];
    for (const [what, values, expected] of misspelt) {
        it(`reports ${what}, proving the check can fail`, () => {
            assert.deepEqual(unknownPaths(chartValues, values), expected);
        });
    }
});
