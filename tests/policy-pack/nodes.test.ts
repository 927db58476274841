import * as assert from "node:assert/strict";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { runPolicies, type PolicyConfig, type PolicyViolation } from "../../offline/policyRunner";
import type { RecordedResource } from "../../offline/recorder";
import {
    gpuNodegroupNvidiaAmi, gpuNodegroupTainted, nodegroupNoOpenSsh, nodegroupVolumeEncrypted, nodeImdsv2, nodesPolicies,
} from "../../policy-pack/nodes";
import { plannedStack } from "../offline/fixtures/plannedStack";
import { environmentConfig, resource, violationsOf } from "./harness";

type AnyPolicy = ResourceValidationPolicy | StackValidationPolicy;

const named = (type: string, name: string, props: Record<string, unknown>) => resource(type, props, { name, urn: `urn:pulumi:test::mlmesh::${type}::${name}` });

/** A launch template as mlmesh writes it for a GPU group. */
const launchTemplate = (props: Record<string, unknown> = {}) => named("aws:ec2/launchTemplate:LaunchTemplate", "gpu-lt", {
    name: "gpu-lt",
    blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { deleteOnTermination: "true", encrypted: "true", volumeSize: 200, volumeType: "gp3" } }],
    metadataOptions: { httpEndpoint: "enabled", httpPutResponseHopLimit: 1, httpTokens: "required", instanceMetadataTags: "disabled" },
    ...props,
});

/** A GPU managed node group as mlmesh makes it. */
const gpuGroup = (props: Record<string, unknown> = {}) => named("aws:eks/nodeGroup:NodeGroup", "gpu-a10g-ng", {
    clusterName: "ml", nodeGroupName: "ml-gpu-a10g-1234", nodeRoleArn: "arn:aws:iam::123456789012:role/nodes",
    amiType: "AL2023_x86_64_NVIDIA", instanceTypes: ["g5.2xlarge", "g5.4xlarge"], capacityType: "ON_DEMAND",
    launchTemplate: { id: "lt-1", version: "1" }, scalingConfig: { minSize: 0, maxSize: 8, desiredSize: 1 },
    taints: [{ key: "nvidia.com/gpu", value: "true", effect: "NO_SCHEDULE" }],
    ...props,
});

const only = (policy: AnyPolicy, settings: Record<string, unknown>): PolicyConfig => ({ [policy.name]: { enforcementLevel: "mandatory", ...settings } });
const mandatoryOnly = (policy: AnyPolicy): PolicyConfig => only(policy, {});
const messages = (violations: PolicyViolation[]) => violations.map((v) => v.message);
const bucket = named("aws:s3/bucket:Bucket", "b", {});

describe("node-imdsv2", () => {
    it("passes a launch template requiring IMDSv2 with a hop limit of 1", async () => {
        assert.deepEqual(await violationsOf(nodeImdsv2, launchTemplate(), mandatoryOnly(nodeImdsv2)), []);
    });
    it("passes a launch template with the metadata service off", async () => {
        assert.deepEqual(await violationsOf(nodeImdsv2, launchTemplate({ metadataOptions: { httpEndpoint: "disabled" } }), mandatoryOnly(nodeImdsv2)), []);
    });
    it("refuses IMDSv1 (`httpTokens` optional, or unset)", async () => {
        assert.match(messages(await violationsOf(nodeImdsv2, launchTemplate({ metadataOptions: { httpTokens: "optional", httpPutResponseHopLimit: 1 } }), mandatoryOnly(nodeImdsv2)))[0], /`metadataOptions.httpTokens` is "optional"/);
        assert.match(messages(await violationsOf(nodeImdsv2, launchTemplate({ metadataOptions: undefined }), mandatoryOnly(nodeImdsv2)))[0], /is unset \("optional"\)/);
    });
    it("refuses a hop limit that lets pods reach the node's credentials", async () => {
        assert.match(messages(await violationsOf(nodeImdsv2, launchTemplate({ metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 } }), mandatoryOnly(nodeImdsv2)))[0], /`metadataOptions.httpPutResponseHopLimit` is 2 \(at most 1\)/);
    });
    it("takes the hop limit from config", async () => {
        assert.deepEqual(await violationsOf(nodeImdsv2, launchTemplate({ metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 } }), only(nodeImdsv2, { maxHopLimit: 2 })), []);
    });
    it("remediates IMDSv1 by requiring tokens, keeping the other options and props", async () => {
        const template = launchTemplate({ metadataOptions: { httpEndpoint: "enabled", httpTokens: "optional", httpPutResponseHopLimit: 1 } });
        const run = await runPolicies([nodeImdsv2], [template], { "node-imdsv2": "remediate" });
        assert.deepEqual(run.violations, []);
        assert.deepEqual(run.remediations.map((r) => [r.policy, r.after]), [["node-imdsv2", { ...template.inputs, metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 } }]]);
    });
    it("leaves a hop limit to the owner: the remediated template still fails on it, as mandatory", async () => {
        const run = await runPolicies([nodeImdsv2], [launchTemplate({ metadataOptions: { httpPutResponseHopLimit: 3 } })], { "node-imdsv2": "remediate" });
        assert.deepEqual([run.remediations.length, run.violations.map((v) => [v.level, /HopLimit` is 3/.test(v.message)])], [1, [["mandatory", true]]]);
    });
    it("remediates nothing on a compliant template or another type", async () => {
        assert.deepEqual((await runPolicies([nodeImdsv2], [launchTemplate(), bucket], { "node-imdsv2": "remediate" })).remediations, []);
    });
});

describe("nodegroup-no-open-ssh", () => {
    it("passes a node group without remote access", async () => {
        assert.deepEqual(await violationsOf(nodegroupNoOpenSsh, gpuGroup()), []);
    });
    it("refuses `remoteAccess` without source security groups (EKS opens 22 to 0.0.0.0/0)", async () => {
        assert.match(messages(await violationsOf(nodegroupNoOpenSsh, gpuGroup({ remoteAccess: { ec2SshKey: "ops" } })))[0], /names no `sourceSecurityGroupIds`, so EKS opens port 22/);
    });
    it("refuses scoped `remoteAccess` too, unless config allows it", async () => {
        const scoped = gpuGroup({ remoteAccess: { ec2SshKey: "ops", sourceSecurityGroupIds: ["sg-bastion"] } });
        assert.equal((await violationsOf(nodegroupNoOpenSsh, scoped)).length, 1);
        assert.deepEqual(await violationsOf(nodegroupNoOpenSsh, scoped, only(nodegroupNoOpenSsh, { allowRemoteAccess: true })), []);
        assert.equal((await violationsOf(nodegroupNoOpenSsh, gpuGroup({ remoteAccess: { ec2SshKey: "ops" } }), only(nodegroupNoOpenSsh, { allowRemoteAccess: true }))).length, 1);
    });
    const rules: [string, RecordedResource, number][] = [
        ["an inline ingress of 22 from 0.0.0.0/0", named("aws:ec2/securityGroup:SecurityGroup", "sg", { ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }] }), 1],
        ["a rule of all traffic from ::/0", named("aws:ec2/securityGroupRule:SecurityGroupRule", "rule", { type: "ingress", protocol: "-1", fromPort: 0, toPort: 0, ipv6CidrBlocks: ["::/0"] }), 1],
        ["an ingress rule of ports 0-1024 from 0.0.0.0/0", named("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "in", { ipProtocol: "tcp", fromPort: 0, toPort: 1024, cidrIpv4: "0.0.0.0/0" }), 1],
        ["22 from a private range", named("aws:ec2/securityGroup:SecurityGroup", "sg", { ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["10.0.0.0/8"] }] }), 0],
        ["443 from 0.0.0.0/0", named("aws:ec2/securityGroupRule:SecurityGroupRule", "rule", { type: "ingress", protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }), 0],
        ["an egress rule to 0.0.0.0/0", named("aws:ec2/securityGroupRule:SecurityGroupRule", "rule", { type: "egress", protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }), 0],
    ];
    for (const [what, rule, count] of rules) {
        it(`${count ? "refuses" : "passes"} ${what}`, async () => {
            assert.equal((await violationsOf(nodegroupNoOpenSsh, rule)).length, count);
        });
    }
    it("does not apply to other resources", async () => {
        assert.deepEqual(await violationsOf(nodegroupNoOpenSsh, bucket), []);
    });
});

describe("nodegroup-volume-encrypted", () => {
    it("passes an encrypted launch template and a node group that uses one", async () => {
        assert.deepEqual(await violationsOf(nodegroupVolumeEncrypted, [launchTemplate(), gpuGroup()]), []);
    });
    it("refuses an unencrypted EBS device, naming it", async () => {
        const template = launchTemplate({ blockDeviceMappings: [{ deviceName: "/dev/xvdb", ebs: { volumeSize: 200 } }] });
        assert.match(messages(await violationsOf(nodegroupVolumeEncrypted, template))[0], /`blockDeviceMappings\[0\].ebs.encrypted` \(\/dev\/xvdb\) is not "true"/);
    });
    it("refuses a launch template that leaves the root volume to the AMI", async () => {
        assert.equal((await violationsOf(nodegroupVolumeEncrypted, launchTemplate({ blockDeviceMappings: undefined }))).length, 1);
    });
    it("skips mappings without EBS (instance store, suppressed devices)", async () => {
        const template = launchTemplate({ blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "true" } }, { deviceName: "/dev/sdb", virtualName: "ephemeral0" }] });
        assert.deepEqual(await violationsOf(nodegroupVolumeEncrypted, template), []);
    });
    it("refuses a node group without a launch template, unless config says the account encrypts by default", async () => {
        const group = gpuGroup({ launchTemplate: undefined });
        assert.match(messages(await violationsOf(nodegroupVolumeEncrypted, group))[0], /no `launchTemplate`/);
        assert.deepEqual(await violationsOf(nodegroupVolumeEncrypted, group, only(nodegroupVolumeEncrypted, { accountEncryptsByDefault: true })), []);
    });
    it("does not apply to other resources", async () => {
        assert.deepEqual(await violationsOf(nodegroupVolumeEncrypted, bucket), []);
    });
});

describe("gpu-nodegroup-tainted", () => {
    it("passes a tainted GPU group and an untainted CPU group", async () => {
        const cpu = named("aws:eks/nodeGroup:NodeGroup", "system-ng", { amiType: "AL2023_x86_64_STANDARD", instanceTypes: ["m6i.large"], taints: [] });
        assert.deepEqual(await violationsOf(gpuNodegroupTainted, [gpuGroup(), cpu]), []);
    });
    it("accepts NoExecute, which also keeps other pods off", async () => {
        assert.deepEqual(await violationsOf(gpuNodegroupTainted, gpuGroup({ taints: [{ key: "nvidia.com/gpu", effect: "NO_EXECUTE" }] })), []);
    });
    const untainted: [string, Record<string, unknown>][] = [
        ["no taints", { taints: [] }],
        ["a PreferNoSchedule taint", { taints: [{ key: "nvidia.com/gpu", value: "true", effect: "PREFER_NO_SCHEDULE" }] }],
        ["a taint of another key", { taints: [{ key: "gpu", value: "true", effect: "NO_SCHEDULE" }] }],
        ["no taints on an NVIDIA AMI whose instance types come from the launch template", { taints: undefined, instanceTypes: undefined }],
    ];
    for (const [what, props] of untainted) {
        it(`refuses a GPU group with ${what}`, async () => {
            assert.match(messages(await violationsOf(gpuNodegroupTainted, gpuGroup(props)))[0], /lack the `nvidia.com\/gpu` NO_SCHEDULE taint/);
        });
    }
    it("takes GPU families and exemptions from config", async () => {
        const newFamily = gpuGroup({ instanceTypes: ["g9.xlarge"], amiType: "CUSTOM", taints: [] });
        assert.deepEqual(await violationsOf(gpuNodegroupTainted, newFamily), []);
        assert.equal((await violationsOf(gpuNodegroupTainted, newFamily, only(gpuNodegroupTainted, { gpuInstanceFamilies: ["g9"] }))).length, 1);
        assert.deepEqual(await violationsOf(gpuNodegroupTainted, gpuGroup({ taints: [] }), only(gpuNodegroupTainted, { exemptNodeGroups: ["ml-gpu-a10g-1234"] })), []);
    });
    it("does not apply to other resources", async () => {
        assert.deepEqual(await violationsOf(gpuNodegroupTainted, launchTemplate()), []);
    });
});

describe("gpu-nodegroup-nvidia-ami", () => {
    it("passes NVIDIA AMI types on GPU instances (AL2023 and Bottlerocket)", async () => {
        assert.deepEqual(await violationsOf(gpuNodegroupNvidiaAmi, [gpuGroup(), gpuGroup({ amiType: "BOTTLEROCKET_x86_64_NVIDIA", instanceTypes: ["g6.xlarge"] })]), []);
    });
    const wrong: [string, string | undefined][] = [["the standard AL2023 AMI", "AL2023_x86_64_STANDARD"], ["no AMI type", undefined], ["a custom AMI", "CUSTOM"], ["the Neuron AMI", "AL2023_x86_64_NEURON"]];
    for (const [what, amiType] of wrong) {
        it(`refuses GPU instances on ${what}`, async () => {
            assert.match(messages(await violationsOf(gpuNodegroupNvidiaAmi, gpuGroup({ amiType })))[0], /GPU instance types g5.2xlarge, g5.4xlarge run `amiType`/);
        });
    }
    it("does not judge CPU groups or AMD GPUs (g4ad)", async () => {
        assert.deepEqual(await violationsOf(gpuNodegroupNvidiaAmi, [gpuGroup({ instanceTypes: ["m6i.large"], amiType: "AL2023_x86_64_STANDARD" }), gpuGroup({ instanceTypes: ["g4ad.xlarge"], amiType: "AL2023_x86_64_STANDARD" })]), []);
    });
    it("skips a group exempt in config (a custom GPU AMI)", async () => {
        assert.deepEqual(await violationsOf(gpuNodegroupNvidiaAmi, gpuGroup({ amiType: "CUSTOM" }), only(gpuNodegroupNvidiaAmi, { exemptNodeGroups: ["gpu-a10g-ng"] })), []);
    });
    it("does not apply to other resources", async () => {
        assert.deepEqual(await violationsOf(gpuNodegroupNvidiaAmi, launchTemplate()), []);
    });
});

function configFor(policies: readonly AnyPolicy[], environment: string): PolicyConfig {
    return environmentConfig(environment, policies);
}

describe("the node policies over the committed stacks", () => {
    for (const stack of ["dev", "prod"]) {
        it(`find no mandatory violation and remediate nothing in ${stack} under its environment's config`, async () => {
            const run = await runPolicies(nodesPolicies, (await plannedStack(stack)).resources, configFor(nodesPolicies, stack));
            assert.deepEqual([run.violations.filter((v) => v.level === "mandatory").map((v) => `${v.policy}: ${v.message}`), run.remediations.map((r) => r.urn)], [[], []]);
        });
    }
});
