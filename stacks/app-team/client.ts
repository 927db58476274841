/**
 * The app team's objects, as pure functions of the platform's contract: which model it calls,
 * its Deployment, and the AuthorizationPolicy that admits it to that one model.
 */
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { AppTeam, ContractModel, PlatformView } from "../../components/platform";

/** This team as the platform admits it: the entry of `appTeams` with the role the team deploys as. */
export function teamOf(platform: Pick<PlatformView, "appTeams">, roleArn: string): AppTeam {
    const team = platform.appTeams.find((candidate) => candidate.roleArn === roleArn);
    if (!team) {
        throw new pulumi.RunError(`config \`roleArn\` (${JSON.stringify(roleArn)}) is not an app team of the platform (it admits: ${platform.appTeams.map((t) => `${t.name} ${t.roleArn}`).join(", ") || "none"}); ask the platform team to add the team to mlmesh:cluster.access.appTeams`);
    }
    return team;
}

/** The model `name` of the platform, if this team can admit its service to it; a clear error otherwise. */
export function modelToCall(platform: Pick<PlatformView, "models" | "meshNamespaces">, team: Pick<AppTeam, "name" | "namespaces">, name: string): ContractModel & { readonly access: NonNullable<ContractModel["access"]> } {
    const model = platform.models.find((candidate) => candidate.name === name);
    if (!model) {
        throw new pulumi.RunError(`config \`model\` (${JSON.stringify(name)}) is not a model of the platform; it serves: ${platform.models.map((m) => m.name).join(", ") || "(none)"}`);
    }
    const askPlatform = "ask the platform team to add this service's identity to the model's `allowedPrincipals`";
    if (!model.access) {
        throw new pulumi.RunError(`config \`model\` (${JSON.stringify(name)}) is a ${model.backend}: its callers are the \`allowedPrincipals\` in the platform's config, so ${askPlatform.replace("the model's", "the split's")}, or call one of its legs (${model.versions.map((v) => v.name).join(", ")})`);
    }
    if (!platform.meshNamespaces.includes(model.namespace)) {
        throw new pulumi.RunError(`model ${name} lives in ${model.namespace}, which the platform does not list in meshNamespaces (${platform.meshNamespaces.join(", ")}); the service would run without a sidecar`);
    }
    if (model.access.namespace !== model.namespace) {
        // Admitted at a shared proxy (the SageMaker bridge), whose one policy covers other models too.
        throw new pulumi.RunError(`model ${name} is a ${model.backend} model admitted at a proxy in ${model.access.namespace} that serves other models too, where no app team may write policy; ${askPlatform}`);
    }
    if (!team.namespaces.includes(model.namespace)) {
        throw new pulumi.RunError(`model ${name} lives in namespace ${model.namespace}, where team ${team.name} may not deploy (its namespaces: ${team.namespaces.join(", ")}); ${askPlatform}, or to add ${model.namespace} to the team's namespaces`);
    }
    return model as ContractModel & { readonly access: NonNullable<ContractModel["access"]> };
}

/** Whether the nodes may pull `image`: it must be in one of the team's repositories (or under a `prefix/*`). */
export function checkImage(team: Pick<AppTeam, "name" | "imageRepositories">, image: string): void {
    const repository = image.replace(/@sha256:[0-9a-f]{64}$/, "").replace(/:[\w][\w.-]{0,127}$/, "");
    const allowed = team.imageRepositories.some((entry) => (entry.endsWith("/*") ? repository.startsWith(entry.slice(0, -1)) : repository === entry));
    if (!allowed) {
        throw new pulumi.RunError(`config \`image\` (${JSON.stringify(image)}) is not in a repository the platform's nodes may pull for team ${team.name} (${team.imageRepositories.join(", ") || "none"}): its pods would stay in ImagePullBackOff; push it there, or ask the platform team to add the repository to the team's imageRepositories`);
    }
}

export interface ClientArgs {
    readonly app: string;
    readonly namespace: string;
    readonly image: string;
    readonly replicas: number;
    readonly modelUrl: string;
}

/**
 * The service's Deployment and disruption budget: `restricted` Pod Security (the platform
 * enforces it on its namespaces), requests and limits for the app and its sidecar, spread over zones.
 */
export function clientWorkload(args: ClientArgs): { deployment: k8s.apps.v1.DeploymentArgs; disruptionBudget: k8s.policy.v1.PodDisruptionBudgetArgs } {
    const labels = { app: args.app };
    const metadata = { name: args.app, namespace: args.namespace, labels };
    return {
        deployment: {
            metadata,
            spec: {
                replicas: args.replicas,
                selector: { matchLabels: labels },
                template: {
                    metadata: {
                        labels,
                        // The sidecar's own requests, so the scheduler and the quota count it.
                        annotations: {
                            "sidecar.istio.io/proxyCPU": "50m",
                            "sidecar.istio.io/proxyMemory": "128Mi",
                            "sidecar.istio.io/proxyCPULimit": "500m",
                            "sidecar.istio.io/proxyMemoryLimit": "256Mi",
                        },
                    },
                    spec: {
                        serviceAccountName: args.app,
                        automountServiceAccountToken: false,
                        securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, seccompProfile: { type: "RuntimeDefault" } },
                        topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: labels } }],
                        containers: [{
                            name: args.app,
                            image: args.image,
                            env: [{ name: "MODEL_URL", value: args.modelUrl }],
                            ports: [{ name: "http", containerPort: 8080 }],
                            readinessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 10 },
                            resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
                            securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                        }],
                    },
                },
            },
        },
        disruptionBudget: { metadata, spec: { maxUnavailable: 1, selector: { matchLabels: labels } } },
    };
}

/**
 * One more ALLOW policy on the model's workload: this identity, for exactly the model's own operations.
 * Istio ORs ALLOW policies, so the platform's own policy and default deny stay as they are.
 */
export function modelCallerPolicy(name: string, model: Pick<ContractModel, "name"> & { readonly access: NonNullable<ContractModel["access"]> }, principal: string): k8s.apiextensions.CustomResourceArgs {
    return {
        apiVersion: "security.istio.io/v1",
        kind: "AuthorizationPolicy",
        metadata: { name, namespace: model.access.namespace, labels: { "mlmesh.io/model": model.name } },
        spec: {
            selector: { matchLabels: { ...model.access.selector } },
            action: "ALLOW",
            rules: model.access.operations.map((operation) => ({ from: [{ source: { principals: [principal] } }], to: [{ operation: { methods: [...operation.methods], paths: [...operation.paths] } }] })),
        },
    };
}
