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
        ["aws:kms/key:Key", /^thing-[0-9a-f]{8}$/],
    ];
    for (const [type, pattern] of idCases) {
        it(`gives a ${type} an id shaped like AWS's`, () => assert.match(String(create(type, "thing").id), pattern));
    }

    it("gives AWS resources an ARN in the configured account and region", () => {
        assert.match(String(create("aws:ec2/vpc:Vpc", "vpc").state.arn), /^arn:aws:ec2:eu-central-1:210987654321:vpc\/vpc-/);
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

    it("refuses a call it has no answer for, with the token in the message and in gRPC details", () => {
        assert.throws(() => mocks.call({ token: "aws:ec2/getAmi:getAmi", inputs: {} }), (error: unknown) =>
            error instanceof OfflineCallError && error.details.includes("aws:ec2/getAmi:getAmi"));
    });
});
