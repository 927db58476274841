import * as assert from "node:assert/strict";
import { modelDownloadUri, parseS3Uri } from "../../../components/serving/modelSpec";
import { s3ReadPolicy } from "../../../components/serving/workloadPlacement";
import { decide, DEFAULT_KEY_POLICY, type AwsCall } from "../../iamSimulation";

const STORAGE = "kserve/kserve:python/storage/kserve_storage/kserve_storage.py@v0.20.0";
const KEY = "arn:aws:kms:us-west-2:123456789012:key/0b1c2d3e-1111-2222-3333-444455556666";

/**
 * The calls KServe's storage initializer makes for one `s3://` URI as it is handed the URI
 * (`_download_s3`): HeadBucket first, then ListObjects with the URI's path as the prefix, then
 * HeadObject and GetObject for each key (boto3's download_file), and, for an SSE-KMS object,
 * the kms:Decrypt S3 makes on the caller's behalf.
 */
function storageInitializerCalls(uri: string, key: string, kms?: string): AwsCall[] {
    const { bucket } = parseS3Uri(uri);
    const listPrefix = uri.slice(`s3://${bucket}/`.length);
    const object = `arn:aws:s3:::${bucket}/${key}`;
    return [
        { api: "HeadBucket", action: "s3:ListBucket", resource: `arn:aws:s3:::${bucket}`, source: `${STORAGE} (head_bucket)` },
        { api: "ListObjects", action: "s3:ListBucket", resource: `arn:aws:s3:::${bucket}`, context: { "s3:prefix": listPrefix }, source: `${STORAGE} (bucket.objects.filter)` },
        { api: "HeadObject", action: "s3:GetObject", resource: object, source: `${STORAGE} (download_file)` },
        { api: "GetObject", action: "s3:GetObject", resource: object, source: `${STORAGE} (download_file)` },
        ...(kms ? [{ api: "Decrypt (by S3, SSE-KMS)", action: "kms:Decrypt", resource: kms, context: { "kms:ViaService": "s3.us-west-2.amazonaws.com" }, resourcePolicy: DEFAULT_KEY_POLICY, source: "docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html" }] : []),
    ];
}

describe("model download IAM, judged by a policy evaluator", () => {
    const URIS = ["s3://models/resnet/v1", "s3://models/resnet/v2/"];
    const policy = s3ReadPolicy({ uris: URIS, partition: "aws", kmsKeyArn: KEY });

    it("hands the storage initializer each URI as a directory, so it lists only that prefix", () => {
        assert.deepEqual(URIS.map(modelDownloadUri), ["s3://models/resnet/v1/", "s3://models/resnet/v2/"]);
    });

    for (const uri of URIS) {
        for (const call of storageInitializerCalls(modelDownloadUri(uri), `${parseS3Uri(uri).prefix}/saved_model.pb`, KEY)) {
            it(`allows ${call.api} for ${uri} (${call.action} on ${call.resource})`, async () => {
                assert.equal(await decide(policy, call), "Allowed", call.source);
            });
        }
    }

    const NEIGHBOURS: [string, AwsCall][] = [
        ["an object of the v10 prefix", { api: "GetObject", action: "s3:GetObject", resource: "arn:aws:s3:::models/resnet/v10/saved_model.pb", source: STORAGE }],
        ["listing the v10 prefix", { api: "ListObjects", action: "s3:ListBucket", resource: "arn:aws:s3:::models", context: { "s3:prefix": "resnet/v10/" }, source: STORAGE }],
        ["listing resnet/v1 without its slash, which would match v10", { api: "ListObjects", action: "s3:ListBucket", resource: "arn:aws:s3:::models", context: { "s3:prefix": "resnet/v1" }, source: STORAGE }],
        ["another model's object", { api: "GetObject", action: "s3:GetObject", resource: "arn:aws:s3:::models/bert/v3/saved_model.pb", source: STORAGE }],
        ["another bucket", { api: "HeadBucket", action: "s3:ListBucket", resource: "arn:aws:s3:::finance", source: STORAGE }],
        ["writing the model", { api: "PutObject", action: "s3:PutObject", resource: "arn:aws:s3:::models/resnet/v1/saved_model.pb", source: STORAGE }],
        ["another KMS key", { api: "Decrypt", action: "kms:Decrypt", resource: KEY.replace("0b1c", "ffff"), context: { "kms:ViaService": "s3.us-west-2.amazonaws.com" }, resourcePolicy: DEFAULT_KEY_POLICY, source: STORAGE }],
        ["the model key used directly, not through S3", { api: "Decrypt", action: "kms:Decrypt", resource: KEY, resourcePolicy: DEFAULT_KEY_POLICY, source: STORAGE }],
    ];
    for (const [what, call] of NEIGHBOURS) {
        it(`refuses ${what}`, async () => {
            assert.equal(await decide(policy, call), "ImplicitlyDenied");
        });
    }

    it("allows kms:Decrypt through S3 of another region, where a model bucket may live", async () => {
        const call: AwsCall = { api: "Decrypt", action: "kms:Decrypt", resource: KEY, context: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" }, resourcePolicy: DEFAULT_KEY_POLICY, source: STORAGE };
        assert.equal(await decide(policy, call), "Allowed");
    });

    it("allows kms:Decrypt through S3 in the China partition, whose service names end in amazonaws.com.cn", async () => {
        const china = s3ReadPolicy({ uris: URIS, partition: "aws-cn", dnsSuffix: "amazonaws.com.cn", kmsKeyArn: KEY });
        const decrypt = (china.Statement as { Sid: string; Condition: unknown }[]).find((s) => s.Sid === "DecryptModelObjects");
        assert.deepEqual(decrypt?.Condition, { StringLike: { "kms:ViaService": "s3.*.amazonaws.com.cn" } });
    });

    it("grants no kms:Decrypt when the model bucket needs no key", async () => {
        const plain = s3ReadPolicy({ uris: URIS, partition: "aws" });
        const decrypt = storageInitializerCalls(modelDownloadUri(URIS[0]), "resnet/v1/saved_model.pb", KEY).at(-1)!;
        assert.equal(await decide(plain, decrypt), "ImplicitlyDenied");
    });

    it("allows a whole bucket when the URI names no prefix", async () => {
        const whole = s3ReadPolicy({ uris: ["s3://llm-weights"], partition: "aws" });
        for (const call of storageInitializerCalls(modelDownloadUri("s3://llm-weights"), "config.json")) {
            assert.equal(await decide(whole, call), "Allowed", call.api);
        }
    });
});
