/**
 * The platform's stack outputs are a contract with the app teams that read them through
 * StackReference: typed here, versioned with semver, and read back by PlatformReference.
 *
 * Version policy: a new output or a new optional field of a model is a minor version; removing
 * or renaming an output, or changing what one means or holds, is a major version, and the old
 * name stays one major version as a deprecated alias. A reader accepts any platform of its own
 * major version that has the outputs it needs.
 */
import type { GpuNodeGroupPlacement } from "../cluster/gpuPlacement";
import { doorTable } from "../gateway/doorRoutes";
import type { Probe } from "../serving/servedApis";
import type { ModelEntry } from "../serving/modelSpec";
import type { ModelAccess } from "../serving/trafficPolicy";

export type { ModelAccess };
import type { Environment } from "./environment";

export const CONTRACT_VERSION = "1.0.0";

/** A model, or a split, as app teams find it. */
export interface ContractModel {
    readonly name: string;
    readonly namespace: string;
    readonly backend: ModelEntry["backend"];
    /** The model's main inference call inside the mesh, e.g. `http://inference.istio-ingress.svc.cluster.local/v1/models/resnet:predict`. */
    readonly url: string;
    /** The same call on the public host, or null when the gateway has no hosts. */
    readonly publicUrl: string | null;
    /** The model's own Service (a split's is the mesh host). */
    readonly serviceHost: string;
    /** Where traffic goes and in what share: TF Serving versions, KServe stable and canary, a split's legs. */
    readonly versions: readonly { readonly name: string; readonly weight: number }[];
    /**
     * Where an ALLOW AuthorizationPolicy admits one more in-mesh caller of this model: its
     * namespace, workload selector and operations (methods on paths), as the model's own policy has them. Null for a split, whose callers are its
     * `allowedPrincipals` in the platform's config.
     */
    readonly access: ModelAccess | null;
    /**
     * A model that speaks the OpenAI API (KServe's Hugging Face runtime): its base URL in the mesh,
     * `http://<meshHost>/openai/<name>/v1`. A generative model (an LLM) answers only there, not at `url`.
     */
    readonly openaiBaseUrl?: string;
    /** A SageMaker model's endpoint. */
    readonly endpointName?: string;
    readonly endpointArn?: string;
}

/** Every output of a platform stack, as a reader receives it. */
export interface PlatformContract {
    readonly contractVersion: string;
    readonly environment: Environment;
    readonly region: string;
    readonly clusterName: string;
    readonly clusterEndpoint: string;
    /** The API server's certificate authority (base64), for a kubeconfig of the app team's own role. */
    readonly clusterCertificateAuthority: string;
    readonly oidcProviderArn: string;
    readonly oidcProviderUrl: string;
    /** Admin kubeconfig (JSON); a secret. */
    readonly kubeconfig: string;
    readonly vpcId: string;
    readonly privateSubnetIds: readonly string[];
    /** The public host of the front door (the first of `ingressGateway.hosts`), or null without one. */
    readonly gatewayHost: string | null;
    /** The Istio Gateway (`istio-ingress/<name>`) of the front door, or null without public hosts. Its AuthorizationPolicy admits only the platform's model paths. */
    readonly gatewayName: string | null;
    /** The front door inside the mesh, `inference.istio-ingress.svc.cluster.local`. */
    readonly meshHost: string;
    readonly meshNamespaces: readonly string[];
    /** The Istio revision namespaces are labelled with (`istio.io/rev`). */
    readonly meshRevision: string;
    readonly gpuNodeGroups: readonly GpuNodeGroupPlacement[];
    readonly models: readonly ContractModel[];
    /** The regional DNS name of the SageMaker Runtime VPC endpoint, or null without SageMaker models. */
    readonly sagemakerVpcEndpointDns: string | null;
    /** The app teams the platform admits, with their role, Kubernetes group, namespaces and image repositories. */
    readonly appTeams: readonly AppTeam[];
}

export interface AppTeam {
    readonly name: string;
    readonly roleArn: string;
    /** The Kubernetes group its access entry maps the role to. */
    readonly group: string;
    /** Mesh namespaces it may deploy into (EKS edit, plus Istio AuthorizationPolicies). */
    readonly namespaces: readonly string[];
    /** Private ECR repositories (or `prefix/*`) the nodes may pull its images from. */
    readonly imageRepositories: readonly string[];
}

export type ContractField = keyof PlatformContract;

export interface FieldInfo {
    readonly description: string;
    /** The contract version that added it. */
    readonly since: string;
    readonly secret?: true;
    /** Null when the platform has none (no public host, no SageMaker model). */
    readonly nullable?: true;
}

/** What each output holds: the README's contract table and the reader's checks come from here. */
export const CONTRACT_FIELDS: Readonly<Record<ContractField, FieldInfo>> = {
    contractVersion: { description: "this contract's semver; readers check its major", since: "1.0.0" },
    environment: { description: "`dev`, `staging` or `prod`", since: "1.0.0" },
    region: { description: "the AWS region", since: "1.0.0" },
    clusterName: { description: "the EKS cluster", since: "1.0.0" },
    clusterEndpoint: { description: "the Kubernetes API endpoint (private unless the platform opened it)", since: "1.0.0" },
    clusterCertificateAuthority: { description: "the API server's certificate authority (base64), for a kubeconfig of an app team's own role", since: "1.0.0" },
    oidcProviderArn: { description: "the cluster's IAM OIDC provider, for IRSA trust policies", since: "1.0.0" },
    oidcProviderUrl: { description: "its issuer URL (`https://oidc.eks…`); trust-policy condition keys use it without `https://`", since: "1.0.0" },
    kubeconfig: { description: "admin kubeconfig (JSON)", since: "1.0.0", secret: true },
    vpcId: { description: "the cluster's VPC", since: "1.0.0" },
    privateSubnetIds: { description: "its private subnets", since: "1.0.0" },
    gatewayHost: { description: "the front door's public host", since: "1.0.0", nullable: true },
    gatewayName: { description: "the Istio Gateway (`istio-ingress/<name>`) of the front door; it admits only the platform's model paths", since: "1.0.0", nullable: true },
    meshHost: { description: "the front door inside the mesh", since: "1.0.0" },
    meshNamespaces: { description: "the ML namespaces (sidecars injected, STRICT mTLS, default deny)", since: "1.0.0" },
    meshRevision: { description: "the Istio revision (`istio.io/rev` label value)", since: "1.0.0" },
    gpuNodeGroups: { description: "each GPU group's name, accelerator, labels, taint and GPUs per node", since: "1.0.0" },
    models: { description: "each model and split: name, namespace, backend, `url`, `publicUrl`, `serviceHost`, `versions` (name, weight), `access`; `openaiBaseUrl` for OpenAI-speaking models; SageMaker's `endpointName`, `endpointArn`", since: "1.0.0" },
    sagemakerVpcEndpointDns: { description: "the SageMaker Runtime VPC endpoint's regional DNS name", since: "1.0.0", nullable: true },
    appTeams: { description: "each app team's `name`, `roleArn`, Kubernetes `group`, `namespaces` and `imageRepositories`", since: "1.0.0" },
};

/** Outputs kept for readers of the unversioned outputs; removed in contract 2.0.0. */
export type DeprecatedOutput = "inferenceHost" | "gatewayServiceHost";

export const DEPRECATED_OUTPUTS: Readonly<Record<DeprecatedOutput, { readonly use: string; readonly removedIn: string }>> = {
    inferenceHost: { use: "meshHost (same value)", removedIn: "2.0.0" },
    gatewayServiceHost: { use: "meshHost in the mesh, gatewayHost from outside (it keeps its old value, the gateway pods' Service)", removedIn: "2.0.0" },
};

/** What the contract needs to know of each model beyond its spec. */
export interface ModelFacts {
    readonly clusterName: string;
    readonly meshHost: string;
    readonly gatewayHost: string | null;
    /** Each served model's own Service host, by name. */
    readonly serviceHosts: Readonly<Record<string, string>>;
    /** Each served model's ALLOW policy target, by name. */
    readonly access: Readonly<Record<string, ModelAccess>>;
    /** Each SageMaker model's endpoint name and ARN, by model name. */
    readonly endpoints: Readonly<Record<string, { readonly name: string; readonly arn: string }>>;
}

/** The call a model is known by: the first POST its front-door table routes, e.g. `/v1/models/x:predict`. */
function mainCall(probes: readonly Probe[], name: string): string {
    const call = probes.find((probe) => probe.method === "POST" && !probe.path.startsWith("/tensorflow."));
    if (!call) {
        throw new Error(`model ${name} has no inference call at the front door`);
    }
    return call.path;
}

function versionsOf(entry: ModelEntry, facts: ModelFacts): ContractModel["versions"] {
    switch (entry.backend) {
        case "tfserving":
            return entry.versions.map((v) => ({ name: v.name, weight: v.weight }));
        case "kserve":
            return entry.canaryStorageUri !== undefined && entry.canaryTrafficPercent !== undefined
                ? [{ name: "stable", weight: 100 - entry.canaryTrafficPercent }, { name: "canary", weight: entry.canaryTrafficPercent }]
                : [{ name: "stable", weight: 100 }];
        case "sagemaker":
            return [{ name: facts.endpoints[entry.name].name, weight: 100 }];
        case "split":
            return entry.routes.map((route) => ({ name: route.model, weight: route.weight }));
    }
}

/** The `models` output: every model and split, in config order, with its main call inside and outside the mesh. */
export function contractModels(entries: readonly ModelEntry[], facts: ModelFacts): ContractModel[] {
    const table = doorTable(entries, facts.clusterName);
    return entries.map((entry) => {
        const target = table.targets.find((t) => t.name === entry.name);
        const split = table.splits.find((s) => s.name === entry.name);
        const probes = target ? target.families.flatMap((f) => f.probes) : split!.families.flatMap((f) => f.probes);
        const path = mainCall(probes, entry.name);
        return {
            name: entry.name,
            namespace: entry.namespace,
            backend: entry.backend,
            url: `http://${facts.meshHost}${path}`,
            publicUrl: facts.gatewayHost ? `https://${facts.gatewayHost}${path}` : null,
            serviceHost: entry.backend === "split" ? facts.meshHost : facts.serviceHosts[entry.name],
            versions: versionsOf(entry, facts),
            access: entry.backend === "split" ? null : facts.access[entry.name],
            ...(target?.families.some((f) => f.protocol === "openai") ? { openaiBaseUrl: `http://${facts.meshHost}/openai/${entry.name}/v1` } : {}),
            ...(entry.backend === "sagemaker" ? { endpointName: facts.endpoints[entry.name].name, endpointArn: facts.endpoints[entry.name].arn } : {}),
        };
    });
}

/** The contract table of the README, rendered from CONTRACT_FIELDS and DEPRECATED_OUTPUTS. */
export function renderContractTable(): string {
    const rows = (Object.entries(CONTRACT_FIELDS) as [ContractField, FieldInfo][]).map(([field, info]) =>
        `| \`${field}\` | ${info.description}${info.secret ? " (**secret**)" : ""}${info.nullable ? "; null when there is none" : ""} | ${info.since} |`);
    const deprecated = (Object.entries(DEPRECATED_OUTPUTS) as [DeprecatedOutput, { use: string; removedIn: string }][]).map(([field, info]) =>
        `| \`${field}\` | deprecated: use ${info.use}; removed in ${info.removedIn} | 0.x |`);
    return ["| output | what it holds | since |", "| --- | --- | --- |", ...rows, ...deprecated].join("\n");
}
