/**
 * What a tier refuses in the cluster and mesh settings (and where app teams may deploy), checked the same way for `MlPlatform`
 * arguments and for stack config (whose paths are the same under `mlmesh:`). Model and SageMaker
 * floors are checked by the model validators, which get the tier too.
 */
import type { PropertyProblem } from "../propertyErrors";
import { profileOf, type Environment } from "./environment";

/** The settings a tier has rules for, as both MlPlatformArgs and the stack config name them. */
export interface TierSettings {
    readonly cluster: {
        readonly endpointPublicAccess?: boolean;
        readonly access?: { readonly deployerRoleArn?: string; readonly appTeams?: readonly { readonly namespaces: readonly string[] }[] };
    };
    readonly mesh: {
        readonly mtls?: string;
        readonly namespaces?: readonly string[];
        readonly podSecurity?: string;
        readonly egress?: { readonly mode?: string };
        readonly ingressGateway?: { readonly scheme?: string; readonly replicas?: number; readonly jwt?: readonly unknown[] };
    };
}

/** Every tier rule `settings` breaks, with paths under `prefix` (e.g. `mlmesh:`). */
export function environmentProblems(environment: Environment | undefined, settings: TierSettings, prefix = ""): PropertyProblem[] {
    const profile = profileOf(environment);
    const problems: PropertyProblem[] = [];
    const refuse = (path: string, value: unknown, reason: string) => problems.push({ path: `${prefix}${path}`, value, reason });
    const { cluster, mesh } = settings;
    const gateway = mesh.ingressGateway ?? {};
    const meshNamespaces = mesh.namespaces ?? ["ml-serving"];
    (cluster.access?.appTeams ?? []).forEach((team, i) => team.namespaces.forEach((namespace, j) => {
        if (!meshNamespaces.includes(namespace)) {
            refuse(`cluster.access.appTeams[${i}].namespaces[${j}]`, namespace, `is not a mesh namespace; app teams deploy into the mesh (sidecars, STRICT mTLS, default deny): use one of ${meshNamespaces.join(", ")}, or add it to mesh.namespaces`);
        }
    }));
    if (gateway.replicas !== undefined && gateway.replicas < profile.minGatewayReplicas) {
        refuse("mesh.ingressGateway.replicas", gateway.replicas, `must be at least ${profile.minGatewayReplicas} in ${environment}: one gateway pod is a single point of failure for every model; raise replicas`);
    }
    if (!profile.refuseSecurityOptOuts) {
        return problems;
    }
    if (mesh.mtls !== undefined && mesh.mtls !== "STRICT") {
        refuse("mesh.mtls", mesh.mtls, `is not allowed in ${environment}: PERMISSIVE accepts plain-text traffic; use STRICT`);
    }
    if (mesh.podSecurity !== undefined && mesh.podSecurity !== "restricted") {
        refuse("mesh.podSecurity", mesh.podSecurity, `is not allowed in ${environment}: ML namespaces enforce Pod Security restricted there, so no pod gets host access or NET_ADMIN`);
    }
    if (mesh.egress?.mode !== undefined && mesh.egress.mode !== "REGISTRY_ONLY") {
        refuse("mesh.egress.mode", mesh.egress.mode, `is not allowed in ${environment}: ALLOW_ANY lets a compromised model server send data anywhere; list the hosts it needs under egress.allow`);
    }
    if (gateway.scheme === "internet-facing" && (gateway.jwt ?? []).length === 0) {
        refuse("mesh.ingressGateway.jwt", gateway.jwt, `must list at least one issuer in ${environment} when the gateway is internet-facing: without JWT anyone on the internet can call every model; add { issuer, jwksUri, audiences } or use scheme: internal`);
    }
    if (cluster.endpointPublicAccess === true) {
        refuse("cluster.endpointPublicAccess", true, `must be false in ${environment}: the Kubernetes API stays private to the VPC; deploy from a runner inside it, a VPN or a peered network`);
    }
    if (cluster.access?.deployerRoleArn === undefined) {
        refuse("cluster.access.deployerRoleArn", undefined, `is required in ${environment}: name the IAM role CI deploys as, so cluster access never depends on who ran the first \`pulumi up\``);
    }
    return problems;
}

/** In prod a created VPC names its zones by ID, so an impaired zone never moves a subnet. */
export function zonePinProblem(environment: Environment | undefined, availabilityZoneIds: readonly string[] | undefined): string | undefined {
    return environment === "prod" && availabilityZoneIds === undefined
        ? "is required in prod: zones picked by name from a lookup shift when one is impaired, and every subnet (with its nodes and endpoints) would be replaced; list the zone IDs, e.g. [use1-az1, use1-az2, use1-az4] (`aws ec2 describe-availability-zones`)"
        : undefined;
}

/** A KServe model needs KServe installed, which is its own setting (never implied by the models). */
export function kserveProblem(backend: string, kserve: boolean | undefined): string | undefined {
    return backend === "kserve" && kserve !== true
        ? "needs KServe: set `kserve: true` (mlmesh:cluster.kserve). KServe is a setting of its own, so removing the last KServe model never uninstalls it"
        : undefined;
}
