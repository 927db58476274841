import * as assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parseDocument } from "yaml";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { plan } from "../../offline/plan";
import { PolicyConfigError, runPolicies, type PolicyConfig, type PolicyViolation } from "../../offline/policyRunner";
import type { RecordedResource } from "../../offline/recorder";
import * as w from "../../policy-pack/workloads";
import { plannedStack } from "../offline/fixtures/plannedStack";
import { environmentConfig, resource, violationsOf } from "./harness";

type AnyPolicy = ResourceValidationPolicy | StackValidationPolicy;
type Mutate = (o: any) => void;

const ECR = "123456789012.dkr.ecr.us-west-2.amazonaws.com";
const DIGEST = `@sha256:${"a".repeat(64)}`;
const IMAGE = `${ECR}/ml/server:1.0${DIGEST}`;
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const GPU = "nvidia.com/gpu";

/** A Deployment every workload policy admits: non-root, read-only, no escalation, requests and limits, a readiness probe, an ECR image by digest. */
function deployment(mutate: Mutate = () => {}, name = "model", namespace = "ml-serving"): Record<string, any> {
    const container = { image: IMAGE, resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { memory: "1Gi" } }, securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } } };
    const d = JSON.parse(JSON.stringify({
        apiVersion: "apps/v1", kind: "Deployment", metadata: { name, namespace },
        spec: {
            replicas: 2, selector: { matchLabels: { app: name } },
            template: {
                metadata: { labels: { app: name } },
                spec: {
                    securityContext: { runAsNonRoot: true, runAsUser: 1000 },
                    initContainers: [{ name: "download", ...container }],
                    containers: [{ name: "server", ...container, readinessProbe: { httpGet: { path: "/v1/models/m", port: 8501 } } }],
                },
            },
        },
    }));
    mutate(d);
    return d;
}
const pod = (d: any) => d.spec.template.spec;
const app = (d: any) => pod(d).containers[0];
const init = (d: any) => pod(d).initContainers[0];
const gpuToleration = { key: GPU, operator: "Exists", effect: "NoSchedule" };

/** The backticked field each violation names (the first one in its message). */
const fields = (violations: readonly PolicyViolation[]) => violations.map((v) => /`([^`]+)`/.exec(v.message)?.[1] ?? v.message);
const judge = async (policy: AnyPolicy, resources: RecordedResource | RecordedResource[], settings?: Record<string, unknown>) =>
    violationsOf(policy, resources, settings && { [policy.name]: { enforcementLevel: "mandatory", ...settings } });

type Row = [what: string, mutate: Mutate, fields: string[], settings?: Record<string, unknown>];
const T = "spec.template.spec";

const POD_ROWS: [AnyPolicy, Row[]][] = [
    [w.k8sRequestsLimits, [
        ["an app container without a memory limit", (d) => delete app(d).resources.limits, [`${T}.containers[0].resources`]],
        ["an init container without requests", (d) => delete init(d).resources.requests, [`${T}.initContainers[0].resources`]],
        ["a CPU request left empty", (d) => (app(d).resources.requests.cpu = ""), [`${T}.containers[0].resources`]],
    ]],
    [w.k8sNonRoot, [
        ["no runAsNonRoot on the pod nor its containers", (d) => delete pod(d).securityContext.runAsNonRoot, [`${T}.initContainers[0].securityContext.runAsNonRoot`, `${T}.containers[0].securityContext.runAsNonRoot`]],
        ["a container overriding it with false", (d) => (app(d).securityContext.runAsNonRoot = false), [`${T}.containers[0].securityContext.runAsNonRoot`]],
        ["runAsUser 0 on the pod", (d) => (pod(d).securityContext.runAsUser = 0), [`${T}.securityContext.runAsUser`]],
        ["runAsUser 0 on an init container", (d) => (init(d).securityContext.runAsUser = 0), [`${T}.initContainers[0].securityContext.runAsUser`]],
    ]],
    [w.k8sReadonlyRootfs, [
        ["a writable root filesystem", (d) => delete app(d).securityContext.readOnlyRootFilesystem, [`${T}.containers[0].securityContext.readOnlyRootFilesystem`]],
        ["a native sidecar with a writable root (stricter than Kyverno)", (d) => Object.assign(init(d), { restartPolicy: "Always", securityContext: { allowPrivilegeEscalation: false } }), [`${T}.initContainers[0].securityContext.readOnlyRootFilesystem`]],
        ["a plain init container with a writable root, which Kyverno does not judge either", (d) => (init(d).securityContext.readOnlyRootFilesystem = false), []],
    ]],
    [w.k8sNoPrivileged, [
        ["a privileged init container", (d) => (init(d).securityContext.privileged = true), [`${T}.initContainers[0].securityContext.privileged`]],
        ["privileged: false, spelled out", (d) => (app(d).securityContext.privileged = false), []],
    ]],
    [w.k8sNoPrivilegeEscalation, [
        ["allowPrivilegeEscalation left unset", (d) => delete app(d).securityContext.allowPrivilegeEscalation, [`${T}.containers[0].securityContext.allowPrivilegeEscalation`]],
        ["an init container without a securityContext", (d) => delete init(d).securityContext, [`${T}.initContainers[0].securityContext.allowPrivilegeEscalation`]],
    ]],
    [w.k8sImagePinned, [
        ["the latest tag", (d) => (app(d).image = `${ECR}/ml/server:latest`), [`${T}.containers[0].image`]],
        ["no tag", (d) => (init(d).image = "busybox"), [`${T}.initContainers[0].image`]],
        ["a registry port but no tag (Kyverno's `*:*` passes it; stricter)", (d) => (app(d).image = "registry.local:5000/ml/server"), [`${T}.containers[0].image`]],
        ["latest pinned by a digest", (d) => (app(d).image = `nginx:latest${DIGEST}`), []],
        ["a digest without a tag", (d) => (app(d).image = `nginx${DIGEST}`), []],
    ]],
    [w.k8sImageDigest, [
        ["a tag without a digest", (d) => (app(d).image = `${ECR}/ml/server:1.0`), [`${T}.containers[0].image`]],
        ["a tag whose prefix is exempt", (d) => (app(d).image = `${ECR}/ml/server:1.0`), [], { exemptImages: [`${ECR}/ml/`] }],
    ]],
    [w.k8sProbes, [
        ["no readiness probe", (d) => delete app(d).readinessProbe, [`${T}.containers[0].readinessProbe`]],
        ["a readiness probe without a handler", (d) => (app(d).readinessProbe = { periodSeconds: 10 }), [`${T}.containers[0].readinessProbe`]],
        ["only a liveness probe (Kyverno accepts it; stricter)", (d) => { app(d).livenessProbe = app(d).readinessProbe; delete app(d).readinessProbe; }, [`${T}.containers[0].readinessProbe`]],
        ["readiness only, when config also asks liveness", () => {}, [`${T}.containers[0].livenessProbe`], { requiredProbes: ["readinessProbe", "livenessProbe"] }],
    ]],
    [w.gpuPodRequestsGpu, [
        ["a GPU toleration without a GPU", (d) => (pod(d).tolerations = [gpuToleration]), [`${T}.tolerations[0]`]],
        ["a GPU limit without the toleration", (d) => (app(d).resources.limits[GPU] = "1"), [`${T}.containers[0].resources.limits["${GPU}"]`]],
        ["a toleration of every taint without a GPU", (d) => (pod(d).tolerations = [{ operator: "Exists" }]), [`${T}.tolerations[0]`]],
        ["a GPU with its toleration", (d) => { app(d).resources.limits[GPU] = "1"; pod(d).tolerations = [gpuToleration]; }, []],
        ["a DaemonSet tolerating GPUs to run on every node", (d) => { d.kind = "DaemonSet"; pod(d).tolerations = [gpuToleration]; }, []],
        ["a DaemonSet when config exempts no kind", (d) => { d.kind = "DaemonSet"; pod(d).tolerations = [gpuToleration]; }, [`${T}.tolerations[0]`], { exemptKinds: [] }],
    ]],
    [w.imageFromCacheOrDigest, [
        ["a Docker Hub image by tag", (d) => (app(d).image = "tensorflow/serving:2.20.0"), [`${T}.containers[0].image`]],
        ["an nvcr.io image by tag", (d) => (init(d).image = "nvcr.io/nvidia/tritonserver:24.01-py3"), [`${T}.initContainers[0].image`]],
        ["an upstream image pinned by digest", (d) => (app(d).image = `tensorflow/serving:2.20.0${DIGEST}`), []],
        ["a cached image by tag", (d) => (app(d).image = `${ECR}/mlmesh-0dd9bbea/docker-hub/tensorflow/serving:2.20.0`), []],
        ["another account's ECR when config names the account", (d) => (app(d).image = `210987654321.dkr.ecr.us-west-2.amazonaws.com/ml/server:1.0`), [`${T}.containers[0].image`], { accounts: ["123456789012"] }],
        ["a registry config trusts", (d) => (app(d).image = "registry.corp.example/ml/server:1.0"), [], { allowedRegistries: ["registry.corp.example/"] }],
    ]],
];

describe("the workload policies on a pod template", () => {
    for (const [policy, rows] of POD_ROWS) {
        describe(policy.name, () => {
            it("admits the happy-path Deployment", async () => assert.deepEqual(fields(await judge(policy, resource(DEPLOYMENT, deployment()))), []));
            for (const [what, mutate, expected, settings] of rows) {
                it(`${expected.length > 0 ? "flags" : "admits"} ${what}${settings ? ` (config ${JSON.stringify(settings)})` : ""}`, async () => {
                    const props = deployment(mutate);
                    assert.deepEqual(fields(await judge(policy, resource(`kubernetes:apps/v1:${props.kind}`, props), settings)), expected);
                });
            }
            it("does not apply to a resource that is no pod template", async () => {
                const props = deployment((d) => { app(d).image = "nginx"; app(d).securityContext = { privileged: true }; pod(d).tolerations = [gpuToleration]; });
                assert.deepEqual(await judge(policy, [resource("kubernetes:core/v1:ConfigMap", props), resource("aws:ec2/instance:Instance", props)]), []);
            });
        });
    }
    it("names the violation at the level the policy defaults to (k8s-image-digest is advisory)", async () => {
        const [violation] = await violationsOf(w.k8sImageDigest, resource(DEPLOYMENT, deployment((d) => (app(d).image = `${ECR}/ml/server:1.0`))));
        assert.equal(violation.level, "advisory");
        assert.match(violation.message, /^Deployment ml-serving\/model: `spec\.template\.spec\.containers\[0\]\.image` \(`.+:1\.0`\) is pinned by tag only/);
    });
});

describe("the workload policies on every kind with a pod template", () => {
    const privileged = { name: "c", image: IMAGE, securityContext: { privileged: true, allowPrivilegeEscalation: false } };
    const podSpec = { securityContext: { runAsNonRoot: true }, containers: [privileged] };
    const kinds: [string, string, Record<string, unknown>, string][] = [
        ["Pod", "kubernetes:core/v1:Pod", podSpec, "spec"],
        ["StatefulSet", "kubernetes:apps/v1:StatefulSet", { template: { spec: podSpec } }, T],
        ["DaemonSet", "kubernetes:apps/v1:DaemonSet", { template: { spec: podSpec } }, T],
        ["ReplicaSet", "kubernetes:apps/v1:ReplicaSet", { template: { spec: podSpec } }, T],
        ["Job", "kubernetes:batch/v1:Job", { template: { spec: podSpec } }, T],
        ["CronJob", "kubernetes:batch/v1:CronJob", { schedule: "@daily", jobTemplate: { spec: { template: { spec: podSpec } } } }, "spec.jobTemplate.spec.template.spec"],
    ];
    for (const [kind, type, spec, at] of kinds) {
        it(`judges a ${kind} at ${at}`, async () => {
            assert.deepEqual(fields(await judge(w.k8sNoPrivileged, resource(type, { metadata: { name: "x", namespace: "team" }, spec }))), [`${at}.containers[0].securityContext.privileged`]);
        });
    }
    it("judges ephemeral containers for privilege escalation but not for resources, which the API forbids them", async () => {
        const props = { metadata: { name: "debug" }, spec: { ...deployment().spec.template.spec, ephemeralContainers: [{ name: "dbg", image: IMAGE }] } };
        assert.deepEqual(fields(await judge(w.k8sNoPrivilegeEscalation, resource("kubernetes:core/v1:Pod", props))), ["spec.ephemeralContainers[0].securityContext.allowPrivilegeEscalation"]);
        assert.deepEqual(await judge(w.k8sRequestsLimits, resource("kubernetes:core/v1:Pod", props)), []);
    });
});

const release = (chart: string, values: Record<string, unknown>, name = chart, namespace = "istio-system") => resource(RELEASE, { chart, name, namespace, values }, { name });
const MESH_HUB = `${ECR}/mlmesh-0dd9bbea/docker-hub/istio`;
const ISTIOD = { cni: { enabled: true }, global: { hub: MESH_HUB, proxy: { privileged: false } } };

describe("the workload policies on the Helm releases that decide what pods run", () => {
    const rows: [AnyPolicy, string, RecordedResource, string[]][] = [
        [w.k8sNonRoot, "istiod as mlmesh installs it (with the CNI)", release("istiod", ISTIOD), []],
        [w.k8sNonRoot, "istiod without the CNI: istio-init runs as root in every injected pod", release("istiod", { ...ISTIOD, cni: { enabled: false } }), ["values.cni.enabled"]],
        [w.k8sNoPrivileged, "istiod with privileged proxies", release("istiod", { ...ISTIOD, global: { hub: MESH_HUB, proxy: { privileged: true } } }), ["values.global.proxy.privileged"]],
        [w.k8sNoPrivilegeEscalation, "istiod with privileged proxies", release("istiod", { ...ISTIOD, global: { hub: MESH_HUB, proxy: { privileged: true } } }), ["values.global.proxy.privileged"]],
        [w.imageFromCacheOrDigest, "istiod pulling from the account's cache", release("istiod", ISTIOD), []],
        [w.imageFromCacheOrDigest, "istiod left on the chart's hub, which injected proxies pull too", release("istiod", { cni: { enabled: true } }), ["values.global.hub"]],
        [w.imageFromCacheOrDigest, "a chart's image named straight from Docker Hub", release("kserve-resources", { kserve: { controller: { image: "kserve/kserve-controller" } } }, "kserve-resources", "kserve"), ["values.kserve.controller.image", "values.kserve.storage.image", "values.kserve.agent.image", "values.kserve.router.image", "values.kserve.servingruntime.art.image", "values.kserve.controller.rbacProxyImage"]],
        [w.imageFromCacheOrDigest, "cert-manager from an ECR registry prefix", release("cert-manager", { imageRegistry: `${ECR}/mlmesh-0dd9bbea/quay` }, "cert-manager", "cert-manager"), []],
        [w.imageFromCacheOrDigest, "cert-manager left on quay.io", release("cert-manager", {}, "cert-manager", "cert-manager"), ["values.imageRegistry"]],
        [w.imageFromCacheOrDigest, "a runtime image the chart never installs (servingruntime not enabled)", release("kserve-runtime-configs", {}, "kserve-runtime-configs", "kserve"), []],
        [w.imageFromCacheOrDigest, "KServe runtimes: only the enabled one left on Docker Hub", release("kserve-runtime-configs", { kserve: { servingruntime: { enabled: true, ...Object.fromEntries(["tensorflow", "mlserver", "sklearnserver", "xgbserver", "huggingfaceserver", "tritonserver", "pmmlserver", "predictiveserver", "paddleserver", "lgbserver", "autogluonserver", "torchserve"].map((r) => [r, { disabled: true, image: "upstream/x" }])) } } }, "kserve-runtime-configs", "kserve"), ["values.kserve.servingruntime.vllmserver.image"]],
        [w.imageFromCacheOrDigest, "an unknown chart naming an upstream image, pinned by a digest beside it", release("other", { image: { repository: "ghcr.io/org/app", digest: DIGEST.slice(1) } }), []],
        [w.imageFromCacheOrDigest, "an unknown chart naming an upstream image", release("other", { sidecar: { image: "ghcr.io/org/agent:1.0" } }), ["values.sidecar.image"]],
    ];
    for (const [policy, what, subject, expected] of rows) {
        it(`${policy.name} ${expected.length > 0 ? "flags" : "admits"} ${what}`, async () => assert.deepEqual(fields(await judge(policy, subject)), expected));
    }
    it("names the release, the chart and the value to change", async () => {
        const [v] = await judge(w.imageFromCacheOrDigest, release("istiod", { cni: { enabled: true } }, "istiod-1-30-3"));
        assert.match(v.message, /^Helm release istio-system\/istiod-1-30-3 \(chart istiod\): `values\.global\.hub` \(`registry\.istio\.io\/release \(the chart's default\)`\) is pulled from registry\.istio\.io; /);
    });
});

const SCHEME = "service.beta.kubernetes.io/aws-load-balancer-scheme";
const INTERNAL = "service.beta.kubernetes.io/aws-load-balancer-internal";
const service = (annotations: Record<string, string>, spec: Record<string, unknown> = {}) =>
    resource("kubernetes:core/v1:Service", { metadata: { name: "edge", namespace: "istio-ingress", annotations }, spec: { type: "LoadBalancer", ports: [{ port: 443 }], ...spec } });
const gatewayValues = (annotations: Record<string, string>) => ({ replicaCount: 2, service: { type: "LoadBalancer", annotations: { "service.beta.kubernetes.io/aws-load-balancer-type": "nlb", ...annotations } } });
const GATEWAY = (annotations: Record<string, string>) => release("gateway", gatewayValues(annotations), "istio-ingressgateway", "istio-ingress");

describe("k8s-no-public-loadbalancer", () => {
    const rows: [string, RecordedResource, boolean, Record<string, unknown>?][] = [
        ["an internal NLB, annotated for both controllers", service({ [SCHEME]: "internal", [INTERNAL]: "true" }), false],
        ["a Service without annotations (the legacy provider makes it internet-facing)", service({}), true],
        ["scheme internal alone, which the legacy provider ignores", service({ [SCHEME]: "internal" }), true],
        ["scheme internal on the Load Balancer Controller's class", service({ [SCHEME]: "internal" }, { loadBalancerClass: "service.k8s.aws/nlb" }), false],
        ["the Load Balancer Controller's class without a scheme (keeps an existing NLB's)", service({}, { loadBalancerClass: "service.k8s.aws/nlb" }), true],
        ["an internet-facing scheme", service({ [SCHEME]: "internet-facing", [INTERNAL]: "true" }), true],
        ["an internet-facing Service config allows", service({ [SCHEME]: "internet-facing" }), false, { allowInternetFacing: ["istio-ingress/edge"] }],
        ["a ClusterIP Service", service({}, { type: "ClusterIP" }), false],
        ["the gateway chart as mlmesh renders it internal", GATEWAY({ [SCHEME]: "internal", [INTERNAL]: "true" }), false],
        ["the gateway chart as mlmesh renders it internet-facing", GATEWAY({ [SCHEME]: "internet-facing" }), true],
        ["an internet-facing gateway prod's config allows", GATEWAY({ [SCHEME]: "internet-facing" }), false, { allowInternetFacing: ["istio-ingress/istio-ingressgateway"] }],
        ["the gateway chart with no service values (a LoadBalancer by default)", release("gateway", {}, "edge-gw", "istio-ingress"), true],
        ["the gateway chart with the internal annotation in its top-level annotations", release("gateway", { annotations: { [INTERNAL]: "true" } }, "edge-gw", "istio-ingress"), false],
        ["the gateway chart as a ClusterIP", release("gateway", { service: { type: "ClusterIP" } }, "edge-gw", "istio-ingress"), false],
    ];
    for (const [what, subject, flagged, settings] of rows) {
        it(`${flagged ? "flags" : "admits"} ${what}${settings ? " (config)" : ""}`, async () => assert.equal((await judge(w.k8sNoPublicLoadbalancer, subject, settings)).length, flagged ? 1 : 0));
    }
    it("does not apply to other types", async () => assert.deepEqual(await judge(w.k8sNoPublicLoadbalancer, resource("aws:lb/loadBalancer:LoadBalancer", { spec: { type: "LoadBalancer" }, internal: false })), []));
    it("names the Service the release renders and how to allow it", async () => {
        const [v] = await judge(w.k8sNoPublicLoadbalancer, GATEWAY({ [SCHEME]: "internet-facing" }));
        assert.match(v.message, /^Helm release istio-ingress\/istio-ingressgateway: the Service istio-ingress\/istio-ingressgateway it renders \(`values\.service\.annotations`\) sets .+: internet-facing; .+allowInternetFacing/);
    });
});

const namespace = (labels: Record<string, string>, name = "ml-serving") => resource("kubernetes:core/v1:Namespace", { metadata: { name, labels } });
const RESTRICTED = { "pod-security.kubernetes.io/enforce": "restricted" };

describe("ns-pod-security-restricted", () => {
    const rows: [string, RecordedResource, boolean, Record<string, unknown>?][] = [
        ["a namespace as mlmesh labels it (revision label, restricted)", namespace({ "istio.io/rev": "1-30-3", ...RESTRICTED }), false],
        ["a revision-labelled namespace enforcing baseline", namespace({ "istio.io/rev": "1-30-3", "pod-security.kubernetes.io/enforce": "baseline" }), true],
        ["an istio-injection namespace without Pod Security labels", namespace({ "istio-injection": "enabled" }), true],
        ["a revision label that istio-injection: disabled overrides", namespace({ "istio.io/rev": "1-30-3", "istio-injection": "disabled" }), false],
        ["a namespace the mesh does not inject", namespace({}, "kube-tools"), false],
        ["an unlabelled namespace config lists as ML", namespace({}, "ml-batch"), true, { namespaces: ["ml-batch"] }],
    ];
    for (const [what, subject, flagged, settings] of rows) {
        it(`${flagged ? "flags" : "admits"} ${what}`, async () => assert.deepEqual(fields(await judge(w.nsPodSecurityRestricted, subject, settings)), flagged ? ['metadata.labels["pod-security.kubernetes.io/enforce"]'] : []));
    }
    it("does not apply to other types", async () => assert.deepEqual(await judge(w.nsPodSecurityRestricted, resource("kubernetes:core/v1:ConfigMap", { metadata: { name: "x", labels: { "istio-injection": "enabled" } } })), []));
});

const hpa = (target: string, minReplicas: number | undefined, maxReplicas: number, ns = "ml-serving") =>
    resource("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", { metadata: { name: target, namespace: ns }, spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: target }, minReplicas, maxReplicas } });
const pdb = (selector: unknown, ns = "ml-serving") => resource("kubernetes:policy/v1:PodDisruptionBudget", { metadata: { name: "model", namespace: ns }, spec: { maxUnavailable: 1, selector } });
const deploy = (mutate: Mutate = () => {}, ns = "ml-serving", props = deployment(mutate, "model", ns)) => resource(`kubernetes:apps/v1:${props.kind}`, props);
const isvc = (predictor: Record<string, unknown>) => resource("kubernetes:serving.kserve.io/v1beta1:InferenceService", { metadata: { name: "bert", namespace: "ml-serving", labels: { app: "bert" } }, spec: { predictor: { model: { modelFormat: { name: "tensorflow" } }, ...predictor } } });

describe("k8s-min-replicas (stack)", () => {
    const rows: [string, RecordedResource[], string[], Record<string, unknown>?][] = [
        ["two replicas in ml-serving", [deploy()], []],
        ["one replica in ml-serving", [deploy((d) => (d.spec.replicas = 1))], ["spec.replicas"]],
        ["replicas left to the default (1)", [deploy((d) => delete d.spec.replicas)], ["spec.replicas"]],
        ["an autoscaler owning the count with minReplicas 1", [deploy(), hpa("model", 1, 4)], ["spec.minReplicas"]],
        ["an autoscaler with minReplicas 2 over spec.replicas 1", [deploy((d) => (d.spec.replicas = 1)), hpa("model", 2, 4)], []],
        ["a StatefulSet of one", [deploy((d) => { d.kind = "StatefulSet"; d.spec.replicas = 1; })], ["spec.replicas"]],
        ["one replica outside the ML namespaces", [deploy((d) => (d.spec.replicas = 1), "tools")], []],
        ["one replica in a namespace the stack labels for injection", [deploy((d) => (d.spec.replicas = 1), "ml-tabular"), namespace({ "istio.io/rev": "1-30-3", ...RESTRICTED }, "ml-tabular")], ["spec.replicas"]],
        ["two replicas under a threshold of 3", [deploy()], ["spec.replicas"], { minReplicas: 3 }],
        ["an exempted single replica", [deploy((d) => (d.spec.replicas = 1))], [], { exemptions: ["ml-serving/model"] }],
        ["a listed namespace", [deploy((d) => (d.spec.replicas = 1), "ml-batch")], ["spec.replicas"], { namespaces: ["ml-batch"] }],
    ];
    for (const [what, resources, expected, settings] of rows) {
        it(`${expected.length > 0 ? "flags" : "admits"} ${what}`, async () => assert.deepEqual(fields(await judge(w.k8sMinReplicas, resources, settings)), expected));
    }
    it("names the autoscaler that decides and the workload's URN", async () => {
        const [v] = await judge(w.k8sMinReplicas, [deploy(), hpa("model", 1, 4)]);
        assert.match(v.message, /^Deployment ml-serving\/model: HorizontalPodAutoscaler ml-serving\/model `spec\.minReplicas` is 1, below 2/);
        assert.equal(v.urn, `urn:pulumi:test::mlmesh::${DEPLOYMENT}::model`);
    });
    it("refuses a threshold below 1", async () => assert.rejects(judge(w.k8sMinReplicas, [deploy()], { minReplicas: 0 }), PolicyConfigError));
});

describe("k8s-pdb (stack)", () => {
    const rows: [string, RecordedResource[], boolean, Record<string, unknown>?][] = [
        ["two replicas with a budget selecting them", [deploy(), pdb({ matchLabels: { app: "model" } })], false],
        ["two replicas without a budget", [deploy()], true],
        ["a budget in another namespace", [deploy(), pdb({ matchLabels: { app: "model" } }, "other")], true],
        ["a budget selecting other pods", [deploy(), pdb({ matchLabels: { app: "other" } })], true],
        ["a budget selecting by expression", [deploy(), pdb({ matchExpressions: [{ key: "app", operator: "In", values: ["model", "x"] }] })], false],
        ["a budget with an empty selector (every pod, policy/v1)", [deploy(), pdb({})], false],
        ["a budget without a selector (no pod)", [deploy(), pdb(undefined)], true],
        ["one replica and no autoscaler", [deploy((d) => (d.spec.replicas = 1))], false],
        ["one replica an autoscaler may scale to 3", [deploy((d) => (d.spec.replicas = 1)), hpa("model", 1, 3)], true],
        ["an InferenceService predictor of up to 3 replicas, which KServe gives no budget", [isvc({ minReplicas: 1, maxReplicas: 3 })], true],
        ["an InferenceService predictor with a budget on KServe's labels", [isvc({ minReplicas: 2 }), pdb({ matchLabels: { "serving.kserve.io/inferenceservice": "bert", component: "predictor" } })], false],
        ["a single-replica InferenceService", [isvc({ minReplicas: 1 })], false],
        ["an exempted workload", [deploy()], false, { exemptions: ["ml-serving/model"] }],
    ];
    for (const [what, resources, flagged, settings] of rows) {
        it(`${flagged ? "flags" : "admits"} ${what}`, async () => assert.equal((await judge(w.k8sPdb, resources, settings)).length, flagged ? 1 : 0));
    }
});

describe("the workload helpers", () => {
    const images: [string, ReturnType<typeof w.parseImage>][] = [
        ["nginx", { registry: "docker.io" }],
        ["kserve/agent:v0.20.0", { registry: "docker.io", tag: "v0.20.0" }],
        ["localhost:5000/app", { registry: "localhost:5000" }],
        [`${ECR}/mlmesh-0dd9bbea/docker-hub/istio`, { registry: ECR }],
        [`quay.io/jetstack/cert-manager-controller:v1.21.1${DIGEST}`, { registry: "quay.io", tag: "v1.21.1", digest: DIGEST.slice(1) }],
    ];
    for (const [image, expected] of images) {
        it(`parses ${image.slice(0, 50)}`, () => assert.deepEqual(w.parseImage(image), expected));
    }
    it("reads injection as Istio does: istio-injection first, then a revision", () => {
        const labels: Record<string, string>[] = [{ "istio-injection": "enabled" }, { "istio.io/rev": "1-30-3" }, { "istio.io/rev": "x", "istio-injection": "disabled" }, {}];
        assert.deepEqual(labels.map((l) => w.meshInjected(l)), [true, true, false, false]);
    });
    it("reads the internal annotation as the legacy provider does (any value but false)", () => {
        assert.deepEqual([{ [INTERNAL]: "0.0.0.0/0" }, { [INTERNAL]: "false" }].map((a) => w.internetFacingReason(a) === undefined), [true, false]);
    });
});

/** The environment's committed config, for these policies only (the runner refuses names it lacks). */
const configFor = (environment: string): PolicyConfig => environmentConfig(environment, w.workloadsPolicies);
const key = (v: PolicyViolation) => `${v.policy}|${v.urn}|${v.message}`;

describe("the workload policies over the committed stacks", () => {
    for (const stack of ["dev", "prod"]) {
        it(`find no mandatory violation in ${stack} under its environment's config`, async () => {
            const run = await runPolicies(w.workloadsPolicies, (await plannedStack(stack)).resources, configFor(stack));
            assert.deepEqual(run.violations.filter((v) => v.level === "mandatory").map((v) => `${v.policy}: ${v.message}`), []);
        });
    }
});

describe("the stack settings that control the workload guardrails", () => {
    const rows: [string, (c: ReturnType<typeof parseDocument>) => void, string][] = [
        ["an internet-facing ingress gateway", (c) => c.setIn(["config", "mlmesh:mesh", "ingressGateway", "scheme"], "internet-facing"), "k8s-no-public-loadbalancer"],
        ["Pod Security baseline on the ML namespaces", (c) => c.setIn(["config", "mlmesh:mesh", "podSecurity"], "baseline"), "ns-pod-security-restricted"],
        ["no private mirror for the NVIDIA device plugin (nvcr.io)", (c) => c.deleteIn(["config", "mlmesh:cluster", "imageCache", "mirrors"]), "image-from-cache-or-digest"],
        ["a single-replica model", (c) => c.setIn(["config", "mlmesh:models", 2, "replicas"], { min: 1, max: 4 }), "k8s-min-replicas"],
    ];
    for (const [setting, edit, policy] of rows) {
        it(`${setting} (dev): ${policy} fires, and nothing else changes`, async () => {
            const before = (await runPolicies(w.workloadsPolicies, (await plannedStack("dev")).resources, configFor("dev"))).violations;
            const dir = mkdtempSync(path.join(tmpdir(), "mlmesh-workloads-"));
            const document = parseDocument(readFileSync(path.join(__dirname, "..", "..", "stacks", "Pulumi.dev.yaml"), "utf8"));
            edit(document);
            writeFileSync(path.join(dir, "Pulumi.dev.yaml"), document.toString());
            const result = await plan({ stack: "dev", configFile: path.join(dir, "Pulumi.dev.yaml"), outDir: path.join(dir, "out") });
            const after = (await runPolicies(w.workloadsPolicies, result.resources, configFor("dev"))).violations;
            const added = after.filter((v) => !before.map(key).includes(key(v)));
            assert.ok(added.length > 0, `${policy} did not fire`);
            assert.deepEqual([...new Set(added.map((v) => v.policy))], [policy]);
            assert.deepEqual(before.filter((v) => !after.map(key).includes(key(v))), []);
        });
    }
});
