/**
 * The deployment tiers mlmesh knows, and everything a tier decides, in one table. Security
 * defaults are the same in every tier; a tier only changes size, cost and availability, and what
 * prod refuses outright. Every component reads its tier rule from here (the README table is
 * rendered from it, and a test keeps the policy pack's per-tier config in line with it).
 */
import type { NatGatewayMode } from "../cluster/clusterVpc";
import type { EksUpgradeSupport } from "../cluster/gpuCluster";

export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export interface ReplicaRange {
    readonly min: number;
    readonly max: number;
}

export interface EnvironmentProfile {
    /**
     * Pulumi `protect` on what loses data or every workload when replaced (the VPC, the SageMaker
     * endpoints and their keys) and EKS deletion protection on the cluster.
     */
    readonly protectStateful: boolean;
    /** NAT gateways when `network.natGateways` is unset: one per zone survives the loss of a zone. */
    readonly natGateways: NatGatewayMode;
    /** A TF Serving or KServe model's replicas when it sets none. */
    readonly modelReplicas: ReplicaRange;
    /** The fewest replicas a TF Serving or KServe model may ask (`replicas.min`). */
    readonly minModelReplicas: number;
    /** The fewest ingress gateway pods (`mesh.ingressGateway.replicas`). */
    readonly minGatewayReplicas: number;
    /** The fewest instances of a SageMaker endpoint mlmesh creates (initial count and autoscaling minimum). */
    readonly minSageMakerInstances: number;
    /** The SageMaker bridge's signing proxies. */
    readonly bridgeReplicas: ReplicaRange;
    /**
     * Refuse the security opt-outs that exist for migrations and experiments: PERMISSIVE mTLS, a
     * public API endpoint, Pod Security below `restricted`, ALLOW_ANY egress, an internet-facing
     * gateway without JWT, no deployer role, no Docker Hub credentials or nvcr.io mirrors.
     */
    readonly refuseSecurityOptOuts: boolean;
    /**
     * EKS's upgrade policy. EXTENDED in every tier: STANDARD lets AWS upgrade the control plane
     * behind Pulumi's back when standard support ends, and cannot be set at all once the version is
     * in extended support (awsdocs/amazon-eks-user-guide:latest/ug/clusters/disable-extended-support.adoc).
     */
    readonly upgradeSupport: EksUpgradeSupport;
    /** The policy pack settings `mlmesh plan` and the README's `pulumi up` use. */
    readonly policyConfig: string;
}

export const ENVIRONMENT_PROFILES: Readonly<Record<Environment, EnvironmentProfile>> = {
    dev: {
        protectStateful: false,
        natGateways: "single",
        modelReplicas: { min: 1, max: 3 },
        minModelReplicas: 1,
        minGatewayReplicas: 1,
        minSageMakerInstances: 1,
        bridgeReplicas: { min: 1, max: 3 },
        refuseSecurityOptOuts: false,
        upgradeSupport: "EXTENDED",
        policyConfig: "policy-pack/config/dev.json",
    },
    staging: {
        protectStateful: false,
        natGateways: "single",
        modelReplicas: { min: 2, max: 4 },
        minModelReplicas: 2,
        minGatewayReplicas: 2,
        minSageMakerInstances: 2,
        bridgeReplicas: { min: 2, max: 6 },
        refuseSecurityOptOuts: false,
        upgradeSupport: "EXTENDED",
        policyConfig: "policy-pack/config/staging.json",
    },
    prod: {
        protectStateful: true,
        natGateways: "perZone",
        modelReplicas: { min: 2, max: 6 },
        minModelReplicas: 2,
        minGatewayReplicas: 2,
        minSageMakerInstances: 2,
        bridgeReplicas: { min: 2, max: 6 },
        refuseSecurityOptOuts: true,
        upgradeSupport: "EXTENDED",
        policyConfig: "policy-pack/config/prod.json",
    },
};

/** The tier's rules; an unknown tier (config still being checked) gets dev's, the least demanding. */
export function profileOf(environment: Environment | undefined): EnvironmentProfile {
    return ENVIRONMENT_PROFILES[environment ?? "dev"];
}

const range = (r: ReplicaRange) => `${r.min} to ${r.max}`;
const yesNo = (value: boolean) => (value ? "yes" : "no");

/** The rows of the README's environment table, rendered from ENVIRONMENT_PROFILES. */
const TABLE_ROWS: readonly [string, (p: EnvironmentProfile) => string][] = [
    ["Protect the VPC, SageMaker endpoints and their keys; EKS deletion protection", (p) => yesNo(p.protectStateful)],
    ["NAT gateways when `network.natGateways` is unset", (p) => (p.natGateways === "perZone" ? "one per zone" : "one")],
    ["Model replicas when a model sets none", (p) => range(p.modelReplicas)],
    ["Fewest model replicas (`replicas.min`)", (p) => String(p.minModelReplicas)],
    ["Fewest ingress gateway pods", (p) => String(p.minGatewayReplicas)],
    ["Fewest SageMaker instances (initial count and autoscaling minimum)", (p) => String(p.minSageMakerInstances)],
    ["SageMaker bridge proxies", (p) => range(p.bridgeReplicas)],
    ["Security defaults (STRICT mTLS, private API endpoint, `restricted` pods, REGISTRY_ONLY egress)", () => "on"],
    ["Security opt-outs (PERMISSIVE, public endpoint, `baseline` pods, ALLOW_ANY, internet-facing without JWT)", (p) => (p.refuseSecurityOptOuts ? "refused" : "allowed when set")],
    ["Deployer role, Docker Hub credentials, nvcr.io mirrors, zone IDs of a created VPC", (p) => (p.refuseSecurityOptOuts ? "required" : "optional")],
    ["EKS upgrade policy", (p) => (p.upgradeSupport === "EXTENDED" ? "`EXTENDED`" : "`STANDARD`")],
    ["Policy pack settings", (p) => `\`${p.policyConfig}\``],
];

/** The environment table as Markdown, for the README. */
export function renderEnvironmentTable(): string {
    const header = `| | ${ENVIRONMENTS.join(" | ")} |`;
    const rule = `| --- | ${ENVIRONMENTS.map(() => "---").join(" | ")} |`;
    const rows = TABLE_ROWS.map(([label, cell]) => `| ${label} | ${ENVIRONMENTS.map((env) => cell(ENVIRONMENT_PROFILES[env])).join(" | ")} |`);
    return [header, rule, ...rows].join("\n");
}
