/**
 * The pack's workload guardrails: what every pod runs (requests, user, root filesystem, privileges,
 * images, probes, GPU placement), replicas and disruption budgets, internet-facing load balancers,
 * and Pod Security on the mesh's namespaces. Every kind with a pod template is judged, whoever made it.
 *
 * Istio injects its sidecar from istiod's values, so the istiod release answers for every injected
 * pod: without `cni.enabled` each carries istio-init as root with NET_ADMIN, `global.proxy.privileged`
 * makes every proxy privileged, `global.hub` is where the proxy image comes from. Injected pods pass
 * (istio-proxy and istio-validation run as 1337, read-only, without escalation, with the proxy's
 * resources and a readiness probe: istio/istio manifests/charts/istio-control/istio-discovery/files/injection-template.yaml@1.30.3).
 * KServe generates an InferenceService's pods with a readiness probe on kserve-container (kserve/kserve
 * pkg/controller/v1beta1/inferenceservice/reconcilers/deployment/deployment_reconciler.go@v0.20.0) and
 * no PodDisruptionBudget, so k8s-pdb asks one of a multi-replica InferenceService.
 * Counterparts: kyverno/policies@b9c4317, open-policy-agent/gatekeeper-library@5c441fb; verdicts agree
 * except where a policy's comment says mlmesh is stricter and why.
 */
import type { PolicyResource, ReportViolation, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { containersOf, describeObject, kubernetesObject, podSpecOf, type ContainerRef, type KubeObject } from "./kubernetes";

type Settings = Record<string, any>;
/** A field (relative to what is judged) and what is wrong with it, with the fix. */
type Finding = readonly [field: string, message: string];

const HELM_RELEASE = "kubernetes:helm.sh/v3:Release";
const GPU = "nvidia.com/gpu";
const POD_SPEC_PATH: Readonly<Record<string, string>> = { Pod: "spec", CronJob: "spec.jobTemplate.spec.template.spec" };
const stringList = (description: string, defaults: string[] = []) => ({ type: "array" as const, items: { type: "string" as const }, default: defaults, description });
const chartName = (chart: unknown) => String(chart ?? "").split("/").pop() ?? "";
const namespaceOf = (o: KubeObject) => o.metadata.namespace ?? "default";
const keyOf = (o: KubeObject) => `${namespaceOf(o)}/${o.metadata.name}`;
const valueAt = (values: any, path: string): any => path.split(".").reduce((v, key) => (v !== null && typeof v === "object" ? v[key] : undefined), values);

type Container = ContainerRef & { readonly ephemeral: boolean };
/** Init, app and ephemeral containers. */
const everyContainer = (spec: any): Container[] => [...containersOf(spec).map((c) => ({ ...c, ephemeral: false })),
    ...((spec?.ephemeralContainers ?? []) as any[]).map((container, i) => ({ container, field: `ephemeralContainers[${i}]`, init: false, ephemeral: true }))];
/** App containers and native sidecars (init containers with `restartPolicy: Always`), which run as long. */
const longRunning = (c: Container) => !c.ephemeral && (!c.init || c.container?.restartPolicy === "Always");

/** `registry`, `tag` and `digest` of an image reference as a container runtime reads it (Docker Hub when the first segment is no host). */
export function parseImage(image: string): { registry: string; tag?: string; digest?: string } {
    const [name, digest] = image.split("@", 2);
    const [first, colon] = [name.split("/")[0], name.lastIndexOf(":")];
    const tag = colon > name.lastIndexOf("/") ? name.slice(colon + 1) : undefined;
    return { registry: name.includes("/") && (/[.:]/.test(first) || first === "localhost") ? first : "docker.io", ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** `containers` (default: all) picks the containers `container` judges one by one; `release` says what a Helm release of `chart` makes its pods (for istiod, every injected pod) do wrong. */
interface PodRule extends Omit<ResourceValidationPolicy, "validateResource" | "remediateResource"> {
    readonly containers?: (c: Container) => boolean;
    readonly container?: (container: any, spec: any, config: Settings) => Finding | undefined;
    readonly pod?: (spec: any, object: KubeObject, config: Settings) => Finding[];
    readonly release?: (chart: string, values: any, config: Settings) => Finding[];
}

/** A resource policy over every pod-template kind, and Helm releases where the rule judges them. */
function podPolicy({ containers, container, pod, release, ...base }: PodRule): ResourceValidationPolicy {
    return {
        enforcementLevel: "mandatory",
        ...base,
        validateResource: (args, report) => {
            const config = args.getConfig<Settings>();
            if (args.type === HELM_RELEASE && release) {
                const where = `Helm release ${args.props.namespace ?? "default"}/${args.props.name ?? args.name} (chart ${chartName(args.props.chart)})`;
                release(chartName(args.props.chart), args.props.values ?? {}, config).forEach(([field, message]) => report(`${where}: \`values.${field}\` ${message}`));
            }
            const object = kubernetesObject(args.type, args.props);
            const spec = object && podSpecOf(object);
            if (object && spec) {
                const judged = everyContainer(spec).filter(containers ?? (() => true)).flatMap((c) => {
                    const finding = container?.(c.container ?? {}, spec, config);
                    return finding ? [[`${c.field}${finding[0]}`, finding[1]] as const] : [];
                });
                [...(pod?.(spec, object, config) ?? []), ...judged].forEach(([field, message]) => report(`${describeObject(object)}: \`${POD_SPEC_PATH[object.kind] ?? "spec.template.spec"}.${field}\` ${message}`));
            }
        },
    };
}

/** Kyverno's require-pod-requests-limits, on containers and init containers (the API forbids resources on ephemeral ones). */
export const k8sRequestsLimits = podPolicy({
    name: "k8s-requests-limits",
    description: "Checks whether every container and init container requests CPU and memory and sets a memory limit.",
    remediationSteps: "Set resources.requests.cpu, resources.requests.memory and resources.limits.memory on every container, init containers included (mlmesh: models[].resources).",
    containers: (c) => !c.ephemeral,
    container: (c) => {
        const missing = ["requests.cpu", "requests.memory", "limits.memory"].filter((path) => [undefined, null, ""].includes(valueAt(c.resources, path)));
        return missing.length > 0 ? [".resources", `lacks ${missing.join(", ")}; set CPU and memory requests and a memory limit so the scheduler reserves what it uses and a leak cannot take the node`] : undefined;
    },
});

/** Kyverno's require-run-as-nonroot and require-run-as-non-root-user together (Pod Security restricted). */
export const k8sNonRoot = podPolicy({
    name: "k8s-non-root",
    description: "Checks whether every container runs with runAsNonRoot true and no pod or container sets runAsUser 0, Istio's injected containers included.",
    remediationSteps: "Set spec.securityContext.runAsNonRoot: true and a non-zero runAsUser on the pod (or every container) and remove runAsUser: 0; for Istio, install the CNI chart and set the istiod value cni.enabled: true so no istio-init runs as root.",
    pod: (spec) => (spec.securityContext?.runAsUser === 0 ? [["securityContext.runAsUser", "is 0 (root); set a non-zero user"]] : []),
    container: (c, spec) => (c.securityContext?.runAsUser === 0 ? [".securityContext.runAsUser", "is 0 (root); set a non-zero user"]
        : (c.securityContext?.runAsNonRoot ?? spec.securityContext?.runAsNonRoot) !== true ? [".securityContext.runAsNonRoot", "is not true here nor in the pod's securityContext; set runAsNonRoot: true so the kubelet refuses to start it as root"] : undefined),
    release: (chart, values) => (chart === "istiod" && valueAt(values, "cni.enabled") !== true
        ? [["cni.enabled", "is not true, so every injected pod carries istio-init running as root with NET_ADMIN and NET_RAW; install the istio-cni chart and set cni.enabled: true"]] : []),
});

/** Kyverno's require-ro-rootfs judges app containers; mlmesh also judges native sidecars, which run as long (stricter). */
export const k8sReadonlyRootfs = podPolicy({
    name: "k8s-readonly-rootfs",
    description: "Checks whether every app container and native sidecar mounts its root filesystem read-only.",
    remediationSteps: "Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the process writes (/tmp, caches).",
    containers: longRunning,
    container: (c) => (c.securityContext?.readOnlyRootFilesystem !== true ? [".securityContext.readOnlyRootFilesystem", "is not true; set it and mount an emptyDir where the process writes, so a compromised server cannot change its own files"] : undefined),
});

const privilegedProxy = (chart: string, values: any, what: string): Finding[] =>
    (chart === "istiod" && valueAt(values, "global.proxy.privileged") === true ? [["global.proxy.privileged", `is true, so every injected istio-proxy ${what}; remove it`]] : []);

/** Kyverno's disallow-privileged-containers, and the privileged proxies istiod would inject. */
export const k8sNoPrivileged = podPolicy({
    name: "k8s-no-privileged",
    description: "Checks whether any container (init and ephemeral included) or injected Istio proxy runs privileged.",
    remediationSteps: "Remove securityContext.privileged: true (and the istiod value global.proxy.privileged); grant a single capability if one is truly needed.",
    container: (c) => (c.securityContext?.privileged === true ? [".securityContext.privileged", "is true, which hands the container every device and capability of the node; remove it"] : undefined),
    release: (chart, values) => privilegedProxy(chart, values, "runs privileged"),
});

/** Kyverno's disallow-privilege-escalation: the field must be set to false, not left to default. */
export const k8sNoPrivilegeEscalation = podPolicy({
    name: "k8s-no-privilege-escalation",
    description: "Checks whether every container, init and ephemeral container sets allowPrivilegeEscalation to false.",
    remediationSteps: "Set securityContext.allowPrivilegeEscalation: false on every container; Pod Security restricted requires it set.",
    container: (c) => (c.securityContext?.allowPrivilegeEscalation !== false ? [".securityContext.allowPrivilegeEscalation", "is not false; set it to false so no setuid binary can gain privileges"] : undefined),
    release: (chart, values) => privilegedProxy(chart, values, "allows privilege escalation"),
});

/** Kyverno's disallow-latest-tag, with references parsed as a runtime does: `registry:5000/app` has no tag (Kyverno's `*:*` passes it on the port; stricter). */
export const k8sImagePinned = podPolicy({
    name: "k8s-image-pinned",
    description: "Checks whether every container image names a tag other than latest, or a digest.",
    remediationSteps: "Reference each image by a release tag (tensorflow/serving:2.20.0-gpu) or by digest (@sha256:...), never `latest` or no tag.",
    container: (c) => (typeof c.image === "string" && !parseImage(c.image).digest && (parseImage(c.image).tag ?? "latest") === "latest"
        ? [".image", `(\`${c.image}\`) ${parseImage(c.image).tag ? "uses the mutable tag latest" : "has no tag, so the runtime pulls latest"}; name a release tag or a digest`] : undefined),
});

/** Advisory: ECR's pull-through cache cannot fill on a first pull by digest (aws/containers-roadmap#2837), so cached images stay on tags. */
export const k8sImageDigest = podPolicy({
    name: "k8s-image-digest",
    description: "Checks whether every container image is pinned by digest rather than by tag alone.",
    enforcementLevel: "advisory",
    remediationSteps: "Append the image's digest (@sha256:...); an image served through ECR's pull-through cache, which cannot fill on a first pull by digest, is copied into private ECR and pinned there, or its prefix listed in exemptImages once its cached digest is checked.",
    configSchema: { properties: { exemptImages: stringList("Image reference prefixes whose tags are trusted (immutable ECR repositories).") } },
    container: (c, _, config) => (typeof c.image === "string" && parseImage(c.image).tag && !parseImage(c.image).digest && !(config.exemptImages as string[]).some((prefix) => c.image.startsWith(prefix))
        ? [".image", `(\`${c.image}\`) is pinned by tag only, which its registry can move; append @sha256:<digest>`] : undefined),
});

/**
 * Gatekeeper's k8srequiredprobes with `probes: [readinessProbe]` on app containers. Kyverno's
 * require-probes accepts any of liveness, readiness or startup; mlmesh requires readiness by
 * default (stricter): without it a model server takes requests before its model has loaded.
 */
export const k8sProbes = podPolicy({
    name: "k8s-probes",
    description: "Checks whether every app container has the required probes (a readiness probe by default), each with a handler.",
    remediationSteps: "Add a readinessProbe (httpGet, tcpSocket, grpc or exec) that succeeds only once the model is loaded, e.g. GET /v1/models/<name> on TF Serving.",
    configSchema: { properties: { requiredProbes: { type: "array", items: { enum: ["readinessProbe", "livenessProbe", "startupProbe"] }, default: ["readinessProbe"] } } },
    containers: (c) => !c.init && !c.ephemeral,
    container: (c, _, config) => {
        const missing = (config.requiredProbes as string[]).filter((probe) => !["httpGet", "tcpSocket", "grpc", "exec"].some((handler) => c[probe]?.[handler]));
        return missing.length > 0 ? [`.${missing[0]}`, `is missing or has no handler${missing.length > 1 ? ` (so is ${missing.slice(1).join(", ")})` : ""}; add an httpGet, tcpSocket, grpc or exec probe`] : undefined;
    },
});

/** GPU nodes carry the `nvidia.com/gpu` taint: only pods using a GPU belong there, and those cannot schedule without tolerating it. */
export const gpuPodRequestsGpu = podPolicy({
    name: "gpu-pod-requests-gpu",
    description: "Checks whether a pod that tolerates the nvidia.com/gpu taint requests nvidia.com/gpu, and whether one that requests it tolerates the taint.",
    remediationSteps: "Either request the GPU (resources.limits[\"nvidia.com/gpu\"]) and tolerate { key: nvidia.com/gpu, operator: Exists, effect: NoSchedule }, or do neither (mlmesh: models[].gpus with gpuNodeGroup).",
    configSchema: { properties: { exemptKinds: stringList("Kinds whose pods may tolerate the GPU taint without a GPU: node agents run on every node.", ["DaemonSet"]) } },
    pod: (spec, object, config) => {
        const tolerates = ((spec.tolerations ?? []) as any[]).findIndex((t) => t?.key === GPU || (!t?.key && t?.operator === "Exists"));
        const requests = containersOf(spec).find(({ container: c }) => Number(c?.resources?.limits?.[GPU] ?? c?.resources?.requests?.[GPU] ?? 0) > 0);
        return tolerates >= 0 && !requests && !(config.exemptKinds as string[]).includes(object.kind)
            ? [[`tolerations[${tolerates}]`, `tolerates the ${GPU} taint but no container requests ${GPU}, so the pod can take a GPU node's CPU and memory without using its GPUs; remove the toleration or request a GPU`]]
            : requests && tolerates < 0 ? [[`${requests.field}.resources.limits["${GPU}"]`, `requests a GPU but the pod does not tolerate the ${GPU} taint, so it never schedules on a GPU node; add the toleration { key: ${GPU}, operator: Exists, effect: NoSchedule }`]] : [];
    },
});

const PRIVATE_ECR = /^(\d{12})\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;
/** Why an image (or a registry prefix) is neither from the account's ECR nor pinned by digest, or undefined. */
function sourceProblem(image: string, config: Settings): string | undefined {
    const ref = parseImage(image);
    const account = PRIVATE_ECR.exec(ref.registry)?.[1];
    const trusted = ref.digest || (account && (config.accounts.length === 0 || config.accounts.includes(account))) || (config.allowedRegistries as string[]).some((p) => image.startsWith(p));
    return trusted ? undefined : `${account ? `comes from account ${account}'s ECR, not ${config.accounts.join(", ")}'s` : `is pulled from ${ref.registry}`}; pull it through the account's ECR pull-through cache (<account>.dkr.ecr.<region>.amazonaws.com/<prefix>/<upstream>/...), copy it into private ECR, or pin it by digest`;
}

const KSERVE_RUNTIMES: Readonly<Record<string, string>> = {
    tensorflow: "tensorflow/serving", mlserver: "docker.io/seldonio/mlserver", sklearnserver: "kserve/sklearnserver", xgbserver: "kserve/xgbserver", huggingfaceserver: "kserve/huggingfaceserver", tritonserver: "nvcr.io/nvidia/tritonserver", pmmlserver: "kserve/pmmlserver",
    predictiveserver: "kserve/predictiveserver", paddleserver: "kserve/paddleserver", lgbserver: "kserve/lgbserver", autogluonserver: "kserve/autogluonserver", torchserve: "pytorch/torchserve-kfs", vllmserver: "vllm/vllm-openai",
};
/**
 * Where the charts mlmesh installs take images from when a release sets none (`a|b`: the first set wins), from their values.yaml at the pinned
 * versions (Istio 1.30.3 as istio/release-builder publishes it, cert-manager v1.21.1, metrics-server 3.13.1, cluster-autoscaler 9.59.0,
 * nvidia-device-plugin 0.18.2, KServe v0.20.0). The gateway chart's pods take istiod's proxy image.
 */
const CHART_IMAGES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
    istiod: { "hub|global.hub": "registry.istio.io/release", "global.hub": "registry.istio.io/release" },
    cni: { "hub|global.hub": "registry.istio.io/release" },
    "cert-manager": Object.fromEntries(["", "webhook.", "cainjector.", "acmesolver.", "startupapicheck."].map((c) => [`${c}image.repository|imageRegistry`, "quay.io"])),
    "metrics-server": { "image.repository": "registry.k8s.io/metrics-server/metrics-server" },
    "cluster-autoscaler": { "image.repository": "registry.k8s.io/autoscaling/cluster-autoscaler" },
    "nvidia-device-plugin": { "image.repository": "nvcr.io/nvidia/k8s-device-plugin" },
    "kserve-resources": Object.fromEntries(Object.entries({ controller: "kserve/kserve-controller", storage: "kserve/storage-initializer", agent: "kserve/agent", router: "kserve/router", "servingruntime.art": "kserve/art-explainer" })
        .map(([component, image]) => [`kserve.${component}.image`, image]).concat([["kserve.controller.rbacProxyImage", "quay.io/brancz/kube-rbac-proxy:v0.18.0"]])),
    // Installed only with kserve.servingruntime.enabled (false in the chart); a disabled runtime is never pulled.
    "kserve-runtime-configs": Object.fromEntries(Object.entries(KSERVE_RUNTIMES).map(([runtime, image]) => [`kserve.servingruntime.${runtime}.image`, image])),
};
const IMAGE_KEY = /^(image|hub|repository|imageRegistry|[a-zA-Z]+Image)$/;

/** Every image (or registry prefix) a release's values name outside disabled subtrees, and the chart defaults it leaves in place. */
export function releaseImages(chart: string, values: any): Finding[] {
    const found = new Map<string, string>();
    const walk = (node: any, path: string): void => {
        if (node !== null && typeof node === "object" && node.disabled !== true && node.enabled !== false) {
            for (const [key, value] of Object.entries(node)) {
                // A bare name (istiod's `image: pilot`) is relative to a hub; a digest beside it pins it.
                if (IMAGE_KEY.test(key) && typeof value === "string" && /[./]/.test(value) && !node.digest) {
                    found.set(`${path}${key}`, value);
                }
                walk(value, `${path}${key}.`);
            }
        }
    };
    walk(values, "");
    const installed = chart !== "kserve-runtime-configs" || valueAt(values, "kserve.servingruntime.enabled") === true;
    for (const [paths, image] of Object.entries(installed ? CHART_IMAGES[chart] ?? {} : {})) {
        const alternatives = paths.split("|");
        const disabled = valueAt(values, alternatives[0].replace(/\.[^.]+$/, ".disabled")) === true;
        if (!disabled && alternatives.every((p) => [undefined, ""].includes(valueAt(values, p)))) {
            found.set(alternatives[alternatives.length - 1], `${image} (the chart's default)`);
        }
    }
    return [...found];
}

export const imageFromCacheOrDigest = podPolicy({
    name: "image-from-cache-or-digest",
    description: "Checks whether every image a pod or a Helm release pulls comes from the account's ECR (pull-through cache or private repositories) or is pinned by digest.",
    remediationSteps: "Pull upstream images through the ECR pull-through cache prefix mlmesh creates (mlmesh:cluster.imageCache), use private ECR (imageCache.mirrors for registries ECR cannot cache, like nvcr.io), or pin by digest; for a Helm chart set its image or hub values.",
    configSchema: { properties: { accounts: stringList("AWS account IDs whose ECR registries are trusted; empty trusts any account's private ECR."), allowedRegistries: stringList("Further trusted image reference prefixes (e.g. an internal registry).") } },
    container: (c, _, config) => {
        const problem = typeof c.image === "string" ? sourceProblem(c.image, config) : undefined;
        return problem ? [".image", `(\`${c.image}\`) ${problem}`] : undefined;
    },
    release: (chart, values, config) => releaseImages(chart, values).flatMap(([field, image]) => {
        const reference = image.split(" ")[0];
        // A registry alone (`imageRegistry: quay.io`) names its host.
        const problem = sourceProblem(reference.includes("/") ? reference : `${reference}/`, config);
        return problem ? [[field, `(\`${image}\`) ${problem}`] as const] : [];
    }),
});

const SCHEME = "service.beta.kubernetes.io/aws-load-balancer-scheme";
const INTERNAL = "service.beta.kubernetes.io/aws-load-balancer-internal";
const LB_TYPE = "service.beta.kubernetes.io/aws-load-balancer-type";
/**
 * Why a LoadBalancer Service with these annotations gets an internet-facing AWS load balancer, or
 * undefined when it is internal. The AWS Load Balancer Controller (loadBalancerClass
 * service.k8s.aws/nlb, EKS Auto Mode's eks.amazonaws.com/nlb, or type external / nlb-ip) reads
 * the scheme, then the deprecated internal annotation; without a scheme it keeps an existing NLB's,
 * so mlmesh asks for it explicitly (stricter). The legacy AWS cloud provider, which serves every
 * other Service (type nlb included), reads only the internal annotation (any value but "false").
 */
export function internetFacingReason(annotations: Record<string, string>, loadBalancerClass?: string): string | undefined {
    const scheme = annotations[SCHEME];
    const internal = ![undefined, "", "false"].includes(annotations[INTERNAL]);
    if (scheme === "internet-facing") {
        return `sets ${SCHEME}: internet-facing`;
    }
    if (["service.k8s.aws/nlb", "eks.amazonaws.com/nlb"].includes(loadBalancerClass ?? "") || ["external", "nlb-ip"].includes(annotations[LB_TYPE])) {
        return scheme === "internal" || (scheme === undefined && internal) ? undefined : `does not set ${SCHEME}: internal, and the AWS Load Balancer Controller keeps an existing NLB's scheme without it`;
    }
    return internal ? undefined : `does not set ${INTERNAL}: "true"${scheme === "internal" ? `, and the legacy AWS cloud provider that serves it ignores ${SCHEME}` : ""}, so its load balancer faces the internet`;
}

export const k8sNoPublicLoadbalancer: ResourceValidationPolicy = {
    name: "k8s-no-public-loadbalancer",
    description: "Checks whether a Service of type LoadBalancer, or the one a Helm release (the Istio gateway chart) renders, gets an internal AWS load balancer unless config allows it to face the internet.",
    enforcementLevel: "mandatory",
    remediationSteps: "Annotate the Service (the gateway chart's values.service.annotations) with service.beta.kubernetes.io/aws-load-balancer-scheme: internal and service.beta.kubernetes.io/aws-load-balancer-internal: \"true\" (mlmesh: mesh.ingressGateway.scheme: internal); a gateway meant for the internet is listed as namespace/name in allowInternetFacing.",
    configSchema: { properties: { allowInternetFacing: stringList("Services (namespace/name; for a Helm release its namespace and the Service it renders) allowed to face the internet.") } },
    validateResource: (args, report) => {
        const allowed = args.getConfig<Settings>().allowInternetFacing as string[];
        const object = kubernetesObject(args.type, args.props);
        const reason = object?.kind === "Service" && object.spec?.type === "LoadBalancer" ? internetFacingReason(object.metadata.annotations ?? {}, object.spec.loadBalancerClass) : undefined;
        if (object && reason && !allowed.includes(keyOf(object))) {
            report(`${describeObject(object)}: \`metadata.annotations\` ${reason}; make it internal, or list it in allowInternetFacing if it must face the internet`);
        }
        // The gateway chart renders a LoadBalancer Service by default, named `name` or the release, annotated with service.annotations over annotations.
        const [values, gateway] = args.type === HELM_RELEASE ? [args.props.values ?? {}, chartName(args.props.chart) === "gateway"] : [undefined, false];
        if (values && (values.service?.type ?? (gateway ? "LoadBalancer" : undefined)) === "LoadBalancer") {
            const release = `${args.props.namespace ?? "default"}/${args.props.name ?? args.name}`;
            const service = `${args.props.namespace ?? "default"}/${(gateway && values.name) || args.props.name || args.name}`;
            const why = internetFacingReason({ ...(gateway ? values.annotations : {}), ...values.service?.annotations }, values.service?.loadBalancerClass);
            if (why && !allowed.includes(service)) {
                report(`Helm release ${release}: the Service ${service} it renders (\`values.service.annotations\`) ${why}; make it internal (mlmesh: mesh.ingressGateway.scheme: internal), or list ${service} in allowInternetFacing if it must face the internet`);
            }
        }
    },
};

/** Namespaces Istio injects: `istio-injection: enabled`, or a revision label unless `istio-injection: disabled` overrides it. */
export function meshInjected(labels: Record<string, string> | undefined): boolean {
    return labels?.["istio-injection"] === "enabled" || (labels?.["istio-injection"] !== "disabled" && typeof labels?.["istio.io/rev"] === "string");
}

export const nsPodSecurityRestricted: ResourceValidationPolicy = {
    name: "ns-pod-security-restricted",
    description: "Checks whether every namespace labelled for Istio injection, and every listed ML namespace, enforces Pod Security restricted.",
    enforcementLevel: "mandatory",
    remediationSteps: "Label the namespace pod-security.kubernetes.io/enforce: restricted (mlmesh: mesh.podSecurity: restricted, the default, with the Istio CNI so injected pods need no NET_ADMIN).",
    configSchema: { properties: { namespaces: stringList("ML namespaces that must enforce restricted even without an injection label.") } },
    validateResource: (args, report) => {
        const object = kubernetesObject(args.type, args.props);
        const labels = object?.metadata.labels;
        const listed = (args.getConfig<Settings>().namespaces as string[]).includes(object?.metadata.name ?? "");
        const enforce = labels?.["pod-security.kubernetes.io/enforce"];
        if (object?.kind === "Namespace" && (meshInjected(labels) || listed) && enforce !== "restricted") {
            report(`${describeObject(object)}: \`metadata.labels["pod-security.kubernetes.io/enforce"]\` is ${enforce ?? "unset"} in ${listed ? "a listed ML namespace" : "a namespace Istio injects"}; set it to restricted so admission refuses pods with host access, root or added capabilities`);
        }
    },
};

type Placed = { readonly object: KubeObject; readonly urn: string };
const placedOf = (resources: readonly PolicyResource[]): Placed[] => resources.flatMap((r) => {
    const object = kubernetesObject(r.type, r.props);
    return object ? [{ object, urn: r.urn }] : [];
});
/** A Deployment, StatefulSet or InferenceService component (`label` names it): its replica range, what decides it, its pods' labels. */
type Replicated = Placed & { label: string; min: number; max: number; decidedBy: string; podLabels: Record<string, string> };
function replicated(placed: readonly Placed[]): Replicated[] {
    const hpas = placed.filter((p) => p.object.kind === "HorizontalPodAutoscaler").map((p) => p.object);
    return placed.flatMap(({ object, urn }): Replicated[] => {
        if (object.kind === "Deployment" || object.kind === "StatefulSet") {
            const hpa = hpas.find((h) => namespaceOf(h) === namespaceOf(object) && h.spec?.scaleTargetRef?.kind === object.kind && h.spec?.scaleTargetRef?.name === object.metadata.name);
            const min = hpa ? (hpa.spec.minReplicas ?? 1) : (object.spec?.replicas ?? 1);
            const decidedBy = hpa ? `${describeObject(hpa)} \`spec.minReplicas\`` : "`spec.replicas`";
            return [{ object, urn, label: describeObject(object), min, max: hpa ? Math.max(min, hpa.spec.maxReplicas ?? 0) : min, decidedBy, podLabels: object.spec?.template?.metadata?.labels ?? {} }];
        }
        // KServe labels a component's pods with the InferenceService's labels, its name and the component.
        return object.kind !== "InferenceService" ? [] : ["predictor", "transformer", "explainer"].filter((c) => object.spec?.[c]).map((component) => {
            const spec = object.spec[component];
            const min = spec.minReplicas ?? 1;
            const podLabels = { ...object.metadata.labels, ...spec.labels, "serving.kserve.io/inferenceservice": object.metadata.name ?? "", component };
            return { object, urn, label: `${describeObject(object)} ${component}`, min, max: Math.max(min, spec.maxReplicas ?? 0), decidedBy: `\`spec.${component}.minReplicas\``, podLabels };
        });
    });
}

/** Whether a label selector selects these labels (policy/v1: an empty selector selects every pod, a missing one none). */
export function selects(selector: any, labels: Record<string, string>): boolean {
    const expressions = (selector?.matchExpressions ?? []) as { key: string; operator: string; values?: string[] }[];
    return !!selector && Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v) && expressions.every(({ key, operator, values = [] }) =>
        operator === "In" ? values.includes(labels[key]) : operator === "NotIn" ? !values.includes(labels[key]) : operator === "Exists" ? key in labels : !(key in labels));
}

/** Kyverno's require-deployments-have-multiple-replicas, held to the ML namespaces and counting an autoscaler's minimum, which owns the count. */
export const k8sMinReplicas: StackValidationPolicy = {
    name: "k8s-min-replicas",
    description: "Checks whether every Deployment and StatefulSet in the ML namespaces runs at least the minimum number of replicas, counting the HorizontalPodAutoscaler's minimum where one owns it.",
    enforcementLevel: "mandatory",
    remediationSteps: "Raise spec.replicas, or the HorizontalPodAutoscaler's spec.minReplicas where one targets the workload (mlmesh: models[].replicas.min), to at least minReplicas; list a deliberate single-replica workload in exemptions.",
    configSchema: { properties: { minReplicas: { type: "integer", minimum: 1, default: 2 }, namespaces: stringList("ML namespaces; the stack's namespaces labelled for Istio injection count too.", ["ml-serving"]), exemptions: stringList("Workloads (namespace/name) allowed fewer replicas.") } },
    validateStack: (args, report: ReportViolation) => {
        const config = args.getConfig<Settings>();
        const placed = placedOf(args.resources);
        const ml = new Set<string>([...config.namespaces, ...placed.filter((p) => p.object.kind === "Namespace" && meshInjected(p.object.metadata.labels)).map((p) => p.object.metadata.name ?? "")]);
        replicated(placed).filter((w) => w.object.kind !== "InferenceService" && ml.has(namespaceOf(w.object)) && w.min < config.minReplicas && !config.exemptions.includes(keyOf(w.object)))
            .forEach((w) => report(`${w.label}: ${w.decidedBy} is ${w.min}, below ${config.minReplicas} in an ML namespace, so one node drain or zone loss stops it serving; raise it to ${config.minReplicas} or list ${keyOf(w.object)} in exemptions`, w.urn));
    },
};

/** Kyverno's require-pdb asks from 3 replicas (spec.replicas only); mlmesh from 2, counting an autoscaler's maximum (stricter): two replicas drained together are an outage too. */
export const k8sPdb: StackValidationPolicy = {
    name: "k8s-pdb",
    description: "Checks whether every Deployment, StatefulSet or InferenceService component that can run more than one replica has a PodDisruptionBudget selecting its pods.",
    enforcementLevel: "mandatory",
    remediationSteps: "Add a PodDisruptionBudget in the workload's namespace whose selector matches its pod labels, with maxUnavailable: 1 (for an InferenceService select serving.kserve.io/inferenceservice: <name> and component: predictor).",
    configSchema: { properties: { exemptions: stringList("Workloads (namespace/name) that need no disruption budget.") } },
    validateStack: (args, report: ReportViolation) => {
        const exemptions = args.getConfig<Settings>().exemptions as string[];
        const placed = placedOf(args.resources);
        const pdbs = placed.filter((p) => p.object.kind === "PodDisruptionBudget").map((p) => p.object);
        const covered = (w: Replicated) => pdbs.some((pdb) => namespaceOf(pdb) === namespaceOf(w.object) && selects(pdb.spec?.selector, w.podLabels));
        replicated(placed).filter((w) => w.max >= 2 && !exemptions.includes(keyOf(w.object)) && !covered(w)).forEach((w) => report(`${w.label}: runs up to ${w.max} replicas but no PodDisruptionBudget in ${namespaceOf(w.object)} selects its pods (${Object.entries(w.podLabels).map(([k, v]) => `${k}=${v}`).join(", ")}), so a node drain can evict them all at once; add one with maxUnavailable: 1 selecting them`, w.urn));
    },
};

export const workloadsPolicies: readonly (ResourceValidationPolicy | StackValidationPolicy)[] = [
    k8sRequestsLimits, k8sNonRoot, k8sReadonlyRootfs, k8sNoPrivileged, k8sNoPrivilegeEscalation, k8sImagePinned, k8sImageDigest, k8sProbes,
    k8sMinReplicas, k8sPdb, k8sNoPublicLoadbalancer, gpuPodRequestsGpu, nsPodSecurityRestricted, imageFromCacheOrDigest,
];
