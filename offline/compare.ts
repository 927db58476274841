/**
 * `mlmesh plan --compare PREVIOUS/plan.json`: what a second `pulumi up` would do to each resource
 * (create, update, replace, delete), judged on the recorded inputs of two plans and the documented
 * table of fields that force replacement (offline/replaceFields.ts), and which of those changes
 * take capacity down or lose state. In prod a replacement or deletion of a protected or
 * traffic-bearing resource fails the plan; a Kubernetes version change that skips a minor
 * version or goes back fails it in every environment, since EKS refuses both.
 */
import { readFileSync } from "node:fs";
import { kubernetesVersionProblem } from "../components/cluster/liveState";
import { previousUrns } from "./aliases";
import type { RecordedOptions } from "./recorder";
import { replaceRuleOf } from "./replaceFields";

/** A previous plan that cannot be compared against (exit 2). */
export class PreviousPlanError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "PreviousPlanError";
    }
}

/** The resources of a plan.json written by `mlmesh plan`. */
export function readPreviousPlan(file: string): PlannedResource[] {
    let parsed: unknown;
    try {
        parsed = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
        throw new PreviousPlanError(`${file}: cannot read the previous plan as JSON (${(error as Error).message}); pass a plan.json that \`mlmesh plan\` wrote`);
    }
    const resources = (parsed as { resources?: unknown } | null)?.resources;
    if (!Array.isArray(resources) || resources.some((r) => r === null || typeof r !== "object" || typeof r.urn !== "string" || typeof r.type !== "string")) {
        throw new PreviousPlanError(`${file}: a previous plan needs \`resources\` with a urn and type each, as in the plan.json \`mlmesh plan\` writes`);
    }
    return resources as PlannedResource[];
}

export type ChangeKind = "create" | "update" | "replace" | "delete" | "same";

/** A resource as plan.json records it. */
export interface PlannedResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    readonly inputs: Readonly<Record<string, unknown>>;
    readonly parent?: string;
    readonly options?: Readonly<Pick<RecordedOptions, "aliases" | "protect" | "retainOnDelete" | "ignoreChanges" | "replaceOnChanges" | "deleteBeforeReplace">>;
}

export interface ResourceChange {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    readonly kind: ChangeKind;
    /** Input paths whose value differs (ignored ones left out). */
    readonly fields: readonly string[];
    /** The changed fields that force the replacement. */
    readonly replacedBy: readonly string[];
}

export interface CompareProblem {
    readonly urn: string;
    readonly message: string;
}

export interface Comparison {
    readonly changes: readonly ResourceChange[];
    readonly problems: readonly CompareProblem[];
}

/** Why replacing or deleting a resource of this type takes traffic or capacity down, and the safe way instead. */
export const TRAFFIC_BEARING: Readonly<Record<string, string>> = {
    "aws:eks/nodeGroup:NodeGroup": "EKS replaces a node group by creating the new one at the desired size in state and then force-terminating the old group's nodes, whatever the disruption budgets say; add a group beside it under a new name, move the models to it (gpuNodeGroup), `pulumi up`, then remove the old one",
    "eks:index:Cluster": "replacing the cluster replaces every node, chart and workload in it",
    "aws:ec2/vpc:Vpc": "a new VPC means new subnets, a new cluster and new endpoints",
    "aws:ec2/subnet:Subnet": "nodes, endpoints and load balancers in the subnet go with it",
    "aws:ec2/natGateway:NatGateway": "egress of the zones behind it stops until the new one is up",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "calls through the endpoint (SageMaker Runtime, S3 model downloads) fail until the new one is available",
    "aws:sagemaker/endpoint:Endpoint": "a new endpoint takes many minutes to come into service, and callers get errors meanwhile",
    "kubernetes:apps/v1:Deployment": "a same-name Kubernetes replacement deletes the pods before the new ones run",
    "kubernetes:core/v1:Service": "the Service's address changes (and a load balancer's DNS name), so clients lose it",
    "kubernetes:serving.kserve.io/v1beta1:InferenceService": "the predictor's pods and routes are deleted before the new ones serve",
    "kubernetes:helm.sh/v3:Release": "deleting it uninstalls what it runs (Istio's gateway or control plane, KServe); a replacement (new name or namespace) installs the new release beside the old, which then goes",
    "kubernetes:networking.istio.io/v1:Gateway": "the public hosts stop routing until it is back",
};

/** Leaf values of an input object by dotted path; lists are compared whole. */
function flatten(value: unknown, prefix = "", into = new Map<string, string>()): Map<string, string> {
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
        const entries = Object.entries(value as Record<string, unknown>);
        if (entries.length === 0 && prefix) {
            into.set(prefix, "{}");
        }
        for (const [key, inner] of entries) {
            flatten(inner, prefix ? `${prefix}.${key}` : key, into);
        }
    } else if (prefix) {
        into.set(prefix, JSON.stringify(value));
    }
    return into;
}

/** Whether `path` is `field`, inside it, or holds it. */
function touches(path: string, field: string): boolean {
    return path === field || path.startsWith(`${field}.`) || field.startsWith(`${path}.`);
}

/** The input paths that differ between two recorded resources, less the ignored ones. */
export function changedFields(before: PlannedResource, after: PlannedResource): string[] {
    const a = flatten(before.inputs);
    const b = flatten(after.inputs);
    const ignored = after.options?.ignoreChanges ?? [];
    return [...new Set([...a.keys(), ...b.keys()])]
        .filter((path) => a.get(path) !== b.get(path))
        .filter((path) => !ignored.some((field) => touches(path, field)))
        .sort();
}

/** How one resource changes between two plans. */
export function classify(before: PlannedResource | undefined, after: PlannedResource | undefined): ResourceChange {
    const resource = (after ?? before)!;
    const base = { urn: resource.urn, type: resource.type, name: resource.name };
    if (!before) {
        return { ...base, kind: "create", fields: [], replacedBy: [] };
    }
    if (!after) {
        return { ...base, kind: "delete", fields: [], replacedBy: [] };
    }
    const fields = changedFields(before, after);
    const forcing = [...(replaceRuleOf(after.type)?.fields ?? []), ...(after.options?.replaceOnChanges ?? [])];
    // A changed path inside a rule's field replaces; a changed path that holds one (an object set
    // or emptied) replaces only when the field's own value changed.
    const valueAt = (inputs: Readonly<Record<string, unknown>>, field: string) => JSON.stringify(field.split(".").reduce<unknown>((node, key) => (node !== null && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined), inputs));
    const replacedBy = fields.filter((path) => forcing.some((field) => path === field || path.startsWith(`${field}.`)
        || (field.startsWith(`${path}.`) && valueAt(before.inputs, field) !== valueAt(after.inputs, field))));
    return { ...base, kind: replacedBy.length > 0 ? "replace" : fields.length > 0 ? "update" : "same", fields, replacedBy };
}

/** The Istio revisions the previous plan's namespaces injected with. */
function revisionsInUse(previous: readonly PlannedResource[]): Set<string> {
    const labels = previous.filter((r) => r.type === "kubernetes:core/v1:Namespace")
        .map((r) => ((r.inputs.metadata ?? {}) as { labels?: Record<string, string> }).labels?.["istio.io/rev"]);
    return new Set(labels.filter((rev): rev is string => rev !== undefined));
}

/**
 * Removing the istiod that namespaces used before the change: their pods, until restarted, still
 * take certificates from it, which expire within a day (an outage under STRICT mTLS). The
 * revision is the chart's `revision` value.
 */
export function retiredControlPlaneProblem(old: PlannedResource, inUse: ReadonlySet<string>): string | undefined {
    const revision = (old.inputs.values as { revision?: unknown } | undefined)?.revision;
    if (old.type !== "kubernetes:helm.sh/v3:Release" || old.inputs.chart !== "istiod" || typeof revision !== "string" || !inUse.has(revision)) {
        return undefined;
    }
    return `${old.name}: removes istiod ${revision}, which the namespaces used before this change; pods not restarted since still take their certificates from it, and those expire within a day. `
        + `Keep ${String(old.inputs.version)} in mlmesh:mesh.servedVersions for this \`pulumi up\`, restart the workloads, check nothing uses it (no pod's \`istio.io/rev\` annotation is ${revision}, and \`istioctl proxy-status\` lists no proxy on istiod-${revision}), then remove it; if that is done, pass --allow ${old.name}`;
}

export interface CompareOptions {
    readonly environment?: string;
    /** Resource names (or `prefix*`) whose replacement or deletion is intended. */
    readonly allow?: readonly string[];
}

/** Every resource's change between two plans, and the changes the gate refuses. */
export function comparePlans(previous: readonly PlannedResource[], current: readonly PlannedResource[], options: CompareOptions = {}): Comparison {
    const after = new Map(current.map((r) => [r.urn, r]));
    // A resource that answers to an old URN (its aliases, or its parent's) is that resource, renamed.
    const renamed = new Map<string, string>();
    for (const [urn, olds] of previousUrns(current)) {
        const old = [...olds].find((candidate) => candidate !== urn && !after.has(candidate) && previous.some((r) => r.urn === candidate));
        if (old && !previous.some((r) => r.urn === urn)) {
            renamed.set(old, urn);
        }
    }
    const before = new Map(previous.map((r) => [renamed.get(r.urn) ?? r.urn, r]));
    const urns = [...new Set([...before.keys(), ...after.keys()])];
    const changes = urns.map((urn) => classify(before.get(urn), after.get(urn)));
    const allowed = (name: string) => (options.allow ?? []).some((pattern) => (pattern.endsWith("*") ? name.startsWith(pattern.slice(0, -1)) : name === pattern));
    const problems: CompareProblem[] = [];
    const inUse = revisionsInUse(previous);
    for (const change of changes) {
        const old = before.get(change.urn);
        if (change.type === "eks:index:Cluster" && old && after.has(change.urn)) {
            const problem = kubernetesVersionProblem(old.inputs.version, after.get(change.urn)!.inputs.version);
            if (problem) {
                problems.push({ urn: change.urn, message: `${change.name}: the cluster ${problem}` });
            }
        }
        if (allowed(change.name)) {
            continue;
        }
        const retired = change.kind === "delete" && old ? retiredControlPlaneProblem(old, inUse) : undefined;
        if (retired) {
            problems.push({ urn: change.urn, message: retired });
            continue;
        }
        // A retained resource leaves the stack, not the cloud.
        const retained = change.kind === "delete" && old?.options?.retainOnDelete === true;
        if (options.environment !== "prod" || (change.kind !== "replace" && change.kind !== "delete") || retained) {
            continue;
        }
        const why = change.kind === "replace" ? `would be replaced (${change.replacedBy.join(", ")} changed)` : "would be deleted";
        // The engine refuses deleting a protected resource, and replacing one protected before and after.
        if (old?.options?.protect && (change.kind === "delete" || after.get(change.urn)?.options?.protect)) {
            problems.push({ urn: change.urn, message: `${change.name} (${change.type}) ${why}, and prod protects it: Pulumi would refuse; if it is meant, \`pulumi state unprotect '${change.urn}'\` in a reviewed change, then pass --allow ${change.name}` });
        } else if (TRAFFIC_BEARING[change.type]) {
            problems.push({ urn: change.urn, message: `${change.name} (${change.type}) ${why} in prod: ${TRAFFIC_BEARING[change.type]}; if it is meant, pass --allow ${change.name}` });
        }
    }
    return { changes: changes.filter((c) => c.kind !== "same"), problems };
}
