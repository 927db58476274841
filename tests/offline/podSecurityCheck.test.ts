import * as assert from "node:assert/strict";
import { SidecarResources } from "../../components/mesh/sidecarResources";
import { inferenceServiceManifest } from "../../components/serving/kserveModel";
import type { KServeModelSpec } from "../../components/serving/modelSpec";
import type { PlanResult } from "../../offline/plan";
import { plannedStack } from "./fixtures/plannedStack";
import { injectedContainers, podSecurityReport, predictorPods, restrictedViolations, type Pod } from "../../offline/podSecurityCheck";
import type { RecordedResource } from "../../offline/recorder";

const HARDENED = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };
/** A pod `restricted` admits: non-root with the runtime's seccomp profile, no escalation, no capabilities. */
const GOOD: Pod = {
    securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } },
    volumes: [{ name: "tmp", emptyDir: {} }, { name: "cfg", configMap: { name: "x" } }],
    initContainers: [{ name: "download", securityContext: HARDENED }],
    containers: [{ name: "server", securityContext: HARDENED }],
};
const server = (securityContext: object): Pod => ({ ...GOOD, containers: [{ name: "server", securityContext: { ...HARDENED, ...securityContext } }] });

describe("restrictedViolations", () => {
    it("admits a hardened pod", () => assert.deepEqual(restrictedViolations(GOOD), []));
    const mutations: [string, Pod, RegExp][] = [
        ["host networking", { ...GOOD, hostNetwork: true }, /hostNetwork: true/],
        ["the host's PID namespace", { ...GOOD, hostPID: true }, /hostPID: true/],
        ["a hostPath volume", { ...GOOD, volumes: [{ name: "host", hostPath: { path: "/" } }] }, /volume host is of type hostPath/],
        ["an unsafe sysctl", { ...GOOD, securityContext: { ...GOOD.securityContext, sysctls: [{ name: "net.core.somaxconn" }] } }, /sysctl net\.core\.somaxconn/],
        ["NET_ADMIN", server({ capabilities: { add: ["NET_ADMIN"], drop: ["ALL"] } }), /server: adds capabilities NET_ADMIN/],
        ["capabilities not dropped", server({ capabilities: {} }), /server: capabilities do not drop ALL/],
        ["a lower-case drop of all", server({ capabilities: { drop: ["all"] } }), /server: capabilities do not drop ALL/],
        ["privilege escalation left unset", { ...GOOD, containers: [{ name: "server", securityContext: { capabilities: { drop: ["ALL"] } } }] }, /server: allowPrivilegeEscalation is not false/],
        ["a privileged container", server({ privileged: true }), /server: privileged/],
        ["root", server({ runAsUser: 0 }), /server: runAsUser 0/],
        ["a container that opts out of runAsNonRoot", server({ runAsNonRoot: false }), /server: runAsNonRoot is not true/],
        ["no runAsNonRoot anywhere", { ...GOOD, securityContext: { seccompProfile: { type: "RuntimeDefault" } } }, /runAsNonRoot is not true \(here or on the pod\)/],
        ["no seccomp profile anywhere", { ...GOOD, securityContext: { runAsNonRoot: true } }, /server: no RuntimeDefault or Localhost seccomp profile/],
        ["an Unconfined container", server({ seccompProfile: { type: "Unconfined" } }), /server: no RuntimeDefault or Localhost seccomp profile/],
        ["a host port", { ...GOOD, containers: [{ name: "server", securityContext: HARDENED, ports: [{ hostPort: 8080 }] }] }, /server: hostPort/],
        ["an unmasked /proc", server({ procMount: "Unmasked" }), /server: procMount Unmasked/],
        ["an SELinux user", server({ seLinuxOptions: { user: "system_u" } }), /seLinuxOptions/],
    ];
    for (const [what, pod, violation] of mutations) {
        it(`refuses ${what}`, () => assert.match(restrictedViolations(pod).join("\n"), violation));
    }
});

describe("Istio's injected containers", () => {
    it("pass restricted with the CNI (istio-validation and the native-sidecar proxy run as 1337 with nothing added)", () => {
        assert.deepEqual(restrictedViolations({ ...GOOD, initContainers: [...injectedContainers({ cni: true }), ...GOOD.initContainers!] }), []);
    });
    it("fail it without the CNI: istio-init runs as root with NET_ADMIN and NET_RAW", () => {
        const found = restrictedViolations({ ...GOOD, initContainers: injectedContainers({ cni: false }) });
        assert.deepEqual(found, ["container istio-init: runAsNonRoot is not true (here or on the pod)", "container istio-init: runAsUser 0", "container istio-init: adds capabilities NET_ADMIN, NET_RAW"]);
    });
});

describe("KServe predictor pods", () => {
    const sidecar = SidecarResources.of({ cpu: "100m", memory: "128Mi", cpuLimit: "2", memoryLimit: "1Gi", concurrency: 2 });
    const BERT: KServeModelSpec = {
        backend: "kserve", name: "bert", namespace: "ml-serving", modelFormat: "tensorflow", storageUri: "s3://models/bert/v3",
        canaryTrafficPercent: 10, canaryStorageUri: "s3://models/bert/v4",
    };
    const isvc = inferenceServiceManifest({ spec: BERT, serviceAccountName: "bert-kserve", group: undefined, sidecar, meshRevision: "1-30-3" });
    const meshed = (pod: Pod): Pod => ({ ...pod, initContainers: [...injectedContainers({ cni: true }), ...(pod.initContainers ?? [])] });

    it("are the predictor and the canary, each with the storage initializer and the runtime's container", () => {
        assert.deepEqual(predictorPods(isvc, undefined, undefined).map(({ name, pod }) => [name, [...pod.initContainers!, ...pod.containers!].map((c) => c.name)]), [
            ["predictor", ["storage-initializer", "kserve-container"]],
            ["canary canary", ["storage-initializer", "kserve-container"]],
        ]);
    });
    it("pass restricted as mlmesh renders the InferenceService, with Istio's containers injected", () => {
        for (const { name, pod } of predictorPods(isvc, undefined, undefined)) {
            assert.deepEqual(restrictedViolations(meshed(pod)), [], name);
        }
    });
    it("fail it without a pod-level security context (the InferenceService before Pod Security was enforced)", () => {
        const predictor = (isvc.spec as { predictor: Record<string, unknown> }).predictor;
        const { securityContext: _, ...bare } = predictor;
        const old = { ...isvc, spec: { predictor: bare } };
        assert.match(restrictedViolations(meshed(predictorPods(old, undefined, undefined)[0].pod)).join("\n"), /no RuntimeDefault or Localhost seccomp profile/);
    });
    it("take the storage initializer's context from the kserve-resources values", () => {
        const loosened = { kserve: { storage: { containerSecurityContext: { allowPrivilegeEscalation: true } } } };
        const [{ pod }] = predictorPods(isvc, undefined, loosened);
        assert.match(restrictedViolations(pod).join("\n"), /storage-initializer: allowPrivilegeEscalation is not false/);
    });
});

describe("podSecurityReport on the planned dev stack", () => {
    let result: PlanResult;
    before(async () => {
        result = await plannedStack("dev");
    });

    it("checks every pod of the restricted namespaces: TF Serving versions, the KServe predictors and canary, and the SageMaker bridge", () => {
        assert.deepEqual(result.podSecurity.namespaces, ["ml-serving", "ml-tabular", "mlmesh-sagemaker"]);
        assert.deepEqual([...result.podSecurity.pods].sort(), [
            "Deployment ml-serving/fraud-v7", "Deployment ml-serving/resnet-v1", "Deployment ml-serving/resnet-v2",
            "Deployment mlmesh-sagemaker/sagemaker-bridge",
            "InferenceService ml-serving/assistant predictor", "InferenceService ml-serving/bert canary canary", "InferenceService ml-serving/bert predictor",
            "InferenceService ml-tabular/churn-kserve predictor",
        ]);
    });
    it("admits every one of them", () => assert.deepEqual(result.podSecurity.findings, []));
    it("would refuse a pod that asks for the host's network there", () => {
        const deployment = result.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment" && r.name.endsWith("resnet-v1")) as RecordedResource;
        const spec = deployment.inputs.spec as { template: { spec: Record<string, unknown> } };
        const escaped = { ...deployment, inputs: { ...deployment.inputs, spec: { ...spec, template: { ...spec.template, spec: { ...spec.template.spec, hostNetwork: true } } } } };
        const report = podSecurityReport(result.resources.map((r) => (r === deployment ? escaped : r)));
        assert.deepEqual(report.findings, [{ where: "Deployment ml-serving/resnet-v1", violations: ["hostNetwork: true"] }]);
    });
});
