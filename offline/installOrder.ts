/**
 * Install order, checked: what each chart (and each kind of object) mlmesh installs needs that it
 * does not bring itself, read from the charts' templates at the pinned tags, and a check that
 * every such prerequisite is something the resource waits for, directly or transitively, in the
 * dependency graph the engine orders creation by.
 */
import { chartOf } from "./manifests";
import type { RecordedResource } from "./recorder";

/** Something in the plan that satisfies a prerequisite. */
interface Provider {
    readonly describe: string;
    readonly matches: (resource: RecordedResource) => boolean;
}

/** A Helm release of the chart named `chart` (a plain name, or the last segment of an OCI reference). */
const chart = (name: string): Provider => ({
    describe: `the ${name} chart`,
    matches: (r) => chartOf(r) === name,
});

/** Nodes for a release's pods to run on (mlmesh pins controllers to the system group), with pod networking and DNS. */
export const SYSTEM_NODES: Provider = {
    describe: "the system node group",
    matches: (r) => r.type === "aws:eks/nodeGroup:NodeGroup" && (r.inputs.labels as Record<string, string> | undefined)?.["mlmesh.io/node-role"] === "system",
};
const addon = (name: string): Provider => ({ describe: `the ${name} add-on`, matches: (r) => r.type === "aws:eks/addon:Addon" && r.inputs.addonName === name });
const RUNS_PODS = [SYSTEM_NODES, addon("vpc-cni"), addon("coredns")];

export interface Prerequisite {
    readonly needs: string;
    readonly providers: readonly Provider[];
    /** `repo:path@tag` that shows the need. */
    readonly source: string;
    /**
     * Whether an mlmesh platform stack the program reads (StackReference) has installed it
     * already, judged on its recorded outputs: an app team's project installs no Istio of its own.
     */
    readonly fromPlatform?: (platform: Readonly<Record<string, unknown>>) => boolean;
}

/** Whether recorded stack outputs are an mlmesh platform's contract. */
function isPlatform(outputs: Readonly<Record<string, unknown>>): boolean {
    return typeof outputs.contractVersion === "string" && typeof outputs.meshRevision === "string";
}

const HAS_ISTIO = () => true;
const HAS_KSERVE = (platform: Readonly<Record<string, unknown>>) =>
    Array.isArray(platform.models) && platform.models.some((m: unknown) => m !== null && typeof m === "object" && (m as { backend?: unknown }).backend === "kserve");

export interface Consumer {
    readonly describe: string;
    readonly matches: (resource: RecordedResource) => boolean;
    readonly prerequisites: readonly Prerequisite[];
}

const podsOnNodes = (source: string): Prerequisite => ({ needs: "schedulable nodes with pod networking and DNS (the release is atomic: it waits for its pods)", providers: RUNS_PODS, source });
const releaseOf = (name: string): ((r: RecordedResource) => boolean) => chart(name).matches;
const ISTIO = "istio/istio:manifests/charts";

/** What mlmesh's charts and objects need before they can be installed. */
export const PREREQUISITES: readonly Consumer[] = [
    {
        describe: "the istiod chart", matches: releaseOf("istiod"), prerequisites: [
            { needs: "the Istio CRDs", providers: [chart("base")], source: `${ISTIO}/base/files/crd-all.gen.yaml@1.30.3` },
            podsOnNodes(`${ISTIO}/istio-control/istio-discovery/templates/deployment.yaml@1.30.3`),
        ],
    },
    {
        describe: "the Istio gateway chart", matches: releaseOf("gateway"), prerequisites: [
            { needs: "istiod's injector, which gives the gateway pods their proxy", providers: [chart("istiod")], source: `${ISTIO}/gateway/templates/deployment.yaml@1.30.3 (inject.istio.io/templates: gateway)` },
            podsOnNodes(`${ISTIO}/gateway/templates/deployment.yaml@1.30.3`),
        ],
    },
    {
        describe: "the Istio CNI chart", matches: releaseOf("cni"), prerequisites: [
            { needs: "the Istio CRDs", providers: [chart("base")], source: `${ISTIO}/istio-cni/templates/daemonset.yaml@1.30.3` },
        ],
    },
    {
        describe: "the kserve-resources chart", matches: releaseOf("kserve-resources"), prerequisites: [
            { needs: "the KServe CRDs", providers: [chart("kserve-crd")], source: "kserve/kserve:charts/kserve-crd@v0.20.0" },
            { needs: "cert-manager's Certificate and Issuer CRDs, webhook and CA injector", providers: [chart("cert-manager")], source: "kserve/kserve:charts/kserve-resources/templates/kserve/resources.yaml@v0.20.0 (Certificate serving-cert), templates/common/certmanager.yaml (Issuer)" },
            podsOnNodes("kserve/kserve:charts/kserve-resources/templates/kserve/resources.yaml@v0.20.0"),
        ],
    },
    {
        describe: "the kserve-runtime-configs chart", matches: releaseOf("kserve-runtime-configs"), prerequisites: [
            { needs: "KServe's controller, whose webhook (failurePolicy Fail) admits ClusterServingRuntimes", providers: [chart("kserve-resources")], source: "kserve/kserve:hack/setup/infra/manage.kserve-helm.sh@v0.20.0" },
        ],
    },
    {
        describe: "Istio's default validating webhook", matches: (r) => r.type === "kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration" && (r.inputs.metadata as { name?: string } | undefined)?.name === "istiod-default-validator", prerequisites: [
            { needs: "istiod, the service its webhook calls", providers: [chart("istiod")], source: `${ISTIO}/default/templates/validatingwebhook.yaml@1.30.3 (service istiod-<revision>)` },
        ],
    },
    {
        describe: "a managed node group", matches: (r) => r.type === "aws:eks/nodeGroup:NodeGroup", prerequisites: [
            { needs: "the pod network on its nodes from their first boot (a node without the VPC CNI stays NotReady)", providers: [addon("vpc-cni")], source: "pulumi/pulumi-eks:nodejs/eks/nodes/nodegroup.ts@v4.3.0 (its self-managed node groups wait for the VPC CNI for this reason)" },
        ],
    },
    {
        describe: "the coredns add-on", matches: addon("coredns").matches, prerequisites: [
            { needs: "nodes for its pods: the provider waits for ACTIVE, which it reaches only once they run", providers: [SYSTEM_NODES], source: "pulumi/terraform-provider-aws:internal/service/eks/wait.go@patched-v6.0.0 (waitAddonCreated: CREATING and DEGRADED are still pending)" },
        ],
    },
    { describe: "the cert-manager chart", matches: releaseOf("cert-manager"), prerequisites: [podsOnNodes("cert-manager/cert-manager:deploy/charts/cert-manager/templates/deployment.yaml@v1.21.1")] },
    { describe: "the metrics-server chart", matches: releaseOf("metrics-server"), prerequisites: [podsOnNodes("kubernetes-sigs/metrics-server:charts/metrics-server/templates/deployment.yaml@metrics-server-helm-chart-3.13.1")] },
    { describe: "the cluster-autoscaler chart", matches: releaseOf("cluster-autoscaler"), prerequisites: [podsOnNodes("kubernetes/autoscaler:charts/cluster-autoscaler/templates/deployment.yaml@cluster-autoscaler-chart-9.59.0")] },
    {
        describe: "an InferenceService", matches: (r) => r.type.startsWith("kubernetes:serving.kserve.io/"), prerequisites: [
            { needs: "KServe's controller and its admission webhooks", providers: [chart("kserve-resources")], source: "kserve/kserve:charts/kserve-resources@v0.20.0", fromPlatform: HAS_KSERVE },
            { needs: "the serving runtimes its model format selects", providers: [chart("kserve-runtime-configs")], source: "kserve/kserve:charts/kserve-runtime-configs@v0.20.0", fromPlatform: HAS_KSERVE },
        ],
    },
    {
        describe: "an Istio object", matches: (r) => /^kubernetes:(networking|security|telemetry)\.istio\.io\//.test(r.type), prerequisites: [
            { needs: "the Istio CRDs", providers: [chart("base")], source: `${ISTIO}/base@1.30.3`, fromPlatform: HAS_ISTIO },
            { needs: "istiod, which validates it and pushes it to the proxies", providers: [chart("istiod")], source: `${ISTIO}/istio-control/istio-discovery@1.30.3`, fromPlatform: HAS_ISTIO },
        ],
    },
    {
        describe: "a workload in a mesh namespace", matches: (r) => r.type === "kubernetes:apps/v1:Deployment", prerequisites: [
            { needs: "istiod's sidecar injector; a pod created before it runs without a proxy and STRICT mTLS refuses it", providers: [chart("istiod")], source: `${ISTIO}/istio-control/istio-discovery/templates/mutatingwebhook.yaml@1.30.3`, fromPlatform: HAS_ISTIO },
        ],
    },
];

/** Every URN each resource waits for, through dependencies and providers, transitively. */
export function waitsFor(resources: readonly RecordedResource[]): Map<string, Set<string>> {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const memo = new Map<string, Set<string>>();
    const visit = (urn: string, path: Set<string>): Set<string> => {
        const known = memo.get(urn);
        if (known) {
            return known;
        }
        const resource = byUrn.get(urn);
        const direct = [...(resource?.dependencies ?? []), ...(resource?.options.provider ? [resource.options.provider] : [])];
        const all = new Set<string>();
        for (const dep of direct) {
            if (path.has(dep)) {
                continue;
            }
            all.add(dep);
            visit(dep, new Set([...path, dep])).forEach((inner) => all.add(inner));
        }
        memo.set(urn, all);
        return all;
    };
    return new Map(resources.map((r) => [r.urn, visit(r.urn, new Set([r.urn]))]));
}

/** One way the plan would install something before what it needs. */
export interface InstallOrderProblem {
    readonly urn: string;
    readonly message: string;
}

/**
 * The prerequisites of the plan's charts and objects that they do not wait for. `stacksRead`: the
 * recorded outputs of the stacks the program reads (StackReference); an mlmesh platform among them
 * has installed Istio (and KServe, when it serves a KServe model) before this project runs.
 */
export function installOrderProblems(resources: readonly RecordedResource[], stacksRead: readonly Readonly<Record<string, unknown>>[] = []): InstallOrderProblem[] {
    const graph = waitsFor(resources);
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const platforms = stacksRead.filter(isPlatform);
    return resources.flatMap((resource) => PREREQUISITES.filter((consumer) => consumer.matches(resource)).flatMap((consumer) =>
        consumer.prerequisites.filter((p) => !(p.fromPlatform && platforms.some(p.fromPlatform))).flatMap((prerequisite) => prerequisite.providers.flatMap((provider): InstallOrderProblem[] => {
            const inPlan = resources.some(provider.matches);
            const awaited = [...(graph.get(resource.urn) ?? [])].some((urn) => { const dep = byUrn.get(urn); return dep !== undefined && provider.matches(dep); });
            if (awaited) {
                return [];
            }
            const why = inPlan ? `does not wait for ${provider.describe}` : `needs ${provider.describe}, which the plan does not install`;
            return [{ urn: resource.urn, message: `${resource.name} (${consumer.describe}) ${why}: it needs ${prerequisite.needs} (${prerequisite.source})` }];
        }))));
}
