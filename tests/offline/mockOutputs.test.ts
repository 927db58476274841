import * as assert from "node:assert/strict";
import { OfflineCallError, PlanMocks } from "../../offline/mockOutputs";

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
