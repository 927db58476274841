import Ajv, { type ValidateFunction } from "ajv";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import {
    baseValues, cniValues, gatewayValues, istiodValues, istioRevision, ISTIO_VERSION, ISTIOD_KEYS_NOT_IN, SUPPORTED_ISTIO_VERSIONS, compareIstioVersions, servedVersionsProblem, type GatewayOptions, type IstiodOptions,
} from "../../../components/mesh/istioCharts";
import { SidecarResources } from "../../../components/mesh/sidecarResources";
import { istioChartAccepts, leafPaths, loadIstioChart, unknownIstioPaths, type IstioChart, type Segment } from "../../chartValues";
import { TEST_IMAGES } from "../fixtures/images";

/** Helm values read loosely: the tests check their shape. */
type Values = Record<string, any>;

const sidecar = SidecarResources.of({ cpu: "150m", memory: "192Mi", cpuLimit: "1500m", memoryLimit: "768Mi", concurrency: 3 });
const istiodOptions: IstiodOptions = {
    revision: "1-30-3", tracingSampling: 7.5, otelCollector: "otel.observability.svc.cluster.local:4317",
    defaultSidecar: sidecar, inferenceExtension: true, cni: true, outboundTrafficPolicy: "REGISTRY_ONLY", images: TEST_IMAGES,
};
const internal: GatewayOptions = { revision: "1-30-3", replicas: 2, maxReplicas: 6, scheme: "internal" };
const internetFacing: GatewayOptions = { revision: "1-30-3", replicas: 3, maxReplicas: 9, scheme: "internet-facing" };
const LB = "service.beta.kubernetes.io/aws-load-balancer";

describe("istioRevision", () => {
    const table: [string, string][] = [["1.30.3", "1-30-3"], ["1.31.0", "1-31-0"]];
    for (const [version, revision] of table) {
        it(`names the revision of ${version} ${revision}`, () => assert.equal(istioRevision(version), revision));
    }
});

describe("compareIstioVersions", () => {
    const table: [string, string, number][] = [["1.30.2", "1.30.3", -1], ["1.30.10", "1.30.3", 1], ["1.31.0", "1.30.9", 1], ["1.30.3", "1.30.3", 0]];
    for (const [a, b, sign] of table) {
        it(`orders ${a} ${sign < 0 ? "before" : sign > 0 ? "after" : "with"} ${b}`, () => assert.equal(Math.sign(compareIstioVersions(a, b)), sign));
    }
});

describe("servedVersionsProblem", () => {
    const table: [string, string[], RegExp | undefined][] = [
        ["1.30.3", ["1.30.3"], undefined],
        ["1.30.3", ["1.30.2", "1.30.3"], undefined],
        ["1.30.2", ["1.30.2", "1.30.3"], undefined],
        ["1.30.3", ["1.30.2"], /must include istioVersion \(1\.30\.3\): that is the control plane the namespaces use/],
        ["1.30.3", ["1.30.3", "1.30.3"], /lists a version more than once/],
        ["1.30.3", ["1.29.0", "1.30.3"], /lists 1\.29\.0; each must be one of 1\.30\.2, 1\.30\.3/],
        ["1.30.3", [], /must include istioVersion/],
    ];
    for (const [version, served, problem] of table) {
        it(`${version} serving [${served.join(", ")}]: ${problem ? "refused" : "fine"}`, () => {
            const reason = servedVersionsProblem(version, served);
            if (problem) {
                assert.match(String(reason), problem);
            } else {
                assert.equal(reason, undefined);
            }
        });
    }
});

describe("istiodValues", () => {
    const values = istiodValues(istiodOptions) as Values;

    it("installs under the revision and renders no revision tag, which a second revision's release would render again", () => {
        assert.equal(values.revision, "1-30-3");
        assert.equal(values.revisionTags, undefined);
    });

    it("samples traces at the given percentage", () => assert.equal(values.traceSampling, 7.5));

    for (const flag of [true, false]) {
        it(`sets ENABLE_GATEWAY_API_INFERENCE_EXTENSION to "${flag}" when the flag is ${flag}`, () => {
            const env = (istiodValues({ ...istiodOptions, inferenceExtension: flag }) as Values).env;
            assert.equal(env.ENABLE_GATEWAY_API_INFERENCE_EXTENSION, String(flag));
        });
    }

    it("runs the proxy as a native sidecar, so init containers have a network", () => {
        assert.equal((values as Values).env.ENABLE_NATIVE_SIDECARS, "true");
    });

    it("sizes the mesh-wide sidecar from the SidecarResources", () => {
        assert.deepEqual(values.global.proxy.resources, sidecar.helmResources());
        assert.equal(values.meshConfig.defaultConfig.concurrency, 3);
    });

    it("holds the application until the proxy starts, in the injector and the proxy config", () => {
        assert.equal(values.global.proxy.holdApplicationUntilProxyStarts, true);
        assert.equal(values.meshConfig.defaultConfig.holdApplicationUntilProxyStarts, true);
    });

    it("logs access to stdout and merges Prometheus metrics", () => {
        assert.equal(values.meshConfig.accessLogFile, "/dev/stdout");
        assert.equal(values.meshConfig.enablePrometheusMerge, true);
    });

    it("declares the otel provider with the collector's service and numeric port", () => {
        assert.deepEqual(values.meshConfig.extensionProviders, [
            { name: "otel", opentelemetry: { service: "otel.observability.svc.cluster.local", port: 4317 } },
        ]);
    });
});

describe("gatewayValues", () => {
    const table: [string, GatewayOptions, Record<string, string>][] = [
        ["internal", internal, { [`${LB}-type`]: "nlb", [`${LB}-scheme`]: "internal", [`${LB}-internal`]: "true" }],
        ["internet-facing", internetFacing, { [`${LB}-type`]: "nlb", [`${LB}-scheme`]: "internet-facing" }],
    ];
    for (const [what, options, expected] of table) {
        const values = gatewayValues(options) as Values;
        it(`annotates the ${what} Service for an NLB`, () => {
            const annotations = values.service.annotations;
            for (const [key, value] of Object.entries(expected)) {
                assert.equal(annotations[key], value, key);
            }
            assert.equal(`${LB}-internal` in annotations, options.scheme === "internal");
        });
        it(`autoscales the ${what} gateway from ${options.replicas} to ${options.maxReplicas} and keeps one pod in drains`, () => {
            assert.equal(values.autoscaling.enabled, true);
            assert.equal(values.autoscaling.minReplicas, options.replicas);
            assert.equal(values.autoscaling.maxReplicas, options.maxReplicas);
            assert.deepEqual(values.podDisruptionBudget, { minAvailable: 1 });
        });
        it(`keeps the ${what} gateway on the system nodes`, () => {
            assert.deepEqual(values.nodeSelector, { "mlmesh.io/node-role": "system" });
        });
    }

    it("sets no disruption budget that forbids every eviction when the gateway may run a single replica", () => {
        // The chart: a PDB only makes sense with minReplicas > 1; minAvailable 1 over one pod blocks node drains.
        const values = gatewayValues({ ...internal, replicas: 1, maxReplicas: 6 }) as Values;
        const minAvailable = values.podDisruptionBudget?.minAvailable;
        assert.ok(minAvailable === undefined || minAvailable < values.autoscaling.minReplicas, `minAvailable ${minAvailable} with minReplicas 1`);
    });
});

describe("Istio values against the pinned charts", () => {
    const chartsDir = path.join(__dirname, "../../../../shared/charts", `istio-${ISTIO_VERSION}`);
    const charts = {} as Record<"base" | "istiod" | "gateway" | "cni", IstioChart>;

    before(function () {
        if (!fs.existsSync(chartsDir)) {
            console.warn(`skipping the Istio chart-values check: ../shared is absent (it exists only beside CI checkouts), looked in ${chartsDir}`);
            this.skip();
        }
        for (const name of ["base", "istiod", "gateway", "cni"] as const) {
            charts[name] = loadIstioChart(chartsDir, name);
        }
    });

    const produced: [string, "base" | "istiod" | "gateway" | "cni", () => Record<string, unknown>][] = [
        ["baseValues", "base", () => baseValues()],
        ["istiodValues with every flag on", "istiod", () => istiodValues(istiodOptions)],
        ["gatewayValues for an internal NLB", "gateway", () => gatewayValues(internal)],
        ["gatewayValues for an internet-facing NLB", "gateway", () => gatewayValues(internetFacing)],
        ["cniValues", "cni", () => cniValues("1-30-3", TEST_IMAGES)],
    ];
    for (const [what, chart, values] of produced) {
        it(`finds every key ${what} sets in the ${chart} chart`, () => {
            assert.ok(leafPaths(values()).length > 0);
            assert.deepEqual(unknownIstioPaths(charts[chart], values()), []);
        });
    }

    it("sets no istiod key an older supported release lacks, so the 1.30.3 check covers it too", () => {
        const set = leafPaths(istiodValues(istiodOptions)).map((segments) => segments.join("."));
        for (const [version, missing] of Object.entries(ISTIOD_KEYS_NOT_IN)) {
            assert.ok(SUPPORTED_ISTIO_VERSIONS.includes(version as never), version);
            assert.deepEqual(set.filter((path) => missing.some((key) => path === key || path.startsWith(`${key}.`))), [], version);
            // The keys it lacks are real keys of the pinned chart: the list is not a typo.
            assert.ok(missing.every((key) => istioChartAccepts(charts.istiod, key.split("."))), JSON.stringify(missing));
        }
    });

    const accepted: ["base" | "istiod" | "gateway" | "cni", string, Segment[]][] = [
        ["istiod", "a key the templates read but values.yaml omits", ["global", "proxy", "holdApplicationUntilProxyStarts"]],
        ["istiod", "a key of the free-form meshConfig", ["meshConfig", "defaultConfig", "concurrency"]],
        ["istiod", "an env var under the empty env map", ["env", "PILOT_ANYTHING"]],
        ["istiod", "the legacy pilot.X alias", ["pilot", "traceSampling"]],
        ["istiod", "a key below a prefix read but not defaulted", ["global", "tracer", "zipkin", "address"]],
        ["istiod", "the profile key", ["profile"]],
        ["gateway", "service.loadBalancerClass", ["service", "loadBalancerClass"]],
        ["cni", "the legacy cni.X alias", ["cni", "chained"]],
    ];
    for (const [chart, what, segments] of accepted) {
        it(`accepts ${what} in the ${chart} chart (${segments.join(".")})`, () => {
            assert.equal(istioChartAccepts(charts[chart], segments), true);
        });
    }

    const misspelt: ["base" | "istiod" | "gateway" | "cni", string, Record<string, unknown>, string[]][] = [
        ["istiod", "a misspelt top-level key", { meshConfg: { accessLogFile: "/dev/stdout" } }, ["meshConfg.accessLogFile"]],
        ["istiod", "a misspelt key under global", { global: { proxxy: { resources: { limits: { cpu: "1" } } } } }, ["global.proxxy.resources.limits.cpu"]],
        ["istiod", "a misspelt key under the pilot alias", { pilot: { traceSamplin: 1 } }, ["pilot.traceSamplin"]],
        ["istiod", "the internal wrapper set by hand", { _internal_defaults_do_not_set: { revision: "x" } }, ["_internal_defaults_do_not_set.revision"]],
        ["gateway", "a misspelt autoscaling key", { autoscaling: { enabeld: true } }, ["autoscaling.enabeld"]],
        ["gateway", "a misspelt key under service", { service: { annotationz: { a: "b" } } }, ["service.annotationz.a"]],
        ["gateway", "a key below a scalar", { revision: { name: "x" } }, ["revision.name"]],
        ["base", "the platform key base does not take", { platform: "eks" }, ["platform"]],
    ];
    for (const [chart, what, values, expected] of misspelt) {
        it(`reports ${what} in the ${chart} chart, proving the check can fail`, () => {
            assert.deepEqual(unknownIstioPaths(charts[chart], values), expected);
        });
    }

    describe("the gateway chart's closed values.schema.json", () => {
        let validate: ValidateFunction;
        let defaults: Record<string, unknown>;

        before(function () {
            if (!fs.existsSync(chartsDir)) {
                this.skip();
            }
            const schema = JSON.parse(fs.readFileSync(path.join(chartsDir, "gateway", "values.schema.json"), "utf8"));
            // The root is `$ref: "#/$defs/values"`, whose top level has additionalProperties: false.
            assert.equal(schema.$ref, "#/$defs/values");
            assert.equal(schema.$defs.values.additionalProperties, false);
            validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
            defaults = parse(fs.readFileSync(path.join(chartsDir, "gateway", "values.yaml"), "utf8"));
        });

        for (const [what, options] of [["internal", internal], ["internet-facing", internetFacing]] as const) {
            it(`accepts the ${what} gatewayValues alone and merged onto the chart defaults`, () => {
                for (const values of [gatewayValues(options), { ...defaults, ...gatewayValues(options) }]) {
                    assert.equal(validate(values), true, JSON.stringify(validate.errors));
                }
            });
        }

        it("rejects gatewayValues with an unknown top-level key, proving the schema check can fail", () => {
            assert.equal(validate({ ...gatewayValues(internal), replicaCnt: 2 }), false);
            assert.ok(validate.errors?.some((e) => e.keyword === "additionalProperties" && e.params.additionalProperty === "replicaCnt"));
        });
    });
});
