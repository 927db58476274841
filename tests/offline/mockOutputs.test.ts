import * as pulumi from "@pulumi/pulumi";
import * as assert from "node:assert/strict";
import { OfflineCallError, PlanMocks, zoneIdPrefix } from "../../offline/mockOutputs";
import { runProgram, SECRET_PLACEHOLDER } from "../../offline/recorder";
import { StackOutputsError, type RecordedStack } from "../../offline/stackOutputs";

describe("offline mock outputs", () => {
    const mocks = new PlanMocks({ region: "eu-central-1", accountId: "210987654321", partition: "aws" });
    const create = (type: string, name: string, inputs: Record<string, unknown> = {}) => mocks.newResource({ type, name, inputs });

    const idCases: [string, RegExp][] = [
        ["aws:ec2/vpc:Vpc", /^vpc-[0-9a-f]{17}$/],
        ["aws:ec2/subnet:Subnet", /^subnet-[0-9a-f]{17}$/],
        ["aws:ec2/natGateway:NatGateway", /^nat-[0-9a-f]{17}$/],
        ["aws:ec2/eip:Eip", /^eipalloc-[0-9a-f]{17}$/],
        ["aws:kms/key:Key", /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/],
        ["aws:iam/role:Role", /^thing-[0-9a-f]{7}$/],
    ];
    for (const [type, pattern] of idCases) {
        it(`gives a ${type} an id shaped like AWS's`, () => assert.match(String(create(type, "thing").id), pattern));
    }

    it("gives AWS resources an ARN in the configured account and region", () => {
        assert.match(String(create("aws:ec2/vpc:Vpc", "vpc").state.arn), /^arn:aws:ec2:eu-central-1:210987654321:vpc\/vpc-/);
    });

    it("gives IAM roles a global ARN with the role name, as IAM does", () => {
        const role = create("aws:iam/role:Role", "nodes");
        assert.equal(role.state.arn, `arn:aws:iam::210987654321:role/${role.id}`);
        assert.equal(role.state.name, role.id);
    });

    it("gives a node group an Auto Scaling group named after it, for tags to attach to", () => {
        const group = create("aws:eks/nodeGroup:NodeGroup", "gpu", { nodeGroupName: "mlmesh-gpu" });
        assert.match((group.state.resources as { autoscalingGroups: { name: string }[] }[])[0].autoscalingGroups[0].name, /^eks-mlmesh-gpu-[0-9a-f]{8}$/);
    });

    it("answers an EKS cluster with a kubeconfig, OIDC provider and cluster security group in its region", () => {
        const { state } = create("eks:index:Cluster", "eks", { name: "mlmesh-dev", version: "1.33" });
        const cluster = state.eksCluster as { name: string; endpoint: string; vpcConfig: { clusterSecurityGroupId: string } };
        assert.equal(cluster.name, "mlmesh-dev");
        assert.match(cluster.endpoint, /^https:\/\/[0-9A-F]{32}\.gr7\.eu-central-1\.eks\.amazonaws\.com$/);
        assert.match(cluster.vpcConfig.clusterSecurityGroupId, /^sg-[0-9a-f]{17}$/);
        assert.match(String(state.oidcProviderArn), /^arn:aws:iam::210987654321:oidc-provider\/oidc\.eks\.eu-central-1\.amazonaws\.com\/id\/[0-9A-F]{32}$/);
        assert.equal(state.oidcProviderUrl, `https://${String(state.oidcIssuer)}`);
        assert.equal(JSON.parse(String(state.kubeconfigJson)).clusters[0].cluster.server, cluster.endpoint);
    });

    it("returns the same id for the same resource every time, and different ids for different names", () => {
        assert.equal(create("aws:ec2/vpc:Vpc", "a").id, create("aws:ec2/vpc:Vpc", "a").id);
        assert.notEqual(create("aws:ec2/vpc:Vpc", "a").id, create("aws:ec2/vpc:Vpc", "b").id);
    });

    it("generates a name for a Kubernetes object declared without one, and keeps a given one", () => {
        const generated = create("kubernetes:core/v1:ConfigMap", "cfg", { metadata: { namespace: "ml" } });
        assert.match((generated.state.metadata as { name: string }).name, /^cfg-[0-9a-f]{8}$/);
        assert.equal(create("kubernetes:core/v1:ConfigMap", "cfg", { metadata: { name: "fixed", namespace: "ml" } }).id, "ml/fixed");
    });

    it("answers the zone, region and identity calls for the configured region", () => {
        const zones = mocks.call({ token: "aws:index/getAvailabilityZones:getAvailabilityZones", inputs: {} });
        assert.deepEqual((zones.names as string[]).slice(0, 3), ["eu-central-1a", "eu-central-1b", "eu-central-1c"]);
        assert.equal(mocks.call({ token: "aws:index/getRegion:getRegion", inputs: {} }).region, "eu-central-1");
        assert.equal(mocks.call({ token: "aws:index/getCallerIdentity:getCallerIdentity", inputs: {} }).accountId, "210987654321");
    });

    it("maps zone names to zone IDs per account, and leaves out the zones the caller excludes", () => {
        const east = new PlanMocks({ region: "us-east-1", accountId: "210987654321", partition: "aws" });
        const all = east.call({ token: "aws:index/getAvailabilityZones:getAvailabilityZones", inputs: {} });
        assert.deepEqual((all.zoneIds as string[]).slice(0, 3), ["use1-az3", "use1-az4", "use1-az5"]);
        const usable = east.call({ token: "aws:index/getAvailabilityZones:getAvailabilityZones", inputs: { excludeZoneIds: ["use1-az3"] } });
        assert.deepEqual([(usable.names as string[]).slice(0, 3), (usable.zoneIds as string[]).includes("use1-az3")], [["us-east-1b", "us-east-1c", "us-east-1d"], false]);
    });

    for (const [region, prefix] of [["us-east-1", "use1"], ["us-west-2", "usw2"], ["ap-northeast-2", "apne2"], ["eu-central-1", "euc1"], ["ca-central-1", "cac1"], ["ap-southeast-1", "apse1"]]) {
        it(`names ${region}'s zone IDs ${prefix}-az<n>`, () => assert.equal(zoneIdPrefix(region), prefix));
    }

    it("answers the session context of an assumed role with the role, and of a user with the user", () => {
        const issuer = (arn: string) => mocks.call({ token: "aws:iam/getSessionContext:getSessionContext", inputs: { arn } }).issuerArn;
        assert.deepEqual([issuer("arn:aws:sts::210987654321:assumed-role/deployer/ci-run-42"), issuer("arn:aws:iam::210987654321:user/mlmesh-plan")],
            ["arn:aws:iam::210987654321:role/deployer", "arn:aws:iam::210987654321:user/mlmesh-plan"]);
    });

    it("refuses a call it has no answer for, with the token in the message and in gRPC details", () => {
        assert.throws(() => mocks.call({ token: "aws:ec2/getAmi:getAmi", inputs: {} }), (error: unknown) =>
            error instanceof OfflineCallError && error.details.includes("aws:ec2/getAmi:getAmi"));
    });
});

describe("offline mock outputs for a StackReference", () => {
    const ACCOUNT = { region: "us-west-2", accountId: "123456789012", partition: "aws" };
    const PLATFORM: RecordedStack = {
        file: "/plans/mlmesh-dev.json",
        project: "mlmesh",
        stack: "dev",
        clusterSetup: [],
        outputs: { contractVersion: "1.0.0", vpcId: "vpc-0a1b2c3d4e5f60718", kubeconfig: SECRET_PLACEHOLDER },
    };
    /** Runs, as project `project`, a program that reads `vpcId` and `kubeconfig` of the stack `reference`. */
    const readStack = (mocks: PlanMocks, reference: string, project = "churn-report") => {
        const read: { vpcId?: pulumi.Output<unknown>; kubeconfig?: pulumi.Output<unknown> } = {};
        const run = runProgram({
            project, stack: "dev", config: {}, mocks,
            program: () => {
                const platform = new pulumi.StackReference("p", { name: reference });
                read.vpcId = platform.getOutput("vpcId");
                read.kubeconfig = platform.getOutput("kubeconfig");
                return { vpcId: read.vpcId, kubeconfig: read.kubeconfig };
            },
        });
        return { run, read };
    };
    const valueOf = (output: pulumi.Output<unknown>) => new Promise((resolve) => output.apply(resolve));

    it("answers with the recorded outputs, and a recorded secret stays secret", async () => {
        const { run, read } = readStack(new PlanMocks(ACCOUNT, [PLATFORM]), "acme/mlmesh/dev");
        const recorded = await run;
        assert.equal(await valueOf(read.vpcId!), "vpc-0a1b2c3d4e5f60718");
        assert.equal(await pulumi.isSecret(read.vpcId!), false);
        assert.equal(await pulumi.isSecret(read.kubeconfig!), true);
        assert.deepEqual(recorded.outputs, { vpcId: "vpc-0a1b2c3d4e5f60718", kubeconfig: SECRET_PLACEHOLDER });
    });

    it("fails the run when no recorded stack answers, and keeps the reason for the plan to report", async () => {
        const mocks = new PlanMocks(ACCOUNT, [PLATFORM]);
        await assert.rejects(readStack(mocks, "acme/mlmesh/prod").run);
        assert.equal(mocks.unanswered.length, 1);
        assert.ok(mocks.unanswered[0] instanceof StackOutputsError);
        assert.match(mocks.unanswered[0].message, /reads stack acme\/mlmesh\/prod through a StackReference, and no --platform-outputs file records it \(given: mlmesh\/dev \(\/plans\/mlmesh-dev\.json\)\)/);
    });

    it("fails the run when no stack outputs were given at all", async () => {
        const mocks = new PlanMocks(ACCOUNT);
        await assert.rejects(readStack(mocks, "acme/mlmesh/dev").run);
        assert.match(mocks.unanswered[0]?.message ?? "nothing kept", /no outputs of it were given/);
    });

    // Pulumi reads `stack` and `org/stack` in the current project, and only `org/project/stack` in
    // another (pulumi/pulumi pkg/backend/httpstate ParseStackIdentifier; diy ParseReference).
    // [project of the program, reference, whether the recorded mlmesh/dev answers it]
    const NAMES: [string, string, boolean][] = [
        ["churn-report", "acme/mlmesh/dev", true],
        ["churn-report", "mlmesh/dev", false],
        ["churn-report", "dev", false],
        ["mlmesh", "dev", true],
        ["mlmesh", "acme/dev", true],
    ];
    for (const [project, reference, answered] of NAMES) {
        it(`${answered ? "answers" : "refuses"} ${reference} read by project ${project}, as Pulumi resolves the name`, async () => {
            const mocks = new PlanMocks(ACCOUNT, [PLATFORM]);
            const { run } = readStack(mocks, reference, project);
            if (answered) {
                assert.equal((await run).outputs.vpcId, "vpc-0a1b2c3d4e5f60718");
            } else {
                await assert.rejects(run);
                assert.ok(mocks.unanswered[0] instanceof StackOutputsError);
            }
        });
    }
});
