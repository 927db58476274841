/**
 * Pod Security `restricted`, checked on the pods the API server would really be asked to admit
 * in the plan's restricted namespaces: mlmesh's own pod templates, and the predictor pods KServe
 * builds from each InferenceService, each with the containers Istio's injector adds. Admission
 * judges the final pod, after every mutating webhook, and a refused pod leaves a Deployment that
 * never becomes ready, so the simulation follows the webhooks at their pinned versions:
 * - Istio 1.30.3 (istio/istio:manifests/charts/istio-control/istio-discovery/files/injection-template.yaml@1.30.3):
 *   with the CNI, `istio-validation` and a native-sidecar `istio-proxy`, both UID 1337 with no
 *   privilege escalation and every capability dropped; without it, `istio-init` as root with
 *   NET_ADMIN and NET_RAW. Seccomp only where `global.proxy.seccompProfile` is set.
 * - KServe v0.20.0: the predictor's pod-level fields reach the pod; `kserve-container` is the
 *   runtime's container with the model's fields merged over it
 *   (kserve/kserve:pkg/controller/v1beta1/inferenceservice/utils/utils.go@v0.20.0); the storage
 *   initializer carries the chart's `kserve.storage.containerSecurityContext`
 *   (kserve/kserve:charts/kserve-resources/files/common/storagecontainer-patch.yaml@v0.20.0).
 * The checks are those of kubernetes/pod-security-admission:policy/check_*.go@v0.33 for the
 * restricted level (which includes baseline).
 */
import { KSERVE_RUNTIMES } from "../components/serving/kserve";
import type { KServeModelFormat } from "../components/serving/modelSpec";
import { chartOf, podTemplateOf, valueAt } from "./manifests";
import type { RecordedResource } from "./recorder";

type Values = Record<string, unknown>;

export interface SecurityContext {
    readonly privileged?: boolean;
    readonly allowPrivilegeEscalation?: boolean;
    readonly runAsNonRoot?: boolean;
    readonly runAsUser?: number;
    readonly capabilities?: { readonly add?: readonly string[]; readonly drop?: readonly string[] };
    readonly seccompProfile?: { readonly type?: string };
    readonly seLinuxOptions?: { readonly type?: string; readonly user?: string; readonly role?: string };
    readonly procMount?: string;
    readonly appArmorProfile?: { readonly type?: string };
}

export interface Container {
    readonly name: string;
    readonly securityContext?: SecurityContext;
    readonly ports?: readonly { readonly hostPort?: number }[];
}

export interface Pod {
    readonly hostNetwork?: boolean;
    readonly hostPID?: boolean;
    readonly hostIPC?: boolean;
    readonly securityContext?: SecurityContext & { readonly sysctls?: readonly { readonly name: string }[] };
    readonly volumes?: readonly Record<string, unknown>[];
    readonly initContainers?: readonly Container[];
    readonly containers?: readonly Container[];
}

const ALLOWED_VOLUMES = new Set(["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image", "persistentVolumeClaim", "projected", "secret"]);
const SAFE_SYSCTLS = new Set([
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem",
]);
const SELINUX_TYPES = new Set(["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"]);
const VALID_SECCOMP = new Set(["RuntimeDefault", "Localhost"]);

/** What `restricted` refuses in `pod`, one line per finding; empty when the pod is admitted. */
export function restrictedViolations(pod: Pod): string[] {
    const found: string[] = [];
    const containers = [...(pod.initContainers ?? []), ...(pod.containers ?? [])];
    const podContext = pod.securityContext ?? {};
    for (const host of ["hostNetwork", "hostPID", "hostIPC"] as const) {
        if (pod[host]) {
            found.push(`${host}: true`);
        }
    }
    for (const volume of pod.volumes ?? []) {
        const kind = Object.keys(volume).find((key) => key !== "name");
        if (kind && !ALLOWED_VOLUMES.has(kind)) {
            found.push(`volume ${String(volume.name)} is of type ${kind}`);
        }
    }
    for (const sysctl of podContext.sysctls ?? []) {
        if (!SAFE_SYSCTLS.has(sysctl.name)) {
            found.push(`sysctl ${sysctl.name} is not a safe sysctl`);
        }
    }
    if (podContext.runAsNonRoot === false) {
        found.push("pod runAsNonRoot: false");
    }
    if (podContext.runAsUser === 0) {
        found.push("pod runAsUser: 0");
    }
    const podSeccomp = podContext.seccompProfile?.type;
    if (podSeccomp !== undefined && !VALID_SECCOMP.has(podSeccomp)) {
        found.push(`pod seccompProfile ${podSeccomp}`);
    }
    for (const context of [podContext, ...containers.map((c) => c.securityContext ?? {})]) {
        const se = context.seLinuxOptions;
        if (se && (!SELINUX_TYPES.has(se.type ?? "") || se.user || se.role)) {
            found.push(`seLinuxOptions ${JSON.stringify(se)}`);
        }
    }
    for (const container of containers) {
        const sc = container.securityContext ?? {};
        const at = `container ${container.name}`;
        if (sc.privileged) {
            found.push(`${at}: privileged`);
        }
        if ((container.ports ?? []).some((port) => (port.hostPort ?? 0) !== 0)) {
            found.push(`${at}: hostPort`);
        }
        if (sc.allowPrivilegeEscalation !== false) {
            found.push(`${at}: allowPrivilegeEscalation is not false`);
        }
        if (sc.runAsNonRoot === false || (sc.runAsNonRoot !== true && podContext.runAsNonRoot !== true)) {
            found.push(`${at}: runAsNonRoot is not true (here or on the pod)`);
        }
        if (sc.runAsUser === 0) {
            found.push(`${at}: runAsUser 0`);
        }
        const seccomp = sc.seccompProfile?.type;
        if (seccomp !== undefined ? !VALID_SECCOMP.has(seccomp) : !VALID_SECCOMP.has(podSeccomp ?? "")) {
            found.push(`${at}: no RuntimeDefault or Localhost seccomp profile (here or on the pod)`);
        }
        if (!(sc.capabilities?.drop ?? []).includes("ALL")) {
            found.push(`${at}: capabilities do not drop ALL`);
        }
        const added = (sc.capabilities?.add ?? []).filter((cap) => cap !== "NET_BIND_SERVICE");
        if (added.length > 0) {
            found.push(`${at}: adds capabilities ${added.join(", ")}`);
        }
        if (sc.procMount !== undefined && sc.procMount !== "Default") {
            found.push(`${at}: procMount ${sc.procMount}`);
        }
        if (sc.appArmorProfile?.type !== undefined && !VALID_SECCOMP.has(sc.appArmorProfile.type)) {
            found.push(`${at}: appArmorProfile ${sc.appArmorProfile.type}`);
        }
    }
    return found;
}

/** What Istio's injector adds, from the istiod release's values. */
export interface Injection {
    readonly cni: boolean;
    readonly proxySeccomp?: { readonly type?: string };
}

/** The containers injected into a pod (istio/istio:manifests/charts/istio-control/istio-discovery/files/injection-template.yaml@1.30.3). */
export function injectedContainers(injection: Injection): Container[] {
    const seccomp = injection.proxySeccomp && Object.keys(injection.proxySeccomp).length > 0 ? { seccompProfile: injection.proxySeccomp } : {};
    const proxyUser = { allowPrivilegeEscalation: false, privileged: false, capabilities: { drop: ["ALL"] }, runAsUser: 1337, runAsNonRoot: true, ...seccomp };
    const init: Container = injection.cni
        ? { name: "istio-validation", securityContext: proxyUser }
        : { name: "istio-init", securityContext: { allowPrivilegeEscalation: false, privileged: false, capabilities: { add: ["NET_ADMIN", "NET_RAW"], drop: ["ALL"] }, runAsUser: 0, runAsNonRoot: false, ...seccomp } };
    return [init, { name: "istio-proxy", securityContext: proxyUser }];
}

/**
 * The container context the pinned KServe charts give both the model runtimes
 * (charts/kserve-runtime-configs/values.yaml@v0.20.0) and the storage initializer
 * (charts/kserve-resources/values.yaml@v0.20.0 `kserve.storage.containerSecurityContext`).
 */
const KSERVE_CHART_CONTAINER_CONTEXT: SecurityContext = { allowPrivilegeEscalation: false, privileged: false, runAsNonRoot: true, capabilities: { drop: ["ALL"] } };

function merged(base: SecurityContext, over: SecurityContext | undefined): SecurityContext {
    return { ...base, ...over };
}

type PredictorSpec = Pod & { model?: { modelFormat?: { name?: string }; storageUri?: string; securityContext?: SecurityContext }; name?: string };

/** The pods KServe creates for an InferenceService in Standard mode: the predictor and each canary. */
export function predictorPods(isvc: Values, runtimeValues: Values | undefined, storageValues: Values | undefined): { name: string; pod: Pod }[] {
    const spec = (isvc.spec ?? {}) as { predictor?: PredictorSpec; canary?: { predictor?: PredictorSpec }[] };
    const stable = spec.predictor ?? {};
    const build = (name: string, predictor: PredictorSpec): { name: string; pod: Pod } => {
        const runtime = KSERVE_RUNTIMES[predictor.model?.modelFormat?.name as KServeModelFormat] ?? "";
        const runtimeContext = (valueAt(runtimeValues, `kserve.servingruntime.${runtime}.securityContext`) as SecurityContext | undefined) ?? KSERVE_CHART_CONTAINER_CONTEXT;
        const storageContext = merged(KSERVE_CHART_CONTAINER_CONTEXT, valueAt(storageValues, "kserve.storage.containerSecurityContext") as SecurityContext | undefined);
        return {
            name,
            pod: {
                hostNetwork: predictor.hostNetwork,
                hostPID: predictor.hostPID,
                hostIPC: predictor.hostIPC,
                securityContext: predictor.securityContext,
                volumes: [...(predictor.volumes ?? []), { name: "kserve-provision-location", emptyDir: {} }],
                initContainers: predictor.model?.storageUri ? [{ name: "storage-initializer", securityContext: storageContext }] : [],
                containers: [{ name: "kserve-container", securityContext: merged(runtimeContext, predictor.model?.securityContext) }],
            },
        };
    };
    // A canary is the stable predictor with the canary's own fields over it
    // (kserve/kserve:pkg/controller/v1beta1/inferenceservice/components/predictor.go@v0.20.0).
    return [build("predictor", stable), ...(spec.canary ?? []).map((c, i) => build(`canary ${c.predictor?.name ?? i}`, { ...stable, ...c.predictor, model: { ...stable.model, ...c.predictor?.model } }))];
}

export interface PodSecurityFinding {
    readonly where: string;
    readonly violations: readonly string[];
}

export interface PodSecurityReport {
    /** Namespaces enforcing `restricted`. */
    readonly namespaces: readonly string[];
    /** Pods checked, by the resource that makes them. */
    readonly pods: readonly string[];
    readonly findings: readonly PodSecurityFinding[];
}

export function podSecurityReport(resources: readonly RecordedResource[]): PodSecurityReport {
    const metadataOf = (r: RecordedResource) => (r.inputs.metadata ?? {}) as { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
    const namespaces = resources.filter((r) => r.type === "kubernetes:core/v1:Namespace");
    const restricted = new Map(namespaces
        .filter((ns) => metadataOf(ns).labels?.["pod-security.kubernetes.io/enforce"] === "restricted")
        .map((ns) => [String(metadataOf(ns).name), metadataOf(ns).labels?.["istio.io/rev"] !== undefined]));
    const release = (chart: string) => resources.find((r) => chartOf(r) === chart)?.inputs.values as Values | undefined;
    const istiod = release("istiod");
    const injection: Injection = { cni: valueAt(istiod, "cni.enabled") === true, proxySeccomp: valueAt(istiod, "global.proxy.seccompProfile") as Injection["proxySeccomp"] };
    const withSidecar = (pod: Pod, meshed: boolean, annotations: Record<string, string> | undefined): Pod => meshed && annotations?.["sidecar.istio.io/inject"] !== "false"
        ? { ...pod, initContainers: [...injectedContainers(injection), ...(pod.initContainers ?? [])] }
        : pod;

    const pods: { where: string; pod: Pod }[] = [];
    for (const resource of resources) {
        const kind = resource.type.split(":").pop() ?? "";
        const namespace = metadataOf(resource).namespace;
        if (namespace === undefined || !restricted.has(namespace)) {
            continue;
        }
        const meshed = restricted.get(namespace) ?? false;
        const template = podTemplateOf(resource);
        if (template) {
            pods.push({ where: `${kind} ${namespace}/${metadataOf(resource).name}`, pod: withSidecar((template.spec ?? {}) as Pod, meshed, template.metadata?.annotations) });
        } else if (resource.type === "kubernetes:serving.kserve.io/v1beta1:InferenceService") {
            for (const { name, pod } of predictorPods(resource.inputs, release("kserve-runtime-configs"), release("kserve-resources"))) {
                const annotations = ((resource.inputs.spec as { predictor?: { annotations?: Record<string, string> } } | undefined)?.predictor?.annotations);
                pods.push({ where: `InferenceService ${namespace}/${metadataOf(resource).name} ${name}`, pod: withSidecar(pod, meshed, annotations) });
            }
        }
    }
    return {
        namespaces: [...restricted.keys()],
        pods: pods.map((p) => p.where),
        findings: pods.map(({ where, pod }) => ({ where, violations: restrictedViolations(pod) })).filter((f) => f.violations.length > 0),
    };
}
