/**
 * Where a model's pods run and what they may read: GPU scheduling from the chosen node group,
 * container resources, replica ranges per version, and the least S3 access that loads a model.
 * Pure functions.
 */
import { GPU_RESOURCE, LABELS, type GpuNodeGroupPlacement } from "../cluster/gpuPlacement";
import type { PolicyDocument } from "../cluster/irsaServiceAccount";
import { DEFAULT_MODEL_RESOURCES, parseS3Uri } from "./modelSpec";

export interface PodScheduling {
    readonly nodeSelector?: Record<string, string>;
    readonly tolerations?: { key: string; operator: string; value: string; effect: string }[];
}

/** Selector and tolerations that put a pod on the group's nodes (nothing for CPU pods, which the GPU taint keeps off). */
export function gpuScheduling(group: GpuNodeGroupPlacement | undefined): PodScheduling {
    if (!group) {
        return {};
    }
    return {
        nodeSelector: { [LABELS.nodeGroup]: group.labels[LABELS.nodeGroup] },
        tolerations: group.taints.map((taint) => ({ key: taint.key, operator: "Equal", value: taint.value, effect: taint.effect })),
    };
}

/** The model container's requests equal its limits, so a busy neighbour cannot take its CPU or memory; GPUs in both. */
export function containerResources(resources: { cpu?: string; memory?: string } | undefined, gpus: number): { requests: Record<string, string>; limits: Record<string, string> } {
    const amounts: Record<string, string> = { cpu: resources?.cpu ?? DEFAULT_MODEL_RESOURCES.cpu, memory: resources?.memory ?? DEFAULT_MODEL_RESOURCES.memory };
    if (gpus > 0) {
        amounts[GPU_RESOURCE] = String(gpus);
    }
    return { requests: { ...amounts }, limits: { ...amounts } };
}

/**
 * A version's share of the model's replica range, by its traffic weight, and never below one
 * pod: a version with weight 0 still answers requests pinned to it by header.
 */
export function versionReplicas(range: { min: number; max: number }, weight: number): { min: number; max: number } {
    const min = Math.max(1, Math.ceil((range.min * weight) / 100));
    return { min, max: Math.max(min, Math.ceil((range.max * weight) / 100)) };
}

/** Read-only access to exactly the given S3 prefixes: objects under them, and listing only within them. */
export function s3ReadPolicy(uris: readonly string[], partition = "aws"): PolicyDocument {
    const locations = uris.map(parseS3Uri);
    const buckets = [...new Set(locations.map((l) => l.bucket))];
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "ReadModelObjects",
                Effect: "Allow",
                Action: ["s3:GetObject"],
                Resource: locations.map((l) => `arn:${partition}:s3:::${l.bucket}/${l.prefix ? `${l.prefix}/` : ""}*`),
            },
            ...buckets.map((bucket, i) => ({
                Sid: `ListModelPrefixes${i + 1}`,
                Effect: "Allow",
                Action: ["s3:ListBucket"],
                Resource: [`arn:${partition}:s3:::${bucket}`],
                Condition: {
                    StringLike: {
                        "s3:prefix": locations.filter((l) => l.bucket === bucket).flatMap((l) => (l.prefix ? [l.prefix, `${l.prefix}/*`] : ["*"])),
                    },
                },
            })),
        ],
    };
}
