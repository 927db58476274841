/**
 * The app team's objects, as pure functions of the platform's contract: which model it calls,
 * its Deployment, and the AuthorizationPolicy that admits it to that one model.
 */
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ContractModel, PlatformView } from "../../components/platform";

/** The model `name` of the platform, if this service can be admitted to it; a clear error otherwise. */
export function modelToCall(platform: Pick<PlatformView, "models" | "meshNamespaces">, name: string): ContractModel & { readonly access: NonNullable<ContractModel["access"]> } {
    const model = platform.models.find((candidate) => candidate.name === name);
    if (!model) {
        throw new pulumi.RunError(`config \`model\` (${JSON.stringify(name)}) is not a model of the platform; it serves: ${platform.models.map((m) => m.name).join(", ") || "(none)"}`);
    }
    if (!model.access) {
        throw new pulumi.RunError(`config \`model\` (${JSON.stringify(name)}) is a ${model.backend}: its callers are the \`allowedPrincipals\` in the platform's config, so ask the platform team to add this service's identity there, or call one of its legs (${model.versions.map((v) => v.name).join(", ")})`);
    }
    if (!platform.meshNamespaces.includes(model.namespace)) {
        throw new pulumi.RunError(`model ${name} lives in ${model.namespace}, which the platform does not list in meshNamespaces (${platform.meshNamespaces.join(", ")}); the service would run without a sidecar`);
    }
    return model as ContractModel & { readonly access: NonNullable<ContractModel["access"]> };
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
 * One more ALLOW rule for the model's workload: this identity, the model's own methods and paths.
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
            rules: [{ from: [{ source: { principals: [principal] } }], to: [{ operation: { methods: [...model.access.methods], paths: [...model.access.paths] } }] }],
        },
    };
}
