import * as assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { IrsaServiceAccount, type IrsaServiceAccountArgs } from "../../../components/cluster/irsaServiceAccount";
import type { RecordedResource, RecordedRun } from "../../../offline/recorder";
import { recordOffline } from "../../offline/fixtures/offlineRun";

const T = {
    role: "aws:iam/role:Role",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    attachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    serviceAccount: "kubernetes:core/v1:ServiceAccount",
    k8sProvider: "pulumi:providers:kubernetes",
} as const;

const OIDC = {
    oidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC",
    oidcProviderUrl: "https://oidc.eks.us-west-2.amazonaws.com/id/ABC",
};
const ISSUER = "oidc.eks.us-west-2.amazonaws.com/id/ABC";

const S3_READ_POLICY = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: ["s3:GetObject", "s3:ListBucket"], Resource: ["arn:aws:s3:::mlmesh-models", "arn:aws:s3:::mlmesh-models/*"] }],
});

type ArgsWithoutCluster = Omit<IrsaServiceAccountArgs, "cluster">;
const BASE_ARGS: ArgsWithoutCluster = { namespace: "ml-serving", serviceAccountName: "resnet", policy: S3_READ_POLICY };

/** A program with a Kubernetes provider `k` and the IRSA component `resnet-s3` built from `args`. */
const irsaProgram = (args: ArgsWithoutCluster) => () => {
    new IrsaServiceAccount("resnet-s3", { cluster: { ...OIDC, provider: new k8s.Provider("k", { kubeconfig: "{}" }) }, ...args });
};

interface Plan {
    readonly run: RecordedRun;
    of(type: string): RecordedResource[];
    /** The one resource of `type`. */
    one(type: string): RecordedResource;
}

async function planIrsa(overrides: Partial<ArgsWithoutCluster> = {}): Promise<Plan> {
    const run = await recordOffline(irsaProgram({ ...BASE_ARGS, ...overrides }));
    const of = (type: string) => run.resources.filter((r) => r.type === type);
    const one = (type: string) => {
        const found = of(type);
        assert.equal(found.length, 1, `expected one ${type}; found ${found.map((r) => r.name).join(", ") || "none"}`);
        return found[0];
    };
    return { run, of, one };
}

interface TrustStatement {
    Effect: string;
    Principal: Record<string, string>;
    Action: string;
    Condition: { StringEquals: Record<string, string> };
}

describe("IrsaServiceAccount with an inline policy", () => {
    let plan: Plan;
    /** The trust policy's only statement (asserting there is exactly one). */
    const trustStatement = (): TrustStatement => {
        const document = JSON.parse(String(plan.one(T.role).inputs.assumeRolePolicy)) as { Version: string; Statement: TrustStatement[] };
        assert.equal(document.Statement.length, 1);
        return document.Statement[0];
    };
    const serviceAccount = () => plan.one(T.serviceAccount);
    const metadata = () => serviceAccount().inputs.metadata as { name: string; namespace: string; annotations: Record<string, string> };

    before(async () => {
        plan = await planIrsa();
    });

    it("lets only the resnet service account in ml-serving, with the STS audience, assume the role", () => {
        assert.deepEqual(trustStatement().Condition, {
            StringEquals: { [`${ISSUER}:sub`]: "system:serviceaccount:ml-serving:resnet", [`${ISSUER}:aud`]: "sts.amazonaws.com" },
        });
    });

    it("trusts the cluster's OIDC provider as the federated principal for web identity", () => {
        const { Effect, Principal, Action } = trustStatement();
        assert.deepEqual({ Effect, Principal, Action }, { Effect: "Allow", Principal: { Federated: OIDC.oidcProviderArn }, Action: "sts:AssumeRoleWithWebIdentity" });
    });

    it("grants the given policy inline on the role", () => {
        const { role, policy } = plan.one(T.rolePolicy).inputs;
        assert.deepEqual({ role, policy }, { role: plan.one(T.role).outputs.name, policy: S3_READ_POLICY });
    });

    it("attaches no managed policy when none is given", () => assert.deepEqual(plan.of(T.attachment), []));

    it("creates the service account resnet in the ml-serving namespace", () => {
        const { name, namespace } = metadata();
        assert.deepEqual({ name, namespace }, { name: "resnet", namespace: "ml-serving" });
    });

    it("annotates the service account with the role's ARN", () => {
        assert.equal(metadata().annotations["eks.amazonaws.com/role-arn"], plan.one(T.role).outputs.arn);
    });

    it("tells the pod identity webhook to point SDKs at the regional STS endpoint, which the mesh's egress allows", () => {
        assert.equal(metadata().annotations["eks.amazonaws.com/sts-regional-endpoints"], "true");
    });

    it("creates the service account through the cluster's Kubernetes provider", () => {
        assert.equal(serviceAccount().options.provider, plan.one(T.k8sProvider).urn);
    });
});

describe("IrsaServiceAccount with managed policies only", () => {
    const MANAGED = ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "arn:aws:iam::123456789012:policy/mlmesh-models-kms-decrypt"];
    let plan: Plan;
    before(async () => {
        plan = await planIrsa({ policy: undefined, managedPolicyArns: MANAGED });
    });

    it("attaches each managed policy to the role with a RolePolicyAttachment, in order", () => {
        const attachments = [...plan.of(T.attachment)].sort((a, b) => a.name.localeCompare(b.name));
        const roleName = plan.one(T.role).outputs.name;
        assert.deepEqual(attachments.map((a) => ({ role: a.inputs.role, policyArn: a.inputs.policyArn })), MANAGED.map((policyArn) => ({ role: roleName, policyArn })));
    });

    it("creates no inline policy", () => assert.deepEqual(plan.of(T.rolePolicy), []));
});

describe("IrsaServiceAccount argument validation", () => {
    const bad: [string, string, Partial<ArgsWithoutCluster>][] = [
        ["a namespace that is not a DNS label", "namespace", { namespace: "ML_Serving" }],
        ["a service account name that is not a DNS subdomain", "serviceAccountName", { serviceAccountName: "Resnet!" }],
        ["neither an inline nor a managed policy", "policy", { policy: undefined }],
    ];
    for (const [what, path, overrides] of bad) {
        it(`throws an InputPropertiesError naming ${path} when given ${what}`, async () => {
            await assert.rejects(recordOffline(irsaProgram({ ...BASE_ARGS, ...overrides })), (error) => {
                assert.ok(pulumi.InputPropertiesError.isInstance(error), `not an InputPropertiesError: ${error}`);
                assert.deepEqual(error.errors.map((e) => e.propertyPath), [path]);
                return true;
            });
        });
    }
});
