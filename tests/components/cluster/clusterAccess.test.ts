import * as pulumi from "@pulumi/pulumi";
import * as assert from "node:assert/strict";
import {
    accessEntries, adminAccessEntries, appTeamGroup, clusterAdminPolicyArn, protectControlPlane, repositoryArn, validateClusterAccess, withoutCreatorAdmin,
    type AppTeamAccess, type ClusterAccessSpec,
} from "../../../components/cluster/clusterAccess";
import { GpuCluster } from "../../../components/cluster/gpuCluster";
import type { RecordedResource } from "../../../offline/recorder";
import { recordOffline } from "../../offline/fixtures/offlineRun";

const DEPLOYER = "arn:aws:iam::123456789012:role/ci-deployer";
const ADMIN = "arn:aws:iam::123456789012:role/platform/break-glass";
const REGISTRY = "123456789012.dkr.ecr.us-west-2.amazonaws.com";
const CRM: AppTeamAccess = { name: "crm", roleArn: "arn:aws:iam::123456789012:role/crm-deployer", namespaces: ["ml-tabular"], imageRepositories: [`${REGISTRY}/crm/*`] };
const PAYMENTS: AppTeamAccess = { name: "payments", roleArn: "arn:aws:iam::123456789012:role/payments-deployer", namespaces: ["ml-serving", "ml-tabular"] };

/** `access` with the crm team changed by `change` (one field), beside a valid payments team. */
const withCrm = (change: Partial<AppTeamAccess>, access: ClusterAccessSpec = {}): ClusterAccessSpec => ({ ...access, appTeams: [{ ...CRM, ...change }, PAYMENTS] });

interface Entry {
    readonly principalArn: string;
    readonly kubernetesGroups?: string[];
    readonly accessPolicies?: Record<string, { policyArn: string; accessScope: { type: string; namespaces?: string[] } }>;
}

/** accessEntries in `partition`, once its Outputs resolve. */
function entriesOf(access: ClusterAccessSpec | undefined, partition: string): Promise<Record<string, Entry>> {
    return new Promise((resolve) => pulumi.output(accessEntries(access, pulumi.output(partition))).apply((entries) => {
        resolve(entries as Record<string, Entry>);
        return entries;
    }));
}

describe("validateClusterAccess", () => {
    const BAD: [string, object, string][] = [
        ["a user, not a role, as deployer", { deployerRoleArn: "arn:aws:iam::123456789012:user/ci" }, "deployerRoleArn"],
        ["an assumed-role session ARN", { deployerRoleArn: "arn:aws:sts::123456789012:assumed-role/ci/session" }, "deployerRoleArn"],
        ["an admin that repeats the deployer", { deployerRoleArn: DEPLOYER, clusterAdmins: [ADMIN, DEPLOYER] }, "clusterAdmins[1]"],
        ["an admin listed twice", { clusterAdmins: [ADMIN, ADMIN] }, "clusterAdmins[1]"],
    ];
    for (const [what, access, path] of BAD) {
        it(`refuses ${what} at ${path}`, () => assert.deepEqual(validateClusterAccess(access).list.map((p) => p.path), [path]));
    }
    it("accepts a deployer, admins with paths, and no access settings at all", () => {
        assert.deepEqual(validateClusterAccess({ deployerRoleArn: DEPLOYER, clusterAdmins: [ADMIN] }).list, []);
        assert.deepEqual(validateClusterAccess(undefined).list, []);
    });
});

describe("validateClusterAccess of app teams", () => {
    const BAD_TEAMS: [string, ClusterAccessSpec, string, RegExp][] = [
        ["a name that is not a DNS label", withCrm({ name: "CRM" }), "appTeams[0].name", /DNS-1123 label/],
        ["a name longer than 40 characters", withCrm({ name: `crm-${"x".repeat(37)}` }), "appTeams[0].name", /at most 40 characters/],
        ["a name an earlier team has", { appTeams: [CRM, { ...PAYMENTS, name: "crm" }] }, "appTeams[1].name", /used by an earlier team/],
        ["a user, not a role", withCrm({ roleArn: "arn:aws:iam::123456789012:user/crm" }), "appTeams[0].roleArn", /must be an IAM role ARN/],
        ["the deployer's role", withCrm({ roleArn: DEPLOYER }, { deployerRoleArn: DEPLOYER }), "appTeams[0].roleArn", /repeats deployerRoleArn/],
        ["a cluster admin's role", withCrm({ roleArn: ADMIN }, { clusterAdmins: [ADMIN] }), "appTeams[0].roleArn", /repeats clusterAdmins\[0\]/],
        ["the role of an earlier team", { appTeams: [CRM, { ...PAYMENTS, roleArn: CRM.roleArn }] }, "appTeams[1].roleArn", /repeats appTeams\[0\]\.roleArn/],
        ["no namespaces", withCrm({ namespaces: [] }), "appTeams[0].namespaces", /at least one mesh namespace/],
        // Listed twice, grantAppTeams would create the namespace's Role twice under one name (a duplicate URN).
        ["a namespace listed twice", withCrm({ namespaces: ["ml-tabular", "ml-tabular"] }), "appTeams[0].namespaces[1]", /twice/],
        ["a tagged image instead of a repository", withCrm({ imageRepositories: [`${REGISTRY}/crm/churn-report:2.3.1`] }), "appTeams[0].imageRepositories[0]", /without a tag/],
        ["an image by digest", withCrm({ imageRepositories: [`${REGISTRY}/crm/churn-report@sha256:${"a".repeat(64)}`] }), "appTeams[0].imageRepositories[0]", /private ECR repository/],
        ["every repository of the registry", withCrm({ imageRepositories: [`${REGISTRY}/*`] }), "appTeams[0].imageRepositories[0]", /prefix ending in \/\*/],
        ["a prefix without its slash", withCrm({ imageRepositories: [`${REGISTRY}/crm*`] }), "appTeams[0].imageRepositories[0]", /private ECR repository/],
        ["a Docker Hub repository", withCrm({ imageRepositories: ["docker.io/crm/churn-report"] }), "appTeams[0].imageRepositories[0]", /private ECR repository/],
        ["a public ECR repository", withCrm({ imageRepositories: ["public.ecr.aws/crm/churn-report"] }), "appTeams[0].imageRepositories[0]", /private ECR repository/],
        ["an upper-case repository, which ECR has not", withCrm({ imageRepositories: [`${REGISTRY}/CRM/report`] }), "appTeams[0].imageRepositories[0]", /private ECR repository/],
        ["the second of its repositories", withCrm({ imageRepositories: [`${REGISTRY}/crm/*`, REGISTRY] }), "appTeams[0].imageRepositories[1]", /private ECR repository/],
    ];
    for (const [what, access, path, reason] of BAD_TEAMS) {
        it(`refuses a team with ${what} at ${path}`, () => {
            const problems = validateClusterAccess(access).list;
            assert.deepEqual(problems.map((p) => p.path), [path]);
            assert.match(problems[0].reason, reason);
        });
    }

    it("accepts teams beside a deployer and admins, with exact repositories, prefixes, or none", () => {
        const access: ClusterAccessSpec = {
            deployerRoleArn: DEPLOYER, clusterAdmins: [ADMIN],
            appTeams: [CRM, PAYMENTS, { name: "risk", roleArn: "arn:aws:iam::123456789012:role/teams/risk", namespaces: ["ml-tabular"], imageRepositories: [`${REGISTRY}/risk/scorer`, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/risk/*"] }],
        };
        assert.deepEqual(validateClusterAccess(access).list, []);
    });

    it("names every bad field at once, under the prefix it is given", () => {
        const access: ClusterAccessSpec = { appTeams: [{ name: "Bad", roleArn: "nope", namespaces: [], imageRepositories: ["x"] }] };
        assert.deepEqual(validateClusterAccess(access, undefined, "cluster.access.").list.map((p) => p.path).sort(), [
            "cluster.access.appTeams[0].imageRepositories[0]", "cluster.access.appTeams[0].name", "cluster.access.appTeams[0].namespaces", "cluster.access.appTeams[0].roleArn",
        ]);
    });
});

describe("repositoryArn", () => {
    const cases: [string, string, string, string | undefined][] = [
        ["a repository", `${REGISTRY}/crm/churn-report`, "aws", "arn:aws:ecr:us-west-2:123456789012:repository/crm/churn-report"],
        ["a prefix, as a wildcard under it", `${REGISTRY}/crm/*`, "aws", "arn:aws:ecr:us-west-2:123456789012:repository/crm/*"],
        ["a one-segment repository", `${REGISTRY}/reports`, "aws", "arn:aws:ecr:us-west-2:123456789012:repository/reports"],
        ["another region's and account's repository, as their own ARN", "210987654321.dkr.ecr.eu-west-1.amazonaws.com/crm/x", "aws", "arn:aws:ecr:eu-west-1:210987654321:repository/crm/x"],
        ["a repository of China's registry, in the partition given", "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/crm/x", "aws-cn", "arn:aws-cn:ecr:cn-north-1:123456789012:repository/crm/x"],
        ["a tagged image", `${REGISTRY}/crm/churn-report:2.3.1`, "aws", undefined],
        ["an image by digest", `${REGISTRY}/crm/churn-report@sha256:${"a".repeat(64)}`, "aws", undefined],
        ["the registry alone", REGISTRY, "aws", undefined],
        ["every repository of the registry", `${REGISTRY}/*`, "aws", undefined],
        ["a Docker Hub repository", "crm/churn-report", "aws", undefined],
        ["a public ECR repository", "public.ecr.aws/crm/churn-report", "aws", undefined],
    ];
    for (const [what, repository, partition, expected] of cases) {
        it(`${expected ? "gives" : "gives no ARN for"} ${what}${expected ? ` ${expected}` : ""}`, () => assert.equal(repositoryArn(repository, partition), expected));
    }
});

describe("adminAccessEntries", () => {
    it("gives the deployer and each admin one cluster-scoped AmazonEKSClusterAdminPolicy entry", () => {
        const policy = clusterAdminPolicyArn("aws-us-gov");
        assert.equal(policy, "arn:aws-us-gov:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy");
        const admin = { "cluster-admin": { policyArn: policy, accessScope: { type: "cluster" } } };
        assert.deepEqual(adminAccessEntries({ deployerRoleArn: DEPLOYER, clusterAdmins: [ADMIN] }, policy), {
            deployer: { principalArn: DEPLOYER, accessPolicies: admin },
            "admin-1": { principalArn: ADMIN, accessPolicies: admin },
        });
    });
});

describe("accessEntries", () => {
    const admin = { "cluster-admin": { policyArn: clusterAdminPolicyArn("aws"), accessScope: { type: "cluster" } } };
    const cases: [string, ClusterAccessSpec | undefined, Record<string, unknown>][] = [
        ["no entries without access settings", undefined, {}],
        ["the admins' cluster-admin entries alone without teams", { deployerRoleArn: DEPLOYER, clusterAdmins: [ADMIN] }, {
            deployer: { principalArn: DEPLOYER, accessPolicies: admin },
            "admin-1": { principalArn: ADMIN, accessPolicies: admin },
        }],
        // A team gets its group only: the platform's Roles in its namespaces say what it may do (no EKS access policy).
        ["each team its group and no access policy, beside the deployer's entry", { deployerRoleArn: DEPLOYER, appTeams: [CRM, PAYMENTS] }, {
            deployer: { principalArn: DEPLOYER, accessPolicies: admin },
            "app-crm": { principalArn: CRM.roleArn, kubernetesGroups: ["mlmesh-app-crm"] },
            "app-payments": { principalArn: PAYMENTS.roleArn, kubernetesGroups: ["mlmesh-app-payments"] },
        }],
    ];
    for (const [what, access, expected] of cases) {
        it(`gives ${what}`, async () => assert.deepEqual(await entriesOf(access, "aws"), expected));
    }

    it("names the policies in the cluster's partition", async () => {
        const entries = await entriesOf({ deployerRoleArn: DEPLOYER, appTeams: [CRM] }, "aws-us-gov");
        assert.deepEqual(entries["app-crm"], { principalArn: CRM.roleArn, kubernetesGroups: [appTeamGroup(CRM)] });
        assert.equal(entries.deployer.accessPolicies!["cluster-admin"].policyArn, clusterAdminPolicyArn("aws-us-gov"));
    });
});

describe("withoutCreatorAdmin", () => {
    const transform = (type: string, props: Record<string, unknown>) => withoutCreatorAdmin({ type, name: "c", props, opts: { ignoreChanges: ["accessConfig.bootstrapClusterCreatorAdminPermissions"] } } as never);
    it("turns off the creator's bootstrap admin on the EKS cluster, keeping the rest of accessConfig and the options", () => {
        const result = transform("aws:eks/cluster:Cluster", { name: "c", accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true } }) as { props: Record<string, unknown>; opts: { ignoreChanges: string[] } };
        assert.deepEqual(result.props.accessConfig, { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: false });
        assert.deepEqual(result.opts.ignoreChanges, ["accessConfig.bootstrapClusterCreatorAdminPermissions"]);
    });
    it("leaves every other resource alone", () => assert.equal(transform("aws:iam/role:Role", { name: "r" }), undefined));
});

describe("GpuCluster access", () => {
    const network = { vpcId: "vpc-0123456789abcdef0", privateSubnetIds: ["subnet-0123456789abcdef0", "subnet-0fedcba987654321f"] };
    const eksOf = (resources: RecordedResource[]) => resources.find((r) => r.type === "eks:index:Cluster")!;

    it("creates access entries, a kubeconfig that assumes the deployer role, and no bootstrap admin", async () => {
        const run = await recordOffline(() => new GpuCluster("c", { clusterName: "c", network, access: { deployerRoleArn: DEPLOYER, clusterAdmins: [ADMIN] } }));
        const eks = eksOf(run.resources);
        assert.deepEqual(Object.entries(eks.inputs.accessEntries as Record<string, { principalArn: string }>).map(([key, entry]) => [key, entry.principalArn]).sort(), [["admin-1", ADMIN], ["deployer", DEPLOYER]]);
        assert.deepEqual(eks.inputs.providerCredentialOpts, { roleArn: DEPLOYER });
        assert.equal(eks.options.transforms, 1);
        const kubeconfig = JSON.parse(String(eks.outputs.kubeconfigJson)) as { users: { user: { exec: { args: string[] } } }[] };
        assert.deepEqual(kubeconfig.users[0].user.exec.args.slice(-2), ["--role", DEPLOYER]);
    });

    it("gives an app team an entry with its group only, beside the deployer's", async () => {
        const run = await recordOffline(() => new GpuCluster("c", { clusterName: "c", network, access: { deployerRoleArn: DEPLOYER, appTeams: [CRM] } }));
        const entries = eksOf(run.resources).inputs.accessEntries as Record<string, { principalArn: string; kubernetesGroups?: string[]; accessPolicies: Record<string, { policyArn: string; accessScope: unknown }> }>;
        assert.deepEqual(Object.keys(entries).sort(), ["app-crm", "deployer"]);
        assert.deepEqual(entries["app-crm"], { principalArn: CRM.roleArn, kubernetesGroups: ["mlmesh-app-crm"] });
    });

    it("keeps the creator as admin (with a warning) when no deployer role is named", async () => {
        const run = await recordOffline(() => new GpuCluster("c", { clusterName: "c", network }));
        const eks = eksOf(run.resources);
        assert.deepEqual([eks.inputs.accessEntries, eks.inputs.providerCredentialOpts, eks.options.transforms], [{}, undefined, undefined]);
    });
});

describe("protectControlPlane", () => {
    // [the eks component's child type, protected]
    for (const [type, protectedByIt] of [["aws:eks/cluster:Cluster", true], ["aws:eks/accessEntry:AccessEntry", false], ["aws:eks/accessPolicyAssociation:AccessPolicyAssociation", false], ["aws:iam/role:Role", false]] as const) {
        it(`${protectedByIt ? "protects" : "leaves alone"} ${type}`, () => {
            const result = protectControlPlane({ type, name: "c", props: { a: 1 }, opts: { ignoreChanges: ["x"] } } as never) as { props: unknown; opts: { protect?: boolean; ignoreChanges?: string[] } } | undefined;
            assert.deepEqual(result && [result.opts.protect, result.opts.ignoreChanges, result.props], protectedByIt ? [true, ["x"], { a: 1 }] : undefined);
        });
    }
});
