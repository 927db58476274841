/**
 * The pack's Istio guardrails, with Istio 1.30.3's semantics (istio/istio@1.30.3; paths below are
 * in that tree). Where the public Kyverno library has a counterpart (kyverno/policies:istio/), the
 * verdicts agree unless a comment says where and why mlmesh is stricter.
 */
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { describeObject, kubernetesObject, podMetadataOf, podSpecOf, type KubeObject } from "./kubernetes";
import { isInferenceService, isvcComponents, modelHosts, modelWorkload, podMetadataField } from "./kserve";

const [INJECTION_LABEL, REVISION_LABEL, INJECT] = ["istio-injection", "istio.io/rev", "sidecar.istio.io/inject"] as const;
/** Namespaces the injector always skips (pkg/kube/inject/initializer.go IgnoredNamespaces). */
const NEVER_INJECTED = new Set(["kube-system", "kube-public", "kube-node-lease", "local-path-storage"]);
const WEAK_MTLS = new Set(["PERMISSIVE", "DISABLE"]);

/** The object if it is an Istio `kind` of `group` (`security`, `networking`), else undefined. */
function istioObject(type: string, props: Record<string, any>, kind: string, group: string): KubeObject | undefined {
    const object = kubernetesObject(type, props);
    return object?.kind === kind && object.apiVersion.startsWith(`${group}.istio.io/`) ? object : undefined;
}

const ns = (object: KubeObject) => object.metadata.namespace ?? "default";
const matchLabelsOf = (spec: any): Record<string, string> => spec?.selector?.matchLabels ?? {};
const hasSelector = (spec: any) => Object.keys(matchLabelsOf(spec)).length > 0 || spec?.targetRef !== undefined || (spec?.targetRefs ?? []).length > 0;

/** Every Kubernetes object of the stack, with the URN a violation names. */
const objectsOf = (resources: PolicyResource[]): { object: KubeObject; urn: string }[] =>
    resources.flatMap((r) => (kubernetesObject(r.type, r.props) ? [{ object: kubernetesObject(r.type, r.props)!, urn: r.urn }] : []));

const isIstiodRelease = (type: string, props: Record<string, any>) => type.startsWith("kubernetes:helm.sh/") && /(^|\/)istiod$/.test(String(props.chart ?? ""));
/** The values of every istiod Helm release in the stack. */
const istiodReleases = (resources: PolicyResource[]): any[] => resources.filter((r) => isIstiodRelease(r.type, r.props)).map((r) => r.props.values ?? {});

/** The mesh's root namespace, as the istiod chart sets it (templates/configmap.yaml: meshConfig.rootNamespace, else global.istioNamespace). */
const rootNamespaceOf = (resources: PolicyResource[]): string =>
    istiodReleases(resources).map((v) => v.meshConfig?.rootNamespace ?? v.global?.istioNamespace)[0] ?? "istio-system";

/** Whether a namespace's labels turn injection on (istio-discovery templates/mutatingwebhook.yaml: `istio-injection` wins over `istio.io/rev`). */
const namespaceInjects = (labels: Record<string, string> = {}): boolean =>
    labels[INJECTION_LABEL] === undefined ? labels[REVISION_LABEL] !== undefined : labels[INJECTION_LABEL] === "enabled";

/** The pod's own say on injection (pkg/kube/inject/inject.go injectRequired: the label wins over the annotation). */
const podInjectSetting = (labels: Record<string, string>, annotations: Record<string, string>): string | undefined => labels[INJECT] ?? annotations[INJECT];

export const istioMtlsStrict: ResourceValidationPolicy = {
    name: "istio-mtls-strict",
    description: "Checks whether every PeerAuthentication keeps mutual TLS at STRICT (or UNSET, inheriting the mesh's STRICT), on the whole workload and on every port in `portLevelMtls`.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set `spec.mtls.mode` and every `spec.portLevelMtls[port].mode` to STRICT, or remove them to inherit the mesh-wide STRICT policy; move callers without a sidecar into the mesh instead of accepting plain text.",
    validateResource: (args, reportViolation) => {
        const pa = istioObject(args.type, args.props, "PeerAuthentication", "security");
        // Kyverno's enforce-strict-mtls allows UNSET or STRICT in spec.mtls.mode, as here. mlmesh is
        // stricter on portLevelMtls, which Kyverno does not read: a PERMISSIVE port accepts plain text.
        const modes: [string, string | undefined][] = !pa ? [] : [["spec.mtls.mode", pa.spec?.mtls?.mode],
            ...Object.entries((pa.spec?.portLevelMtls ?? {}) as Record<string, { mode?: string }>).map(([port, s]): [string, string | undefined] => [`spec.portLevelMtls["${port}"].mode`, s?.mode])];
        for (const [field, mode] of modes.filter(([, mode]) => WEAK_MTLS.has(mode ?? ""))) {
            reportViolation(`${describeObject(pa!)}: \`${field}\` is ${mode}, which accepts plain text; set it to STRICT.`);
        }
    },
};

export const istioMeshWideStrict: StackValidationPolicy = {
    name: "istio-mesh-wide-strict",
    description: "Checks whether a stack that installs Istio has a mesh-wide PeerAuthentication (no selector, in the root namespace) with mode STRICT; without one the mesh default is PERMISSIVE.",
    enforcementLevel: "mandatory",
    remediationSteps: "Add a PeerAuthentication named `default` in the root namespace (istio-system) with no selector and `spec.mtls.mode: STRICT`.",
    validateStack: (args, reportViolation) => {
        const root = rootNamespaceOf(args.resources);
        const meshWide = objectsOf(args.resources).filter(({ object }) => object.kind === "PeerAuthentication" && object.apiVersion.startsWith("security.istio.io/") && ns(object) === root && !hasSelector(object.spec));
        const installsIstio = istiodReleases(args.resources).length > 0 || objectsOf(args.resources).some(({ object }) => object.kind === "IstioOperator");
        if (meshWide.length === 0 && installsIstio) {
            reportViolation(`No mesh-wide PeerAuthentication: the root namespace \`${root}\` holds none without a selector, so Istio's default PERMISSIVE accepts plain text everywhere; add PeerAuthentication \`${root}/default\` with \`spec.mtls.mode: STRICT\`.`);
        }
        // Istio applies the oldest of several (pilot/pkg/model/authentication.go), which a plan cannot know: each must be STRICT.
        for (const { object, urn } of meshWide) {
            const mode = object.spec?.mtls?.mode ?? "UNSET";
            if (mode !== "STRICT") {
                reportViolation(`${describeObject(object)}: is the mesh-wide policy and \`spec.mtls.mode\` is ${mode}${mode === "UNSET" ? " (PERMISSIVE at mesh level)" : ""}; set it to STRICT.`, urn);
            }
        }
    },
};

/** An empty rule matches every request; a null one is skipped (pilot/pkg/security/authz/builder/builder.go). */
const isEmptyRule = (rule: any) => rule != null && ["from", "to", "when"].every((field) => (rule[field] ?? []).length === 0);
/** Whether an AuthorizationPolicy denies all it covers: ALLOW without rules (which never match: allow nothing), or DENY with an empty rule. */
const deniesAll = (spec: any) => ((spec?.action ?? "ALLOW") === "ALLOW" && (spec?.rules ?? []).length === 0) || (spec?.action === "DENY" && (spec.rules ?? []).some(isEmptyRule));

export const istioDefaultDeny: StackValidationPolicy = {
    name: "istio-default-deny",
    description: "Checks whether every namespace with Istio injection on (an `istio-injection: enabled` or `istio.io/rev` label) holds a namespace-wide deny-all AuthorizationPolicy (or the root namespace holds a mesh-wide one), so only what a policy allows gets through.",
    enforcementLevel: "mandatory",
    remediationSteps: "Add an AuthorizationPolicy without a selector and with `spec: {}` (allow nothing) in the namespace, then allow each caller with its own ALLOW policy.",
    // Kyverno's require-authorizationpolicies accepts any policy in every namespace; mlmesh judges the namespaces in the mesh (no
    // proxy enforces one elsewhere) and asks for the `spec: {}` default-deny that Kyverno's create-authorizationpolicy generates.
    validateStack: (args, reportViolation) => {
        const objects = objectsOf(args.resources);
        const root = rootNamespaceOf(args.resources);
        const guarded = new Set(objects.filter(({ object }) => object.kind === "AuthorizationPolicy" && object.apiVersion.startsWith("security.istio.io/") && !hasSelector(object.spec) && deniesAll(object.spec)).map(({ object }) => ns(object)));
        for (const { object, urn } of objects.filter(({ object }) => object.kind === "Namespace" && namespaceInjects(object.metadata.labels))) {
            const name = object.metadata.name ?? "";
            if (!guarded.has(name) && !guarded.has(root)) {
                reportViolation(`Namespace ${name}: Istio injection is on but no AuthorizationPolicy without a selector denies by default; add AuthorizationPolicy \`${name}/default-deny\` with \`spec: {}\` and allow callers explicitly.`, urn);
            }
        }
    },
};

export const istioInjectionEnabled: StackValidationPolicy = {
    name: "istio-injection-enabled",
    description: "Checks whether every model workload (an InferenceService, or a pod template running a model server or asking for a GPU) gets an Istio sidecar: its namespace turns injection on for a revision that istiod serves, and its pods do not opt out.",
    enforcementLevel: "mandatory",
    remediationSteps: "Label the namespace `istio.io/rev: <revision>` (a revision the istiod release installs) or `istio-injection: enabled`; remove `sidecar.istio.io/inject: \"false\"` and `hostNetwork` from model pods.",
    // Kyverno's enforce-sidecar-injection-namespace wants `istio-injection: enabled` (the default revision) on every namespace; mlmesh
    // also accepts `istio.io/rev`, which revisioned upgrades need. Like prevent-disabling-injection-pods, it refuses the opt-out.
    validateStack: (args, reportViolation) => {
        const objects = objectsOf(args.resources);
        const namespaces = new Map(objects.filter(({ object }) => object.kind === "Namespace").map(({ object }) => [object.metadata.name, object.metadata.labels ?? {}]));
        const releases = istiodReleases(args.resources);
        const revisions = new Set(releases.flatMap((v) => [v.revision || "default", ...((v.revisionTags ?? []) as string[])]));
        const served = (rev: string) => releases.length === 0 || revisions.has(rev);
        for (const { object, urn } of objects) {
            const workload = modelWorkload(object);
            for (const pod of workload?.pods ?? []) {
                const labels = namespaces.get(workload!.namespace);
                const say = (problem: string) => reportViolation(`${describeObject(object)}: a model workload without an Istio sidecar: ${problem}.`, urn);
                if (podInjectSetting(pod.labels, pod.annotations) === "false") {
                    say(`\`${pod.field}\` sets \`${INJECT}: "false"\`; remove it`);
                } else if (pod.spec?.hostNetwork === true) {
                    say("its pods use `hostNetwork`, which the injector skips; remove it");
                } else if (labels !== undefined && labels[INJECTION_LABEL] !== undefined && labels[INJECTION_LABEL] !== "enabled") {
                    say(`its namespace \`${workload!.namespace}\` sets \`${INJECTION_LABEL}: ${labels[INJECTION_LABEL]}\`; set it to \`enabled\` or replace it with \`${REVISION_LABEL}\``);
                } else if (labels?.[INJECTION_LABEL] === undefined && labels?.[REVISION_LABEL] !== undefined && !served(labels[REVISION_LABEL])) {
                    say(`its namespace \`${workload!.namespace}\` asks for revision \`${labels[REVISION_LABEL]}\`, which no istiod release serves (${[...revisions].join(", ")}); label it with a served revision`);
                } else if (labels !== undefined && !namespaceInjects(labels) && pod.labels[REVISION_LABEL] === undefined && pod.labels[INJECT] !== "true") {
                    say(`its namespace \`${workload!.namespace}\` has neither \`${INJECTION_LABEL}: enabled\` nor \`${REVISION_LABEL}\`; label the namespace`);
                }
            }
        }
    },
};

const WILDCARD_PRINCIPAL = /^([^/]+\/)?\*$/;
const ANY_ADDRESS = new Set(["0.0.0.0/0", "::/0"]);
/** Positive source fields; a source with none (only `not…` fields) matches almost any caller. */
const SOURCE_FIELDS = ["principals", "requestPrincipals", "namespaces", "serviceAccounts", "trustDomains", "ipBlocks", "remoteIpBlocks"];
/** `when` keys that constrain who calls (pilot/pkg/security/authz/model/model.go). */
const SOURCE_KEYS = new Set(["source.ip", "remote.ip", "source.namespace", "source.principal", "source.serviceAccount", "source.trustDomain", "request.auth.principal"]);

/** What makes a source match anyone, or undefined. `requestPrincipals: ["*"]` is not a wildcard: it demands a valid JWT from an issuer a RequestAuthentication trusts. */
function wildcardIn(source: any): string | undefined {
    if (!SOURCE_FIELDS.some((f) => (source?.[f] ?? []).length > 0)) {
        return "it names no caller (only `not…` fields or nothing)";
    }
    const field = ["principals", "namespaces", "serviceAccounts", "trustDomains"].find((f) => ((source[f] ?? []) as string[]).some((v) => WILDCARD_PRINCIPAL.test(v)));
    const address = ["ipBlocks", "remoteIpBlocks"].find((f) => ((source[f] ?? []) as string[]).some((v) => ANY_ADDRESS.has(v)));
    return field ? `\`${field}\` holds a wildcard, matching every caller` : address ? `\`${address}\` holds every address` : undefined;
}

export const istioAuthzNoWildcard: ResourceValidationPolicy = {
    name: "istio-authz-no-wildcard",
    description: "Checks whether every ALLOW AuthorizationPolicy names its callers: no empty rule (which allows all), no rule without `from` on a workload (gateways excepted, where outside callers arrive without a mesh identity), no wildcard principal, namespace or address.",
    enforcementLevel: "mandatory",
    remediationSteps: "Give each rule a `from.source.principals` list of the service accounts that call (`cluster.local/ns/<ns>/sa/<sa>`), or `requestPrincipals` for end users with a JWT; never `*`.",
    configSchema: {
        properties: {
            gatewaySelectors: {
                type: "array",
                items: { type: "object", additionalProperties: { type: "string" } },
                default: [{ istio: "ingressgateway" }],
                description: "Selector labels of ingress gateways, where rules may omit `from` (callers from outside the mesh have no principal).",
            },
        },
    },
    validateResource: (args, reportViolation) => {
        const ap = istioObject(args.type, args.props, "AuthorizationPolicy", "security");
        if (!ap || (ap.spec?.action ?? "ALLOW") !== "ALLOW") {
            return;
        }
        const labels = matchLabelsOf(ap.spec);
        const gateways = args.getConfig<{ gatewaySelectors: Record<string, string>[] }>().gatewaySelectors;
        const onGateway = gateways.some((g) => Object.entries(g).every(([k, v]) => labels[k] === v))
            || [ap.spec?.targetRef, ...(ap.spec?.targetRefs ?? [])].some((ref) => ref?.kind === "Gateway");
        ((ap.spec?.rules ?? []) as any[]).forEach((rule, i) => {
            if (isEmptyRule(rule)) {
                reportViolation(`${describeObject(ap)}: \`spec.rules[${i}]\` is empty, which allows every request from anyone; give it a \`from\` naming the callers, or remove it.`);
                return;
            }
            const from = (rule?.from ?? []) as any[];
            if (rule && from.length === 0 && !onGateway && !((rule.when ?? []) as any[]).some((c) => SOURCE_KEYS.has(c.key))) {
                reportViolation(`${describeObject(ap)}: \`spec.rules[${i}]\` has no \`from\`, so any caller in the mesh matches; add \`from.source.principals\` naming the callers' service accounts.`);
            }
            from.forEach((entry, j) => {
                const wildcard = wildcardIn(entry?.source);
                if (wildcard) {
                    reportViolation(`${describeObject(ap)}: \`spec.rules[${i}].from[${j}].source\` matches any caller: ${wildcard}; list the callers' principals instead.`);
                }
            });
        });
    },
};

export const istioGatewayNoWildcardHost: ResourceValidationPolicy = {
    name: "istio-gateway-no-wildcard-host",
    description: "Checks whether every Gateway server lists the host names it serves rather than `*` (any host, from any namespace's VirtualServices).",
    enforcementLevel: "mandatory",
    remediationSteps: "Replace `*` (or `<namespace>/*`) in `spec.servers[].hosts` with the fully qualified host names the gateway serves, e.g. `inference.example.com`.",
    validateResource: (args, reportViolation) => {
        const gateway = istioObject(args.type, args.props, "Gateway", "networking");
        ((gateway?.spec?.servers ?? []) as any[]).forEach((server, i) => ((server.hosts ?? []) as string[]).forEach((host, j) => {
            if (host.split("/").pop() === "*") {
                reportViolation(`${describeObject(gateway!)}: \`spec.servers[${i}].hosts[${j}]\` is \`${host}\`, which admits any host name; list the host names it serves.`);
            }
        }));
    },
};

const TERMINATING_MODES = new Set(["SIMPLE", "MUTUAL", "ISTIO_MUTUAL", "OPTIONAL_MUTUAL"]);
const OLD_TLS = new Set(["TLSV1_0", "TLSV1_1"]);
/** Plain-text HTTP protocols (pkg/config/protocol: IsHTTP). */
const PLAIN_HTTP = new Set(["HTTP", "HTTP2", "GRPC", "GRPC-WEB", "HTTP_PROXY"]);

export const istioGatewayTls: ResourceValidationPolicy = {
    name: "istio-gateway-tls",
    description: "Checks whether every Gateway server terminates TLS: HTTPS servers in SIMPLE, MUTUAL or ISTIO_MUTUAL mode, no TLS version below 1.2 where one is set, and plain HTTP only to redirect to HTTPS.",
    enforcementLevel: "mandatory",
    remediationSteps: "Give HTTPS servers `tls.mode: SIMPLE` (or MUTUAL / ISTIO_MUTUAL) with a `credentialName`, set `tls.minProtocolVersion` to TLSV1_2 or TLSV1_3, and give plain HTTP servers `tls.httpsRedirect: true`.",
    validateResource: (args, reportViolation) => {
        const gateway = istioObject(args.type, args.props, "Gateway", "networking");
        ((gateway?.spec?.servers ?? []) as any[]).forEach((server, i) => {
            const protocol = String(server.port?.protocol ?? "").toUpperCase();
            const tls = server.tls ?? {};
            const at = `${describeObject(gateway!)}: \`spec.servers[${i}]\``;
            // OPTIONAL_MUTUAL terminates TLS as SIMPLE does and asks for a client certificate besides.
            // An unset mode is PASSTHROUGH (the proto's zero value): the gateway neither terminates nor routes HTTP.
            if (protocol === "HTTPS" && !TERMINATING_MODES.has(tls.mode)) {
                reportViolation(`${at} is HTTPS with \`tls.mode\` ${tls.mode ?? "unset (PASSTHROUGH)"}; set \`tls.mode: SIMPLE\` with a \`credentialName\` (or MUTUAL / ISTIO_MUTUAL).`);
            }
            if (PLAIN_HTTP.has(protocol) && tls.httpsRedirect !== true) {
                reportViolation(`${at} serves plain-text ${protocol} without \`tls.httpsRedirect: true\`; redirect it to HTTPS or remove it.`);
            }
            ["minProtocolVersion", "maxProtocolVersion"].filter((field) => OLD_TLS.has(tls[field]))
                .forEach((field) => reportViolation(`${at}: \`tls.${field}\` is ${tls[field]}; set it to TLSV1_2 or TLSV1_3.`));
        });
    },
};

const SIDECAR_RESOURCES = { cpu: "sidecar.istio.io/proxyCPU", memory: "sidecar.istio.io/proxyMemory", cpuLimit: "sidecar.istio.io/proxyCPULimit", memoryLimit: "sidecar.istio.io/proxyMemoryLimit" } as const;
type SidecarSettings = Record<keyof typeof SIDECAR_RESOURCES, string> & { injectedNamespaces: string[] };

/** The pods an object runs, with where their metadata lives and whether they visibly join the mesh. */
function meshPods(object: KubeObject, injectedNamespaces: readonly string[]): { field: string; annotations: Record<string, string> }[] {
    const pods = isInferenceService(object)
        ? isvcComponents(object).map((c) => ({ field: c.field, labels: c.spec.labels ?? {}, annotations: c.spec.annotations ?? {}, spec: c.spec }))
        : podSpecOf(object) ? [{ field: podMetadataField(object), ...podMetadataOf(object), spec: podSpecOf(object) }] : [];
    // A resource policy sees no Namespace: a pod joins visibly by its own label or annotation, a revision label, a
    // namespace the config lists, or sidecar settings of its own (pkg/kube/inject/inject.go injectRequired).
    return pods.filter(({ labels = {}, annotations = {}, spec }) => {
        const setting = podInjectSetting(labels, annotations);
        if (spec?.hostNetwork === true || NEVER_INJECTED.has(ns(object)) || setting === "false") {
            return false;
        }
        return setting === "true" || labels[REVISION_LABEL] !== undefined || injectedNamespaces.includes(ns(object))
            || Object.keys(annotations).some((key) => key.startsWith("sidecar.istio.io/proxy") || key === "proxy.istio.io/config");
    }).map(({ field, annotations = {} }) => ({ field, annotations }));
}

const missingSidecarResources = (annotations: Record<string, string>) => (Object.keys(SIDECAR_RESOURCES) as (keyof typeof SIDECAR_RESOURCES)[]).filter((k) => annotations[SIDECAR_RESOURCES[k]] === undefined);

/** A shallow copy that reads values by descriptor, so the engine's proxies (unknowns, secrets) are not triggered and values unknown during preview or secret stay as they are. */
const rawCopy = (value: Record<string, any> | undefined): Record<string, any> =>
    Object.fromEntries(Object.keys(value ?? {}).map((key) => [key, Object.getOwnPropertyDescriptor(value, key)?.value]));

/** The props with `added` merged into the annotations at `field`, copying only the objects on that path (the engine's props are proxies that cannot be cloned). */
function withAnnotations(props: Record<string, any>, field: string, added: Record<string, string>): Record<string, any> {
    const copy = rawCopy(props);
    const holder = field.split(".").reduce((node, key) => (node[key] = rawCopy(node[key])), copy);
    holder.annotations = { ...rawCopy(holder.annotations), ...added };
    return copy;
}

export const istioSidecarResources: ResourceValidationPolicy = {
    name: "istio-sidecar-resources",
    description: "Checks whether every pod that joins the mesh sizes its Istio sidecar with all four of `sidecar.istio.io/proxyCPU`, `proxyMemory`, `proxyCPULimit` and `proxyMemoryLimit` (setting any one drops the mesh defaults for the rest), and adds the mesh defaults where they are missing.",
    enforcementLevel: "remediate",
    remediationSteps: "Annotate the pod template with `sidecar.istio.io/proxyCPU`, `proxyMemory`, `proxyCPULimit` and `proxyMemoryLimit`; at level `remediate` the pack adds the mesh defaults from its config to a pod that sets none of them.",
    configSchema: {
        properties: {
            cpu: { type: "string", default: "100m", description: "The mesh default sidecar CPU request." },
            memory: { type: "string", default: "128Mi", description: "The mesh default sidecar memory request." },
            cpuLimit: { type: "string", default: "2", description: "The mesh default sidecar CPU limit." },
            memoryLimit: { type: "string", default: "1Gi", description: "The mesh default sidecar memory limit." },
            injectedNamespaces: { type: "array", items: { type: "string" }, default: [], description: "Namespaces labelled for injection whose pods carry no mesh label of their own." },
        },
    },
    // Only a pod that sets none gets the defaults: mixed with its own values they could put a request above a limit.
    remediateResource: (args) => {
        const object = kubernetesObject(args.type, args.props);
        const settings = args.getConfig<SidecarSettings>();
        const bare = (object ? meshPods(object, settings.injectedNamespaces) : []).filter((pod) => missingSidecarResources(pod.annotations).length === 4);
        const defaults = Object.fromEntries(Object.entries(SIDECAR_RESOURCES).map(([k, annotation]) => [annotation, settings[k as keyof typeof SIDECAR_RESOURCES]]));
        return bare.reduce<Record<string, any> | undefined>((props, pod) => withAnnotations(props ?? args.props, pod.field, defaults), undefined);
    },
    validateResource: (args, reportViolation) => {
        const object = kubernetesObject(args.type, args.props);
        for (const pod of object ? meshPods(object, args.getConfig<SidecarSettings>().injectedNamespaces) : []) {
            const missing = missingSidecarResources(pod.annotations).map((k) => `\`${SIDECAR_RESOURCES[k]}\``);
            if (missing.length > 0) {
                reportViolation(`${describeObject(object!)}: \`${pod.field}.annotations\` lacks ${missing.join(", ")}; Istio then drops the mesh's default sidecar resources, so set all four.`);
            }
        }
    },
};

/** Routes that answer without an upstream (redirect, direct response) or hand over to a delegate VirtualService need neither. */
const forwards = (route: any) => route && route.redirect === undefined && route.directResponse === undefined && route.delegate === undefined;

export const istioRouteTimeoutsRetries: ResourceValidationPolicy = {
    name: "istio-route-timeouts-retries",
    description: "Checks whether every VirtualService HTTP route that forwards sets a `timeout` (Istio's default is none) and a `retries` policy (Istio's default retries twice, whatever the model).",
    enforcementLevel: "mandatory",
    remediationSteps: "Set `timeout` (e.g. `30s`) and `retries` (`attempts`, `perTryTimeout`, `retryOn`; `attempts: 0` where a request must not repeat) on every `spec.http[]` route.",
    validateResource: (args, reportViolation) => {
        const vs = istioObject(args.type, args.props, "VirtualService", "networking");
        ((vs?.spec?.http ?? []) as any[]).forEach((route, i) => {
            const missing = ["timeout", "retries"].filter((field) => forwards(route) && route[field] === undefined);
            if (missing.length > 0) {
                reportViolation(`${describeObject(vs!)}: \`spec.http[${i}]\`${route.name ? ` (${route.name})` : ""} sets no ${missing.map((f) => `\`${f}\``).join(" or ")}; set them explicitly.`);
            }
        });
    },
};

/** Only a name without a dot is short: `fraud` in ml-serving → `fraud.ml-serving.svc.cluster.local` (pilot/pkg/model/config.go ResolveShortnameToFQDN). */
const qualifiedHost = (host: string, namespace: string) => (host.includes(".") || host === "*" ? host : `${host}.${namespace}.svc.cluster.local`);

const covers = (pattern: string, host: string) => pattern === host || (pattern.startsWith("*") && host.endsWith(pattern.slice(1)));

/** What a DestinationRule lacks of outlier detection and connection limits. */
function resilienceGaps(policy: any): string[] {
    const outlier = policy?.outlierDetection;
    const ejects = outlier !== undefined && !(outlier.consecutive5xxErrors === 0 && !(outlier.consecutiveGatewayErrors > 0));
    const pool = policy?.connectionPool;
    return [...(ejects ? [] : ["`spec.trafficPolicy.outlierDetection` (ejecting failing pods)"]), ...(pool && Object.keys(pool).length > 0 ? [] : ["`spec.trafficPolicy.connectionPool`"])];
}

export const istioOutlierDetection: StackValidationPolicy = {
    name: "istio-outlier-detection",
    description: "Checks whether the Service host of every model workload has a DestinationRule whose traffic policy ejects failing pods (`outlierDetection`) and caps connections (`connectionPool`).",
    enforcementLevel: "mandatory",
    remediationSteps: "Add a DestinationRule for the model's host with `trafficPolicy.outlierDetection` (e.g. consecutive5xxErrors 5, interval 30s, baseEjectionTime 60s) and `trafficPolicy.connectionPool` (tcp.maxConnections, http.http2MaxRequests).",
    validateStack: (args, reportViolation) => {
        const objects = objectsOf(args.resources);
        const rules = objects.filter(({ object }) => object.kind === "DestinationRule" && object.apiVersion.startsWith("networking.istio.io/"))
            .map((rule) => ({ ...rule, host: qualifiedHost(String(rule.object.spec?.host ?? ""), ns(rule.object)) }));
        const services = objects.map(({ object }) => object).filter((object) => object.kind === "Service");
        // Versions of one model share a host: judge each host once, naming its first workload.
        const hosts = new Map(objects.flatMap((o) => [...new Set(modelWorkload(o.object) ? modelHosts(modelWorkload(o.object)!, services) : [])].map((host) => [host, o] as const)).reverse());
        for (const [host, { object, urn }] of hosts) {
            const exact = rules.filter((r) => r.host === host);
            const applying = exact.length > 0 ? exact : rules.filter((r) => covers(r.host, host));
            if (applying.length === 0) {
                reportViolation(`${describeObject(object)}: its host \`${host}\` has no DestinationRule; add one with \`trafficPolicy.outlierDetection\` and \`trafficPolicy.connectionPool\`.`, urn);
            }
            for (const rule of applying) {
                const gaps = resilienceGaps(rule.object.spec?.trafficPolicy);
                if (gaps.length > 0) {
                    reportViolation(`${describeObject(rule.object)}: serves model host \`${host}\` without ${gaps.join(" and ")}; set them.`, rule.urn);
                }
            }
        }
    },
};

export const istioEgressRegistryOnly: ResourceValidationPolicy = {
    name: "istio-egress-registry-only",
    description: "Checks whether the mesh sends traffic only to hosts in its registry: the istiod Helm release (or IstioOperator) sets `meshConfig.outboundTrafficPolicy.mode: REGISTRY_ONLY` (Istio's default is ALLOW_ANY), and no Sidecar sets ALLOW_ANY for its workloads.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set `meshConfig.outboundTrafficPolicy.mode: REGISTRY_ONLY` in the istiod release's values and declare each external host a model needs as a ServiceEntry; remove `outboundTrafficPolicy.mode: ALLOW_ANY` from Sidecars.",
    validateResource: (args, reportViolation) => {
        const props = args.props as Record<string, any>;
        const sidecar = istioObject(args.type, props, "Sidecar", "networking");
        if (sidecar?.spec?.outboundTrafficPolicy?.mode === "ALLOW_ANY") {
            reportViolation(`${describeObject(sidecar)}: \`spec.outboundTrafficPolicy.mode\` is ALLOW_ANY, so its workloads reach any host; set REGISTRY_ONLY and add ServiceEntries for the hosts they need.`);
        }
        const operator = kubernetesObject(args.type, props);
        const istiod = isIstiodRelease(args.type, props);
        const meshConfig = istiod ? props.values?.meshConfig : operator?.kind === "IstioOperator" ? operator.spec?.meshConfig : undefined;
        const mode = meshConfig?.outboundTrafficPolicy?.mode;
        if ((istiod || operator?.kind === "IstioOperator") && mode !== "REGISTRY_ONLY") {
            const what = istiod ? `Helm release ${props.name ?? args.name} (istiod): \`values.meshConfig` : `${describeObject(operator!)}: \`spec.meshConfig`;
            reportViolation(`${what}.outboundTrafficPolicy.mode\` is ${mode ?? "unset (ALLOW_ANY)"}, so any pod can send data anywhere; set REGISTRY_ONLY.`);
        }
    },
};

export const istioPolicies: readonly (ResourceValidationPolicy | StackValidationPolicy)[] = [
    istioMtlsStrict, istioMeshWideStrict, istioDefaultDeny, istioInjectionEnabled, istioAuthzNoWildcard, istioGatewayNoWildcardHost,
    istioGatewayTls, istioSidecarResources, istioRouteTimeoutsRetries, istioOutlierDetection, istioEgressRegistryOnly,
];
