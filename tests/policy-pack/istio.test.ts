/**
 * The Istio guardrails: each policy on a happy-path object and on that object with one field
 * changed, over the committed stacks, and against stack settings that turn a guardrail off.
 */
import * as assert from "node:assert/strict";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import {
    istioAuthzNoWildcard, istioDefaultDeny, istioEgressRegistryOnly, istioGatewayNoWildcardHost, istioGatewayTls, istioInjectionEnabled,
    istioMeshWideStrict, istioMtlsStrict, istioOutlierDetection, istioPolicies, istioRouteTimeoutsRetries, istioSidecarResources,
} from "../../policy-pack/istio";
import { runPolicies, type PolicyConfig } from "../../offline/policyRunner";
import type { RecordedResource } from "../../offline/recorder";
import { plannedStack } from "../offline/fixtures/plannedStack";
import { changed, environmentConfig, firingAfter, resource, violationsOf } from "./harness";

type AnyPolicy = ResourceValidationPolicy | StackValidationPolicy;
const [SEC, NET] = ["kubernetes:security.istio.io/v1:", "kubernetes:networking.istio.io/v1:"];
const T = {
    pa: `${SEC}PeerAuthentication`, ap: `${SEC}AuthorizationPolicy`, gw: `${NET}Gateway`, vs: `${NET}VirtualService`, dr: `${NET}DestinationRule`, sidecar: `${NET}Sidecar`,
    ns: "kubernetes:core/v1:Namespace", svc: "kubernetes:core/v1:Service", deploy: "kubernetes:apps/v1:Deployment", cron: "kubernetes:batch/v1:CronJob",
    isvc: "kubernetes:serving.kserve.io/v1beta1:InferenceService", helm: "kubernetes:helm.sh/v3:Release",
};


const messages = async (policy: AnyPolicy, resources: RecordedResource | RecordedResource[], config?: PolicyConfig) => (await violationsOf(policy, resources, config)).map((v) => v.message);
const SIDECAR = { "sidecar.istio.io/proxyCPU": "100m", "sidecar.istio.io/proxyMemory": "128Mi", "sidecar.istio.io/proxyCPULimit": "2", "sidecar.istio.io/proxyMemoryLimit": "1Gi" };

const peerAuth = { metadata: { name: "default", namespace: "istio-system" }, spec: { mtls: { mode: "STRICT" } } };
const istiod = { chart: "istiod", name: "istiod-1-30-3", namespace: "istio-system", values: { revision: "1-30-3", meshConfig: { outboundTrafficPolicy: { mode: "REGISTRY_ONLY" } } } };
const namespace = { metadata: { name: "ml-serving", labels: { "istio.io/rev": "1-30-3" } } };
const defaultDeny = { metadata: { name: "default-deny", namespace: "ml-serving" }, spec: {} };
const allowFraud = {
    metadata: { name: "fraud", namespace: "ml-serving" },
    spec: { action: "ALLOW", selector: { matchLabels: { app: "fraud" } }, rules: [{ from: [{ source: { principals: ["cluster.local/ns/web/sa/frontend"] } }], to: [{ operation: { methods: ["POST"] } }] }] },
};
const gateway = {
    metadata: { name: "door", namespace: "istio-ingress" },
    spec: {
        selector: { istio: "ingressgateway" },
        servers: [
            { hosts: ["inference.example.com"], port: { name: "https", number: 443, protocol: "HTTPS" }, tls: { mode: "SIMPLE", credentialName: "door-tls", minProtocolVersion: "TLSV1_2" } },
            { hosts: ["inference.example.com"], port: { name: "http", number: 80, protocol: "HTTP" }, tls: { httpsRedirect: true } },
        ],
    },
};
const virtualService = {
    metadata: { name: "fraud", namespace: "ml-serving" },
    spec: { hosts: ["fraud.ml-serving.svc.cluster.local"], http: [{ name: "predict", route: [{ destination: { host: "fraud" } }], timeout: "30s", retries: { attempts: 3, perTryTimeout: "10s" } }] },
};
const modelDeployment = {
    metadata: { name: "fraud", namespace: "ml-serving" },
    spec: { template: { metadata: { labels: { app: "fraud" }, annotations: SIDECAR }, spec: { containers: [{ name: "server", image: "tensorflow/serving:2.20.0" }] } } },
};
const service = { metadata: { name: "fraud", namespace: "ml-serving" }, spec: { selector: { app: "fraud" }, ports: [{ port: 8501 }] } };
const destinationRule = {
    metadata: { name: "fraud", namespace: "ml-serving" },
    spec: { host: "fraud.ml-serving.svc.cluster.local", trafficPolicy: { outlierDetection: { consecutive5xxErrors: 5, interval: "30s" }, connectionPool: { tcp: { maxConnections: 100 } } } },
};
const isvc = { metadata: { name: "bert", namespace: "ml-serving" }, spec: { predictor: { minReplicas: 2, annotations: SIDECAR, model: { modelFormat: { name: "tensorflow" } } } } };

describe("istio-mtls-strict", () => {
    it("passes STRICT, and UNSET or no mode (inheriting the mesh's), as Kyverno's enforce-strict-mtls does", async () => {
        assert.deepEqual(await messages(istioMtlsStrict, resource(T.pa, peerAuth)), []);
        assert.deepEqual(await messages(istioMtlsStrict, resource(T.pa, changed(peerAuth, "spec.mtls.mode", "UNSET"))), []);
        assert.deepEqual(await messages(istioMtlsStrict, resource(T.pa, changed(peerAuth, "spec", {}))), []);
    });
    for (const [at, mode, field] of [["spec.mtls.mode", "PERMISSIVE", "spec.mtls.mode"], ["spec.mtls.mode", "DISABLE", "spec.mtls.mode"], ["spec.portLevelMtls", { 8080: { mode: "PERMISSIVE" } }, "spec.portLevelMtls[\"8080\"].mode"]] as const) {
        it(`refuses ${field} weaker than STRICT (${JSON.stringify(mode)})`, async () => {
            const found = await messages(istioMtlsStrict, resource(T.pa, changed(peerAuth, at, mode)));
            assert.equal(found.length, 1);
            assert.match(found[0], new RegExp(`PeerAuthentication istio-system/default: \`${field.replace(/[[\]]/g, "\\$&")}\` is (PERMISSIVE|DISABLE).*set it to STRICT`));
        });
    }
    it("does not apply to other kinds", async () => {
        assert.deepEqual(await messages(istioMtlsStrict, resource(T.dr, changed(destinationRule, "spec.mtls", { mode: "DISABLE" }))), []);
    });
});

describe("istio-mesh-wide-strict", () => {
    const mesh = (pa = peerAuth, values = istiod) => [resource(T.helm, values), resource(T.pa, pa)];
    it("passes a STRICT PeerAuthentication without selector in the root namespace", async () => {
        assert.deepEqual(await messages(istioMeshWideStrict, mesh()), []);
    });
    it("refuses a mesh-wide policy that is not STRICT (UNSET is PERMISSIVE at mesh level)", async () => {
        assert.match((await messages(istioMeshWideStrict, mesh(changed(peerAuth, "spec.mtls.mode", "PERMISSIVE"))))[0], /istio-system\/default: is the mesh-wide policy and `spec.mtls.mode` is PERMISSIVE/);
        assert.match((await messages(istioMeshWideStrict, mesh(changed(peerAuth, "spec.mtls", undefined))))[0], /UNSET \(PERMISSIVE at mesh level\)/);
    });
    for (const [what, pa, values] of [
        ["a selector", changed(peerAuth, "spec.selector", { matchLabels: { app: "x" } }), istiod],
        ["another namespace", changed(peerAuth, "metadata.namespace", "ml-serving"), istiod],
        ["the chart's root namespace moved", peerAuth, changed(istiod, "values.meshConfig.rootNamespace", "mesh-root")],
    ] as const) {
        it(`finds no mesh-wide policy with ${what}`, async () => {
            assert.match((await messages(istioMeshWideStrict, mesh(pa, values))).join("\n"), /No mesh-wide PeerAuthentication/);
        });
    }
    it("does not apply to a set of objects that installs no Istio", async () => {
        assert.deepEqual(await messages(istioMeshWideStrict, [resource(T.vs, virtualService)]), []);
    });
});

describe("istio-default-deny", () => {
    const stack = (ns = namespace, ap = defaultDeny) => [resource(T.ns, ns), resource(T.ap, ap)];
    it("passes an injected namespace holding an allow-nothing policy, a DENY-all policy, or a mesh-wide one in the root namespace", async () => {
        assert.deepEqual(await messages(istioDefaultDeny, stack()), []);
        assert.deepEqual(await messages(istioDefaultDeny, stack(namespace, changed(defaultDeny, "spec", { action: "DENY", rules: [{}] }))), []);
        assert.deepEqual(await messages(istioDefaultDeny, stack(namespace, changed(defaultDeny, "metadata.namespace", "istio-system"))), []);
    });
    for (const [what, ap] of [
        ["a selector", changed(defaultDeny, "spec.selector", { matchLabels: { app: "fraud" } })],
        ["rules that allow", allowFraud],
        ["a DENY that matches some requests only", changed(defaultDeny, "spec", { action: "DENY", rules: [{ to: [{ operation: { methods: ["DELETE"] } }] }] })],
    ] as const) {
        it(`refuses a namespace whose only policy has ${what}`, async () => {
            const found = await violationsOf(istioDefaultDeny, stack(namespace, changed(ap, "metadata.name", "only")));
            assert.equal(found.length, 1);
            assert.match(found[0].message, /Namespace ml-serving: Istio injection is on .* add AuthorizationPolicy `ml-serving\/default-deny`/);
            assert.match(found[0].urn ?? "", /Namespace::ml-serving$/);
        });
    }
    it("judges `istio-injection: enabled` namespaces, and not those where `istio-injection` turns the revision label off", async () => {
        const legacy = changed(namespace, "metadata.labels", { "istio-injection": "enabled" });
        assert.equal((await messages(istioDefaultDeny, [resource(T.ns, legacy)])).length, 1);
        assert.deepEqual(await messages(istioDefaultDeny, [resource(T.ns, changed(namespace, "metadata.labels.istio-injection", "disabled"))]), []);
        assert.deepEqual(await messages(istioDefaultDeny, [resource(T.ns, changed(namespace, "metadata.labels", {}))]), []);
    });
});

describe("istio-injection-enabled", () => {
    const stack = (ns = namespace, workload = resource(T.isvc, isvc)) => [resource(T.helm, istiod), resource(T.ns, ns), workload];
    it("passes a model in a namespace labelled with a revision istiod serves", async () => {
        assert.deepEqual(await messages(istioInjectionEnabled, stack()), []);
        assert.deepEqual(await messages(istioInjectionEnabled, stack(namespace, resource(T.deploy, modelDeployment))), []);
    });
    for (const [what, ns, workload, pattern] of [
        ["an unlabelled namespace", changed(namespace, "metadata.labels", {}), isvc, /namespace `ml-serving` has neither `istio-injection: enabled` nor `istio.io\/rev`/],
        ["a revision no istiod serves", changed(namespace, "metadata.labels.istio\\.io/rev", "1-29-0"), isvc, /asks for revision `1-29-0`, which no istiod release serves \(1-30-3\)/],
        ["`istio-injection: disabled`", changed(namespace, "metadata.labels.istio-injection", "disabled"), isvc, /sets `istio-injection: disabled`/],
        ["a pod that opts out", namespace, changed(isvc, "spec.predictor.labels", { "sidecar.istio.io/inject": "false" }), /`spec.predictor` sets `sidecar.istio.io\/inject: "false"`/],
    ] as const) {
        it(`refuses a model workload with ${what}`, async () => {
            const found = await messages(istioInjectionEnabled, stack(ns, resource(T.isvc, workload)));
            assert.equal(found.length, 1);
            assert.match(found[0], /^InferenceService ml-serving\/bert: a model workload without an Istio sidecar: /);
            assert.match(found[0], pattern);
        });
    }
    it("treats a pod template with a model server image as a model workload, and others not", async () => {
        const bare = changed(namespace, "metadata.labels", {});
        assert.equal((await messages(istioInjectionEnabled, stack(bare, resource(T.deploy, modelDeployment)))).length, 1);
        assert.deepEqual(await messages(istioInjectionEnabled, stack(bare, resource(T.deploy, changed(modelDeployment, "spec.template.spec.containers.0.image", "nginx:1.27")))), []);
        assert.deepEqual(await messages(istioInjectionEnabled, stack(bare, resource(T.deploy, changed(modelDeployment, "spec.template.metadata.labels.istio\\.io/rev", "1-30-3")))), []);
    });
});

describe("istio-authz-no-wildcard", () => {
    const check = (ap: Record<string, unknown>, config?: PolicyConfig) => messages(istioAuthzNoWildcard, resource(T.ap, ap), config);
    it("passes named principals, and `requestPrincipals: [\"*\"]` (a valid JWT is required)", async () => {
        assert.deepEqual(await check(allowFraud), []);
        assert.deepEqual(await check(changed(allowFraud, "spec.rules.0.from.0.source", { requestPrincipals: ["*"] })), []);
    });
    for (const [what, at, value, pattern] of [
        ["a rule without `from`", "spec.rules.0.from", undefined, /`spec.rules\[0\]` has no `from`/],
        ["an empty rule", "spec.rules.0", {}, /`spec.rules\[0\]` is empty, which allows every request from anyone/],
        ["principal `*`", "spec.rules.0.from.0.source.principals", ["*"], /`principals` holds a wildcard/],
        ["a trust-domain-wide principal", "spec.rules.0.from.0.source.principals", ["cluster.local/*"], /`principals` holds a wildcard/],
        ["namespace `*`", "spec.rules.0.from.0.source", { namespaces: ["*"] }, /`namespaces` holds a wildcard/],
        ["every address", "spec.rules.0.from.0.source", { ipBlocks: ["0.0.0.0/0"] }, /`ipBlocks` holds every address/],
        ["only negative matches", "spec.rules.0.from.0.source", { notNamespaces: ["untrusted"] }, /names no caller/],
    ] as const) {
        it(`refuses ${what}`, async () => {
            const found = await check(changed(allowFraud, at, value));
            assert.equal(found.length, 1);
            assert.match(found[0], /^AuthorizationPolicy ml-serving\/fraud: /);
            assert.match(found[0], pattern);
        });
    }
    it("lets a gateway's rules omit `from` (outside callers have no principal), per the gatewaySelectors config", async () => {
        const onGateway = changed(changed(allowFraud, "spec.selector.matchLabels", { istio: "ingressgateway" }), "spec.rules.0.from", undefined);
        assert.deepEqual(await check(onGateway), []);
        assert.equal((await check(onGateway, { "istio-authz-no-wildcard": { enforcementLevel: "mandatory", gatewaySelectors: [] } })).length, 1);
        assert.equal((await check(changed(onGateway, "spec.rules.0", {}))).length, 1, "an empty rule is refused on gateways too");
    });
    it("accepts a `when` on the caller's identity instead of `from`, and does not judge DENY policies", async () => {
        assert.deepEqual(await check(changed(allowFraud, "spec.rules.0", { when: [{ key: "source.namespace", values: ["web"] }] })), []);
        assert.deepEqual(await check(changed(changed(allowFraud, "spec.action", "DENY"), "spec.rules.0.from", undefined)), []);
        assert.deepEqual(await messages(istioAuthzNoWildcard, resource(T.pa, changed(allowFraud, "metadata.name", "pa"))), []);
    });
});

describe("istio-gateway-no-wildcard-host", () => {
    it("passes named hosts and a scoped wildcard domain", async () => {
        assert.deepEqual(await messages(istioGatewayNoWildcardHost, resource(T.gw, gateway)), []);
        assert.deepEqual(await messages(istioGatewayNoWildcardHost, resource(T.gw, changed(gateway, "spec.servers.0.hosts", ["*.example.com"]))), []);
    });
    for (const host of ["*", "*/*", "istio-ingress/*"]) {
        it(`refuses \`${host}\``, async () => {
            assert.deepEqual(await messages(istioGatewayNoWildcardHost, resource(T.gw, changed(gateway, "spec.servers.0.hosts", [host]))), [`Gateway istio-ingress/door: \`spec.servers[0].hosts[0]\` is \`${host}\`, which admits any host name; list the host names it serves.`]);
        });
    }
    it("does not apply to VirtualService hosts", async () => {
        assert.deepEqual(await messages(istioGatewayNoWildcardHost, resource(T.vs, changed(virtualService, "spec.hosts", ["*"]))), []);
    });
});

describe("istio-gateway-tls", () => {
    it("passes HTTPS in SIMPLE mode at TLS 1.2 and HTTP that redirects, and ISTIO_MUTUAL", async () => {
        assert.deepEqual(await messages(istioGatewayTls, resource(T.gw, gateway)), []);
        assert.deepEqual(await messages(istioGatewayTls, resource(T.gw, changed(gateway, "spec.servers.0.tls", { mode: "ISTIO_MUTUAL" }))), []);
    });
    for (const [what, at, value, pattern] of [
        ["PASSTHROUGH on HTTPS", "spec.servers.0.tls.mode", "PASSTHROUGH", /`spec.servers\[0\]` is HTTPS with `tls.mode` PASSTHROUGH/],
        ["an unset mode (PASSTHROUGH)", "spec.servers.0.tls.mode", undefined, /unset \(PASSTHROUGH\)/],
        ["TLS 1.1 as the minimum", "spec.servers.0.tls.minProtocolVersion", "TLSV1_1", /`tls.minProtocolVersion` is TLSV1_1/],
        ["TLS 1.0 as the maximum", "spec.servers.0.tls.maxProtocolVersion", "TLSV1_0", /`tls.maxProtocolVersion` is TLSV1_0/],
        ["plain HTTP that does not redirect", "spec.servers.1.tls", undefined, /`spec.servers\[1\]` serves plain-text HTTP without `tls.httpsRedirect: true`/],
    ] as const) {
        it(`refuses ${what}`, async () => {
            const found = await messages(istioGatewayTls, resource(T.gw, changed(gateway, at, value)));
            assert.equal(found.length, 1);
            assert.match(found[0], pattern);
        });
    }
});

describe("istio-sidecar-resources", () => {
    const mandatory = (extra: object = {}): PolicyConfig => ({ "istio-sidecar-resources": { enforcementLevel: "mandatory", ...extra } });
    const check = (type: string, props: Record<string, unknown>, extra?: object) => messages(istioSidecarResources, resource(type, props), mandatory(extra));
    const bare = changed(modelDeployment, "spec.template.metadata.annotations", undefined);
    it("passes a pod that sets all four, and pods that visibly stay out of the mesh", async () => {
        assert.deepEqual(await check(T.deploy, modelDeployment), []);
        assert.deepEqual(await check(T.deploy, bare), [], "no sign of the mesh on the pod, and its namespace is not listed");
        assert.deepEqual(await check(T.deploy, changed(modelDeployment, "spec.template.metadata.annotations", { "sidecar.istio.io/inject": "false", "sidecar.istio.io/proxyCPU": "1" })), []);
        assert.deepEqual(await check(T.deploy, changed(changed(modelDeployment, "metadata.namespace", "kube-system"), "spec.template.metadata.annotations", { "sidecar.istio.io/proxyCPU": "1" })), []);
    });
    it("refuses a pod that sets some of the four (Istio then drops the mesh defaults)", async () => {
        assert.deepEqual(await check(T.deploy, changed(modelDeployment, "spec.template.metadata.annotations.sidecar\\.istio\\.io/proxyMemoryLimit", undefined)), [
            "Deployment ml-serving/fraud: `spec.template.metadata.annotations` lacks `sidecar.istio.io/proxyMemoryLimit`; Istio then drops the mesh's default sidecar resources, so set all four.",
        ]);
    });
    for (const [what, props, extra] of [
        ["a pod labelled into a revision", changed(bare, "spec.template.metadata.labels.istio\\.io/rev", "1-30-3"), {}],
        ["a pod that asks for injection", changed(bare, "spec.template.metadata.labels.sidecar\\.istio\\.io/inject", "true"), {}],
        ["a pod in a namespace the config lists", bare, { injectedNamespaces: ["ml-serving"] }],
    ] as const) {
        it(`refuses ${what} without them`, async () => {
            assert.match((await check(T.deploy, props, extra)).join("\n"), /lacks `sidecar.istio.io\/proxyCPU`, `sidecar.istio.io\/proxyMemory`, `sidecar.istio.io\/proxyCPULimit`, `sidecar.istio.io\/proxyMemoryLimit`/);
        });
    }
    it("reads each kind's pod metadata: InferenceService components and CronJob templates", async () => {
        assert.match((await check(T.isvc, changed(isvc, "spec.predictor.annotations", { "proxy.istio.io/config": "{}" }))).join(), /InferenceService ml-serving\/bert: `spec.predictor.annotations` lacks/);
        const cron = { metadata: { name: "refresh", namespace: "ml-serving" }, spec: { jobTemplate: { spec: { template: { metadata: { labels: { "sidecar.istio.io/inject": "true" } }, spec: { containers: [{ name: "c" }] } } } } } };
        assert.match((await check(T.cron, cron)).join(), /`spec.jobTemplate.spec.template.metadata.annotations` lacks/);
        assert.deepEqual(await check(T.svc, changed(service, "metadata.annotations", { "sidecar.istio.io/proxyCPU": "1" })), []);
    });
    it("at level remediate, adds the configured mesh defaults to an injected pod that sets none, without touching the input", async () => {
        const injected = changed(bare, "spec.template.metadata.labels.sidecar\\.istio\\.io/inject", "true");
        const input = resource(T.deploy, injected);
        const run = await runPolicies([istioSidecarResources], [input], { "istio-sidecar-resources": { enforcementLevel: "remediate", cpu: "250m" } });
        assert.deepEqual(run.violations, []);
        assert.equal(run.remediations.length, 1);
        assert.deepEqual((run.remediations[0].after as any).spec.template.metadata.annotations, { ...SIDECAR, "sidecar.istio.io/proxyCPU": "250m" });
        assert.deepEqual((run.remediations[0].after as any).spec.template.spec, injected.spec.template.spec);
        assert.deepEqual(input.inputs, injected);
    });
    it("at level remediate, leaves a pod with some of its own values alone and reports it", async () => {
        const partial = changed(modelDeployment, "spec.template.metadata.annotations", { "sidecar.istio.io/proxyMemory": "4Gi" });
        const run = await runPolicies([istioSidecarResources], [resource(T.deploy, partial)], { "istio-sidecar-resources": "remediate" });
        assert.deepEqual(run.remediations, []);
        assert.deepEqual(run.violations.map((v) => v.level), ["mandatory"]);
    });
});

describe("istio-route-timeouts-retries", () => {
    it("passes routes with both, `attempts: 0` included, and redirects with neither", async () => {
        assert.deepEqual(await messages(istioRouteTimeoutsRetries, resource(T.vs, virtualService)), []);
        assert.deepEqual(await messages(istioRouteTimeoutsRetries, resource(T.vs, changed(virtualService, "spec.http.0.retries", { attempts: 0 }))), []);
        assert.deepEqual(await messages(istioRouteTimeoutsRetries, resource(T.vs, changed(virtualService, "spec.http.0", { redirect: { uri: "/v2" } }))), []);
    });
    for (const field of ["timeout", "retries"]) {
        it(`refuses a route without \`${field}\``, async () => {
            assert.deepEqual(await messages(istioRouteTimeoutsRetries, resource(T.vs, changed(virtualService, `spec.http.0.${field}`, undefined))), [
                `VirtualService ml-serving/fraud: \`spec.http[0]\` (predict) sets no \`${field}\`; set them explicitly.`,
            ]);
        });
    }
    it("does not apply to other kinds", async () => {
        assert.deepEqual(await messages(istioRouteTimeoutsRetries, resource(T.dr, changed(destinationRule, "spec.http", [{ route: [] }]))), []);
    });
});

describe("istio-outlier-detection", () => {
    const stack = (dr: Record<string, unknown> | null = destinationRule, workload = resource(T.deploy, modelDeployment)) => [workload, resource(T.svc, service), ...(dr ? [resource(T.dr, dr)] : [])];
    const bertRule = changed(destinationRule, "spec.host", "bert-predictor");
    it("passes a model host covered by a DestinationRule with both, by full, short or wildcard host", async () => {
        assert.deepEqual(await messages(istioOutlierDetection, stack()), []);
        assert.deepEqual(await messages(istioOutlierDetection, stack(bertRule, resource(T.isvc, isvc))), []);
        assert.deepEqual(await messages(istioOutlierDetection, stack(changed(destinationRule, "spec.host", "*.ml-serving.svc.cluster.local"))), []);
    });
    for (const [what, at, value, pattern] of [
        ["no outlier detection", "spec.trafficPolicy.outlierDetection", undefined, /without `spec.trafficPolicy.outlierDetection`/],
        ["outlier detection that never ejects", "spec.trafficPolicy.outlierDetection.consecutive5xxErrors", 0, /without `spec.trafficPolicy.outlierDetection`/],
        ["no connection pool", "spec.trafficPolicy.connectionPool", undefined, /without `spec.trafficPolicy.connectionPool`/],
    ] as const) {
        it(`refuses a model's DestinationRule with ${what}`, async () => {
            const found = await violationsOf(istioOutlierDetection, stack(changed(destinationRule, at, value)));
            assert.equal(found.length, 1);
            assert.match(found[0].message, /^DestinationRule ml-serving\/fraud: serves model host `fraud.ml-serving.svc.cluster.local` without/);
            assert.match(found[0].message, pattern);
            assert.match(found[0].urn ?? "", /DestinationRule::fraud$/);
        });
    }
    it("refuses a model host without any DestinationRule, InferenceService canaries included", async () => {
        assert.deepEqual(await messages(istioOutlierDetection, stack(null)), [
            "Deployment ml-serving/fraud: its host `fraud.ml-serving.svc.cluster.local` has no DestinationRule; add one with `trafficPolicy.outlierDetection` and `trafficPolicy.connectionPool`.",
        ]);
        const canary = changed(isvc, "spec.canary", [{ trafficPercent: 10, predictor: { name: "canary" } }]);
        assert.match((await messages(istioOutlierDetection, stack(bertRule, resource(T.isvc, canary)))).join(), /`bert-canary-predictor.ml-serving.svc.cluster.local` has no DestinationRule/);
    });
    it("does not apply to hosts that serve no model", async () => {
        assert.deepEqual(await messages(istioOutlierDetection, stack(null, resource(T.deploy, changed(modelDeployment, "spec.template.spec.containers.0.image", "nginx:1.27")))), []);
    });
});

describe("istio-egress-registry-only", () => {
    it("passes an istiod release with REGISTRY_ONLY, and other charts", async () => {
        assert.deepEqual(await messages(istioEgressRegistryOnly, resource(T.helm, istiod)), []);
        assert.deepEqual(await messages(istioEgressRegistryOnly, resource(T.helm, changed(changed(istiod, "chart", "gateway"), "values", {}))), []);
    });
    it("refuses ALLOW_ANY or no mode (Istio's default is ALLOW_ANY) on istiod", async () => {
        assert.deepEqual(await messages(istioEgressRegistryOnly, resource(T.helm, changed(istiod, "values.meshConfig.outboundTrafficPolicy.mode", "ALLOW_ANY"))), [
            "Helm release istiod-1-30-3 (istiod): `values.meshConfig.outboundTrafficPolicy.mode` is ALLOW_ANY, so any pod can send data anywhere; set REGISTRY_ONLY.",
        ]);
        assert.match((await messages(istioEgressRegistryOnly, resource(T.helm, changed(istiod, "values.meshConfig", undefined))))[0], /is unset \(ALLOW_ANY\)/);
    });
    it("refuses a Sidecar that opens egress for its workloads, and an IstioOperator without REGISTRY_ONLY", async () => {
        const sidecar = { metadata: { name: "bridge", namespace: "ml-serving" }, spec: { outboundTrafficPolicy: { mode: "ALLOW_ANY" } } };
        assert.match((await messages(istioEgressRegistryOnly, resource(T.sidecar, sidecar)))[0], /Sidecar ml-serving\/bridge: `spec.outboundTrafficPolicy.mode` is ALLOW_ANY/);
        assert.deepEqual(await messages(istioEgressRegistryOnly, resource(T.sidecar, changed(sidecar, "spec.outboundTrafficPolicy.mode", "REGISTRY_ONLY"))), []);
        const operator = { metadata: { name: "mesh", namespace: "istio-system" }, spec: { meshConfig: {} } };
        assert.match((await messages(istioEgressRegistryOnly, resource("kubernetes:install.istio.io/v1alpha1:IstioOperator", operator)))[0], /IstioOperator istio-system\/mesh: `spec.meshConfig.outboundTrafficPolicy.mode`/);
    });
});

function configFor(policies: readonly AnyPolicy[], environment: string): PolicyConfig {
    return environmentConfig(environment, policies);
}


describe("the Istio guardrails over the committed stacks", () => {
    for (const stack of ["dev", "prod"]) {
        it(`plans ${stack} with no mandatory violation under its environment's config`, async () => {
            const run = await runPolicies(istioPolicies, (await plannedStack(stack)).resources, configFor(istioPolicies, stack));
            assert.deepEqual(run.violations.filter((v) => v.level === "mandatory").map((v) => `${v.policy}: ${v.message}`), []);
        });
    }
    const settings: [string, (config: Record<string, any>) => void, string[]][] = [
        ["mesh.mtls: PERMISSIVE", (c) => (c["mlmesh:mesh"].mtls = "PERMISSIVE"), ["istio-mesh-wide-strict", "istio-mtls-strict"]],
        ["mesh.egress.mode: ALLOW_ANY", (c) => (c["mlmesh:mesh"].egress = { mode: "ALLOW_ANY" }), ["istio-egress-registry-only"]],
    ];
    for (const [setting, change, expected] of settings) {
        it(`fires exactly ${expected.join(" and ")} when dev sets ${setting}`, async () => {
            assert.deepEqual(await firingAfter(istioPolicies, "dev", change), expected);
        });
    }
});
