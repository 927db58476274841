/**
 * The IAM guardrails: each rule on a happy-path document with one field changed, the verdicts
 * proved by a real policy evaluator (@cloud-copilot/iam-simulate, test-only), and the IAM
 * documents mlmesh renders in the committed stacks.
 */
import * as assert from "node:assert/strict";
import { runUnsafeSimulation } from "@cloud-copilot/iam-simulate";
import { runPolicies, UNKNOWN_PLACEHOLDER, type PolicyConfig } from "../../offline/policyRunner";
import type { RecordedResource } from "../../offline/recorder";
import { awsManagedPolicyName, iamNoBroadManagedPolicies, iamNoWildcardActions, iamPolicies, irsaTrustScoped } from "../../policy-pack/iam";
import { actionReach } from "../../policy-pack/iamDocument";
import { ACCOUNT_ID, decide, type Decision } from "../iamSimulation";
import { plannedStack } from "../offline/fixtures/plannedStack";
import { environmentConfig, violationsOf } from "./harness";

const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const ROLE = "aws:iam/role:Role";
const ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment";

function aws(type: string, name: string, inputs: Record<string, unknown>): RecordedResource {
    return { urn: `urn:pulumi:test::mlmesh::${type}::${name}`, type, name, custom: true, inputs, outputs: inputs, options: {}, dependencies: [], inputDependencies: [] };
}
const messages = async (...args: Parameters<typeof violationsOf>) => (await violationsOf(...args)).map((v) => v.message);

type Statement = Record<string, unknown>;
const document = (...statements: Statement[]) => ({ Version: "2012-10-17", Statement: statements });

/** A model server's permissions, as mlmesh writes them: read its prefixes, list only under them. */
const readModels = (): Statement[] => [
    { Sid: "ReadModelObjects", Effect: "Allow", Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::models/resnet/v1/*"] },
    { Sid: "ListModelPrefixes", Effect: "Allow", Action: ["s3:ListBucket"], Resource: ["arn:aws:s3:::models"], Condition: { StringLike: { "s3:prefix": ["resnet/v1/", "resnet/v1/*"] } } },
];
/** The happy path with statement 0's `field` replaced. */
const changed = (field: string, value: unknown): Statement[] => readModels().map((s, i) => (i === 0 ? { ...s, [field]: value } : s));
const rolePolicy = (statements: Statement[] = readModels()) => aws(ROLE_POLICY, "resnet-s3-policy", { name: "workload-permissions", role: "resnet-s3", policy: JSON.stringify(document(...statements)) });

describe("iam-no-wildcard-actions", () => {
    it("passes the permissions mlmesh writes for a model server", async () => {
        assert.deepEqual(await messages(iamNoWildcardActions, rolePolicy()), []);
    });
    const refused: [string, unknown, RegExp][] = [
        ["every action of a service", "s3:*", /`policy\.Statement\[0\]\.Action` \("s3:\*"\) allows every action of s3, including those AWS adds later\. List the actions/],
        ["every action of a service, in another case", "S3:*", /allows every action of s3/],
        ["every action", "*", /allows every action of every service/],
        ["every action, as *:*", ["s3:GetObject", "*:*"], /\("\*:\*"\) allows every action of every service/],
        ["a wildcard in the service prefix", "*:Get*", /allows actions of every service matching `\*`, not one named service/],
        ["a service-wide pattern of question marks", "s3:?*", /allows every action of s3/],
    ];
    for (const [name, action, expected] of refused) {
        it(`refuses ${name}: ${JSON.stringify(action)}`, async () => {
            const found = await messages(iamNoWildcardActions, rolePolicy(changed("Action", action)));
            assert.deepEqual(found.map((m) => expected.test(m)), [true], found.join("\n"));
        });
    }
    it("refuses Allow with NotAction, which grants everything it does not list", async () => {
        const statement = { Effect: "Allow", NotAction: ["iam:*", "organizations:*"], Resource: "*" };
        assert.deepEqual(await messages(iamNoWildcardActions, rolePolicy([...readModels(), statement])), [
            "RolePolicy resnet-s3-policy: `policy.Statement[2].NotAction` (\"iam:*, organizations:*\") allows every action of every service except iam:*, organizations:*. Allow the actions meant by name in `Action` instead; keep NotAction for Deny statements.",
        ]);
    });
    it("passes a partial wildcard such as s3:Get*, which names a family of actions (AWS Config judges it so too)", async () => {
        assert.deepEqual(await messages(iamNoWildcardActions, rolePolicy(changed("Action", ["s3:Get*", "s3:List*"]))), []);
    });
    it("passes Deny statements, which grant nothing, wildcards and NotAction included", async () => {
        const denies = [{ Effect: "Deny", Action: "*", Resource: "*", Condition: { Bool: { "aws:SecureTransport": "false" } } }, { Effect: "Deny", NotAction: "s3:GetObject", Resource: "*" }];
        assert.deepEqual(await messages(iamNoWildcardActions, rolePolicy([...readModels(), ...denies])), []);
    });
    it("does not let a Deny excuse a wildcard Allow", async () => {
        const statements = [...changed("Action", "s3:*"), { Effect: "Deny", Action: "s3:Delete*", Resource: "*" }];
        assert.equal((await messages(iamNoWildcardActions, rolePolicy(statements))).length, 1);
    });
    it("reads a single statement object, and a document given as an object rather than a string", async () => {
        const single = aws(ROLE_POLICY, "p", { policy: JSON.stringify({ Version: "2012-10-17", Statement: { Effect: "Allow", Action: "s3:*", Resource: "*" } }) });
        assert.match((await messages(iamNoWildcardActions, single))[0], /`policy\.Statement\.Action` \("s3:\*"\)/);
        const object = aws(ROLE_POLICY, "p", { policy: document(...changed("Action", "s3:*")) });
        assert.equal((await messages(iamNoWildcardActions, object)).length, 1);
    });
    it("refuses a document that is not JSON, which it cannot judge and AWS refuses", async () => {
        assert.deepEqual(await messages(iamNoWildcardActions, aws(ROLE_POLICY, "p", { policy: "{ \"Statement\": [" })), [
            "RolePolicy p: `policy` is not JSON, so AWS refuses it as a malformed policy document; write it as a JSON policy document with a Statement list.",
        ]);
    });
    it("judges customer managed policies, user and group policies, and a role's inline policies", async () => {
        const wildcard = JSON.stringify(document(...changed("Action", "sagemaker:*")));
        for (const type of ["aws:iam/policy:Policy", "aws:iam/userPolicy:UserPolicy", "aws:iam/groupPolicy:GroupPolicy"]) {
            assert.equal((await messages(iamNoWildcardActions, aws(type, "p", { policy: wildcard }))).length, 1, type);
        }
        const role = aws(ROLE, "r", { assumeRolePolicy: "{}", inlinePolicies: [{ name: "ok", policy: rolePolicy().inputs.policy }, { name: "broad", policy: wildcard }] });
        assert.match((await messages(iamNoWildcardActions, role))[0], /^Role r: `inlinePolicies\[1\]\.policy\.Statement\[0\]\.Action` \("sagemaker:\*"\)/);
    });
    it("leaves resource policies to their own rules (an S3 bucket policy, a KMS key policy)", async () => {
        const broad = JSON.stringify(document({ Effect: "Allow", Principal: { AWS: "*" }, Action: "s3:*", Resource: "*" }));
        assert.deepEqual(await messages(iamNoWildcardActions, [aws("aws:s3/bucketPolicy:BucketPolicy", "b", { policy: broad }), aws("aws:kms/key:Key", "k", { policy: broad })]), []);
    });
    it("accepts the service-wide patterns its config exempts", async () => {
        const config: PolicyConfig = { "iam-no-wildcard-actions": { enforcementLevel: "mandatory", allowedWildcardActions: ["LOGS:*"] } };
        assert.deepEqual(await messages(iamNoWildcardActions, rolePolicy(changed("Action", "logs:*")), config), []);
        assert.equal((await messages(iamNoWildcardActions, rolePolicy(changed("Action", "s3:*")), config)).length, 1);
    });
    it("cannot judge a document unknown during preview, and says so at advisory level", async () => {
        const violations = await violationsOf(iamNoWildcardActions, aws(ROLE_POLICY, "p", { policy: UNKNOWN_PLACEHOLDER }));
        assert.deepEqual(violations.map((v) => [v.level, /can't run policy 'iam-no-wildcard-actions' during preview/.test(v.message)]), [["advisory", true]]);
    });
});

describe("how action patterns are judged", () => {
    const table: [string, string | undefined][] = [
        ["*", "every-service"], ["**", "every-service"], ["*:*", "every-service"], ["s3:*", "service"], ["ec2:*", "service"], ["S3:*", "service"],
        ["s3*:*", "service-wildcard"], ["*:GetObject", "service-wildcard"], ["s3*", "service-wildcard"],
        ["s3:GetObject", undefined], ["s3:Get*", undefined], ["s3:*Object", undefined], ["s3:?", undefined], ["ec2:Describe*", undefined],
    ];
    for (const [pattern, kind] of table) {
        it(`${pattern} → ${kind ?? "named actions"}`, () => assert.equal(actionReach(pattern)?.kind, kind));
    }
});

describe("the wildcard verdicts, proved by the IAM evaluator", () => {
    const allow = (action: unknown) => document({ Effect: "Allow", Action: action, Resource: "*" });
    const probe = async (policy: object, action: string, resource: string) => decide(policy as never, { api: action, action, resource, source: "test" });
    // [policy, an action outside what the workload needs, what AWS decides, whether the rule fires]
    const cases: [string, object, string, string, Decision, boolean][] = [
        ["s3:* grants bucket policy changes", allow("s3:*"), "s3:PutBucketPolicy", "arn:aws:s3:::models", "Allowed", true],
        ["* grants creating roles", allow("*"), "iam:CreateRole", `arn:aws:iam::${ACCOUNT_ID}:role/x`, "Allowed", true],
        ["Allow NotAction s3:* grants creating roles", document({ Effect: "Allow", NotAction: "s3:*", Resource: "*" }), "iam:CreateRole", `arn:aws:iam::${ACCOUNT_ID}:role/x`, "Allowed", true],
        ["s3:Get* does not grant bucket policy changes", allow("s3:Get*"), "s3:PutBucketPolicy", "arn:aws:s3:::models", "ImplicitlyDenied", false],
    ];
    for (const [name, policy, action, resource, decision, fires] of cases) {
        it(name, async () => {
            assert.equal(await probe(policy, action, resource), decision);
            assert.equal((await messages(iamNoWildcardActions, aws(ROLE_POLICY, "p", { policy: JSON.stringify(policy) }))).length > 0, fires);
        });
    }
    it("finds that no identity policy mlmesh renders in dev grants an action of another service's administration", async () => {
        const probes: [string, string][] = [
            ["iam:CreateRole", `arn:aws:iam::${ACCOUNT_ID}:role/x`], ["iam:PassRole", `arn:aws:iam::${ACCOUNT_ID}:role/x`], ["s3:DeleteBucket", "arn:aws:s3:::models"],
            ["s3:PutBucketPolicy", "arn:aws:s3:::models"], ["ecr:PutImage", `arn:aws:ecr:us-west-2:${ACCOUNT_ID}:repository/fraud`],
            ["sagemaker:DeleteEndpoint", `arn:aws:sagemaker:us-west-2:${ACCOUNT_ID}:endpoint/ml-tabular-fraud-sm-d1be61ce`], ["kms:ScheduleKeyDeletion", `arn:aws:kms:us-west-2:${ACCOUNT_ID}:key/x`],
        ];
        const documents = (await plannedStack("dev")).resources.filter((r) => r.type === ROLE_POLICY);
        assert.ok(documents.length >= 5);
        for (const r of documents) {
            for (const [action, resource] of probes) {
                assert.equal(await probe(JSON.parse(String(r.inputs.policy)), action, resource), "ImplicitlyDenied", `${r.name}: ${action}`);
            }
        }
    });
});

describe("iam-no-broad-managed-policies", () => {
    const attachment = (policyArn: string) => aws(ATTACHMENT, "nodes-policy", { role: "nodes", policyArn });
    it("passes an AWS managed policy for one purpose", async () => {
        assert.deepEqual(await messages(iamNoBroadManagedPolicies, attachment("arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy")), []);
    });
    for (const name of ["AdministratorAccess", "PowerUserAccess", "IAMFullAccess", "AmazonSageMakerFullAccess", "AmazonS3FullAccess", "AmazonDynamoDBFullAccess"]) {
        it(`refuses ${name}`, async () => {
            assert.deepEqual(await messages(iamNoBroadManagedPolicies, attachment(`arn:aws:iam::aws:policy/${name}`)), [
                `RolePolicyAttachment nodes-policy: \`policyArn\` attaches the AWS managed policy ${name} (arn:aws:iam::aws:policy/${name}), which grants far more than one workload needs; detach it and grant the actions and resources the workload uses in an inline policy.`,
            ]);
        });
    }
    it("refuses one on a path, in another partition", async () => {
        assert.equal((await messages(iamNoBroadManagedPolicies, attachment("arn:aws-cn:iam::aws:policy/job-function/SystemAdministrator"))).length, 1);
    });
    it("refuses one in a role's managedPolicyArns, naming the entry", async () => {
        const role = aws(ROLE, "fraud-sm", { assumeRolePolicy: "{}", managedPolicyArns: ["arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy", "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"] });
        assert.match((await messages(iamNoBroadManagedPolicies, role))[0], /^Role fraud-sm: `managedPolicyArns\[1\]` attaches the AWS managed policy AmazonSageMakerFullAccess/);
    });
    it("refuses one in an exclusive attachment list, and through user, group and legacy attachments", async () => {
        const arn = "arn:aws:iam::aws:policy/AdministratorAccess";
        const resources = [
            aws("aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive", "a", { roleName: "r", policyArns: [arn] }),
            aws("aws:iam/userPolicyAttachment:UserPolicyAttachment", "b", { user: "u", policyArn: arn }),
            aws("aws:iam/groupPolicyAttachment:GroupPolicyAttachment", "c", { group: "g", policyArn: arn }),
            aws("aws:iam/policyAttachment:PolicyAttachment", "d", { roles: ["r"], policyArn: arn }),
        ];
        assert.equal((await messages(iamNoBroadManagedPolicies, resources)).length, 4);
    });
    it("passes a customer managed policy, whatever its name: its document is iam-no-wildcard-actions' to judge", async () => {
        assert.deepEqual(await messages(iamNoBroadManagedPolicies, attachment(`arn:aws:iam::${ACCOUNT_ID}:policy/AdministratorAccess`)), []);
    });
    it("takes its lists from config: FullAccess by name off, and an exemption", async () => {
        const config: PolicyConfig = { "iam-no-broad-managed-policies": { enforcementLevel: "mandatory", forbidFullAccessPolicies: false, allowedPolicyArns: ["arn:aws:iam::aws:policy/AmazonS3FullAccess"] } };
        assert.deepEqual(await messages(iamNoBroadManagedPolicies, attachment("arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"), config), []);
        assert.deepEqual(await messages(iamNoBroadManagedPolicies, attachment("arn:aws:iam::aws:policy/AmazonS3FullAccess"), config), []);
        assert.equal((await messages(iamNoBroadManagedPolicies, attachment("arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"), config)).length, 1);
    });
    it("passes, in preview, a policy created in the stack, whose ARN is unknown until then", async () => {
        assert.deepEqual(await violationsOf(iamNoBroadManagedPolicies, attachment(UNKNOWN_PLACEHOLDER)), []);
        const role = aws(ROLE, "r", { assumeRolePolicy: "{}", managedPolicyArns: ["arn:aws:iam::aws:policy/AdministratorAccess", UNKNOWN_PLACEHOLDER] });
        assert.deepEqual((await violationsOf(iamNoBroadManagedPolicies, role)).map((v) => [v.level, v.message.split(":")[0]]), [["mandatory", "Role r"]]);
    });
    it("cannot judge a managedPolicyArns list unknown as a whole, and says so at advisory level", async () => {
        const violations = await violationsOf(iamNoBroadManagedPolicies, aws(ROLE, "r", { assumeRolePolicy: "{}", managedPolicyArns: UNKNOWN_PLACEHOLDER }));
        assert.deepEqual(violations.map((v) => [v.level, /during preview/.test(v.message)]), [["advisory", true]]);
    });
    it("does not apply to a role policy document", async () => {
        assert.deepEqual(await messages(iamNoBroadManagedPolicies, rolePolicy()), []);
    });
    it("reads AWS managed policy names from their ARNs only", () => {
        assert.deepEqual(["arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws-us-gov:iam::aws:policy/job-function/DataScientist", `arn:aws:iam::${ACCOUNT_ID}:policy/x`].map(awsManagedPolicyName), ["AdministratorAccess", "DataScientist", undefined]);
    });
});

const ISSUER = "oidc.eks.us-west-2.amazonaws.com/id/25CE8C9A7D14DB62A72B8F52EEF54D91";
const PROVIDER = `arn:aws:iam::${ACCOUNT_ID}:oidc-provider/${ISSUER}`;
/** The trust policy mlmesh's IrsaServiceAccount writes, with `condition` in place of its StringEquals when given. */
const trust = (condition: Record<string, unknown> = { StringEquals: { [`${ISSUER}:sub`]: "system:serviceaccount:ml-serving:resnet-tfserving", [`${ISSUER}:aud`]: "sts.amazonaws.com" } }, issuer = ISSUER) =>
    document({ Effect: "Allow", Principal: { Federated: `arn:aws:iam::${ACCOUNT_ID}:oidc-provider/${issuer}` }, Action: "sts:AssumeRoleWithWebIdentity", Condition: condition });
const role = (policy: object = trust()) => aws(ROLE, "resnet-s3-role", { assumeRolePolicy: JSON.stringify(policy) });

describe("irsa-trust-scoped", () => {
    it("passes the trust policy mlmesh writes: one service account, STS's audience", async () => {
        assert.deepEqual(await messages(irsaTrustScoped, role()), []);
    });
    it("passes StringLike without a wildcard, and a list of specific service accounts", async () => {
        assert.deepEqual(await messages(irsaTrustScoped, role(trust({ StringLike: { [`${ISSUER}:sub`]: "system:serviceaccount:ml:a" }, StringEquals: { [`${ISSUER}:aud`]: "sts.amazonaws.com" } }))), []);
        assert.deepEqual(await messages(irsaTrustScoped, role(trust({ StringEquals: { [`${ISSUER}:sub`]: ["system:serviceaccount:ml:a", "system:serviceaccount:ml:b"], [`${ISSUER}:aud`]: "sts.amazonaws.com" } }))), []);
    });
    const refused: [string, Record<string, unknown>, RegExp][] = [
        ["no condition on sub", { StringEquals: { [`${ISSUER}:aud`]: "sts.amazonaws.com" } }, /has no StringEquals condition on `oidc\.eks.*:sub`, so every service account in the cluster can assume the role/],
        ["every service account of a namespace", { StringLike: { [`${ISSUER}:sub`]: "system:serviceaccount:ml-serving:*" }, StringEquals: { [`${ISSUER}:aud`]: "sts.amazonaws.com" } }, /on StringLike "system:serviceaccount:ml-serving:\*", which does not name exactly one service account/],
        ["a subject that is not a service account", { StringEquals: { [`${ISSUER}:sub`]: "system:serviceaccount:ml-serving", [`${ISSUER}:aud`]: "sts.amazonaws.com" } }, /does not name exactly one service account/],
        ["the sub of another issuer", { StringEquals: { "oidc.eks.us-west-2.amazonaws.com/id/OTHER:sub": "system:serviceaccount:ml:a", [`${ISSUER}:aud`]: "sts.amazonaws.com" } }, /has no StringEquals condition on `oidc\.eks.*25CE8C9A7D14DB62A72B8F52EEF54D91:sub`/],
        ["a negated condition", { StringNotEquals: { [`${ISSUER}:sub`]: "system:serviceaccount:kube-system:admin" }, StringEquals: { [`${ISSUER}:aud`]: "sts.amazonaws.com" } }, /has no StringEquals condition on/],
        ["no condition on aud", { StringEquals: { [`${ISSUER}:sub`]: "system:serviceaccount:ml:a" } }, /has no StringEquals condition on `oidc\.eks.*:aud` to sts\.amazonaws\.com/],
        ["another audience", { StringEquals: { [`${ISSUER}:sub`]: "system:serviceaccount:ml:a", [`${ISSUER}:aud`]: "vault" } }, /does not pin `oidc\.eks.*:aud` to sts\.amazonaws\.com/],
    ];
    for (const [name, condition, expected] of refused) {
        it(`refuses ${name}`, async () => {
            const found = await messages(irsaTrustScoped, role(trust(condition)));
            assert.deepEqual(found.map((m) => expected.test(m) && m.startsWith("Role resnet-s3-role: `assumeRolePolicy.Statement[0]` trusts the OIDC provider ")), [true], found.join("\n"));
        });
    }
    it("holds other OIDC issuers to one specific subject too", async () => {
        const github = "token.actions.githubusercontent.com";
        const scoped = trust({ StringEquals: { [`${github}:sub`]: "repo:acme/mlmesh:ref:refs/heads/main", [`${github}:aud`]: "sts.amazonaws.com" } }, github);
        assert.deepEqual(await messages(irsaTrustScoped, role(scoped)), []);
        const wildcard = trust({ StringLike: { [`${github}:sub`]: "repo:acme/*" }, StringEquals: { [`${github}:aud`]: "sts.amazonaws.com" } }, github);
        assert.match((await messages(irsaTrustScoped, role(wildcard)))[0], /which is a pattern, not one subject/);
    });
    it("does not apply to roles trusted by AWS services, nor to other types", async () => {
        const service = document({ Effect: "Allow", Principal: { Service: "sagemaker.amazonaws.com" }, Action: "sts:AssumeRole" });
        assert.deepEqual(await messages(irsaTrustScoped, [role(service), rolePolicy()]), []);
    });
    it("takes the accepted audiences from config", async () => {
        const config: PolicyConfig = { "irsa-trust-scoped": { enforcementLevel: "mandatory", audiences: ["vault"] } };
        const vault = trust({ StringEquals: { [`${ISSUER}:sub`]: "system:serviceaccount:ml:a", [`${ISSUER}:aud`]: "vault" } });
        assert.deepEqual(await messages(irsaTrustScoped, role(vault), config), []);
        assert.equal((await messages(irsaTrustScoped, role(), config)).length, 1);
    });
    it("reads a trust policy given as an object", async () => {
        assert.equal((await messages(irsaTrustScoped, aws(ROLE, "r", { assumeRolePolicy: trust({}) }))).length, 2);
    });
});

describe("the trust verdicts, proved by the IAM evaluator", () => {
    // runSimulation drops context keys the action catalogue does not list for
    // sts:AssumeRoleWithWebIdentity, the OIDC provider's `sub` and `aud` among them; the unchecked
    // engine evaluates them. It takes the trust policy already loaded, named as runSimulation names it.
    const assume = (policy: object, subject: string) => runUnsafeSimulation({
        request: {
            principal: PROVIDER, action: "sts:AssumeRoleWithWebIdentity",
            resource: { resource: `arn:aws:iam::${ACCOUNT_ID}:role/resnet-s3`, accountId: ACCOUNT_ID },
            contextVariables: { [`${ISSUER}:sub`]: subject, [`${ISSUER}:aud`]: "sts.amazonaws.com" },
        },
        identityPolicies: [], resourcePolicy: { __validated: true, policyDocument: policy, metadata: { name: "trust" } }, serviceControlPolicies: [], resourceControlPolicies: [],
    }, {});
    const namespace = trust({ StringLike: { [`${ISSUER}:sub`]: "system:serviceaccount:ml-serving:*" }, StringEquals: { [`${ISSUER}:aud`]: "sts.amazonaws.com" } });
    const open = trust({ StringEquals: { [`${ISSUER}:aud`]: "sts.amazonaws.com" } });
    const cases: [string, object, string, boolean][] = [
        ["one service account: a neighbour is refused, and the rule passes", trust(), "ImplicitlyDenied", false],
        ["a namespace pattern: a neighbour gets in, and the rule fires", namespace, "Allowed", true],
        ["no sub condition: a neighbour gets in, and the rule fires", open, "Allowed", true],
    ];
    for (const [name, policy, neighbour, fires] of cases) {
        it(name, async () => {
            assert.equal(assume(policy, "system:serviceaccount:ml-serving:resnet-tfserving"), "Allowed");
            assert.equal(assume(policy, "system:serviceaccount:ml-serving:intruder"), neighbour);
            assert.equal((await messages(irsaTrustScoped, role(policy))).length > 0, fires);
        });
    }
});

describe("the IAM guardrails on the committed stacks", () => {
    for (const stack of ["dev", "prod"] as const) {
        it(`find nothing in ${stack}, at any level, under its environment's config`, async () => {
            const resources = (await plannedStack(stack)).resources;
            assert.ok(resources.filter((r) => r.type === ROLE).length >= 4);
            const run = await runPolicies(iamPolicies, resources, environmentConfig(stack, iamPolicies));
            assert.deepEqual(run.violations.map((v) => `${v.policy}: ${v.message}`), []);
        });
    }
});
