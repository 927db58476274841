import * as assert from "node:assert/strict";
import { adminAccessEntries, clusterAdminPolicyArn, validateClusterAccess, withoutCreatorAdmin } from "../../../components/cluster/clusterAccess";
import { GpuCluster } from "../../../components/cluster/gpuCluster";
import type { RecordedResource } from "../../../offline/recorder";
import { recordOffline } from "../../offline/fixtures/offlineRun";

const DEPLOYER = "arn:aws:iam::123456789012:role/ci-deployer";
const ADMIN = "arn:aws:iam::123456789012:role/platform/break-glass";

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

    it("keeps the creator as admin (with a warning) when no deployer role is named", async () => {
        const run = await recordOffline(() => new GpuCluster("c", { clusterName: "c", network }));
        const eks = eksOf(run.resources);
        assert.deepEqual([eks.inputs.accessEntries, eks.inputs.providerCredentialOpts, eks.options.transforms], [{}, undefined, undefined]);
    });
});
