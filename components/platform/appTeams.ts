/**
 * What an app team may do in its mesh namespaces, and nothing more: run a service (Deployments,
 * ServiceAccounts, Services, ConfigMaps, disruption budgets, autoscalers), watch it roll out
 * (pods, logs, events, ReplicaSets, which Pulumi's await logic reads) and admit it to a model with
 * an Istio AuthorizationPolicy. Unlike EKS's AmazonEKSEditPolicy, no Secrets, exec or
 * ServiceAccount impersonation.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { appTeamGroup, type AppTeamAccess } from "../cluster/clusterAccess";

const WRITE = ["get", "list", "watch", "create", "update", "patch", "delete"];
const READ = ["get", "list", "watch"];

/** The Role's rules: what the app-team example (and a service like it) needs. */
export const APP_TEAM_RULES: readonly { apiGroups: string[]; resources: string[]; verbs: string[] }[] = [
    { apiGroups: ["apps"], resources: ["deployments"], verbs: WRITE },
    { apiGroups: [""], resources: ["serviceaccounts", "services", "configmaps"], verbs: WRITE },
    { apiGroups: ["policy"], resources: ["poddisruptionbudgets"], verbs: WRITE },
    { apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], verbs: WRITE },
    { apiGroups: ["security.istio.io"], resources: ["authorizationpolicies"], verbs: WRITE },
    { apiGroups: ["apps"], resources: ["replicasets"], verbs: READ },
    { apiGroups: [""], resources: ["pods", "pods/log", "events"], verbs: READ },
    { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: READ },
];

/** The Role and RoleBinding of one team in one namespace, as Kubernetes objects. */
export function appTeamAuthzObjects(team: Pick<AppTeamAccess, "name">, namespace: string): { role: k8s.rbac.v1.RoleArgs; binding: k8s.rbac.v1.RoleBindingArgs } {
    const name = appTeamGroup(team);
    const metadata = { name, namespace, labels: { "app.kubernetes.io/managed-by": "mlmesh", "mlmesh.io/app-team": team.name } };
    return {
        role: { metadata, rules: APP_TEAM_RULES.map((rule) => ({ apiGroups: [...rule.apiGroups], resources: [...rule.resources], verbs: [...rule.verbs] })) },
        binding: {
            metadata,
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
            subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: appTeamGroup(team) }],
        },
    };
}

/** Creates each team's Role and RoleBinding in each of its namespaces, after `after` (the mesh, which makes the namespaces). */
export function grantAppTeams(name: string, teams: readonly AppTeamAccess[], opts: { parent: pulumi.Resource; provider: pulumi.ProviderResource; after: pulumi.Resource[] }): void {
    for (const team of teams) {
        for (const namespace of team.namespaces) {
            const objects = appTeamAuthzObjects(team, namespace);
            const options = { parent: opts.parent, provider: opts.provider };
            // '.' cannot appear in a team name or a namespace, so no two pairs share a resource name.
            const role = new k8s.rbac.v1.Role(`${name}-${team.name}.${namespace}-team`, objects.role, { ...options, dependsOn: opts.after });
            new k8s.rbac.v1.RoleBinding(`${name}-${team.name}.${namespace}-team`, objects.binding, { ...options, dependsOn: [...opts.after, role] });
        }
    }
}
