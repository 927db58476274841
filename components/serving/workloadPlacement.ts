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

/**
 * A pod-template annotation naming the mesh revision. Istio injects a pod's proxy once, when the
 * pod is created; when a new revision replaces the old istiod, the changed annotation rolls the
 * model's pods onto the new revision's proxy before the old control plane is removed.
 */
export const MESH_REVISION_ANNOTATION = "mlmesh.io/mesh-revision";

/** The model server's startup probe: up to 15 minutes to load a large model before liveness applies. */
export const STARTUP_PROBE = { periodSeconds: 10, failureThreshold: 90 } as const;

/**
 * What a model rollout can take before its pods are Ready, in minutes: a GPU node scaled up
 * from zero (launch, bootstrap, driver and device plugin), pulling a multi-GB server image,
 * downloading the model, and the startup probe's whole window.
 */
export const MODEL_ROLLOUT_MINUTES = {
    nodeScaleUp: 10,
    imagePull: 10,
    modelDownload: 15,
    startup: (STARTUP_PROBE.periodSeconds * STARTUP_PROBE.failureThreshold) / 60,
} as const;

/**
 * How long `pulumi up` waits for a model's workloads (the Kubernetes provider gives up on a
 * Deployment after 10 minutes by default, less than a GPU model needs).
 */
export function rolloutTimeouts(): { create: string; update: string } {
    const minutes = Object.values(MODEL_ROLLOUT_MINUTES).reduce((sum, part) => sum + part, 0);
    return { create: `${minutes}m`, update: `${minutes}m` };
}

/** The model container's requests equal its limits, so a busy neighbour cannot take its CPU or memory; GPUs in both. */
export function containerResources(resources: { cpu?: string; memory?: string } | undefined, gpus: number): { requests: Record<string, string>; limits: Record<string, string> } {
    const amounts: Record<string, string> = { cpu: resources?.cpu ?? DEFAULT_MODEL_RESOURCES.cpu, memory: resources?.memory ?? DEFAULT_MODEL_RESOURCES.memory };
    if (gpus > 0) {
        amounts[GPU_RESOURCE] = String(gpus);
    }
    return { requests: { ...amounts }, limits: { ...amounts } };
}

/** A model's default replica range, widened so that each of `versions` keeps `floor` pods. */
export function widenedReplicas(range: { min: number; max: number }, floor: number, versions: number): { min: number; max: number } {
    const fewest = Math.max(1, floor) * versions;
    return { min: Math.max(range.min, fewest), max: Math.max(range.max, fewest) };
}

/** `total` split by `weights` (which add up to 100) in whole pods: largest remainders first, ties to the earlier version. */
function apportion(total: number, weights: readonly number[]): number[] {
    const exact = weights.map((weight) => (total * weight) / 100);
    const shares = exact.map(Math.floor);
    const order = exact.map((value, i) => ({ i, rest: value - shares[i] })).sort((a, b) => b.rest - a.rest || a.i - b.i);
    for (let left = total - shares.reduce((sum, n) => sum + n, 0), k = 0; left > 0; left--, k++) {
        shares[order[k % order.length].i] += 1;
    }
    return shares;
}

/**
 * Each version's replica range: `floor` pods each (at least one: a version with weight 0 still
 * answers requests pinned to it by header), and the rest of the model's range split by traffic
 * weight, so the versions together run exactly `range.min` pods and at most `range.max`. The
 * model's range must hold the floors (`range.min ≥ floor × versions`; the model checks say so).
 */
export function versionReplicas(range: { min: number; max: number }, weights: readonly number[], floor = 1): { min: number; max: number }[] {
    const each = Math.max(1, floor);
    const mins = apportion(Math.max(0, range.min - each * weights.length), weights).map((n) => each + n);
    // The room above the minimum is split on its own, so the maxima add up to exactly range.max.
    const room = apportion(Math.max(0, range.max - Math.max(range.min, each * weights.length)), weights);
    return weights.map((_, i) => ({ min: mins[i], max: mins[i] + room[i] }));
}

/** Where a model's files are and how they are encrypted. */
export interface ModelStorageAccess {
    /** `s3://bucket/prefix` URIs, as the user wrote them. */
    readonly uris: readonly string[];
    readonly partition: string;
    /** The partition's DNS suffix (`amazonaws.com`, `amazonaws.com.cn`). @default "amazonaws.com" */
    readonly dnsSuffix?: string;
    /** The KMS key of SSE-KMS model objects; S3 decrypts them with the caller's kms:Decrypt. */
    readonly kmsKeyArn?: string;
}

/**
 * The least access that downloads the models, as KServe's storage initializer does it
 * (kserve/kserve:python/storage/kserve_storage/kserve_storage.py@v0.20.0, `_download_s3`):
 * - HeadBucket first: IAM authorizes it as s3:ListBucket, and the request carries no
 *   `s3:prefix`, so a statement conditioned on the prefix alone would refuse it. The statement
 *   that admits it (`s3:prefix` absent) also admits a listing without a prefix; IAM cannot tell
 *   the two apart, so keep model buckets for models.
 * - ListObjects with the URI's path as the prefix: mlmesh hands the initializer `prefix/`
 *   (modelDownloadUri), and only `prefix/` and `prefix/*` may be listed, so `resnet/v1` never
 *   reaches `resnet/v10/`.
 * - HeadObject and GetObject (s3:GetObject) under `prefix/`.
 * - kms:Decrypt on the model key, only when S3 asks for it on the caller's behalf.
 */
export function s3ReadPolicy(access: ModelStorageAccess): PolicyDocument {
    const { partition } = access;
    const locations = access.uris.map(parseS3Uri);
    const buckets = [...new Set(locations.map((l) => l.bucket))];
    const bucketArns = buckets.map((bucket) => `arn:${partition}:s3:::${bucket}`);
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
                        "s3:prefix": locations.filter((l) => l.bucket === bucket).flatMap((l) => (l.prefix ? [`${l.prefix}/`, `${l.prefix}/*`] : ["*"])),
                    },
                },
            })),
            {
                Sid: "HeadModelBuckets",
                Effect: "Allow",
                Action: ["s3:ListBucket"],
                Resource: bucketArns,
                Condition: { Null: { "s3:prefix": "true" } },
            },
            ...(access.kmsKeyArn ? [{
                Sid: "DecryptModelObjects",
                Effect: "Allow",
                Action: ["kms:Decrypt"],
                Resource: [access.kmsKeyArn],
                // Any region's S3: a model bucket need not be in the cluster's region.
                Condition: { StringLike: { "kms:ViaService": `s3.*.${access.dnsSuffix ?? "amazonaws.com"}` } },
            }] : []),
        ],
    };
}
