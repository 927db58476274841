import * as assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { parseDocument } from "yaml";
import { plan } from "../../offline/plan";
import { PolicyConfigError, runPolicies, UNKNOWN_PLACEHOLDER, type PolicyConfig, type PolicyViolation } from "../../offline/policyRunner";
import type { RecordedResource } from "../../offline/recorder";
import {
    cniOwnRole, eksAccessEntries, eksCniSettings, eksControlPlaneLogging, eksEndpointNotPublic, eksPolicies, eksSecretsKms, eksVersionSupported,
} from "../../policy-pack/eks";
import { plannedStack } from "../offline/fixtures/plannedStack";
import { environmentConfig, resource, violationsOf } from "./harness";

type AnyPolicy = ResourceValidationPolicy | StackValidationPolicy;

const ACCOUNT = "123456789012";
const KEY_ARN = `arn:aws:kms:us-west-2:${ACCOUNT}:key/1111`;
const ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
const admin = (principalArn: string, scope = "cluster") => ({ principalArn, accessPolicies: { "cluster-admin": { policyArn: ADMIN_POLICY, accessScope: { type: scope } } } });

/** A resource with its own name and URN, so several can share a stack. */
const named = (type: string, name: string, props: Record<string, unknown>, extra: Partial<RecordedResource> = {}) =>
    resource(type, props, { name, urn: `urn:pulumi:test::mlmesh::${type}::${name}`, ...extra });

/** The eks component as mlmesh's prod stack makes it. */
const component = (props: Record<string, unknown> = {}) => named("eks:index:Cluster", "ml", {
    name: "ml", version: "1.33", endpointPrivateAccess: true, endpointPublicAccess: false, encryptionConfigKeyArn: KEY_ARN,
    enabledClusterLogTypes: ["api", "audit", "authenticator"], authenticationMode: "API",
    accessEntries: { deployer: admin(`arn:aws:iam::${ACCOUNT}:role/deployer`) }, useDefaultVpcCni: true, skipDefaultNodeGroup: true, ...props,
});

/** The raw cluster, as the real engine sees the component's child. */
const rawCluster = (props: Record<string, unknown> = {}) => named("aws:eks/cluster:Cluster", "ml-raw", {
    name: "ml", version: "1.33", roleArn: `arn:aws:iam::${ACCOUNT}:role/control-plane`,
    vpcConfig: { subnetIds: ["subnet-1"], endpointPrivateAccess: true, endpointPublicAccess: false },
    encryptionConfig: { resources: ["secrets"], provider: { keyArn: KEY_ARN } }, enabledClusterLogTypes: ["api", "audit", "authenticator"],
    accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: false }, ...props,
});

const nodeGroup = (props: Record<string, unknown> = {}) => named("aws:eks/nodeGroup:NodeGroup", "system-ng", { clusterName: "ml", nodeRoleArn: `arn:aws:iam::${ACCOUNT}:role/nodes`, version: "1.33", ...props });
const messages = (violations: PolicyViolation[]) => violations.map((v) => v.message);
const only = (policy: AnyPolicy, settings: Record<string, unknown>): PolicyConfig => ({ [policy.name]: { enforcementLevel: "mandatory", ...settings } });

describe("eks-endpoint-not-public", () => {
    it("passes a private endpoint, on the component and on the raw cluster", async () => {
        assert.deepEqual(await violationsOf(eksEndpointNotPublic, [component(), rawCluster()]), []);
    });
    it("passes a public endpoint open only to listed office ranges", async () => {
        assert.deepEqual(await violationsOf(eksEndpointNotPublic, rawCluster({ vpcConfig: { subnetIds: [], endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24"] } })), []);
    });
    const open: [string, RecordedResource, RegExp][] = [
        ["public by pulumi-eks's default, with no CIDRs", component({ endpointPublicAccess: undefined }), /true \(the default\) with no `publicAccessCidrs`/],
        ["public to 0.0.0.0/0", component({ endpointPublicAccess: true, publicAccessCidrs: ["0.0.0.0/0"] }), /opens the public API endpoint to 0\.0\.0\.0\/0/],
        ["public to ::/0 on the raw cluster", rawCluster({ vpcConfig: { subnetIds: [], endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24", "::/0"] } }), /to ::\/0/],
        ["public to a /4", component({ endpointPublicAccess: true, publicAccessCidrs: ["16.0.0.0/4"] }), /broader than \/8/],
    ];
    for (const [what, cluster, message] of open) {
        it(`refuses an endpoint ${what}`, async () => {
            const found = await violationsOf(eksEndpointNotPublic, cluster);
            assert.equal(found.length, 1);
            assert.match(found[0].message, message);
        });
    }
    it("takes the broadest allowed prefix from config", async () => {
        assert.deepEqual(await violationsOf(eksEndpointNotPublic, component({ endpointPublicAccess: true, publicAccessCidrs: ["16.0.0.0/4"] }), only(eksEndpointNotPublic, { broadestPrefixLength: 4 })), []);
    });
    it("does not apply to node groups", async () => {
        assert.deepEqual(await violationsOf(eksEndpointNotPublic, nodeGroup()), []);
    });
});

describe("eks-secrets-kms", () => {
    it("passes a cluster that envelope-encrypts secrets with a KMS key", async () => {
        assert.deepEqual(await violationsOf(eksSecretsKms, [component(), rawCluster()]), []);
    });
    it("counts a key ARN unknown during preview as set", async () => {
        assert.deepEqual(await violationsOf(eksSecretsKms, component({ encryptionConfigKeyArn: UNKNOWN_PLACEHOLDER })), []);
    });
    it("refuses a component without `encryptionConfigKeyArn`", async () => {
        assert.match(messages(await violationsOf(eksSecretsKms, component({ encryptionConfigKeyArn: undefined })))[0], /`encryptionConfigKeyArn` is not set/);
    });
    it("refuses a raw cluster whose encryption does not cover secrets", async () => {
        assert.equal((await violationsOf(eksSecretsKms, rawCluster({ encryptionConfig: { resources: [], provider: { keyArn: KEY_ARN } } }))).length, 1);
    });
    it("does not apply to node groups", async () => {
        assert.deepEqual(await violationsOf(eksSecretsKms, nodeGroup()), []);
    });
});

describe("eks-control-plane-logging", () => {
    it("passes api, audit and authenticator", async () => {
        assert.deepEqual(await violationsOf(eksControlPlaneLogging, [component(), rawCluster()]), []);
    });
    it("names the missing log type", async () => {
        const found = await violationsOf(eksControlPlaneLogging, component({ enabledClusterLogTypes: ["api", "authenticator"] }));
        assert.deepEqual(messages(found).map((m) => /lacks "audit"; add it/.test(m)), [true]);
    });
    it("refuses a cluster that logs nothing (EKS's default)", async () => {
        assert.equal((await violationsOf(eksControlPlaneLogging, rawCluster({ enabledClusterLogTypes: undefined }))).length, 1);
    });
    it("takes the required types from config, and refuses a type EKS does not have", async () => {
        assert.equal((await violationsOf(eksControlPlaneLogging, component(), only(eksControlPlaneLogging, { requiredLogTypes: ["audit", "scheduler"] }))).length, 1);
        await assert.rejects(violationsOf(eksControlPlaneLogging, component(), only(eksControlPlaneLogging, { requiredLogTypes: ["kubelet"] })), PolicyConfigError);
    });
    it("does not apply to node groups", async () => {
        assert.deepEqual(await violationsOf(eksControlPlaneLogging, nodeGroup({ enabledClusterLogTypes: [] })), []);
    });
});

describe("eks-version-supported", () => {
    it("passes supported versions, and an unset one (EKS's default)", async () => {
        assert.deepEqual(await violationsOf(eksVersionSupported, [component(), rawCluster({ version: "1.34" }), nodeGroup({ version: undefined })]), []);
    });
    it("refuses a version past EKS's extended support, with its end date", async () => {
        assert.match(messages(await violationsOf(eksVersionSupported, component({ version: "1.31" })))[0], /1\.31 is not a supported EKS version \(extended support ends 2026-11-26\)/);
    });
    it("refuses a node group left on an old version", async () => {
        assert.match(messages(await violationsOf(eksVersionSupported, nodeGroup({ version: "1.28" })))[0], /^node group system-ng: `version` 1\.28/);
    });
    it("takes the supported versions from config", async () => {
        assert.equal((await violationsOf(eksVersionSupported, component(), only(eksVersionSupported, { supportedVersions: ["1.34", "1.35"] }))).length, 1);
    });
    it("does not apply to other resources", async () => {
        assert.deepEqual(await violationsOf(eksVersionSupported, named("aws:rds/cluster:Cluster", "db", { engineVersion: "1.0" })), []);
    });
});

describe("eks-access-entries", () => {
    it("passes access entries that name a cluster admin, and a raw cluster without the creator's bootstrap admin", async () => {
        assert.deepEqual(await violationsOf(eksAccessEntries, [component(), rawCluster()]), []);
    });
    const creatorOnly: [string, RecordedResource, RegExp][] = [
        ["no access entries (the creator stays the only admin)", component({ accessEntries: {} }), /names 0 cluster admin\(s\)/],
        ["an admin scoped to a namespace only", component({ accessEntries: { ops: admin(`arn:aws:iam::${ACCOUNT}:role/ops`, "namespace") } }), /names 0 cluster admin/],
        ["the aws-auth ConfigMap (authentication mode unset)", component({ authenticationMode: undefined }), /unset \(CONFIG_MAP\)/],
        ["a raw cluster bootstrapping its creator as admin", rawCluster({ accessConfig: { authenticationMode: "API" } }), /bootstrapClusterCreatorAdminPermissions` is not false/],
        ["a raw cluster on CONFIG_MAP", rawCluster({ accessConfig: { authenticationMode: "CONFIG_MAP", bootstrapClusterCreatorAdminPermissions: false } }), /is CONFIG_MAP/],
    ];
    for (const [what, cluster, message] of creatorOnly) {
        it(`refuses ${what}`, async () => {
            const found = await violationsOf(eksAccessEntries, cluster);
            assert.equal(found.length, 1);
            assert.match(found[0].message, message);
        });
    }
    it("takes the number of admins from config", async () => {
        assert.equal((await violationsOf(eksAccessEntries, component(), only(eksAccessEntries, { minAdmins: 2 }))).length, 1);
    });
    it("does not apply to node groups", async () => {
        assert.deepEqual(await violationsOf(eksAccessEntries, nodeGroup()), []);
    });
});

describe("cni-own-role", () => {
    const trust = (principal: Record<string, string>) => JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: principal, Action: "sts:AssumeRole" }] });
    const nodeRole = named("aws:iam/role:Role", "node-role", { name: "nodes", assumeRolePolicy: trust({ Service: "ec2.amazonaws.com" }) });
    const cniRole = named("aws:iam/role:Role", "cni-role", { name: "cni", assumeRolePolicy: trust({ Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks` }) });
    const attach = (name: string, role: string, policy = "AmazonEKS_CNI_Policy", dependsOn: RecordedResource[] = []) => named("aws:iam/rolePolicyAttachment:RolePolicyAttachment", name, { role, policyArn: `arn:aws:iam::aws:policy/${policy}` }, { dependencies: dependsOn.map((d) => d.urn) });
    const addon = (props: Record<string, unknown> = {}) => named("aws:eks/addon:Addon", "vpc-cni", { clusterName: "ml", addonName: "vpc-cni", serviceAccountRoleArn: `arn:aws:iam::${ACCOUNT}:role/cni`, ...props });
    /** mlmesh's layout: the node role without the CNI policy, the add-on under its own IRSA role. */
    const stack = (replace: Record<string, RecordedResource | undefined> = {}) => Object.values({
        cluster: component(), nodeRole, cniRole, nodeGroup: nodeGroup(), worker: attach("node-worker", "nodes", "AmazonEKSWorkerNodePolicy"),
        cniAttach: attach("cni-attach", "cni", "AmazonEKS_CNI_Policy", [cniRole]), addon: addon(), ...replace,
    }).filter((r): r is RecordedResource => r !== undefined);

    it("passes a vpc-cni add-on with its own role and a node role without AmazonEKS_CNI_Policy", async () => {
        assert.deepEqual(await violationsOf(cniOwnRole, stack()), []);
    });
    it("passes an add-on whose role comes through a Pod Identity association", async () => {
        assert.deepEqual(await violationsOf(cniOwnRole, stack({ addon: addon({ serviceAccountRoleArn: undefined, podIdentityAssociations: [{ serviceAccount: "aws-node", roleArn: "arn:aws:iam::1:role/cni" }] }) })), []);
    });
    const leaks: [string, Record<string, RecordedResource | undefined>, RegExp][] = [
        ["AmazonEKS_CNI_Policy attached to the node role", { extra: attach("node-cni", "nodes") }, /grants AmazonEKS_CNI_Policy to the node role nodes/],
        ["the policy attached to a role found only through its dependency on an EC2-trusted role", { extra: attach("node-cni", UNKNOWN_PLACEHOLDER, "AmazonEKS_CNI_Policy", [nodeRole]) }, /to the node role node-role/],
        ["an EC2 role carrying the policy in `managedPolicyArns`", { nodeRole: named("aws:iam/role:Role", "node-role", { name: "nodes", assumeRolePolicy: trust({ Service: "ec2.amazonaws.com" }), managedPolicyArns: ["arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"] }) }, /Role node-role: grants/],
        ["a vpc-cni add-on with no role of its own", { addon: addon({ serviceAccountRoleArn: undefined }) }, /has no `serviceAccountRoleArn`/],
        ["a vpc-cni add-on under the node role", { addon: addon({ serviceAccountRoleArn: `arn:aws:iam::${ACCOUNT}:role/nodes` }) }, /is the node role nodes/],
        ["a cluster with no managed vpc-cni add-on", { addon: undefined }, /no vpc-cni add-on is managed/],
    ];
    for (const [what, replace, message] of leaks) {
        it(`refuses ${what}`, async () => {
            const found = await violationsOf(cniOwnRole, stack(replace));
            assert.equal(found.length, 1, JSON.stringify(messages(found)));
            assert.match(found[0].message, message);
        });
    }
    it("does not apply to a stack without EKS", async () => {
        assert.deepEqual(await violationsOf(cniOwnRole, [cniRole, named("aws:s3/bucket:Bucket", "b", {})]), []);
    });
    it("reads no component input: the engine gives stack policies outputs, which lack pulumi-eks's CNI settings", async () => {
        const cluster = component();
        const { useDefaultVpcCni: _a, skipDefaultNodeGroup: _b, vpcCniOptions: _c, createInstanceRole: _d, ...outputs } = cluster.outputs as Record<string, unknown>;
        assert.deepEqual(await violationsOf(cniOwnRole, stack({ cluster: { ...cluster, outputs } })), []);
    });
    it("judges the component, not the cluster pulumi-eks makes under it", async () => {
        const cluster = component();
        const child = named("aws:eks/cluster:Cluster", "ml-eks", { name: "ml-eks" }, { parent: cluster.urn });
        assert.deepEqual(await violationsOf(cniOwnRole, [...stack(), child]), []);
    });
});

describe("eks-cni-settings", () => {
    it("passes mlmesh's settings: the managed add-on's CNI, no default node group", async () => {
        assert.deepEqual(await violationsOf(eksCniSettings, component()), []);
    });
    const cases: [string, Record<string, unknown>, RegExp][] = [
        ["pulumi-eks's own VPC CNI without a role", { useDefaultVpcCni: false }, /without `vpcCniOptions.serviceAccountRoleArn`/],
        ["pulumi-eks's default node group and its instance role", { skipDefaultNodeGroup: false }, /creates the node instance role with AmazonEKS_CNI_Policy/],
    ];
    for (const [what, props, message] of cases) {
        it(`refuses ${what}`, async () => {
            const found = await violationsOf(eksCniSettings, component(props));
            assert.equal(found.length, 1, JSON.stringify(found));
            assert.match(found[0].message, message);
        });
    }
});

function configFor(policies: readonly AnyPolicy[], environment: string): PolicyConfig {
    return environmentConfig(environment, policies);
}

const mandatory = (violations: readonly PolicyViolation[]) => violations.filter((v) => v.level === "mandatory").map((v) => `${v.policy}: ${v.message}`);

describe("the eks policies over the committed stacks", () => {
    for (const stack of ["dev", "prod"]) {
        it(`find no mandatory violation in ${stack} under its environment's config`, async () => {
            const run = await runPolicies(eksPolicies, (await plannedStack(stack)).resources, configFor(eksPolicies, stack));
            assert.deepEqual(mandatory(run.violations), []);
        });
    }
});

/** Plans `stack` with one edit to its committed config and runs these policies over it. */
async function planEdited(stack: string, edit: (config: ReturnType<typeof parseDocument>) => void): Promise<readonly PolicyViolation[]> {
    const dir = mkdtempSync(path.join(tmpdir(), `mlmesh-eks-${stack}-`));
    const document = parseDocument(readFileSync(path.join(__dirname, "..", "..", "stacks", `Pulumi.${stack}.yaml`), "utf8"));
    edit(document);
    const configFile = path.join(dir, `Pulumi.${stack}.yaml`);
    writeFileSync(configFile, document.toString());
    try {
        const result = await plan({ stack, configFile, outDir: path.join(dir, "out") });
        return (await runPolicies(eksPolicies, result.resources, configFor(eksPolicies, stack))).violations;
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

const key = (v: PolicyViolation) => `${v.policy}|${v.urn}|${v.message}`;

describe("the stack settings that control the eks guardrails", () => {
    const rows: [string, string, (c: ReturnType<typeof parseDocument>) => void, "fires" | "goes quiet", string][] = [
        ["a public API endpoint open to 0.0.0.0/0", "dev", (c) => {
            c.setIn(["config", "mlmesh:cluster", "endpointPublicAccess"], true);
            c.setIn(["config", "mlmesh:cluster", "publicAccessCidrs"], ["0.0.0.0/0"]);
        }, "fires", "eks-endpoint-not-public"],
        ["no deployer role in `access`", "dev", (c) => {
            c.deleteIn(["config", "mlmesh:cluster", "access"]);
        }, "fires", "eks-access-entries"],
    ];
    for (const [setting, stack, edit, effect, policy] of rows) {
        it(`${setting} (${stack}): ${policy} ${effect}, and nothing else changes`, async () => {
            const before = (await runPolicies(eksPolicies, (await plannedStack(stack)).resources, configFor(eksPolicies, stack))).violations;
            const after = await planEdited(stack, edit);
            const added = after.filter((v) => !before.map(key).includes(key(v)));
            const removed = before.filter((v) => !after.map(key).includes(key(v)));
            const [changed, unchanged] = effect === "fires" ? [added, removed] : [removed, added];
            assert.ok(changed.length > 0, `${policy} did not ${effect === "fires" ? "fire" : "go quiet"}`);
            assert.deepEqual([...new Set(changed.map((v) => v.policy))], [policy]);
            assert.deepEqual(unchanged, []);
        });
    }
});

describe("a pulumi-eks component whose inputs reach the pack empty (pulumi-eks 4.3.0's SDK sends {})", () => {
    it("is left to the cluster it creates: no eks policy reports on `{}`", async () => {
        const empty = named("eks:index:Cluster", "ml", {});
        for (const policy of eksPolicies.filter((p) => "validateResource" in p)) {
            assert.deepEqual(await violationsOf(policy, empty), [], policy.name);
        }
    });
});
