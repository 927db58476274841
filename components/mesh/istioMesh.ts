import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PropertyErrors } from "../propertyErrors";
import {
    baseValues, cniValues, gatewayValues, INGRESS_GATEWAY_RELEASE, ISTIO_CHART_REPO, ISTIO_INGRESS_NAMESPACE, ISTIO_ROOT_NAMESPACE, ISTIO_VERSION,
    istiodValues, istioRevision, SUPPORTED_ISTIO_VERSIONS, compareIstioVersions, servedVersionsProblem,
} from "./istioCharts";
import { childOptions } from "../childOptions";
import { chartRelease } from "../helmRelease";
import type { IngressRoutes } from "../serving/trafficPolicy";
import { validateJwtIssuers, type JwtIssuer } from "../gateway/jwtIssuers";
import { deferredManifest, defaultDenyPolicy, defaultValidator, ingressGateway, meshPeerAuthentication, meshTelemetry, MTLS_MODES, type IstioManifest, type MtlsMode } from "./meshPolicies";
import { SidecarResources, type SidecarResourcesSpec } from "./sidecarResources";
import { DNS_LABEL, HOST_NAME } from "../names";
import { namespaceServiceEntry, platformServiceEntry, SERVICE_ENTRY_TYPE, validateEgress, type EgressSpec } from "./egress";
import type { ImageRegistry } from "../images";
import { POD_SECURITY_LEVELS, podSecurityLabels, type PodSecurityLevel } from "./podSecurity";

/** Ports istiod serves the API server and nodes on, which the node security group must admit. */
export const ISTIOD_PORTS = [
    { port: 15017, purpose: "sidecar injection and validation webhooks, called by the API server" },
    { port: 15012, purpose: "xDS and certificate signing for the proxies" },
] as const;

export interface IngressGatewaySpec {
    /** `internet-facing` needs explicit `hosts`. @default "internal" */
    scheme?: "internal" | "internet-facing";
    /** @default 2 */
    replicas?: number;
    /** HPA ceiling. @default max(3 × replicas, 6) */
    maxReplicas?: number;
    /** Fully qualified host names the Gateway serves over HTTPS; no wildcards. */
    hosts?: string[];
    /** TLS secret (in `istio-ingress`) holding the hosts' certificate, e.g. from cert-manager. @default "mlmesh-ingress-tls" */
    tlsCredentialName?: string;
    /**
     * OIDC issuers whose tokens the front door accepts; with any, model paths need a valid token.
     * Required in prod when internet-facing. @default []
     */
    jwt?: JwtIssuer[];
}

export interface IstioMeshArgs {
    /** The cluster to install on. */
    cluster: {
        readonly provider: k8s.Provider;
        readonly nodeSecurityGroupId: pulumi.Input<string>;
        /** Where images are pulled from (a GpuCluster's image cache). */
        readonly images: pulumi.Input<ImageRegistry>;
        /** What the charts' pods need to run (a GpuCluster's system nodes and core add-ons): only they wait for it. */
        readonly readyForPods?: pulumi.Resource[];
    };
    /** The control plane the ML namespaces, the gateway and the validator use. @default ISTIO_VERSION */
    version?: string;
    /**
     * Every istiod kept installed, each under its own revision: `version`, plus the one being left
     * (until no pod uses it) or a canary. Removing a version from the list removes its istiod.
     * @default [version]
     */
    servedVersions?: string[];
    /** @default "STRICT" */
    mtls?: MtlsMode;
    ingressGateway?: IngressGatewaySpec;
    /**
     * Protect the ingress gateway's release and namespace: its Service is the NLB behind the
     * platform's DNS names, and a new Service would be a new NLB with a new name. @default false
     */
    protectIngress?: boolean;
    /** Percent of requests traced. @default 1 */
    tracingSampling?: number;
    /** `host:port` of the OpenTelemetry collector. @default "opentelemetry-collector.observability.svc.cluster.local:4317" */
    otelCollector?: string;
    /** Mesh-wide default sidecar size; workloads override it field by field. */
    defaultSidecar?: SidecarResourcesSpec;
    /** Namespaces for ML workloads: created with the revision label and a default-deny policy. @default ["ml-serving"] */
    namespaces?: string[];
    /** Turn on istiod's Gateway API inference extension (needs the inference CRDs). @default false */
    inferenceExtension?: boolean;
    /**
     * Install the Istio CNI node agent, which sets up each pod's traffic redirection, so pods
     * need no `istio-init` container with NET_ADMIN and NET_RAW. Turning it off requires
     * `podSecurity: privileged`. @default true
     */
    cni?: boolean;
    /**
     * The Pod Security Standard enforced on the ML namespaces: `restricted` refuses pods with
     * host namespaces, added capabilities, privilege escalation or root users.
     * @default "restricted"
     * @see https://kubernetes.io/docs/concepts/security/pod-security-standards/
     */
    podSecurity?: PodSecurityLevel;
    /** Which external hosts mesh workloads may call. @default { mode: "REGISTRY_ONLY", allow: [] } */
    egress?: EgressSpec;
}

export const DEFAULT_SIDECAR: Required<SidecarResourcesSpec> = { cpu: "100m", memory: "128Mi", cpuLimit: "2", memoryLimit: "1Gi", concurrency: 2 };
export const DEFAULT_OTEL_COLLECTOR = "opentelemetry-collector.observability.svc.cluster.local:4317";

/** Namespaces of Kubernetes, Istio and mlmesh itself (the SageMaker bridge's `mlmesh-sagemaker`): never an ML namespace. */
export const RESERVED_NAMESPACE_PREFIXES: readonly string[] = ["istio-", "kube-", "mlmesh-"];

/** Validates IstioMeshArgs (the sidecar is validated when it is built). */
export function validateIstioMeshArgs(args: Omit<IstioMeshArgs, "cluster">, errors = new PropertyErrors(), prefix = ""): PropertyErrors {
    errors.check(`${prefix}version`, args.version, args.version === undefined || (SUPPORTED_ISTIO_VERSIONS as readonly string[]).includes(args.version) ? undefined : `must be one of ${SUPPORTED_ISTIO_VERSIONS.join(", ")}, the releases whose chart values mlmesh checks`);
    if (args.servedVersions !== undefined) {
        errors.check(`${prefix}servedVersions`, args.servedVersions, servedVersionsProblem(args.version ?? ISTIO_VERSION, args.servedVersions));
    }
    errors.check(`${prefix}mtls`, args.mtls, args.mtls === undefined || MTLS_MODES.includes(args.mtls) ? undefined : `must be one of ${MTLS_MODES.join(", ")}`);
    const gateway = args.ingressGateway ?? {};
    const hosts = gateway.hosts ?? [];
    hosts.forEach((host, i) => errors.check(`${prefix}ingressGateway.hosts[${i}]`, host, HOST_NAME.test(host) ? undefined : "must be a fully qualified host name without wildcards"));
    errors.check(`${prefix}ingressGateway.hosts`, hosts, gateway.scheme === "internet-facing" && hosts.length === 0 ? "must list the public host names when `scheme` is internet-facing" : undefined);
    validateJwtIssuers(gateway.jwt ?? [], errors, `${prefix}ingressGateway.jwt`);
    const replicas = gateway.replicas ?? 2;
    errors.check(`${prefix}ingressGateway.maxReplicas`, gateway.maxReplicas, gateway.maxReplicas !== undefined && gateway.maxReplicas < replicas ? `is below \`replicas\` (${replicas})` : undefined);
    errors.check(`${prefix}tracingSampling`, args.tracingSampling, args.tracingSampling === undefined || (args.tracingSampling >= 0 && args.tracingSampling <= 100) ? undefined : "must be a percentage from 0 to 100");
    errors.check(`${prefix}otelCollector`, args.otelCollector, args.otelCollector === undefined || /^[a-z0-9.-]+:\d{1,5}$/.test(args.otelCollector) ? undefined : "must be host:port, e.g. otel-collector.observability.svc.cluster.local:4317");
    const podSecurity = args.podSecurity;
    errors.check(`${prefix}podSecurity`, podSecurity, podSecurity === undefined || POD_SECURITY_LEVELS.includes(podSecurity) ? undefined : `must be one of ${POD_SECURITY_LEVELS.join(", ")}`);
    errors.check(`${prefix}cni`, args.cni, args.cni === false && (podSecurity ?? "restricted") !== "privileged"
        ? `cannot be false while podSecurity is ${podSecurity ?? "restricted"}: without the CNI every pod carries istio-init with NET_ADMIN and NET_RAW, which Pod Security refuses; keep cni: true, or set podSecurity: privileged`
        : undefined);
    validateEgress(args.egress, args.namespaces ?? ["ml-serving"], errors, `${prefix}egress.`);
    (args.namespaces ?? []).forEach((ns, i, all) => errors.check(`${prefix}namespaces[${i}]`, ns, !DNS_LABEL.test(ns) || RESERVED_NAMESPACE_PREFIXES.some((reserved) => ns.startsWith(reserved))
        ? `must be a DNS-1123 label and not a namespace of the system or of mlmesh itself (${RESERVED_NAMESPACE_PREFIXES.map((p) => `${p}*`).join(", ")})`
        : all.indexOf(ns) < i ? "is listed twice" : undefined));
    return errors;
}

/**
 * Istio on a GpuCluster, secure by default: charts `base` → `istiod` (→ `cni`) → `gateway`
 * under one revision, STRICT mTLS mesh-wide, default-deny ML namespaces, mesh telemetry, and an
 * NLB-fronted ingress gateway serving only the configured hosts over TLS.
 */
export class IstioMesh extends pulumi.ComponentResource {
    public readonly revision: string;
    public readonly version: string;
    /** Every installed control plane's version, oldest first. */
    public readonly servedVersions: readonly string[];
    public readonly namespaces: readonly string[];
    /** In-cluster DNS name of the ingress gateway Service. */
    public readonly gatewayServiceHost: string;
    /** `<namespace>/<name>` of the Istio Gateway that VirtualServices bind to; undefined when no hosts are configured (no Gateway exists). */
    public readonly gatewayName: string | undefined;
    /** The mesh-wide sidecar default, for workloads to override. */
    public readonly defaultSidecar: SidecarResources;
    /** The Gateway and hosts models are published on; undefined when no hosts are configured. */
    public readonly ingress: IngressRoutes | undefined;
    /** The Pod Security Standard enforced on the ML namespaces. */
    public readonly podSecurity: PodSecurityLevel;
    /** `host:port` of the OpenTelemetry collector the proxies send spans to. */
    public readonly otelCollector: string;
    /**
     * What a workload in a mesh namespace needs before it starts: the injector (istiod, the
     * validator, the CNI agent), the namespaces with their default-deny policies, mesh mTLS and
     * the AWS API egress. Not the ingress gateway: workloads wait for this, not the whole mesh.
     */
    public readonly readyForWorkloads: pulumi.Resource[];
    /** Each mesh namespace's Namespace object, for what needs only its namespace (a service account). */
    public readonly namespaceObjects: Record<string, pulumi.Resource> = {};

    constructor(name: string, args: IstioMeshArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlmesh:mesh:IstioMesh", name, {}, opts);
        const sidecarSpec = { ...DEFAULT_SIDECAR, ...args.defaultSidecar };
        const errors = validateIstioMeshArgs(args);
        SidecarResources.validate(sidecarSpec, errors, "defaultSidecar");
        errors.throwIfAny(`IstioMesh ${name}`);

        this.version = args.version ?? ISTIO_VERSION;
        this.revision = istioRevision(this.version);
        this.defaultSidecar = SidecarResources.of(sidecarSpec, "defaultSidecar");
        this.namespaces = args.namespaces ?? ["ml-serving"];
        const gateway = args.ingressGateway ?? {};
        const replicas = gateway.replicas ?? 2;
        const provider = args.cluster.provider;
        const cni = args.cni ?? true;
        const k8sOpts = (dependsOn: pulumi.Resource[]) => childOptions(this, opts, { provider, dependsOn });

        // istiod's webhook (15017) and xDS (15012) must be reachable from the control plane and nodes.
        for (const { port, purpose } of ISTIOD_PORTS) {
            new aws.ec2.SecurityGroupRule(`${name}-istiod-${port}`, {
                type: "ingress",
                securityGroupId: args.cluster.nodeSecurityGroupId,
                self: true,
                protocol: "tcp",
                fromPort: port,
                toPort: port,
                description: `istiod ${purpose}`,
            }, { parent: this });
        }

        const nodes = args.cluster.readyForPods ?? [];
        const rootNs = new k8s.core.v1.Namespace(`${name}-root-ns`, { metadata: { name: ISTIO_ROOT_NAMESPACE } }, k8sOpts([]));
        const images = pulumi.output(args.cluster.images);
        this.servedVersions = [...(args.servedVersions ?? [this.version])].sort(compareIstioVersions);
        const chart = (release: string, chartName: string, namespace: pulumi.Input<string>, values: pulumi.Input<Record<string, unknown>>, dependsOn: pulumi.Resource[], version = this.version, protect = false) =>
            chartRelease(`${name}-${release}`, {
                chart: { chart: chartName, version, repo: ISTIO_CHART_REPO },
                releaseName: release,
                namespace,
                values,
            }, { ...k8sOpts(dependsOn), ...(protect ? { protect } : {}) });

        // The CRDs of the newest served release, which every older control plane reads.
        const base = chart("istio-base", "base", rootNs.metadata.name, baseValues(), [rootNs], this.servedVersions[this.servedVersions.length - 1]);
        const controlPlane = (version: string) => chart(`istiod-${istioRevision(version)}`, "istiod", rootNs.metadata.name, images.apply((registry) => istiodValues({
            revision: istioRevision(version),
            tracingSampling: args.tracingSampling ?? 1,
            otelCollector: args.otelCollector ?? DEFAULT_OTEL_COLLECTOR,
            defaultSidecar: this.defaultSidecar,
            inferenceExtension: args.inferenceExtension ?? false,
            cni,
            outboundTrafficPolicy: args.egress?.mode ?? "REGISTRY_ONLY",
            images: registry,
        })), [base, ...nodes], version);
        // Only the one in use gates what follows; the others run beside it.
        const istiod = controlPlane(this.version);
        this.servedVersions.filter((version) => version !== this.version).forEach(controlPlane);
        const dataPlane = cni ? [chart("istio-cni", "cni", rootNs.metadata.name, images.apply((registry) => cniValues(this.revision, registry)), [base, ...nodes])] : [];

        // Validates every Istio object mlmesh writes; it moves to a new revision only once that
        // revision's istiod is installed and ready.
        const validator = new k8s.admissionregistration.v1.ValidatingWebhookConfiguration(`${name}-default-validator`,
            defaultValidator(this.revision) as k8s.admissionregistration.v1.ValidatingWebhookConfigurationArgs, k8sOpts([istiod]));

        // Deleting the namespace would take the gateway's Service (the NLB) with it.
        const ingressNs = new k8s.core.v1.Namespace(`${name}-ingress-ns`, { metadata: { name: ISTIO_INGRESS_NAMESPACE } },
            { ...k8sOpts([]), ...(args.protectIngress ? { protect: true } : {}) });
        chart(INGRESS_GATEWAY_RELEASE, "gateway", ingressNs.metadata.name, gatewayValues({
            revision: this.revision,
            replicas,
            maxReplicas: gateway.maxReplicas ?? Math.max(3 * replicas, 6),
            scheme: gateway.scheme ?? "internal",
        }), [istiod, ingressNs, ...dataPlane], this.version, args.protectIngress ?? false);

        const custom = (role: string, manifest: IstioManifest, dependsOn: pulumi.Resource[]) =>
            new k8s.apiextensions.CustomResource(`${name}-${role}`, { ...manifest }, k8sOpts([istiod, validator, ...dependsOn]));
        const mtls = custom("mtls", meshPeerAuthentication(args.mtls ?? "STRICT"), []);
        custom("telemetry", meshTelemetry(args.tracingSampling ?? 1), []);
        const gatewayResourceName = `${name}-gateway`;
        const hosts = gateway.hosts ?? [];
        this.gatewayName = hosts.length > 0 ? `${ISTIO_INGRESS_NAMESPACE}/${gatewayResourceName}` : undefined;
        this.ingress = this.gatewayName ? { gateway: this.gatewayName, hosts: [...hosts] } : undefined;
        if (hosts.length > 0) {
            custom("gateway", ingressGateway(gatewayResourceName, hosts, gateway.tlsCredentialName ?? "mlmesh-ingress-tls"), [ingressNs]);
        }

        // The AWS APIs the platform's workloads call, reachable under REGISTRY_ONLY.
        const partition = aws.getPartitionOutput({}, { parent: this });
        const region = aws.getRegionOutput({}, { parent: this }).region;
        const awsApis = pulumi.all([region, partition.dnsSuffix]).apply(([r, dnsSuffix]) => platformServiceEntry({ region: r, dnsSuffix }, args.egress?.s3Regions));
        const awsApiEgress = new k8s.apiextensions.CustomResource(`${name}-aws-apis`, deferredManifest(SERVICE_ENTRY_TYPE, awsApis), k8sOpts([istiod, validator]));
        this.readyForWorkloads = [istiod, validator, ...dataPlane, mtls, awsApiEgress];

        // A namespace is labelled for a revision only once that revision's injector exists, so no
        // pod starts without a sidecar in between; with the CNI, once the node agent is installed.
        this.podSecurity = args.podSecurity ?? "restricted";
        this.otelCollector = args.otelCollector ?? DEFAULT_OTEL_COLLECTOR;
        for (const namespace of this.namespaces) {
            const ns = new k8s.core.v1.Namespace(`${name}-ns-${namespace}`, {
                metadata: { name: namespace, labels: { "istio.io/rev": this.revision, ...podSecurityLabels(this.podSecurity) } },
            }, k8sOpts([istiod, ...dataPlane]));
            this.namespaceObjects[namespace] = ns;
            this.readyForWorkloads.push(ns, custom(`${namespace}-default-deny`, defaultDenyPolicy(namespace), [ns]));
            for (const allowance of (args.egress?.allow ?? []).filter((a) => a.namespace === namespace)) {
                const entry = namespaceServiceEntry(allowance);
                this.readyForWorkloads.push(custom(`${namespace}-${entry.metadata.name}`, entry, [ns]));
            }
        }

        this.gatewayServiceHost = `${INGRESS_GATEWAY_RELEASE}.${ISTIO_INGRESS_NAMESPACE}.svc.cluster.local`;
        this.registerOutputs({
            revision: this.revision,
            version: this.version,
            servedVersions: this.servedVersions,
            namespaces: this.namespaces,
            gatewayServiceHost: this.gatewayServiceHost,
            gatewayName: this.gatewayName,
            ingress: this.ingress,
        });
    }
}
