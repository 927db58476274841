import * as assert from "node:assert/strict";
import type { PolicyDocument } from "../../../components/cluster/irsaServiceAccount";
import { awsOwnedBuckets, s3EndpointPolicy } from "../../../components/cluster/s3EndpointPolicy";
import { ACCOUNT_ID, decide, type AwsCall, type Decision } from "../../iamSimulation";

const SHARED_REGISTRY = "210987654321";
const OUTSIDER = "999999999999";
const endpointPolicy = s3EndpointPolicy({ partition: "aws", region: "us-west-2", accountId: ACCOUNT_ID, extraAccounts: [SHARED_REGISTRY] });
/** The caller's own permissions are wide: only the endpoint policy stands between it and any bucket. */
const S3_ALL: PolicyDocument = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }] };

/** The bucket owner grants the caller's account: only the endpoint policy can refuse the request. */
const OWNER_GRANTS: PolicyDocument = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: "s3:*", Resource: "*" }] };

const through = (action: string, resource: string, resourceAccount: string): AwsCall => ({
    api: action.replace("s3:", ""), action, resource, resourceAccount, endpointPolicy,
    ...(resourceAccount === ACCOUNT_ID ? {} : { resourcePolicy: OWNER_GRANTS }),
    source: "https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-s3.html",
});

describe("s3EndpointPolicy, judged by the IAM evaluator on requests through the endpoint", () => {
    const cases: [string, AwsCall, Decision][] = [
        ["downloads a model from the account's bucket", through("s3:GetObject", "arn:aws:s3:::models/resnet/v1/saved_model.pb", ACCOUNT_ID), "Allowed"],
        ["lists the account's bucket", through("s3:ListBucket", "arn:aws:s3:::models", ACCOUNT_ID), "Allowed"],
        ["reads the shared model registry the stack names", through("s3:GetObject", "arn:aws:s3:::registry/fraud/model.tar.gz", SHARED_REGISTRY), "Allowed"],
        ["pulls image layers from ECR's bucket", through("s3:GetObject", "arn:aws:s3:::prod-us-west-2-starport-layer-bucket/sha256/abc", "000000000000"), "Allowed"],
        ["installs an AL2023 package", through("s3:GetObject", "arn:aws:s3:::al2023-repos-us-west-2-de612dc2/core/mirrors/latest/x86_64/mirror.list", "000000000000"), "Allowed"],
        ["updates the SSM agent", through("s3:GetObject", "arn:aws:s3:::amazon-ssm-us-west-2/latest/linux_amd64/VERSION", "000000000000"), "Allowed"],
        ["copies weights into someone else's bucket", through("s3:PutObject", "arn:aws:s3:::exfil/weights.bin", OUTSIDER), "ImplicitlyDenied"],
        ["reads someone else's bucket", through("s3:GetObject", "arn:aws:s3:::exfil/tools.sh", OUTSIDER), "ImplicitlyDenied"],
        ["writes into ECR's bucket", through("s3:PutObject", "arn:aws:s3:::prod-us-west-2-starport-layer-bucket/x", "000000000000"), "ImplicitlyDenied"],
    ];
    for (const [what, request, expected] of cases) {
        it(`${expected === "Allowed" ? "lets a node or pod" : "keeps a node or pod from"} ${what}`, async () => assert.equal(await decide(S3_ALL, request), expected));
    }

    it("is what refuses them: without the endpoint policy the same copy is allowed", async () => {
        const { endpointPolicy: _, ...direct } = through("s3:PutObject", "arn:aws:s3:::exfil/weights.bin", OUTSIDER);
        assert.equal(await decide(S3_ALL, direct), "Allowed");
    });

    it("names the region's AWS-owned buckets", () => {
        assert.ok(awsOwnedBuckets("eu-central-1").includes("prod-eu-central-1-starport-layer-bucket"));
    });
});
