/**
 * The name patterns mlmesh checks, in one place: what Kubernetes, EKS and DNS accept, and the
 * shorter names mlmesh derives object names from.
 */
import { createHash } from "node:crypto";

/** A Kubernetes DNS-1123 label (namespaces): at most 63 characters. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * An mlmesh name (node groups, models, model versions): a DNS label of at most 40 characters
 * that starts with a letter, so the object names built from it stay within 63.
 */
export const SHORT_NAME = /^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/;

/** An EKS cluster name. */
export const CLUSTER_NAME = /^[a-zA-Z][a-zA-Z0-9-]{0,99}$/;

/** A fully qualified host name; the pattern admits no wildcard. */
export const HOST_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$/;

/** AWS name limits mlmesh gives explicit names within. */
export const AWS_NAME_LIMITS = {
    iamRole: 64,
    iamRolePolicy: 128,
    eksNodeGroup: 63,
    launchTemplate: 128,
    /** SageMaker model, endpoint configuration and endpoint names. */
    sagemakerName: 63,
} as const;

/** Eight hex characters that stand for `text`. */
export function shortHash(text: string): string {
    return createHash("sha256").update(text).digest("hex").slice(0, 8);
}

/**
 * `base`, cut to leave room for `-<hash>`, then `-<hash of base and scope>`: readable, at most
 * `max` characters, and distinct for every scope (an IAM role name is account-wide, so the scope
 * names the cluster; a node group name changes when a field that forces replacement changes, so
 * the new group can be created before the old one is deleted).
 */
export function scopedName(base: string, scope: string, max: number): string {
    const suffix = `-${shortHash(`${base}|${scope}`)}`;
    return `${base.slice(0, max - suffix.length).replace(/[-_.]+$/, "")}${suffix}`;
}
