import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/**
 * What an update must know of the live cluster, read at every preview and update (so `pulumi up`
 * stops at its preview, before anything changes). Both reads list first, so a first deploy (no
 * cluster, no group yet) reads nothing and fails nothing. The deployer needs eks:ListClusters (on
 * resource `*`: it takes no other), eks:DescribeCluster, eks:ListNodegroups and eks:DescribeNodegroup.
 */

function minorOf(version: unknown): number | undefined {
    const match = typeof version === "string" ? /^1\.(\d+)$/.exec(version) : null;
    return match ? Number(match[1]) : undefined;
}

/** EKS upgrades a control plane one minor version at a time and never back (UpdateClusterVersion). */
export function kubernetesVersionProblem(before: unknown, after: unknown): string | undefined {
    const [from, to] = [minorOf(before), minorOf(after)];
    if (from === undefined || to === undefined || from === to) {
        return undefined;
    }
    return to < from
        ? `goes back from Kubernetes ${before} to ${after}: EKS cannot downgrade a cluster; keep ${before}`
        : to > from + 1
            ? `skips from Kubernetes ${before} to ${after}: EKS upgrades one minor version at a time; go to 1.${from + 1} first, \`pulumi up\`, then ${after}`
            : undefined;
}

/**
 * The version to give the control plane: `version`, once the live cluster of that name (if any) can
 * go there in one step. Otherwise the preview fails with a RunError naming both versions, so a skip
 * or downgrade never reaches UpdateClusterVersion.
 */
export function checkedKubernetesVersion(clusterName: string, version: string, opts: pulumi.InvokeOptions): pulumi.Output<string> {
    return pulumi.output(aws.eks.getClusters({}, opts).then(async ({ names }) => {
        if (!names.includes(clusterName)) {
            return version;
        }
        const live = (await aws.eks.getCluster({ name: clusterName }, opts)).version;
        const problem = kubernetesVersionProblem(live, version);
        if (problem) {
            throw new pulumi.RunError(`cluster.kubernetesVersion: the live cluster ${clusterName} runs ${live}; the new setting ${problem}`);
        }
        return version;
    }));
}

export interface ScalingRange {
    readonly minSize: number;
    readonly maxSize: number;
    /** The size a new group starts at (default `minSize`). */
    readonly initial?: number;
}

/**
 * The desired size an update sends: the live one (the cluster autoscaler's), raised to the minimum or
 * lowered to the maximum; `initial` (or the minimum) for a group that does not exist yet.
 */
export function desiredSizeToSend(live: number | undefined, range: ScalingRange): number {
    const wanted = live ?? range.initial ?? range.minSize;
    return Math.min(Math.max(wanted, range.minSize), range.maxSize);
}

/** A group name without its hash suffix: what stays the same when the group is replaced. */
function stemOf(nodeGroupName: string): string {
    return nodeGroupName.replace(/-[0-9a-f]{8}$/, "");
}

/**
 * EKS's UpdateNodegroupConfig takes the whole scaling block and refuses a minimum above the desired
 * size; the provider sends the desired size it is given (or, under ignoreChanges, the one it last
 * recorded, which the autoscaler has long moved). So the desired size is read live and sent back
 * within the new range: raising the minimum succeeds, and a range change never undoes the
 * autoscaler's work. A group replaced under a new hashed name (new instance types, say) starts at
 * the live size of the group it replaces, which has the same name but for the hash. The cluster is
 * listed first: ListNodegroups fails for a cluster that does not exist (a first `pulumi up` that
 * failed before the cluster was made, or a deleted one), and then there is nothing to read.
 */
export function liveDesiredSize(clusterName: pulumi.Input<string>, nodeGroupName: pulumi.Input<string>, range: ScalingRange, opts: pulumi.InvokeOptions): pulumi.Output<number> {
    return pulumi.all([clusterName, nodeGroupName]).apply(async ([cluster, group]) => {
        if (!(await aws.eks.getClusters({}, opts)).names.includes(cluster)) {
            return desiredSizeToSend(undefined, range);
        }
        const { names } = await aws.eks.getNodeGroups({ clusterName: cluster }, opts);
        const current = names.includes(group) ? group : names.find((name) => stemOf(name) === stemOf(group));
        if (current === undefined) {
            return desiredSizeToSend(undefined, range);
        }
        const live = await aws.eks.getNodeGroup({ clusterName: cluster, nodeGroupName: current }, opts);
        return desiredSizeToSend(live.scalingConfigs[0]?.desiredSize, range);
    });
}
