import * as assert from "node:assert/strict";
import { keyAdministrators, secretsKeyPolicy } from "../../../components/cluster/secretsKeyPolicy";
import type { PolicyDocument } from "../../../components/cluster/irsaServiceAccount";
import { ACCOUNT_ID, decideFor, type AwsCall, type Decision } from "../../iamSimulation";

const role = (name: string) => `arn:aws:iam::${ACCOUNT_ID}:role/${name}`;
const DEPLOYER = role("mlmesh-prod-deployer");
const BREAK_GLASS = role("platform/break-glass");
const SERVICE_ROLE = role("mlmesh-prod-control-plane-1a2b3c");
/** An IAM administrator of the account who is not a cluster admin. */
const OTHER_ADMIN = role("OrganizationAccountAccessRole");
const KEY = `arn:aws:kms:us-west-2:${ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

/** Full KMS rights in IAM: what an account administrator holds. */
const KMS_ADMIN_IAM: PolicyDocument = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "kms:*", Resource: "*" }] };
const NO_IAM: PolicyDocument = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "sts:GetCallerIdentity", Resource: "*" }] };

const protectedPolicy = secretsKeyPolicy({ partition: "aws", accountId: ACCOUNT_ID, serviceRoleArn: SERVICE_ROLE, administrators: [DEPLOYER, BREAK_GLASS] });
const call = (action: string, resourcePolicy: PolicyDocument, context: AwsCall["context"] = {}): AwsCall => ({
    api: action.replace("kms:", ""), action, resource: KEY, resourcePolicy, context, source: "https://docs.aws.amazon.com/kms/latest/APIReference/",
});

describe("secretsKeyPolicy", () => {
    const cases: { who: string; principal: string; iam: PolicyDocument; action: string; context?: AwsCall["context"]; expected: Decision }[] = [
        { who: "the deployer", principal: DEPLOYER, iam: KMS_ADMIN_IAM, action: "kms:ScheduleKeyDeletion", expected: "Allowed" },
        { who: "the deployer", principal: DEPLOYER, iam: KMS_ADMIN_IAM, action: "kms:PutKeyPolicy", expected: "Allowed" },
        { who: "a break-glass admin (role with a path)", principal: BREAK_GLASS, iam: KMS_ADMIN_IAM, action: "kms:DisableKey", expected: "Allowed" },
        { who: "an account administrator who is not a cluster admin", principal: OTHER_ADMIN, iam: KMS_ADMIN_IAM, action: "kms:ScheduleKeyDeletion", expected: "ExplicitlyDenied" },
        { who: "an account administrator who is not a cluster admin", principal: OTHER_ADMIN, iam: KMS_ADMIN_IAM, action: "kms:DisableKey", expected: "ExplicitlyDenied" },
        { who: "an account administrator who is not a cluster admin", principal: OTHER_ADMIN, iam: KMS_ADMIN_IAM, action: "kms:PutKeyPolicy", expected: "ImplicitlyDenied" },
        { who: "an account administrator who is not a cluster admin", principal: OTHER_ADMIN, iam: KMS_ADMIN_IAM, action: "kms:Decrypt", expected: "ImplicitlyDenied" },
        { who: "the deployer (administrators do not decrypt)", principal: DEPLOYER, iam: KMS_ADMIN_IAM, action: "kms:Decrypt", expected: "ImplicitlyDenied" },
        { who: "the EKS service role, with no IAM policy of its own", principal: SERVICE_ROLE, iam: NO_IAM, action: "kms:Encrypt", expected: "Allowed" },
        { who: "the EKS service role, with no IAM policy of its own", principal: SERVICE_ROLE, iam: NO_IAM, action: "kms:Decrypt", expected: "Allowed" },
        { who: "the EKS service role, with no IAM policy of its own", principal: SERVICE_ROLE, iam: NO_IAM, action: "kms:DescribeKey", expected: "Allowed" },
        { who: "the EKS service role, granting to an AWS resource", principal: SERVICE_ROLE, iam: NO_IAM, action: "kms:CreateGrant", context: { "kms:GrantIsForAWSResource": "true" }, expected: "Allowed" },
        { who: "the EKS service role, granting to anyone else", principal: SERVICE_ROLE, iam: NO_IAM, action: "kms:CreateGrant", expected: "ImplicitlyDenied" },
        { who: "the EKS service role", principal: SERVICE_ROLE, iam: NO_IAM, action: "kms:ScheduleKeyDeletion", expected: "ExplicitlyDenied" },
    ];
    for (const c of cases) {
        it(`${c.expected === "Allowed" ? "allows" : "refuses"} ${c.action} by ${c.who}`, async () => {
            assert.equal(await decideFor(c.principal, c.iam, call(c.action, protectedPolicy, c.context)), c.expected);
        });
    }

    it("lets the deployer, who creates the key, put its policy (KMS's lockout check passes)", async () => {
        assert.equal(await decideFor(DEPLOYER, KMS_ADMIN_IAM, call("kms:PutKeyPolicy", protectedPolicy)), "Allowed");
    });

    describe("with no administrators configured (allowed outside prod)", () => {
        const open = secretsKeyPolicy({ partition: "aws", accountId: ACCOUNT_ID, serviceRoleArn: SERVICE_ROLE, administrators: [] });
        it("leaves administration to IAM, so whoever runs `pulumi up` can create and later delete the key", async () => {
            assert.equal(await decideFor(OTHER_ADMIN, KMS_ADMIN_IAM, call("kms:PutKeyPolicy", open)), "Allowed");
            assert.equal(await decideFor(OTHER_ADMIN, KMS_ADMIN_IAM, call("kms:ScheduleKeyDeletion", open)), "Allowed");
        });
        it("still keeps encryption to the control plane", async () => {
            assert.equal(await decideFor(OTHER_ADMIN, KMS_ADMIN_IAM, call("kms:Decrypt", open)), "ImplicitlyDenied");
            assert.equal(await decideFor(SERVICE_ROLE, NO_IAM, call("kms:Decrypt", open)), "Allowed");
        });
    });

    describe("keyAdministrators", () => {
        const CI = role("github-actions-runner");
        it("lists the deployer, the cluster admins and the identity running `pulumi up`", () => {
            assert.deepEqual(keyAdministrators({ deployerRoleArn: DEPLOYER, clusterAdmins: [BREAK_GLASS] }, CI), [DEPLOYER, BREAK_GLASS, CI]);
        });
        it("lists the deployer once when it runs `pulumi up` itself", () => {
            assert.deepEqual(keyAdministrators({ deployerRoleArn: DEPLOYER }, DEPLOYER), [DEPLOYER]);
        });
        it("leaves administration to IAM when no one is configured", () => assert.deepEqual(keyAdministrators(undefined, CI), []));
        it("lets a CI identity that only assumes the deployer for Kubernetes create and manage the key (KMS's lockout check)", async () => {
            const policy = secretsKeyPolicy({ partition: "aws", accountId: ACCOUNT_ID, serviceRoleArn: SERVICE_ROLE, administrators: keyAdministrators({ deployerRoleArn: DEPLOYER }, CI) });
            for (const action of ["kms:PutKeyPolicy", "kms:DescribeKey", "kms:CreateGrant"]) {
                assert.equal(await decideFor(CI, KMS_ADMIN_IAM, call(action, policy)), "Allowed", action);
            }
        });
    });
});
