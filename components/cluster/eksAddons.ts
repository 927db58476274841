/**
 * The EKS versions mlmesh supports and the core add-on build pinned for each. Pinning keeps an
 * upgrade of the add-ons a reviewed change instead of whatever was newest on deploy day.
 * Versions are from the EKS user guide's add-on tables (coredns, kube-proxy, VPC CNI) and
 * the pod identity agent's releases; `aws eks describe-addon-versions` lists newer builds.
 * @see https://docs.aws.amazon.com/eks/latest/userguide/workloads-add-ons-available-eks.html
 */

export const SUPPORTED_KUBERNETES_VERSIONS = ["1.32", "1.33", "1.34"] as const;
export type KubernetesVersion = (typeof SUPPORTED_KUBERNETES_VERSIONS)[number];
export const DEFAULT_KUBERNETES_VERSION: KubernetesVersion = "1.33";

export const EKS_CORE_ADDONS = ["vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent"] as const;
export type EksCoreAddon = (typeof EKS_CORE_ADDONS)[number];

export const EKS_ADDON_VERSIONS: Readonly<Record<KubernetesVersion, Readonly<Record<EksCoreAddon, string>>>> = {
    "1.32": { "vpc-cni": "v1.20.4-eksbuild.1", "kube-proxy": "v1.32.9-eksbuild.2", coredns: "v1.11.4-eksbuild.24", "eks-pod-identity-agent": "v1.3.10-eksbuild.1" },
    "1.33": { "vpc-cni": "v1.20.4-eksbuild.1", "kube-proxy": "v1.33.5-eksbuild.2", coredns: "v1.12.4-eksbuild.1", "eks-pod-identity-agent": "v1.3.10-eksbuild.1" },
    "1.34": { "vpc-cni": "v1.20.4-eksbuild.1", "kube-proxy": "v1.34.1-eksbuild.2", coredns: "v1.12.4-eksbuild.1", "eks-pod-identity-agent": "v1.3.10-eksbuild.1" },
};

/** Control-plane logs sent to CloudWatch: API calls, the audit trail, and authentication decisions. */
export const CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator"] as const;
