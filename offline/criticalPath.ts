/**
 * How long a first `pulumi up` of the plan takes, from its dependency graph and the typical
 * create durations (createDurations.ts). The engine creates a resource once everything it waits
 * for exists: the resources in its dependencies (explicit `dependsOn` and its inputs' sources),
 * its provider, a custom parent, and its ancestor components' dependencies. With enough parallel
 * slots the deploy takes as long as the longest chain, the critical path; with `pulumi up`'s
 * default (4 × the runner's CPUs) a large stack also waits for free slots, which is estimated too.
 *
 * The ideal is the critical path when a resource waits only for what it inherently needs: what
 * its inputs read, its provider and custom parent, and the prerequisites the install-order check
 * knows (CRDs, webhooks, the sidecar injector, nodes for pods). An explicit `dependsOn` beyond
 * those serialises work that could run side by side; the edges that make the deploy longer than
 * its ideal are named.
 */
import { createDuration, requestsGpus, type CreateDuration } from "./createDurations";
import { chartOf, podTemplateOf } from "./manifests";
import { ISTIO_ROOT_NAMESPACE } from "../components/mesh/istioCharts";
import { PREREQUISITES, SYSTEM_NODES } from "./installOrder";
import type { RecordedResource } from "./recorder";

/** `pulumi up`'s default --parallel on a 2-CPU CI runner: 4 × its CPUs. */
export const DEFAULT_SLOTS = 8;

/** What a type missing from the table is assumed to take. */
export const UNKNOWN_TYPE_SECONDS = 5;

export interface PathStep {
    readonly urn: string;
    readonly name: string;
    readonly type: string;
    readonly seconds: number;
    /** Seconds from the start of the deploy when it finishes. */
    readonly finishesAt: number;
}

export interface CriticalPath {
    readonly seconds: number;
    /** From the first resource created to the last one to finish. */
    readonly steps: readonly PathStep[];
}

/** An explicit wait that lengthens the deploy beyond its ideal. */
export interface SerialisingEdge {
    readonly from: string;
    readonly waitsFor: string;
    /** How much shorter the deploy would be without this wait alone. */
    readonly costSeconds: number;
}

export interface DeployEstimate {
    readonly actual: CriticalPath;
    /** The deploy's length with `pulumi up`'s default parallelism on a 2-CPU runner (DEFAULT_SLOTS). */
    readonly slottedSeconds: number;
    readonly ideal: CriticalPath;
    /** actual / ideal (1.00 when nothing waits needlessly). */
    readonly ratio: number;
    readonly serialising: readonly SerialisingEdge[];
    /** Needs the deploy does not wait for, directly or through others: created too early. */
    readonly missingWaits: readonly { readonly from: string; readonly needs: string }[];
    /** Types the duration table lacks, each assumed to take UNKNOWN_TYPE_SECONDS. */
    readonly unknownTypes: readonly string[];
}

type Edges = (resource: RecordedResource) => readonly string[];

/** The longest chain of `edges` through the resources, by create duration. */
export function criticalPath(resources: readonly RecordedResource[], edges: Edges, seconds: (r: RecordedResource) => number): CriticalPath {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const finish = new Map<string, { at: number; via?: string }>();
    const visiting = new Set<string>();
    const finishOf = (urn: string): number => {
        const known = finish.get(urn);
        if (known !== undefined) {
            return known.at;
        }
        const resource = byUrn.get(urn);
        if (resource === undefined || visiting.has(urn)) {
            return 0;
        }
        visiting.add(urn);
        let start = 0;
        let via: string | undefined;
        for (const dep of edges(resource)) {
            const at = finishOf(dep);
            if (byUrn.has(dep) && (via === undefined || at > start)) {
                [start, via] = [at, dep];
            }
        }
        visiting.delete(urn);
        const at = start + seconds(resource);
        finish.set(urn, { at, via });
        return at;
    };
    let last: string | undefined;
    for (const resource of resources) {
        const at = finishOf(resource.urn);
        if (last === undefined || at > finishOf(last)) {
            last = resource.urn;
        }
    }
    const steps: PathStep[] = [];
    for (let urn = last; urn !== undefined; urn = finish.get(urn)?.via) {
        const resource = byUrn.get(urn)!;
        steps.unshift({ urn, name: resource.name, type: resource.type, seconds: seconds(resource), finishesAt: finish.get(urn)!.at });
    }
    return { seconds: last === undefined ? 0 : finishOf(last), steps };
}

/**
 * How long the deploy takes when at most `slots` resources are created at once, as `pulumi up
 * --parallel` allows (default 4 × the CPUs, pulumi/pulumi:pkg/cmd/pulumi/operations/up.go@v3.259.0):
 * a resource starts, in the order it became ready, once its waits are over and a slot is free.
 * Components and providers take no slot.
 */
export function slottedSeconds(resources: readonly RecordedResource[], edges: Edges, seconds: (r: RecordedResource) => number, slots: number): number {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const waiting = new Map<string, number>();
    const dependents = new Map<string, string[]>();
    for (const r of resources) {
        const deps = [...new Set(edges(r))].filter((d) => d !== r.urn && byUrn.has(d));
        waiting.set(r.urn, deps.length);
        deps.forEach((d) => append(dependents, d, r.urn));
    }
    const ready = resources.filter((r) => waiting.get(r.urn) === 0).map((r) => r.urn);
    const running: { urn: string; at: number }[] = [];
    let now = 0;
    const finish = (urn: string) => {
        for (const next of dependents.get(urn) ?? []) {
            const left = waiting.get(next)! - 1;
            waiting.set(next, left);
            if (left === 0) {
                ready.push(next);
            }
        }
    };
    let head = 0;
    for (;;) {
        while (head < ready.length) {
            const urn = ready[head];
            const takes = seconds(byUrn.get(urn)!);
            if (takes > 0 && running.length >= slots) {
                break;
            }
            head++;
            if (takes === 0) {
                finish(urn);
            } else {
                running.push({ urn, at: now + takes });
            }
        }
        if (running.length === 0) {
            return now;
        }
        running.sort((a, b) => a.at - b.at);
        const next = running.shift()!;
        now = next.at;
        finish(next.urn);
    }
}

/**
 * What the engine waits for before it creates the resource. A child registers only once its
 * parent's URN is known, and a component registers only once everything in its own `dependsOn`
 * exists, so a resource also waits for its ancestor components' dependencies
 * (pulumi/pulumi:sdk/nodejs/runtime/resource.ts@v3.259.0, prepareResource).
 */
function waitsFor(byUrn: ReadonlyMap<string, RecordedResource>): Edges {
    const inherited = new Map<string, readonly string[]>();
    const ancestorsWait = (urn: string | undefined): readonly string[] => {
        const component = urn === undefined ? undefined : byUrn.get(urn);
        if (component === undefined || component.custom) {
            return [];
        }
        let deps = inherited.get(component.urn);
        if (deps === undefined) {
            deps = [...component.dependencies, ...ancestorsWait(component.parent)];
            inherited.set(component.urn, deps);
        }
        return deps;
    };
    return (r) => [
        ...r.dependencies,
        ...ancestorsWait(r.parent),
        ...(r.options.provider ? [r.options.provider] : []),
        ...(r.parent !== undefined && byUrn.get(r.parent)?.custom ? [r.parent] : []),
    ];
}

/** What the resource inherently needs: its inputs' sources, provider and custom parent, and its install-order prerequisites in the plan. */
function inherentNeeds(resources: readonly RecordedResource[], byUrn: ReadonlyMap<string, RecordedResource>): Edges {
    const providers = new Map<object, string[]>();
    const satisfying = (provider: { matches: (r: RecordedResource) => boolean }): string[] => {
        let urns = providers.get(provider);
        if (urns === undefined) {
            urns = resources.filter(provider.matches).map((r) => r.urn);
            providers.set(provider, urns);
        }
        return urns;
    };
    // A role's permissions are in place before anything that runs as it starts.
    const permissionsOf = new Map<string, string[]>();
    for (const r of resources.filter((x) => IAM_GRANTS.has(x.type))) {
        r.inputDependencies.forEach((role) => append(permissionsOf, role, r.urn));
    }
    // Namespaced objects need their namespace; pods, its namespace-wide policies, so nothing is
    // ever reachable before the namespace's default deny applies.
    const namespaces = new Map(resources.filter((x) => x.type === "kubernetes:core/v1:Namespace").map((x) => [metadataOf(x).name, x.urn]));
    const namespacePolicies = new Map<string | undefined, string[]>();
    // ... and its mutual TLS, its namespace's or the mesh's (root namespace) PeerAuthentication.
    const namespaceWide = (x: RecordedResource) => (x.type === "kubernetes:security.istio.io/v1:AuthorizationPolicy" || x.type === "kubernetes:security.istio.io/v1:PeerAuthentication")
        && !(x.inputs.spec as { selector?: unknown } | undefined)?.selector;
    for (const policy of resources.filter(namespaceWide)) {
        append(namespacePolicies, metadataOf(policy).namespace, policy.urn);
    }
    // Pods are admitted only once the ServiceAccount they run as exists (the ServiceAccount admission plugin).
    const serviceAccounts = new Map(resources.filter((x) => x.type === "kubernetes:core/v1:ServiceAccount").map((x) => [`${metadataOf(x).namespace}/${metadataOf(x).name}`, x.urn]));
    const validators = resources.filter((x) => x.type === "kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration").map((x) => x.urn);
    return (r) => {
        const namespace = r.type.startsWith("kubernetes:") ? metadataOf(r).namespace : undefined;
        const runsAs = POD_MAKERS.test(r.type) ? serviceAccounts.get(`${namespace}/${serviceAccountOf(r)}`) : undefined;
        return [
            ...r.inputDependencies,
            ...(RUNS_AS_ROLE.has(r.type) ? r.inputDependencies.flatMap((dep) => (byUrn.get(dep)?.type === "aws:iam/role:Role" ? permissionsOf.get(dep) ?? [] : [])) : []),
            ...(r.options.provider ? [r.options.provider] : []),
            ...(r.parent !== undefined && byUrn.get(r.parent)?.custom ? [r.parent] : []),
            ...(namespace !== undefined && namespaces.has(namespace) ? [namespaces.get(namespace)!] : []),
            ...(namespace !== undefined && POD_MAKERS.test(r.type) ? [...namespacePolicies.get(namespace) ?? [], ...namespacePolicies.get(ISTIO_ROOT_NAMESPACE) ?? []] : []),
            // Istio objects land only once the webhook that validates them is in place.
            ...(ISTIO_OBJECT.test(r.type) ? validators : []),
            ...(runsAs !== undefined ? [runsAs] : []),
            // A route goes live only once what it leads to exists, or its requests meet 503s.
            ...(r.type === VIRTUAL_SERVICE ? r.dependencies.filter((dep) => ROUTE_TARGETS.test(byUrn.get(dep)?.type ?? "")) : []),
            ...PREREQUISITES.filter((consumer) => consumer.matches(r)).flatMap((consumer) => consumer.prerequisites.flatMap((p) => p.providers.flatMap(satisfying))),
        ];
    };
}

/** Types that run as the role whose ARN they read (others, such as a key or endpoint policy, only name it). */
const RUNS_AS_ROLE = new Set(["eks:index:Cluster", "aws:eks/cluster:Cluster", "aws:eks/nodeGroup:NodeGroup", "aws:eks/addon:Addon", "aws:sagemaker/model:Model"]);
/** Resources that give a role its permissions. */
const IAM_GRANTS = new Set(["aws:iam/rolePolicy:RolePolicy", "aws:iam/rolePolicyAttachment:RolePolicyAttachment"]);
const VIRTUAL_SERVICE = "kubernetes:networking.istio.io/v1:VirtualService";
const ISTIO_OBJECT = /^kubernetes:(networking|security|telemetry)\.istio\.io\//;
/** What a VirtualService routes to: workloads, Services, other routes and their traffic policy. */
const ROUTE_TARGETS = /^kubernetes:(apps\/v1:Deployment|core\/v1:Service|serving\.kserve\.io\/v1beta1:InferenceService|networking\.istio\.io\/v1:(VirtualService|DestinationRule|ServiceEntry))$/;
/** Kubernetes objects that make pods. */
const POD_MAKERS = /^kubernetes:(apps\/v1:(Deployment|DaemonSet|StatefulSet)|serving\.kserve\.io\/v1beta1:InferenceService)$/;

/** The ServiceAccount a pod maker's pods run as (a workload's pod template, an InferenceService's predictor). */
function serviceAccountOf(resource: RecordedResource): string | undefined {
    const predictor = (resource.inputs.spec as { predictor?: { serviceAccountName?: string } } | undefined)?.predictor;
    return (podTemplateOf(resource)?.spec?.serviceAccountName as string | undefined) ?? predictor?.serviceAccountName;
}

function append<K>(map: Map<K, string[]>, key: K, value: string): void {
    const list = map.get(key);
    if (list === undefined) {
        map.set(key, [value]);
    } else {
        list.push(value);
    }
}

function metadataOf(resource: RecordedResource): { name?: string; namespace?: string } {
    return (resource.inputs.metadata ?? {}) as { name?: string; namespace?: string };
}

/** The deploy's critical path, its ideal, and the explicit waits that make up the difference. */
export function deployEstimate(resources: readonly RecordedResource[]): DeployEstimate {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const unknown = new Set<string>();
    const durations = new Map<RecordedResource, CreateDuration | undefined>(resources.map((r) => [r, createDuration(r)]));
    const seconds = (r: RecordedResource): number => {
        const row = durations.get(r);
        if (row === undefined) {
            unknown.add(r.type);
        }
        return row?.seconds ?? UNKNOWN_TYPE_SECONDS;
    };
    // A GPU workload's create completes only once a GPU node, the device plugin and the autoscaler
    // (a group at zero) exist, whatever it waits for: the provider waits for its pods, and they wait
    // for a node. Both graphs hold it. Every GPU group counts, not only the one the pods land on.
    const gpuNodes = resources.filter((r) => (r.type === "aws:eks/nodeGroup:NodeGroup" && !SYSTEM_NODES.matches(r))
        || chartOf(r) === "nvidia-device-plugin" || chartOf(r) === "cluster-autoscaler").map((r) => r.urn);
    const withNodes = (edges: Edges): Edges => (r) => (requestsGpus(r) ? [...edges(r), ...gpuNodes] : edges(r));
    const actualEdges = withNodes(waitsFor(byUrn));
    const idealEdges = withNodes(inherentNeeds(resources, byUrn));
    const actual = criticalPath(resources, actualEdges, seconds);
    const ideal = criticalPath(resources, (r) => [...new Set(idealEdges(r))], seconds);
    const serialising: SerialisingEdge[] = [];
    // Along the actual path, each step waits for the one before it: where that wait is not
    // inherent, how much shorter the deploy is without it.
    actual.steps.forEach((step, i) => {
        const dep = actual.steps[i - 1]?.urn;
        const resource = byUrn.get(step.urn)!;
        if (dep === undefined || idealEdges(resource).includes(dep)) {
            return;
        }
        const without = criticalPath(resources, (r) => (r === resource ? actualEdges(r).filter((d) => d !== dep) : actualEdges(r)), seconds).seconds;
        if (without < actual.seconds) {
            serialising.push({ from: resource.urn, waitsFor: dep, costSeconds: actual.seconds - without });
        }
    });
    return { actual, ideal, slottedSeconds: slottedSeconds(resources, actualEdges, seconds, DEFAULT_SLOTS), ratio: ideal.seconds === 0 ? 1 : actual.seconds / ideal.seconds, serialising, missingWaits: missingWaits(resources, actualEdges, idealEdges), unknownTypes: [...unknown].sort() };
}

/** Each inherent need a resource does not wait for, directly or through what it waits for. */
function missingWaits(resources: readonly RecordedResource[], actual: Edges, ideal: Edges): { from: string; needs: string }[] {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const reaches = (from: RecordedResource, target: string): boolean => {
        const seen = new Set<string>();
        const queue = [...actual(from)];
        while (queue.length > 0) {
            const urn = queue.pop()!;
            if (urn === target) {
                return true;
            }
            const next = byUrn.get(urn);
            if (!seen.has(urn) && next !== undefined) {
                seen.add(urn);
                queue.push(...actual(next));
            }
        }
        return false;
    };
    return resources.flatMap((r) => {
        const direct = new Set(actual(r));
        return [...new Set(ideal(r))].filter((need) => need !== r.urn && byUrn.has(need) && !direct.has(need) && !reaches(r, need)).map((needs) => ({ from: r.urn, needs }));
    });
}

const minutes = (seconds: number): string => `${Math.floor(seconds / 60)} min ${String(Math.round(seconds % 60)).padStart(2, "0")} s`;

/** The plan's lines about the deploy: the estimate, its ideal, the path, and what serialises it. */
export function deployLines(estimate: DeployEstimate): string[] {
    const shortName = (urn: string): string => urn.slice(urn.lastIndexOf("::") + 2);
    return [
        `Deploy estimate: a first \`pulumi up\` takes about ${minutes(estimate.actual.seconds)} when nothing waits for a free slot (ideal ${minutes(estimate.ideal.seconds)}, ratio ${estimate.ratio.toFixed(2)});`
            + ` about ${minutes(estimate.slottedSeconds)} with --parallel ${DEFAULT_SLOTS}, the default on a 2-CPU runner`,
        "  critical path:",
        // Components and providers take no time of their own: the path shows what is created.
        ...estimate.actual.steps.filter((s) => s.seconds > 0).map((s) => `    ${minutes(s.finishesAt).padStart(12)}  ${s.name} (${s.type}, ${s.seconds} s)`),
        ...estimate.serialising.map((e) => `  serialises: ${shortName(e.from)} waits for ${shortName(e.waitsFor)} without needing it (${e.costSeconds} s longer)`),
        ...estimate.missingWaits.map((m) => `  missing wait: ${shortName(m.from)} does not wait for ${shortName(m.needs)}, which it needs`),
        ...(estimate.unknownTypes.length > 0 ? [`  assumed ${UNKNOWN_TYPE_SECONDS} s each (no typical duration known): ${estimate.unknownTypes.join(", ")}`] : []),
    ];
}
