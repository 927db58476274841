import * as pulumi from "@pulumi/pulumi";
import * as assert from "node:assert/strict";
import { PropertyErrors } from "../../../components/propertyErrors";
import { SidecarResources, type SidecarResourcesSpec } from "../../../components/mesh/sidecarResources";

const valid: Required<SidecarResourcesSpec> = { cpu: "100m", memory: "128Mi", cpuLimit: "2", memoryLimit: "1Gi", concurrency: 2 };

/** The property paths of the InputPropertiesError `build` throws; fails when it does not throw one. */
function thrownPaths(build: () => unknown): string[] {
    try {
        build();
    } catch (error) {
        assert.ok(pulumi.InputPropertiesError.isInstance(error), `expected an InputPropertiesError, got ${String(error)}`);
        return error.errors.map((e) => e.propertyPath);
    }
    assert.fail("expected an InputPropertiesError, but nothing was thrown");
}

function thrownReasons(build: () => unknown): string[] {
    try {
        build();
    } catch (error) {
        assert.ok(pulumi.InputPropertiesError.isInstance(error));
        return error.errors.map((e) => e.reason);
    }
    assert.fail("expected an InputPropertiesError, but nothing was thrown");
}

describe("SidecarResources.of", () => {
    it("renders exactly the five injector annotations of a valid spec", () => {
        assert.deepEqual(SidecarResources.of(valid).annotations(), {
            "sidecar.istio.io/proxyCPU": "100m",
            "sidecar.istio.io/proxyMemory": "128Mi",
            "sidecar.istio.io/proxyCPULimit": "2",
            "sidecar.istio.io/proxyMemoryLimit": "1Gi",
            "proxy.istio.io/config": JSON.stringify({ concurrency: 2 }),
        });
    });

    it("writes the proxy config annotation as JSON with only the concurrency", () => {
        const config = SidecarResources.of({ ...valid, concurrency: 0 }).annotations()["proxy.istio.io/config"];
        assert.deepEqual(JSON.parse(config), { concurrency: 0 });
    });

    const accepted: [string, Partial<SidecarResourcesSpec>][] = [
        ["concurrency 0 (one worker per core)", { concurrency: 0 }],
        ["concurrency 64, the maximum", { concurrency: 64 }],
        ["requests equal to their limits", { cpu: "2", memory: "1024Mi" }],
        ["a cpu request equal to its limit written in another notation", { cpu: "700m", cpuLimit: "0.7" }],
    ];
    for (const [what, change] of accepted) {
        it(`accepts ${what}`, () => {
            assert.doesNotThrow(() => SidecarResources.of({ ...valid, ...change }));
        });
    }

    const rejected: [string, Partial<SidecarResourcesSpec>, string, RegExp?][] = [
        ["memory that is not a quantity", { memory: "lots" }, "defaultSidecar.memory", /"512Mi"/],
        ["a cpu request that is not a quantity", { cpu: "two" }, "defaultSidecar.cpu", /"500m"/],
        ["a cpu limit that is not a quantity", { cpuLimit: "1 core" }, "defaultSidecar.cpuLimit"],
        ["a memory limit in lower-case units", { memoryLimit: "1gi" }, "defaultSidecar.memoryLimit"],
        ["a cpu request above the cpu limit", { cpu: "2", cpuLimit: "500m" }, "defaultSidecar.cpu", /`cpuLimit`/],
        ["a memory request above the memory limit", { memory: "2Gi", memoryLimit: "1G" }, "defaultSidecar.memory", /`memoryLimit`/],
        ["a negative concurrency", { concurrency: -1 }, "defaultSidecar.concurrency", /0 to 64/],
        ["a concurrency above 64", { concurrency: 65 }, "defaultSidecar.concurrency"],
        ["a fractional concurrency", { concurrency: 1.5 }, "defaultSidecar.concurrency"],
    ];
    for (const [what, change, expectedPath, reason] of rejected) {
        it(`throws naming ${expectedPath} for ${what}`, () => {
            const build = () => SidecarResources.of({ ...valid, ...change }, "defaultSidecar");
            assert.deepEqual(thrownPaths(build), [expectedPath]);
            if (reason) {
                assert.match(thrownReasons(build)[0], reason);
            }
        });
    }

    const invalidPairs: [string, Partial<SidecarResourcesSpec>, string][] = [
        ["the cpu limit is not a quantity", { cpu: "2", cpuLimit: "lots" }, "sidecar.cpuLimit"],
        ["the cpu request is not a quantity", { cpu: "lots", cpuLimit: "500m" }, "sidecar.cpu"],
        ["the memory limit is not a quantity", { memory: "2Gi", memoryLimit: "1 G" }, "sidecar.memoryLimit"],
    ];
    for (const [what, change, expectedPath] of invalidPairs) {
        it(`reports no request above limit when ${what}, only the bad quantity`, () => {
            assert.deepEqual(thrownPaths(() => SidecarResources.of({ ...valid, ...change })), [expectedPath]);
        });
    }

    it("reports every bad field at once", () => {
        const spec = { cpu: "x", memory: "lots", cpuLimit: "2", memoryLimit: "-1Gi", concurrency: 65 };
        assert.deepEqual(thrownPaths(() => SidecarResources.of(spec, "models[3].sidecar")).sort(), [
            "models[3].sidecar.concurrency", "models[3].sidecar.cpu", "models[3].sidecar.memory", "models[3].sidecar.memoryLimit",
        ]);
    });

    it("quotes the bad value and the path in each reason", () => {
        const [reason] = thrownReasons(() => SidecarResources.of({ ...valid, memory: "lots" }, "defaultSidecar"));
        assert.ok(reason.startsWith('`defaultSidecar.memory` ("lots") '), reason);
    });
});

describe("SidecarResources.validate", () => {
    const table: [string, Required<SidecarResourcesSpec>, boolean, string[]][] = [
        ["a valid spec", valid, true, []],
        ["a spec with a bad memory and concurrency", { ...valid, memory: "lots", concurrency: -1 }, false, ["mesh.memory", "mesh.concurrency"]],
        ["a spec whose cpu request is above its limit", { ...valid, cpu: "4" }, false, ["mesh.cpu"]],
    ];
    for (const [what, spec, expected, paths] of table) {
        it(`returns ${expected} and records ${paths.length} problem(s) for ${what}`, () => {
            const errors = new PropertyErrors();
            assert.equal(SidecarResources.validate(spec, errors, "mesh"), expected);
            assert.deepEqual(errors.list.map((p) => p.path), paths);
        });
    }

    it("judges only its own problems when the collector already holds others", () => {
        const errors = new PropertyErrors();
        errors.check("version", "0.1", "must be 1.30.3");
        assert.equal(SidecarResources.validate(valid, errors), true);
        assert.equal(SidecarResources.validate({ ...valid, cpuLimit: "lots" }, errors), false);
        assert.deepEqual(errors.list.map((p) => p.path), ["version", "sidecar.cpuLimit"]);
    });
});

describe("SidecarResources.override", () => {
    const meshDefault = SidecarResources.of({ cpu: "100m", memory: "256Mi", cpuLimit: "2", memoryLimit: "2Gi", concurrency: 2 }, "defaultSidecar");

    it("keeps the default's memory and takes the workload's cpu and concurrency", () => {
        const merged = meshDefault.override({ cpu: "1", concurrency: 4 }, "models[0].sidecar");
        assert.deepEqual(
            [merged.cpu, merged.memory, merged.cpuLimit, merged.memoryLimit, merged.concurrency],
            ["1", "256Mi", "2", "2Gi", 4],
        );
    });

    const unchanged: [string, SidecarResourcesSpec | undefined][] = [["no workload spec", undefined], ["an empty workload spec", {}]];
    for (const [what, spec] of unchanged) {
        it(`keeps every default field for ${what}`, () => {
            assert.deepEqual(meshDefault.override(spec).annotations(), meshDefault.annotations());
        });
    }

    it("throws naming the workload path when the override puts the cpu request above the default limit", () => {
        const override = () => meshDefault.override({ cpu: "4" }, "models[0].sidecar");
        assert.deepEqual(thrownPaths(override), ["models[0].sidecar.cpu"]);
        assert.match(thrownReasons(override)[0], /`cpuLimit`/);
    });

    it("throws naming the workload path for a bad overriding concurrency", () => {
        assert.deepEqual(thrownPaths(() => meshDefault.override({ concurrency: 100 }, "models[2].sidecar")), ["models[2].sidecar.concurrency"]);
    });
});

describe("SidecarResources.helmResources", () => {
    it("shapes the value as istiod's global.proxy.resources", () => {
        assert.deepEqual(SidecarResources.of(valid).helmResources(), {
            requests: { cpu: "100m", memory: "128Mi" },
            limits: { cpu: "2", memory: "1Gi" },
        });
    });
});
