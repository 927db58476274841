/**
 * The live AWS state an update reads (components/cluster/liveState.ts), taken from a previous
 * plan.json: with `mlmesh plan --compare`, the previous plan stands in for what is deployed, so the
 * program sees the clusters and node groups that `pulumi up` would find. Without it nothing is live,
 * as on a first deploy.
 */
import type { PlannedResource } from "./compare";

export interface LiveScaling {
    readonly minSize?: number;
    readonly maxSize?: number;
    readonly desiredSize?: number;
}

export interface LiveResources {
    /** Cluster name → Kubernetes version. */
    readonly clusters: ReadonlyMap<string, string>;
    /** Cluster name → node group name → its scaling block. */
    readonly nodeGroups: ReadonlyMap<string, ReadonlyMap<string, LiveScaling>>;
}

export const NOTHING_LIVE: LiveResources = { clusters: new Map(), nodeGroups: new Map() };

export function liveResourcesOf(previous: readonly PlannedResource[]): LiveResources {
    const clusters = new Map<string, string>();
    const nodeGroups = new Map<string, Map<string, LiveScaling>>();
    for (const resource of previous) {
        const inputs = resource.inputs ?? {};
        if (resource.type === "eks:index:Cluster" && typeof inputs.name === "string" && typeof inputs.version === "string") {
            clusters.set(inputs.name, inputs.version);
        }
        if (resource.type === "aws:eks/nodeGroup:NodeGroup" && typeof inputs.clusterName === "string" && typeof inputs.nodeGroupName === "string") {
            const groups = nodeGroups.get(inputs.clusterName) ?? new Map<string, LiveScaling>();
            groups.set(inputs.nodeGroupName, (inputs.scalingConfig ?? {}) as LiveScaling);
            nodeGroups.set(inputs.clusterName, groups);
        }
    }
    return { clusters, nodeGroups };
}
