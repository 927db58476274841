/**
 * An app team's Pulumi program on the mlmesh platform. It reads the platform stack's contract,
 * runs its service in a mesh namespace under its own ServiceAccount, and adds the one
 * AuthorizationPolicy that lets that identity call exactly one model: nothing else in the mesh
 * admits it. Plan it offline against a platform plan:
 *
 *     npm run plan -- --stack dev                                   # the platform
 *     npm run plan -- --cwd stacks/app-team --stack dev --platform-outputs .mlmesh/plan/dev/plan.json
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
// In your own project: import { PlatformReference } from "mlmesh";
import { kubeconfigFor, PlatformReference } from "../../components/platform";
import { checkImage, clientWorkload, modelCallerPolicy, modelToCall, teamOf } from "./client";

export = async () => {
    const config = new pulumi.Config();
    const platform = await new PlatformReference("platform", {
        stack: config.require("platformStack"),
        needs: ["clusterName", "clusterEndpoint", "clusterCertificateAuthority", "region", "meshNamespaces", "models", "appTeams"],
    }).read();
    // The team deploys as its own role, with the access the platform gave it: never the platform's admin kubeconfig.
    const team = teamOf(platform, config.require("roleArn"));
    const model = modelToCall(platform, team, config.require("model"));
    checkImage(team, config.require("image"));
    const app = pulumi.getProject();
    // CI that already runs as the team role (e.g. GitHub OIDC) must not assume it again: a role may
    // assume itself only when its trust policy names it. A laptop assumes it (`assumeRole: true`).
    const assumeRole = config.getBoolean("assumeRole") ?? false;
    const provider = new k8s.Provider("platform", { kubeconfig: kubeconfigFor(platform, assumeRole ? team.roleArn : undefined), enableServerSideApply: true });
    const opts = { provider };

    // The service runs beside the model, in a namespace the platform meshes (sidecar, STRICT mTLS).
    const namespace = model.namespace;
    const account = new k8s.core.v1.ServiceAccount(app, { metadata: { name: app, namespace, labels: { app } } }, opts);
    const workload = clientWorkload({ app, namespace, image: config.require("image"), replicas: config.getNumber("replicas") ?? 2, modelUrl: model.url });
    new k8s.apps.v1.Deployment(app, workload.deployment, { ...opts, dependsOn: [account] });
    new k8s.policy.v1.PodDisruptionBudget(app, workload.disruptionBudget, opts);
    const principal = `cluster.local/ns/${namespace}/sa/${app}`;
    new k8s.apiextensions.CustomResource(`${app}-calls-${model.name}`, modelCallerPolicy(`${app}-calls-${model.name}`, model, principal), opts);

    return { principal, model: model.name, modelUrl: model.url };
};
