import * as assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { parseDocument } from "yaml";
import { plan } from "../../offline/plan";
import { runPolicies, UNKNOWN_PLACEHOLDER, type PolicyConfig, type PolicyViolation } from "../../offline/policyRunner";
import type { RecordedResource } from "../../offline/recorder";
import { kmsKeyPolicyExplicit, kmsRotation, lifecyclePolicies, statefulProtected } from "../../policy-pack/lifecycle";
import { plannedStack } from "../offline/fixtures/plannedStack";
import { environmentConfig, resource, violationsOf } from "./harness";

type AnyPolicy = ResourceValidationPolicy | StackValidationPolicy;

const named = (type: string, name: string, props: Record<string, unknown>, extra: Partial<RecordedResource> = {}) =>
    resource(type, props, { name, urn: `urn:pulumi:test::mlmesh::${type}::${name}`, ...extra });
const protect = { options: { protect: true } };

const doc = (...statements: Record<string, unknown>[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });
const ROOT_ALL = { Sid: "EnableIamPolicies", Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:root" }, Action: "kms:*", Resource: "*" };
const ADMINS = { Sid: "KeyAdministrators", Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:role/deployer" }, Action: ["kms:Describe*", "kms:Put*", "kms:ScheduleKeyDeletion"], Resource: "*" };
const USERS = { Sid: "ClusterEncryptsSecrets", Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:role/control-plane" }, Action: ["kms:Encrypt", "kms:Decrypt"], Resource: "*" };

/** The cluster's secrets key as mlmesh makes it in prod. */
const key = (props: Record<string, unknown> = {}, extra: Partial<RecordedResource> = protect) => named("aws:kms/key:Key", "secrets-key", {
    description: "secrets", enableKeyRotation: true, deletionWindowInDays: 30, policy: doc(ADMINS, USERS), ...props,
}, extra);

const only = (policy: AnyPolicy, settings: Record<string, unknown>): PolicyConfig => ({ [policy.name]: { enforcementLevel: "mandatory", ...settings } });
const messages = (violations: PolicyViolation[]) => violations.map((v) => v.message);

describe("stateful-protected", () => {
    const stateful: [string, RecordedResource, RecordedResource, RegExp][] = [
        ["the eks component", named("eks:index:Cluster", "eks", { deletionProtection: true }, protect), named("eks:index:Cluster", "eks", { deletionProtection: false }), /neither the `protect` option nor `deletionProtection` is set/],
        ["a KMS key", key(), key({}, {}), /aws:kms\/key:Key secrets-key: the `protect` option is not set/],
        ["a SageMaker endpoint", named("aws:sagemaker/endpoint:Endpoint", "ep", { endpointConfigName: "c" }, protect), named("aws:sagemaker/endpoint:Endpoint", "ep", { endpointConfigName: "c" }), /ep: the `protect` option/],
        ["the VPC", named("aws:ec2/vpc:Vpc", "vpc", { cidrBlock: "10.0.0.0/16" }, protect), named("aws:ec2/vpc:Vpc", "vpc", { cidrBlock: "10.0.0.0/16" }), /vpc: the `protect` option/],
    ];
    for (const [what, protectedOne, unprotected, message] of stateful) {
        it(`passes ${what} created with \`protect\`, and refuses it without`, async () => {
            assert.deepEqual(await violationsOf(statefulProtected, protectedOne), []);
            const found = await violationsOf(statefulProtected, unprotected);
            assert.equal(found.length, 1);
            assert.match(found[0].message, message);
        });
    }
    it("counts the cluster's own deletion protection, on the component and the raw cluster", async () => {
        assert.deepEqual(await violationsOf(statefulProtected, [named("eks:index:Cluster", "eks", { deletionProtection: true }), named("aws:eks/cluster:Cluster", "raw", { deletionProtection: true })]), []);
    });
    it("takes the protected types from config, and the environment relaxes it to advisory", async () => {
        const bucket = named("aws:s3/bucket:Bucket", "models", {});
        assert.deepEqual(await violationsOf(statefulProtected, bucket), []);
        assert.equal((await violationsOf(statefulProtected, bucket, only(statefulProtected, { resourceTypes: ["aws:s3/bucket:Bucket"] }))).length, 1);
        assert.deepEqual((await violationsOf(statefulProtected, key({}, {}), { "stateful-protected": "advisory" })).map((v) => v.level), ["advisory"]);
    });
});

describe("kms-rotation", () => {
    const mandatory = only(kmsRotation, {});
    it("passes a rotating symmetric key", async () => {
        assert.deepEqual(await violationsOf(kmsRotation, key(), mandatory), []);
    });
    it("refuses a key without rotation", async () => {
        assert.match(messages(await violationsOf(kmsRotation, key({ enableKeyRotation: undefined }), mandatory))[0], /`enableKeyRotation` is unset \(off\); set it to true/);
        assert.match(messages(await violationsOf(kmsRotation, key({ enableKeyRotation: false }), mandatory))[0], /is false/);
    });
    it("refuses a rotation period longer than config allows", async () => {
        assert.match(messages(await violationsOf(kmsRotation, key({ rotationPeriodInDays: 730 }), mandatory))[0], /`rotationPeriodInDays` is 730 \(at most 365\)/);
        assert.deepEqual(await violationsOf(kmsRotation, key({ rotationPeriodInDays: 730 }), only(kmsRotation, { maxRotationPeriodDays: 730 })), []);
    });
    const cannotRotate: [string, Record<string, unknown>][] = [
        ["an asymmetric key", { customerMasterKeySpec: "RSA_2048", keyUsage: "SIGN_VERIFY" }],
        ["an HMAC key", { customerMasterKeySpec: "HMAC_256", keyUsage: "GENERATE_VERIFY_MAC" }],
        ["a key in a custom key store", { customKeyStoreId: "cks-1" }],
    ];
    for (const [what, props] of cannotRotate) {
        it(`does not judge ${what}, which KMS cannot rotate`, async () => {
            assert.deepEqual(await violationsOf(kmsRotation, key({ ...props, enableKeyRotation: false }), mandatory), []);
        });
    }
    it("remediates by turning rotation on, keeping every other prop", async () => {
        const off = key({ enableKeyRotation: false });
        const run = await runPolicies([kmsRotation], [off], {});
        assert.deepEqual([run.violations, run.remediations.map((r) => [r.policy, r.after])], [[], [["kms-rotation", { ...off.inputs, enableKeyRotation: true }]]]);
    });
    it("remediates nothing it cannot rotate, or another type", async () => {
        const run = await runPolicies([kmsRotation], [key({ customKeyStoreId: "cks-1", enableKeyRotation: false }), named("aws:ec2/vpc:Vpc", "vpc", {})], {});
        assert.deepEqual(run.remediations, []);
    });
});

describe("kms-key-policy-explicit", () => {
    it("passes a key whose policy names its administrators and users", async () => {
        assert.deepEqual(await violationsOf(kmsKeyPolicyExplicit, key()), []);
    });
    it("refuses a key without a policy (KMS's default)", async () => {
        assert.match(messages(await violationsOf(kmsKeyPolicyExplicit, key({ policy: undefined })))[0], /secrets-key: no `policy`, so KMS applies the default key policy/);
    });
    it("refuses a policy that only writes out the default root statement", async () => {
        assert.match(messages(await violationsOf(kmsKeyPolicyExplicit, key({ policy: doc(ROOT_ALL) })))[0], /only repeats the default/);
        assert.deepEqual(await violationsOf(kmsKeyPolicyExplicit, key({ policy: doc(ROOT_ALL, ADMINS) })), []);
    });
    it("counts a policy attached with aws:kms/keyPolicy", async () => {
        const bare = key({ policy: undefined });
        assert.deepEqual(await violationsOf(kmsKeyPolicyExplicit, [bare, named("aws:kms/keyPolicy:KeyPolicy", "secrets-key-policy", { keyId: "k", policy: doc(ADMINS, USERS) }, { dependencies: [bare.urn] })]), []);
    });
    it("leaves a policy unknown during preview to the update", async () => {
        assert.deepEqual(await violationsOf(kmsKeyPolicyExplicit, key({ policy: UNKNOWN_PLACEHOLDER })), []);
    });
    it("does not apply to a stack without keys", async () => {
        assert.deepEqual(await violationsOf(kmsKeyPolicyExplicit, named("aws:ec2/vpc:Vpc", "vpc", {})), []);
    });
});

function configFor(policies: readonly AnyPolicy[], environment: string): PolicyConfig {
    return environmentConfig(environment, policies);
}

const run = async (resources: readonly RecordedResource[], environment: string) => (await runPolicies(lifecyclePolicies, resources, configFor(lifecyclePolicies, environment))).violations;

describe("the lifecycle policies over the committed stacks", () => {
    for (const stack of ["dev", "prod"]) {
        it(`find no mandatory violation in ${stack} under its environment's config`, async () => {
            const violations = await run((await plannedStack(stack)).resources, stack);
            assert.deepEqual(violations.filter((v) => v.level === "mandatory").map((v) => `${v.policy}: ${v.message}`), []);
        });
    }
});

describe("the stack settings that control the lifecycle guardrails", () => {
    it("`mlmesh:environment` other than prod, planned under prod's policy config: stateful-protected fires on the cluster, its key, its VPC and the SageMaker endpoint and its key, and nothing else changes", async () => {
        const dir = mkdtempSync(path.join(tmpdir(), "mlmesh-lifecycle-prod-"));
        const document = parseDocument(readFileSync(path.join(__dirname, "..", "..", "stacks", "Pulumi.prod.yaml"), "utf8"));
        document.setIn(["config", "mlmesh:environment"], "staging");
        const configFile = path.join(dir, "Pulumi.prod.yaml");
        writeFileSync(configFile, document.toString());
        const before = await run((await plannedStack("prod")).resources, "prod");
        const after = await run((await plan({ stack: "prod", configFile, outDir: path.join(dir, "out") }).finally(() => rmSync(dir, { recursive: true, force: true }))).resources, "prod");
        const key = (v: PolicyViolation) => `${v.policy}|${v.urn}|${v.message}`;
        const added = after.filter((v) => !before.map(key).includes(key(v)));
        assert.deepEqual([added.map((v) => `${v.policy} ${v.urn?.split("::").pop()}`).sort(), before.filter((v) => !after.map(key).includes(key(v)))], [
            [
                "stateful-protected mlmesh-prod-cluster-eks", "stateful-protected mlmesh-prod-cluster-secrets-key",
                "stateful-protected mlmesh-prod-ml-tabular-churn-sm-endpoint", "stateful-protected mlmesh-prod-ml-tabular-churn-sm-key",
                "stateful-protected mlmesh-prod-network-vpc",
            ], [],
        ]);
    });
});
