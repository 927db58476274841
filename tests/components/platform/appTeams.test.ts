import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { AppTeamAccess } from "../../../components/cluster/clusterAccess";
import { appTeamAuthzObjects, grantAppTeams } from "../../../components/platform/appTeams";
import { plan, type PlanResult } from "../../../offline/plan";
import type { RecordedResource } from "../../../offline/recorder";
import { parsePlatformConfig } from "../../../stacks/config";
import { changed, cluster, mesh, rejectsExactlyOne, type Raw } from "../../stacks/fixtures/rawConfig";
import { recordOffline } from "../../offline/fixtures/offlineRun";

const ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role";
const ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding";
const CRM: AppTeamAccess = { name: "crm", roleArn: "arn:aws:iam::123456789012:role/crm-deployer", namespaces: ["ml-tabular"] };

interface RbacObject {
    metadata: { name: string; namespace: string; labels?: Record<string, string> };
    rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    roleRef?: { apiGroup: string; kind: string; name: string };
    subjects?: { apiGroup?: string; kind: string; name: string }[];
}

interface Request {
    readonly group: string;
    readonly namespace: string;
    readonly apiGroup: string;
    readonly resource: string;
    readonly verb: string;
}

/**
 * Whether namespaced Roles and RoleBindings let a member of `group` make `request`, as Kubernetes'
 * RBAC authorizer decides it: a binding grants its Role's rules, in its own namespace, to its subjects.
 * @see https://kubernetes.io/docs/reference/access-authn-authz/rbac/#rolebinding-and-clusterrolebinding
 */
function rbacAllows(objects: { roles: readonly RbacObject[]; bindings: readonly RbacObject[] }, request: Request): boolean {
    const matches = (values: readonly string[], value: string) => values.includes("*") || values.includes(value);
    return objects.bindings
        .filter((b) => b.metadata.namespace === request.namespace && (b.subjects ?? []).some((s) => s.kind === "Group" && s.apiGroup === "rbac.authorization.k8s.io" && s.name === request.group))
        .filter((b) => b.roleRef?.apiGroup === "rbac.authorization.k8s.io" && b.roleRef.kind === "Role")
        .flatMap((b) => objects.roles.filter((r) => r.metadata.namespace === b.metadata.namespace && r.metadata.name === b.roleRef!.name))
        .some((role) => (role.rules ?? []).some((rule) => matches(rule.apiGroups, request.apiGroup) && matches(rule.resources, request.resource) && matches(rule.verbs, request.verb)));
}

const ISTIO_AUTHZ = { apiGroup: "security.istio.io", resource: "authorizationpolicies" };

/** What a team's group may and may not do with the objects of `objects`, in `namespace`. */
function rbacCases(namespace: string, other: string): [string, Request, boolean][] {
    const group = "mlmesh-app-crm";
    return [
        ...["get", "list", "watch", "create", "update", "patch", "delete"].map((verb): [string, Request, boolean] => [`${verb} AuthorizationPolicies in ${namespace}`, { group, namespace, ...ISTIO_AUTHZ, verb }, true]),
        // What the app-team example creates, and what Pulumi's await logic reads while it rolls out.
        ...([["apps", "deployments", "create"], ["", "serviceaccounts", "create"], ["policy", "poddisruptionbudgets", "patch"], ["", "services", "create"],
            ["autoscaling", "horizontalpodautoscalers", "create"], ["apps", "replicasets", "list"], ["", "pods", "watch"], ["", "events", "list"]] as const)
            .map(([apiGroup, resource, verb]): [string, Request, boolean] => [`${verb} ${resource} in ${namespace}`, { group, namespace, apiGroup, resource, verb }, true]),
        // What EKS's AmazonEKSEditPolicy would add, and a team must not have.
        ["read Secrets (the models' and the platform's)", { group, namespace, apiGroup: "", resource: "secrets", verb: "get" }, false],
        ["exec into pods", { group, namespace, apiGroup: "", resource: "pods/exec", verb: "create" }, false],
        ["impersonate ServiceAccounts", { group, namespace, apiGroup: "", resource: "serviceaccounts", verb: "impersonate" }, false],
        ["create bare pods", { group, namespace, apiGroup: "", resource: "pods", verb: "create" }, false],
        [`create AuthorizationPolicies in ${other}, which is not the team's`, { group, namespace: other, ...ISTIO_AUTHZ, verb: "create" }, false],
        ["create them as another team's group", { group: "mlmesh-app-payments", namespace, ...ISTIO_AUTHZ, verb: "create" }, false],
        ["deletecollection AuthorizationPolicies (not a listed verb)", { group, namespace, ...ISTIO_AUTHZ, verb: "deletecollection" }, false],
        ["create PeerAuthentications (mTLS stays the platform's)", { group, namespace, apiGroup: "security.istio.io", resource: "peerauthentications", verb: "create" }, false],
        ["create VirtualServices", { group, namespace, apiGroup: "networking.istio.io", resource: "virtualservices", verb: "create" }, false],
        ["create RoleBindings (no escalation through RBAC)", { group, namespace, apiGroup: "rbac.authorization.k8s.io", resource: "rolebindings", verb: "create" }, false],
    ];
}

describe("appTeamAuthzObjects", () => {
    const cases: [AppTeamAccess, string, string][] = [
        [CRM, "ml-tabular", "mlmesh-app-crm"],
        [{ ...CRM, name: "payments" }, "ml-serving", "mlmesh-app-payments"],
    ];
    for (const [team, namespace, name] of cases) {
        it(`names team ${team.name}'s Role and RoleBinding ${name} in ${namespace}, labelled with the team`, () => {
            const { role, binding } = appTeamAuthzObjects(team, namespace);
            const metadata = { name, namespace, labels: { "app.kubernetes.io/managed-by": "mlmesh", "mlmesh.io/app-team": team.name } };
            assert.deepEqual([role.metadata, binding.metadata], [metadata, metadata]);
            assert.deepEqual(binding.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name });
            assert.deepEqual(binding.subjects, [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: `mlmesh-app-${team.name}` }]);
        });
    }

    const { role, binding } = appTeamAuthzObjects(CRM, "ml-tabular");
    const objects = { roles: [role as unknown as RbacObject], bindings: [binding as unknown as RbacObject] };
    for (const [what, request, allowed] of rbacCases("ml-tabular", "ml-serving")) {
        it(`${allowed ? "lets" : "does not let"} the team's group ${what}`, () => assert.equal(rbacAllows(objects, request), allowed));
    }
});

describe("grantAppTeams", () => {
    const record = (teams: readonly AppTeamAccess[]) => recordOffline(() => {
        const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });
        const mesh = new pulumi.ComponentResource("test:index:Mesh", "mesh");
        const parent = new pulumi.ComponentResource("test:index:Platform", "platform");
        grantAppTeams("p", teams, { parent, provider, after: [mesh] });
        return {};
    });
    const of = (resources: readonly RecordedResource[], type: string) => resources.filter((r) => r.type === type);

    it("creates a Role and a RoleBinding for each team in each of its namespaces, none without teams", async () => {
        const run = await record([CRM, { ...CRM, name: "payments", roleArn: "arn:aws:iam::123456789012:role/payments", namespaces: ["ml-serving", "ml-tabular"] }]);
        const where = (type: string) => of(run.resources, type).map((r) => `${(r.inputs.metadata as RbacObject["metadata"]).namespace}/${(r.inputs.metadata as RbacObject["metadata"]).name}`).sort();
        const expected = ["ml-serving/mlmesh-app-payments", "ml-tabular/mlmesh-app-crm", "ml-tabular/mlmesh-app-payments"];
        assert.deepEqual([where(ROLE), where(ROLE_BINDING)], [expected, expected]);
        assert.deepEqual(of((await record([])).resources, ROLE), []);
    });

    it("gives each team and namespace a resource name of its own, even where the names joined with dashes read the same", async () => {
        const run = await record([{ ...CRM, name: "crm", namespaces: ["ml-x"] }, { ...CRM, name: "crm-ml", roleArn: "arn:aws:iam::123456789012:role/crm-ml", namespaces: ["x"] }]);
        assert.equal(of(run.resources, ROLE).length, 2);
        assert.equal(new Set(of(run.resources, ROLE).map((r) => r.urn)).size, 2);
    });
});

describe("the dev platform's app teams, planned offline", () => {
    let work: string;
    let dev: PlanResult;
    const of = (type: string) => dev.resources.filter((r) => r.type === type);
    const rbac = () => ({ roles: of(ROLE).map((r) => r.inputs as unknown as RbacObject), bindings: of(ROLE_BINDING).map((r) => r.inputs as unknown as RbacObject) });

    before(async () => {
        work = mkdtempSync(path.join(tmpdir(), "mlmesh-app-teams-"));
        dev = await plan({ stack: "dev", outDir: work });
    });
    after(() => rmSync(work, { recursive: true, force: true }));

    it("creates the crm team's Role and RoleBinding in ml-tabular, bound to its group, and nowhere else", () => {
        const grants = [...of(ROLE), ...of(ROLE_BINDING)].filter((r) => (r.inputs.metadata as RbacObject["metadata"]).labels?.["mlmesh.io/app-team"] !== undefined);
        assert.deepEqual(grants.map((r) => `${r.type.split(":").pop()} ${(r.inputs.metadata as RbacObject["metadata"]).namespace}/${(r.inputs.metadata as RbacObject["metadata"]).name}`).sort(), [
            "Role ml-tabular/mlmesh-app-crm",
            "RoleBinding ml-tabular/mlmesh-app-crm",
        ]);
        const binding = grants.find((r) => r.type === ROLE_BINDING)!.inputs as unknown as RbacObject;
        assert.deepEqual(binding.subjects, [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: (dev.outputs.appTeams as { group: string }[])[0].group }]);
    });

    for (const [what, request, allowed] of rbacCases("ml-tabular", "ml-serving")) {
        it(`${allowed ? "lets" : "does not let"} the crm group ${what}, by the plan's Roles and RoleBindings`, () => assert.equal(rbacAllows(rbac(), request), allowed));
    }

    it("creates them after the mesh has made the namespace, the binding after its Role, through the cluster's provider", () => {
        const [namespace] = of("kubernetes:core/v1:Namespace").filter((r) => (r.inputs.metadata as { name: string }).name === "ml-tabular");
        assert.ok(namespace, "the mesh creates ml-tabular");
        const [role] = of(ROLE).filter((r) => (r.inputs.metadata as RbacObject["metadata"]).name === "mlmesh-app-crm");
        const [binding] = of(ROLE_BINDING).filter((r) => (r.inputs.metadata as RbacObject["metadata"]).name === "mlmesh-app-crm");
        for (const grant of [role, binding]) {
            assert.ok(grant.dependencies.includes(namespace.urn), `${grant.type} waits for ${namespace.urn}`);
            assert.equal(grant.options.provider, namespace.options.provider, grant.type);
        }
        assert.ok(binding.dependencies.includes(role.urn));
        assert.deepEqual(dev.installOrder, []);
    });
});

describe("app teams in the stack config", () => {
    const TEAM = { name: "crm", roleArn: "arn:aws:iam::123456789012:role/crm-deployer", namespaces: ["ml-serving"] };
    const withTeams = (...teams: object[]) => (raw: Raw) => {
        cluster(raw).access = { appTeams: teams };
    };

    it("accepts a team in a mesh namespace, its repositories defaulting to none", () => {
        const parsed = parsePlatformConfig(changed(withTeams(TEAM)), "dev");
        assert.deepEqual(parsed.cluster.access?.appTeams, [{ ...TEAM, imageRepositories: [] }]);
    });

    it("accepts a team in a namespace the mesh lists", () => {
        const raw = changed((r) => {
            withTeams({ ...TEAM, namespaces: ["ml-tabular"] })(r);
            mesh(r).namespaces = ["ml-serving", "ml-tabular"];
        });
        assert.deepEqual(parsePlatformConfig(raw, "dev").cluster.access?.appTeams?.[0].namespaces, ["ml-tabular"]);
    });

    const BAD = [
        { change: "a team namespace the mesh does not list (the default mesh is ml-serving alone)", mutate: withTeams({ ...TEAM, namespaces: ["ml-serving", "ml-tabular"] }), path: "mlmesh:cluster.access.appTeams[0].namespaces[1]", value: "ml-tabular", reason: "is not a mesh namespace" },
        { change: "a team namespace outside the mesh's own list", mutate: (r: Raw) => { withTeams({ ...TEAM, namespaces: ["payments"] })(r); mesh(r).namespaces = ["ml-serving", "ml-tabular"]; }, path: "mlmesh:cluster.access.appTeams[0].namespaces[0]", value: "payments", reason: "use one of ml-serving, ml-tabular, or add it to mesh.namespaces" },
        { change: "a team whose role is the deployer's", mutate: (r: Raw) => { cluster(r).access = { deployerRoleArn: TEAM.roleArn, appTeams: [TEAM] }; }, path: "mlmesh:cluster.access.appTeams[0].roleArn", value: TEAM.roleArn, reason: "repeats deployerRoleArn" },
        { change: "a team repository with a tag", mutate: withTeams({ ...TEAM, imageRepositories: ["123456789012.dkr.ecr.us-west-2.amazonaws.com/crm/app:1.0"] }), path: "mlmesh:cluster.access.appTeams[0].imageRepositories[0]", value: "123456789012.dkr.ecr.us-west-2.amazonaws.com/crm/app:1.0", reason: "without a tag" },
        { change: "a misspelt team key", mutate: withTeams({ ...TEAM, namespace: ["ml-serving"] }), path: "mlmesh:cluster.access.appTeams[0].namespace", value: ["ml-serving"], reason: "is not a known setting" },
    ];
    for (const bad of BAD) {
        rejectsExactlyOne(bad);
    }
});
