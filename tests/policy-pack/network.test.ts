import * as assert from "node:assert/strict";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { runPolicies, UNKNOWN_PLACEHOLDER, type PolicyConfig, type PolicyViolation } from "../../offline/policyRunner";
import type { RecordedResource } from "../../offline/recorder";
import { networkPolicies, vpcePolicyScoped, vpcePrivateDns, vpceSg443Only } from "../../policy-pack/network";
import { plannedStack } from "../offline/fixtures/plannedStack";
import { environmentConfig, resource, violationsOf } from "./harness";

type AnyPolicy = ResourceValidationPolicy | StackValidationPolicy;

const named = (type: string, name: string, props: Record<string, unknown>, dependsOn: RecordedResource[] = []) =>
    resource(type, props, { name, urn: `urn:pulumi:test::mlmesh::${type}::${name}`, dependencies: dependsOn.map((d) => d.urn) });

const doc = (...statements: Record<string, unknown>[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });
const ACCOUNT_S3 = { Sid: "TheAccountsBuckets", Effect: "Allow", Principal: "*", Action: "s3:*", Resource: "*", Condition: { StringEquals: { "aws:ResourceAccount": ["123456789012"] } } };
const BRIDGE_ONLY = {
    Sid: "OnlyTheBridge", Effect: "Allow", Principal: "*", Action: ["sagemaker:InvokeEndpoint"], Resource: ["arn:aws:sagemaker:us-west-2:123456789012:endpoint/fraud"],
    Condition: { ArnEquals: { "aws:PrincipalArn": "arn:aws:iam::123456789012:role/signer" } },
};
const FULL_ACCESS = { Effect: "Allow", Principal: "*", Action: "*", Resource: "*" };

/** An interface endpoint for ECR's API, as a platform would open one for all of the VPC. */
const ecrEndpoint = (props: Record<string, unknown> = {}, dependsOn: RecordedResource[] = []) => named("aws:ec2/vpcEndpoint:VpcEndpoint", "ecr-api", {
    vpcId: "vpc-1", serviceName: "com.amazonaws.us-west-2.ecr.api", vpcEndpointType: "Interface", privateDnsEnabled: true,
    subnetIds: ["subnet-1"], securityGroupIds: ["sg-1"], policy: doc({ ...FULL_ACCESS, Condition: { StringEquals: { "aws:PrincipalAccount": "123456789012" } } }), ...props,
}, dependsOn);

/** mlmesh's SageMaker Runtime endpoint: private DNS off, callable only by the bridge's role. */
const runtimeEndpoint = (props: Record<string, unknown> = {}) => named("aws:ec2/vpcEndpoint:VpcEndpoint", "sagemaker-runtime", {
    vpcId: "vpc-1", serviceName: "com.amazonaws.us-west-2.sagemaker.runtime", vpcEndpointType: "Interface", privateDnsEnabled: false,
    subnetIds: ["subnet-1"], securityGroupIds: ["sg-1"], policy: doc(BRIDGE_ONLY), ...props,
});

const s3Gateway = (props: Record<string, unknown> = {}) => named("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", {
    vpcId: "vpc-1", serviceName: "com.amazonaws.us-west-2.s3", vpcEndpointType: "Gateway", routeTableIds: ["rtb-1"], policy: doc(ACCOUNT_S3), ...props,
});

const only = (policy: AnyPolicy, settings: Record<string, unknown>): PolicyConfig => ({ [policy.name]: { enforcementLevel: "mandatory", ...settings } });
const messages = (violations: PolicyViolation[]) => violations.map((v) => v.message);

describe("vpce-private-dns", () => {
    it("passes an interface endpoint with private DNS on, and gateway endpoints (which have none)", async () => {
        assert.deepEqual(await violationsOf(vpcePrivateDns, [ecrEndpoint(), s3Gateway()]), []);
    });
    it("passes an endpoint dedicated to named principals, who call it by its own DNS name (the SageMaker bridge)", async () => {
        assert.deepEqual(await violationsOf(vpcePrivateDns, runtimeEndpoint()), []);
    });
    it("refuses private DNS off on an endpoint every VPC caller may use", async () => {
        assert.match(messages(await violationsOf(vpcePrivateDns, ecrEndpoint({ privateDnsEnabled: false })))[0], /ecr.api\): `privateDnsEnabled` is false, so clients in the VPC resolve the public ecr.api name/);
    });
    it("refuses private DNS left unset (off through the API)", async () => {
        assert.match(messages(await violationsOf(vpcePrivateDns, ecrEndpoint({ privateDnsEnabled: undefined })))[0], /is unset \(off\)/);
    });
    it("does not count an account-wide condition as dedicating the endpoint", async () => {
        const accountWide = runtimeEndpoint({ policy: doc({ ...BRIDGE_ONLY, Condition: { StringEquals: { "aws:PrincipalAccount": "123456789012" } } }) });
        assert.equal((await violationsOf(vpcePrivateDns, accountWide)).length, 1);
    });
    it("takes exempt services from config, and skips other accounts' PrivateLink services", async () => {
        assert.deepEqual(await violationsOf(vpcePrivateDns, ecrEndpoint({ privateDnsEnabled: false }), only(vpcePrivateDns, { exemptServices: ["ecr.api"] })), []);
        assert.deepEqual(await violationsOf(vpcePrivateDns, ecrEndpoint({ privateDnsEnabled: false, serviceName: "com.amazonaws.vpce.us-west-2.vpce-svc-0abc" })), []);
    });
    it("does not apply to other resources", async () => {
        assert.deepEqual(await violationsOf(vpcePrivateDns, named("aws:ec2/vpc:Vpc", "vpc", { cidrBlock: "10.0.0.0/16" })), []);
    });
});

describe("vpce-policy-scoped", () => {
    it("passes policies scoped by resource, action, principal or a perimeter condition", async () => {
        assert.deepEqual(await violationsOf(vpcePolicyScoped, [s3Gateway(), ecrEndpoint(), runtimeEndpoint()]), []);
    });
    it("refuses an endpoint without a policy (the default full access)", async () => {
        assert.match(messages(await violationsOf(vpcePolicyScoped, s3Gateway({ policy: undefined })))[0], /no `policy`, so AWS applies the default full-access policy/);
    });
    const allowAll: [string, Record<string, unknown>][] = [
        ["`*` on `*` for anyone", FULL_ACCESS],
        ["every action of the service on `*` for anyone", { Effect: "Allow", Principal: { AWS: "*" }, Action: "s3:*", Resource: "*" }],
        ["everything under a condition that scopes nothing (aws:SourceVpce)", { ...FULL_ACCESS, Condition: { StringEquals: { "aws:SourceVpce": "vpce-1" } } }],
    ];
    for (const [what, statement] of allowAll) {
        it(`refuses a statement allowing ${what}`, async () => {
            const found = await violationsOf(vpcePolicyScoped, s3Gateway({ policy: doc(ACCOUNT_S3, statement) }));
            assert.equal(found.length, 1);
            assert.match(found[0].message, /statement 1 allows any principal every action on every resource/);
        });
    }
    it("judges the policy of an attached aws:ec2/vpcEndpointPolicy over the endpoint's own", async () => {
        const endpoint = s3Gateway({ policy: undefined });
        const attached = named("aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy", "s3-policy", { vpcEndpointId: "vpce-1", policy: doc(ACCOUNT_S3) }, [endpoint]);
        assert.deepEqual(await violationsOf(vpcePolicyScoped, [endpoint, attached]), []);
        const open = named("aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy", "s3-policy", { vpcEndpointId: "vpce-1", policy: doc(FULL_ACCESS) }, [endpoint]);
        assert.equal((await violationsOf(vpcePolicyScoped, [endpoint, open])).length, 1);
    });
    it("leaves a policy unknown during preview to the update", async () => {
        assert.deepEqual(await violationsOf(vpcePolicyScoped, runtimeEndpoint({ policy: UNKNOWN_PLACEHOLDER })), []);
    });
    it("takes exempt services from config", async () => {
        assert.deepEqual(await violationsOf(vpcePolicyScoped, s3Gateway({ policy: undefined }), only(vpcePolicyScoped, { exemptServices: ["s3"] })), []);
    });
    it("does not apply to a stack without endpoints", async () => {
        assert.deepEqual(await violationsOf(vpcePolicyScoped, named("aws:ec2/vpc:Vpc", "vpc", {})), []);
    });
});

describe("vpce-sg-443-only", () => {
    const sg = (ingress: Record<string, unknown>[]) => named("aws:ec2/securityGroup:SecurityGroup", "endpoint-sg", { vpcId: "vpc-1", ingress });
    const https = { protocol: "tcp", fromPort: 443, toPort: 443, securityGroups: ["sg-nodes"] };
    /** An endpoint and its security group, plus whatever else the case adds. */
    const stack = (group: RecordedResource, ...more: RecordedResource[]) => [group, ecrEndpoint({}, [group]), ...more];

    it("passes an endpoint whose group admits only TCP 443", async () => {
        assert.deepEqual(await violationsOf(vpceSg443Only, stack(sg([https]))), []);
    });
    it("refuses a second inline port", async () => {
        const found = await violationsOf(vpceSg443Only, stack(sg([https, { protocol: "tcp", fromPort: 80, toPort: 80, cidrBlocks: ["10.0.0.0/8"] }])));
        assert.deepEqual(messages(found), ["security group endpoint-sg (of VPC endpoint ecr-api): `ingress` admits tcp 80-80; an interface endpoint needs only TCP 443, so remove it or move it to another group."]);
    });
    it("refuses all traffic from a standalone rule on the group", async () => {
        const group = sg([https]);
        const rule = named("aws:ec2/securityGroupRule:SecurityGroupRule", "all-in", { type: "ingress", protocol: "-1", fromPort: 0, toPort: 0, securityGroupId: "sg-1", self: true }, [group]);
        assert.match(messages(await violationsOf(vpceSg443Only, stack(group, rule)))[0], /rule all-in admits all traffic/);
    });
    it("refuses a port range around 443 from a VPC ingress rule", async () => {
        const group = sg([]);
        const rule = named("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "range", { securityGroupId: "sg-1", ipProtocol: "tcp", fromPort: 400, toPort: 500, cidrIpv4: "10.0.0.0/8" }, [group]);
        assert.equal((await violationsOf(vpceSg443Only, stack(group, rule))).length, 1);
    });
    it("ignores egress rules and the groups of other resources", async () => {
        const group = sg([https]);
        const egress = named("aws:ec2/securityGroupRule:SecurityGroupRule", "out", { type: "egress", protocol: "-1", fromPort: 0, toPort: 0, securityGroupId: "sg-1" }, [group]);
        const other = named("aws:ec2/securityGroup:SecurityGroup", "nodes", { ingress: [{ protocol: "-1", fromPort: 0, toPort: 0, self: true }] });
        assert.deepEqual(await violationsOf(vpceSg443Only, stack(group, egress, other)), []);
    });
    it("refuses an interface endpoint with no security group (it gets the VPC's default group)", async () => {
        assert.match(messages(await violationsOf(vpceSg443Only, [ecrEndpoint({ securityGroupIds: [] })]))[0], /no `securityGroupIds`/);
    });
    it("judges a group whose id is unknown during preview through the endpoint's dependencies", async () => {
        const group = sg([{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["10.0.0.0/8"] }]);
        assert.equal((await violationsOf(vpceSg443Only, [group, ecrEndpoint({ securityGroupIds: [UNKNOWN_PLACEHOLDER] }, [group])])).length, 1);
    });
    it("does not apply to gateway endpoints", async () => {
        const group = sg([{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }]);
        assert.deepEqual(await violationsOf(vpceSg443Only, [group, named("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", { vpcEndpointType: "Gateway", serviceName: "com.amazonaws.us-west-2.s3" }, [group])]), []);
    });
});

function configFor(policies: readonly AnyPolicy[], environment: string): PolicyConfig {
    return environmentConfig(environment, policies);
}

describe("the network policies over the committed stacks", () => {
    for (const stack of ["dev", "prod"]) {
        it(`find no mandatory violation in ${stack} under its environment's config`, async () => {
            const run = await runPolicies(networkPolicies, (await plannedStack(stack)).resources, configFor(networkPolicies, stack));
            assert.deepEqual(run.violations.filter((v) => v.level === "mandatory").map((v) => `${v.policy}: ${v.message}`), []);
        });
    }
    it("judge dev's SageMaker Runtime endpoint, which the bridge calls by its own DNS name", async () => {
        const resources = (await plannedStack("dev")).resources;
        const endpoint = resources.find((r) => r.type === "aws:ec2/vpcEndpoint:VpcEndpoint" && r.inputs.vpcEndpointType === "Interface");
        assert.equal(endpoint?.inputs.privateDnsEnabled, false);
        const opened = resources.map((r) => (r === endpoint ? { ...r, inputs: { ...r.inputs, policy: doc(FULL_ACCESS) }, outputs: { ...r.outputs, policy: doc(FULL_ACCESS) } } : r));
        const run = await runPolicies([vpcePrivateDns, vpcePolicyScoped], opened, {});
        assert.deepEqual(run.violations.map((v) => v.policy).sort(), ["vpce-policy-scoped", "vpce-private-dns"]);
    });
});
