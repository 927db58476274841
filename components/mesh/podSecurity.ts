/**
 * Pod Security admission on the ML namespaces. `restricted` is the default in every environment:
 * with the Istio CNI doing the traffic redirection, neither mlmesh's pods, KServe's predictors
 * nor Istio's injected containers need more, and a pod that asks for host networking or
 * NET_ADMIN (which would step around both the sidecar and the metadata hop limit) is refused.
 * @see https://kubernetes.io/docs/concepts/security/pod-security-admission/
 */
export const POD_SECURITY_LEVELS = ["restricted", "baseline", "privileged"] as const;
export type PodSecurityLevel = (typeof POD_SECURITY_LEVELS)[number];

/** The namespace labels: enforce the level, and warn and audit at it too (so `kubectl` shows why a pod is refused). */
export function podSecurityLabels(level: PodSecurityLevel): Record<string, string> {
    return {
        "pod-security.kubernetes.io/enforce": level,
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/warn": level,
        "pod-security.kubernetes.io/audit": level,
    };
}

/**
 * The pod-level security context of every mlmesh pod: a fixed non-root user, the runtime's
 * default seccomp profile, and an fsGroup so emptyDir volumes are writable. The pod-level
 * seccomp profile also covers the containers Istio injects, which set none of their own.
 */
export const RESTRICTED_POD_SECURITY_CONTEXT: Readonly<{ runAsNonRoot: true; runAsUser: number; runAsGroup: number; fsGroup: number; seccompProfile: { type: string } }> = {
    runAsNonRoot: true,
    runAsUser: 1000,
    runAsGroup: 1000,
    fsGroup: 1000,
    seccompProfile: { type: "RuntimeDefault" },
};

/** The container-level settings `restricted` requires of every container. */
export const RESTRICTED_CONTAINER_SECURITY_CONTEXT: Readonly<{ allowPrivilegeEscalation: false; readOnlyRootFilesystem: true; capabilities: { drop: string[] } }> = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
};
