import * as assert from "node:assert/strict";
import { irsaTrustPolicy } from "../../../components/cluster/irsaServiceAccount";

const ARN = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC";
const ISSUER = "oidc.eks.us-west-2.amazonaws.com/id/ABC";

/** The trust policy AWS documents for one service account, written out by hand. */
function expectedPolicy(arn: string, issuer: string, namespace: string, serviceAccount: string) {
    return {
        Version: "2012-10-17",
        Statement: [{
            Effect: "Allow",
            Principal: { Federated: arn },
            Action: "sts:AssumeRoleWithWebIdentity",
            Condition: {
                StringEquals: {
                    [`${issuer}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
                    [`${issuer}:aud`]: "sts.amazonaws.com",
                },
            },
        }],
    };
}

describe("irsaTrustPolicy", () => {
    // [issuer URL as given, namespace, service account, issuer in the condition keys]
    const table: [string, string, string, string][] = [
        [`https://${ISSUER}`, "ml-serving", "resnet", ISSUER],
        [ISSUER, "ml-serving", "resnet", ISSUER],
        [`https://${ISSUER}`, "kube-system", "cluster-autoscaler", ISSUER],
        ["https://oidc.eks.eu-central-1.amazonaws.com/id/0123456789ABCDEF", "ack-system", "ack-sagemaker-controller", "oidc.eks.eu-central-1.amazonaws.com/id/0123456789ABCDEF"],
    ];
    for (const [url, namespace, serviceAccount, issuer] of table) {
        it(`trusts only ${namespace}/${serviceAccount} through ${url}`, () => {
            assert.deepEqual(irsaTrustPolicy(ARN, url, namespace, serviceAccount), expectedPolicy(ARN, issuer, namespace, serviceAccount));
        });
    }

    it("writes the exact document for ml-serving/resnet on the us-west-2 issuer", () => {
        const policy = irsaTrustPolicy(ARN, "https://oidc.eks.us-west-2.amazonaws.com/id/ABC", "ml-serving", "resnet");
        assert.deepEqual(policy, {
            Version: "2012-10-17",
            Statement: [{
                Effect: "Allow",
                Principal: { Federated: ARN },
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: {
                    StringEquals: {
                        "oidc.eks.us-west-2.amazonaws.com/id/ABC:sub": "system:serviceaccount:ml-serving:resnet",
                        "oidc.eks.us-west-2.amazonaws.com/id/ABC:aud": "sts.amazonaws.com",
                    },
                },
            }],
        });
    });

    it("gives the same condition keys whether or not the issuer has https://", () => {
        const withScheme = irsaTrustPolicy(ARN, `https://${ISSUER}`, "ml-serving", "resnet");
        const without = irsaTrustPolicy(ARN, ISSUER, "ml-serving", "resnet");
        assert.deepEqual(without, withScheme);
        const keys = Object.keys((without.Statement[0].Condition as Record<string, Record<string, string>>).StringEquals);
        assert.deepEqual(keys.sort(), [`${ISSUER}:aud`, `${ISSUER}:sub`]);
    });

    const accounts: [string, string][] = [
        ["ml-serving", "resnet"],
        ["ml-serving", "bert"],
        ["ml-batch", "resnet"],
        ["kube-system", "cluster-autoscaler"],
    ];
    it("gives each service account its own sub value, pinned with StringEquals and no wildcard", () => {
        const subs = accounts.map(([namespace, serviceAccount]) => {
            const statement = irsaTrustPolicy(ARN, ISSUER, namespace, serviceAccount).Statement[0];
            const condition = statement.Condition as Record<string, Record<string, string>>;
            assert.deepEqual(Object.keys(condition), ["StringEquals"]);
            assert.ok(!("StringLike" in condition));
            const sub = condition.StringEquals[`${ISSUER}:sub`];
            assert.equal(sub, `system:serviceaccount:${namespace}:${serviceAccount}`);
            assert.ok(!/[*?]/.test(sub), `${sub} should hold no wildcard`);
            return sub;
        });
        assert.equal(new Set(subs).size, accounts.length);
    });

    for (const [namespace, serviceAccount] of accounts) {
        it(`has a single Allow statement with the federated principal for ${namespace}/${serviceAccount}`, () => {
            const policy = irsaTrustPolicy(ARN, ISSUER, namespace, serviceAccount);
            assert.equal(policy.Version, "2012-10-17");
            assert.equal(policy.Statement.length, 1);
            assert.deepEqual(policy.Statement[0].Principal, { Federated: ARN });
            assert.equal(policy.Statement[0].Action, "sts:AssumeRoleWithWebIdentity");
            assert.equal(policy.Statement[0].Effect, "Allow");
        });
    }
});
