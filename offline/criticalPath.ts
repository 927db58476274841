/**
 * How long a first `pulumi up` of the plan takes, from its dependency graph and the typical
 * create durations (createDurations.ts). The engine creates a resource once everything it waits
 * for exists: the resources in its dependencies (explicit `dependsOn` and its inputs' sources),
 * its provider, and a custom parent. With unlimited parallelism (the engine's default) the
 * deploy takes as long as the longest chain: the critical path.
 *
 * The ideal is the critical path when a resource waits only for what it inherently needs: what
 * its inputs read, its provider and custom parent, and the prerequisites the install-order check
 * knows (CRDs, webhooks, the sidecar injector, nodes for pods). An explicit `dependsOn` beyond
 * those serialises work that could run side by side; the edges that make the deploy longer than
 * its ideal are named.
 */
import { createDuration, type CreateDuration } from "./createDurations";
import { PREREQUISITES } from "./installOrder";
import type { RecordedResource } from "./recorder";

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
    readonly ideal: CriticalPath;
    /** actual / ideal (1.00 when nothing waits needlessly). */
    readonly ratio: number;
    readonly serialising: readonly SerialisingEdge[];
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

/** What the engine waits for before it creates the resource. */
function waitsFor(byUrn: ReadonlyMap<string, RecordedResource>): Edges {
    return (r) => [
        ...r.dependencies,
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
    // A role's permissions are in place before anything that runs as it (reads its ARN) starts.
    const permissionsOf = new Map<string, string[]>();
    for (const r of resources.filter((x) => IAM_GRANTS.has(x.type))) {
        for (const role of r.inputDependencies) {
            permissionsOf.set(role, [...(permissionsOf.get(role) ?? []), r.urn]);
        }
    }
    // Namespaced objects need their namespace; pods, its namespace-wide policies, so nothing is
    // ever reachable before the namespace's default deny applies.
    const namespaces = new Map(resources.filter((x) => x.type === "kubernetes:core/v1:Namespace").map((x) => [metadataOf(x).name, x.urn]));
    const namespacePolicies = new Map<string | undefined, string[]>();
    for (const policy of resources.filter((x) => x.type === "kubernetes:security.istio.io/v1:AuthorizationPolicy" && !(x.inputs.spec as { selector?: unknown } | undefined)?.selector)) {
        const namespace = metadataOf(policy).namespace;
        namespacePolicies.set(namespace, [...(namespacePolicies.get(namespace) ?? []), policy.urn]);
    }
    return (r) => {
        const namespace = r.type.startsWith("kubernetes:") ? metadataOf(r).namespace : undefined;
        return [
            ...r.inputDependencies,
            ...r.inputDependencies.flatMap((dep) => (byUrn.get(dep)?.type === "aws:iam/role:Role" && !NAMES_ROLES_ONLY.test(r.type) ? permissionsOf.get(dep) ?? [] : [])),
            ...(r.options.provider ? [r.options.provider] : []),
            ...(r.parent !== undefined && byUrn.get(r.parent)?.custom ? [r.parent] : []),
            ...(namespace !== undefined && namespaces.has(namespace) ? [namespaces.get(namespace)!] : []),
            ...(namespace !== undefined && POD_MAKERS.test(r.type) ? namespacePolicies.get(namespace) ?? [] : []),
            // A route goes live only once what it leads to exists, or its requests meet 503s.
            ...(r.type === VIRTUAL_SERVICE ? r.dependencies.filter((dep) => ROUTE_TARGETS.test(byUrn.get(dep)?.type ?? "")) : []),
            ...PREREQUISITES.filter((consumer) => consumer.matches(r)).flatMap((consumer) => consumer.prerequisites.flatMap((p) => p.providers.flatMap(satisfying))),
        ];
    };
}

/** Types that name a role without running as it (its grants, a key policy). */
const NAMES_ROLES_ONLY = /^aws:(iam|kms)\//;
/** Resources that give a role its permissions. */
const IAM_GRANTS = new Set(["aws:iam/rolePolicy:RolePolicy", "aws:iam/rolePolicyAttachment:RolePolicyAttachment"]);
const VIRTUAL_SERVICE = "kubernetes:networking.istio.io/v1:VirtualService";
/** What a VirtualService routes to: workloads, Services, other routes and their traffic policy. */
const ROUTE_TARGETS = /^kubernetes:(apps\/v1:Deployment|core\/v1:Service|serving\.kserve\.io\/v1beta1:InferenceService|networking\.istio\.io\/v1:(VirtualService|DestinationRule|ServiceEntry))$/;
/** Kubernetes objects that make pods. */
const POD_MAKERS = /^kubernetes:(apps\/v1:(Deployment|DaemonSet|StatefulSet)|serving\.kserve\.io\/v1beta1:InferenceService)$/;

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
    const actualEdges = waitsFor(byUrn);
    const idealEdges = inherentNeeds(resources, byUrn);
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
    return { actual, ideal, ratio: ideal.seconds === 0 ? 1 : actual.seconds / ideal.seconds, serialising, unknownTypes: [...unknown].sort() };
}

const minutes = (seconds: number): string => `${Math.floor(seconds / 60)} min ${String(Math.round(seconds % 60)).padStart(2, "0")} s`;

/** The plan's lines about the deploy: the estimate, its ideal, the path, and what serialises it. */
export function deployLines(estimate: DeployEstimate): string[] {
    const shortName = (urn: string): string => urn.slice(urn.lastIndexOf("::") + 2);
    return [
        `Deploy estimate: a first \`pulumi up\` takes about ${minutes(estimate.actual.seconds)} (ideal ${minutes(estimate.ideal.seconds)}, ratio ${estimate.ratio.toFixed(2)})`,
        "  critical path:",
        // Components and providers take no time of their own: the path shows what is created.
        ...estimate.actual.steps.filter((s) => s.seconds > 0).map((s) => `    ${minutes(s.finishesAt).padStart(12)}  ${s.name} (${s.type}, ${s.seconds} s)`),
        ...estimate.serialising.map((e) => `  serialises: ${shortName(e.from)} waits for ${shortName(e.waitsFor)} without needing it (${e.costSeconds} s longer)`),
        ...(estimate.unknownTypes.length > 0 ? [`  assumed ${UNKNOWN_TYPE_SECONDS} s each (no typical duration known): ${estimate.unknownTypes.join(", ")}`] : []),
    ];
}
