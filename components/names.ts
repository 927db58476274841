/**
 * The name patterns mlmesh checks, in one place: what Kubernetes, EKS and DNS accept, and the
 * shorter names mlmesh derives object names from.
 */

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
