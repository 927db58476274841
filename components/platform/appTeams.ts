/**
 * What an app team may do in its mesh namespaces beyond EKS's namespace-scoped edit policy:
 * manage Istio AuthorizationPolicies, so it can admit its own workloads to a model there.
 * Kubernetes' `edit` role does not cover Istio's kinds, and Istio's charts aggregate none into
 * it (istio/istio:manifests/charts/base@1.30.3 has no aggregate-to-edit ClusterRole).
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { appTeamGroup, type AppTeamAccess } from "../cluster/clusterAccess";

export const APP_TEAM_AUTHZ_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"] as const;

/** The Role and RoleBinding of one team in one namespace, as Kubernetes objects. */
export function appTeamAuthzObjects(team: Pick<AppTeamAccess, "name">, namespace: string): { role: k8s.rbac.v1.RoleArgs; binding: k8s.rbac.v1.RoleBindingArgs } {
    const name = `${appTeamGroup(team)}-authz`;
    const metadata = { name, namespace, labels: { "app.kubernetes.io/managed-by": "mlmesh", "mlmesh.io/app-team": team.name } };
    return {
        role: { metadata, rules: [{ apiGroups: ["security.istio.io"], resources: ["authorizationpolicies"], verbs: [...APP_TEAM_AUTHZ_VERBS] }] },
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
            const role = new k8s.rbac.v1.Role(`${name}-${team.name}.${namespace}-authz`, objects.role, { ...options, dependsOn: opts.after });
            new k8s.rbac.v1.RoleBinding(`${name}-${team.name}.${namespace}-authz`, objects.binding, { ...options, dependsOn: [...opts.after, role] });
        }
    }
}
