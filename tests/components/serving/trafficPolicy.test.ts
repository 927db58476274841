import * as assert from "node:assert/strict";
import type { IstioManifest } from "../../../components/mesh/meshPolicies";
import {
    INGRESS_GATEWAY_PRINCIPAL, VERSION_HEADER,
    modelAuthorizationPolicy, modelDestinationRule, modelVirtualService,
    type AccessOptions, type RouteOptions,
} from "../../../components/serving/trafficPolicy";
import { validateManifest } from "../../../offline/manifestSchemas";

/** Manifests read loosely: the tests check their shape. */
type Loose = Record<string, any>;

const HOST = "resnet.ml-serving.svc.cluster.local";
const versioned: RouteOptions = { name: "resnet", namespace: "ml-serving", host: HOST, versions: [{ name: "v1", weight: 90 }, { name: "v2", weight: 10 }] };
const unversioned: RouteOptions = { ...versioned, versions: [] };
const DEFAULT_POLICY = { timeout: "30s", retries: { attempts: 3, perTryTimeout: "10s", retryOn: "5xx,reset,connect-failure" } };

const access: AccessOptions = {
    name: "resnet",
    namespace: "ml-serving",
    selector: { app: "resnet" },
    principals: ["cluster.local/ns/ml-frontend/sa/frontend-sa", "cluster.local/ns/istio-ingress/sa/istio-ingressgateway", "cluster.local/ns/ml-frontend/sa/frontend-sa"],
    httpPaths: ["/v1/models/resnet", "/v1/models/resnet:*"],
    grpcPaths: ["/tensorflow.serving.PredictionService/*"],
};

function loose(manifest: IstioManifest): Loose {
    return manifest as Loose;
}

describe("modelVirtualService", () => {
    const vs = loose(modelVirtualService(versioned));
    const http: Loose[] = vs.spec.http;

    it("is a networking.istio.io/v1 VirtualService for the host on the mesh gateway", () => {
        assert.equal(vs.apiVersion, "networking.istio.io/v1");
        assert.equal(vs.kind, "VirtualService");
        assert.deepEqual(vs.metadata, { name: "resnet", namespace: "ml-serving" });
        assert.deepEqual(vs.spec.hosts, [HOST]);
        assert.deepEqual(vs.spec.gateways, ["mesh"]);
    });

    it("puts one header route per version first, then the weighted route", () => {
        assert.equal(http.length, 3);
        assert.deepEqual(http.map((route) => route.match === undefined), [false, false, true]);
    });

    for (const [i, version] of ["v1", "v2"].entries()) {
        it(`routes ${VERSION_HEADER}: ${version} exactly to subset ${version} only`, () => {
            assert.deepEqual(http[i].match, [{ headers: { "x-model-version": { exact: version } } }]);
            assert.deepEqual(http[i].route, [{ destination: { host: HOST, subset: version } }]);
        });
    }

    it("splits the remaining traffic 90/10 between the subsets, adding up to 100", () => {
        const route: Loose[] = http[2].route;
        assert.deepEqual(route, [
            { destination: { host: HOST, subset: "v1" }, weight: 90 },
            { destination: { host: HOST, subset: "v2" }, weight: 10 },
        ]);
        assert.equal(route.reduce((sum, r) => sum + r.weight, 0), 100);
    });

    it("gives every route the default timeout and retries when none are given", () => {
        for (const route of http) {
            assert.deepEqual({ timeout: route.timeout, retries: route.retries }, DEFAULT_POLICY);
        }
    });

    const overrides: [string, Partial<RouteOptions>, Loose][] = [
        ["timeout", { timeout: "5s" }, { ...DEFAULT_POLICY, timeout: "5s" }],
        ["retry attempts", { retries: { attempts: 5 } }, { ...DEFAULT_POLICY, retries: { ...DEFAULT_POLICY.retries, attempts: 5 } }],
        ["perTryTimeout", { retries: { perTryTimeout: "2s" } }, { ...DEFAULT_POLICY, retries: { ...DEFAULT_POLICY.retries, perTryTimeout: "2s" } }],
        ["retryOn", { retries: { retryOn: "gateway-error" } }, { ...DEFAULT_POLICY, retries: { ...DEFAULT_POLICY.retries, retryOn: "gateway-error" } }],
        ["timeout and all retry fields", { timeout: "1m", retries: { attempts: 2, perTryTimeout: "20s", retryOn: "5xx" } },
            { timeout: "1m", retries: { attempts: 2, perTryTimeout: "20s", retryOn: "5xx" } }],
        // Istio refuses perTryTimeout or retryOn beside attempts 0 (pkg/config/validation/validation.go@1.30.3).
        ["retries turned off, with nothing else in the retry policy", { timeout: "1m", retries: { attempts: 0 } }, { timeout: "1m", retries: { attempts: 0 } }],
    ];
    for (const [field, options, expected] of overrides) {
        it(`overrides only the ${field} on every route when given`, () => {
            const routes: Loose[] = loose(modelVirtualService({ ...versioned, ...options })).spec.http;
            for (const route of routes) {
                assert.deepEqual({ timeout: route.timeout, retries: route.retries }, expected);
            }
        });
    }

    it("has a single route without a subset when there are no versions", () => {
        const routes: Loose[] = loose(modelVirtualService(unversioned)).spec.http;
        assert.equal(routes.length, 1);
        assert.equal(routes[0].match, undefined);
        assert.deepEqual(routes[0].route, [{ destination: { host: HOST } }]);
        assert.deepEqual({ timeout: routes[0].timeout, retries: routes[0].retries }, DEFAULT_POLICY);
    });
});

describe("modelDestinationRule", () => {
    const defaults = { consecutive5xxErrors: 5, interval: "30s", baseEjectionTime: "60s", maxEjectionPercent: 50, maxConnections: 1000, http2MaxRequests: 1000 };
    const custom = { consecutive5xxErrors: 3, interval: "10s", baseEjectionTime: "2m", maxEjectionPercent: 100, maxConnections: 64, http2MaxRequests: 256 };
    const table: [string, Partial<typeof custom> | undefined, typeof defaults][] = [
        ["the default breaker", undefined, defaults],
        ["a given breaker", custom, custom],
        ["a breaker with one field given", { maxEjectionPercent: 20 }, { ...defaults, maxEjectionPercent: 20 }],
    ];
    for (const [what, circuitBreaker, expected] of table) {
        it(`balances by least request and limits connections from ${what}`, () => {
            const dr = loose(modelDestinationRule({ ...versioned, circuitBreaker }));
            assert.equal(dr.apiVersion, "networking.istio.io/v1");
            assert.equal(dr.kind, "DestinationRule");
            assert.equal(dr.spec.host, HOST);
            assert.deepEqual(dr.spec.trafficPolicy, {
                loadBalancer: { simple: "LEAST_REQUEST" },
                connectionPool: { tcp: { maxConnections: expected.maxConnections }, http: { http2MaxRequests: expected.http2MaxRequests } },
                outlierDetection: {
                    consecutive5xxErrors: expected.consecutive5xxErrors,
                    interval: expected.interval,
                    baseEjectionTime: expected.baseEjectionTime,
                    maxEjectionPercent: expected.maxEjectionPercent,
                },
            });
        });
    }

    it("declares a subset per version selected by its version label", () => {
        const dr = loose(modelDestinationRule(versioned));
        assert.deepEqual(dr.spec.subsets, [{ name: "v1", labels: { version: "v1" } }, { name: "v2", labels: { version: "v2" } }]);
    });

    it("has no subsets key when there are no versions", () => {
        const dr = loose(modelDestinationRule(unversioned));
        assert.equal("subsets" in dr.spec, false);
    });
});

describe("modelAuthorizationPolicy", () => {
    const policy = loose(modelAuthorizationPolicy(access));
    const rules: Loose[] = policy.spec.rules;

    it("is an ALLOW policy selecting the model's pods", () => {
        assert.equal(policy.apiVersion, "security.istio.io/v1");
        assert.equal(policy.kind, "AuthorizationPolicy");
        assert.deepEqual(policy.metadata, { name: "resnet", namespace: "ml-serving" });
        assert.equal(policy.spec.action, "ALLOW");
        assert.deepEqual(policy.spec.selector, { matchLabels: { app: "resnet" } });
    });

    it("lets the ingress gateway and each given principal call, once each", () => {
        assert.equal(INGRESS_GATEWAY_PRINCIPAL, "cluster.local/ns/istio-ingress/sa/istio-ingressgateway");
        for (const rule of rules) {
            assert.deepEqual(rule.from, [{ source: { principals: [INGRESS_GATEWAY_PRINCIPAL, "cluster.local/ns/ml-frontend/sa/frontend-sa"] } }]);
        }
    });

    it("allows GET and POST on exactly the HTTP paths, and POST only on the gRPC paths", () => {
        assert.equal(rules.length, 2);
        assert.deepEqual(rules[0].to, [{ operation: { methods: ["GET", "POST"], paths: ["/v1/models/resnet", "/v1/models/resnet:*"] } }]);
        assert.deepEqual(rules[1].to, [{ operation: { methods: ["POST"], paths: ["/tensorflow.serving.PredictionService/*"] } }]);
    });

    const withoutGrpc: [string, readonly string[] | undefined][] = [["no gRPC paths", undefined], ["an empty gRPC path list", []]];
    for (const [what, grpcPaths] of withoutGrpc) {
        it(`has only the HTTP rule with ${what}`, () => {
            const only: Loose[] = loose(modelAuthorizationPolicy({ ...access, grpcPaths })).spec.rules;
            assert.equal(only.length, 1);
            assert.deepEqual(only[0].to[0].operation.methods, ["GET", "POST"]);
        });
    }

    it("lets only the ingress gateway call when no principals are given", () => {
        const only: Loose[] = loose(modelAuthorizationPolicy({ ...access, principals: [] })).spec.rules;
        assert.deepEqual(only[0].from, [{ source: { principals: [INGRESS_GATEWAY_PRINCIPAL] } }]);
    });
});

describe("traffic policy manifests against their schemas", () => {
    const table: [string, IstioManifest][] = [
        ["the versioned VirtualService", modelVirtualService(versioned)],
        ["the unversioned VirtualService", modelVirtualService(unversioned)],
        ["a VirtualService with timeout and retries", modelVirtualService({ ...versioned, timeout: "1m", retries: { attempts: 2, perTryTimeout: "20s", retryOn: "5xx" } })],
        ["a VirtualService with retries off", modelVirtualService({ ...versioned, retries: { attempts: 0 } })],
        ["the versioned DestinationRule", modelDestinationRule(versioned)],
        ["the unversioned DestinationRule", modelDestinationRule(unversioned)],
        ["a DestinationRule with a custom breaker", modelDestinationRule({ ...versioned, circuitBreaker: { maxConnections: 64, interval: "10s" }, versionLabel: "model-version" })],
        ["the AuthorizationPolicy with gRPC", modelAuthorizationPolicy(access)],
        ["the AuthorizationPolicy without gRPC", modelAuthorizationPolicy({ ...access, grpcPaths: undefined, principals: [] })],
    ];
    for (const [what, manifest] of table) {
        it(`validates ${what} against its schema`, () => {
            const check = validateManifest(manifest as unknown as Record<string, unknown>);
            assert.equal(check.status, "valid", check.errors.join("; "));
        });
    }
});
