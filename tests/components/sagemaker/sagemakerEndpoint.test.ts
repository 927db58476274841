import * as assert from "node:assert/strict";
import { executionRolePolicy, hasLocalStorage, SageMakerEndpoint } from "../../../components/sagemaker/sagemakerEndpoint";
import type { SageMakerCreatedModel, SageMakerModelSpec } from "../../../components/sagemaker/sagemakerSpec";
import type { RecordedRun } from "../../../offline/recorder";
import { ACCOUNT_ID, decide, decideFor, DEFAULT_KEY_POLICY, type AwsCall, type Decision } from "../../iamSimulation";
import { recordOffline } from "../../offline/fixtures/offlineRun";
import { plannedStack } from "../../offline/fixtures/plannedStack";

const MODEL: SageMakerCreatedModel = {
    image: `${ACCOUNT_ID}.dkr.ecr.us-west-2.amazonaws.com/fraud:1.4.2`,
    modelDataUrl: "s3://models/fraud/1.4.2/model.tar.gz",
    instanceType: "ml.g5.xlarge",
    initialInstanceCount: 2,
    autoscaling: { min: 2, max: 8, invocationsPerInstance: 100 },
    dataCapture: { samplingPercent: 20, destination: "s3://capture/fraud" },
};
const SPEC = { backend: "sagemaker", name: "fraud", namespace: "ml-tabular", model: MODEL } as SageMakerModelSpec & { model: SageMakerCreatedModel };
const KEY = `arn:aws:kms:us-west-2:${ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

describe("the endpoint's execution role, judged by the IAM evaluator", () => {
    const policy = executionRolePolicy({
        partition: "aws", region: "us-west-2", accountId: ACCOUNT_ID, vpcId: "vpc-0123456789abcdef0", endpointName: "ml-tabular-fraud-1a2b3c4d", model: MODEL,
        subnetIds: ["subnet-0123456789abcdef0"], securityGroupId: "sg-0123456789abcdef0", keyArn: KEY,
    });
    const call = (action: string, resource: string, context: AwsCall["context"] = {}): AwsCall => ({ api: action, action, resource, context, source: "https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html" });
    const cases: [string, AwsCall, Decision][] = [
        ["reads the model archive", call("s3:GetObject", "arn:aws:s3:::models/fraud/1.4.2/model.tar.gz"), "Allowed"],
        ["reads another model's archive", call("s3:GetObject", "arn:aws:s3:::models/fraud/1.4.1/model.tar.gz"), "ImplicitlyDenied"],
        ["pulls the model's image", call("ecr:BatchGetImage", `arn:aws:ecr:us-west-2:${ACCOUNT_ID}:repository/fraud`), "Allowed"],
        ["pulls another repository", call("ecr:BatchGetImage", `arn:aws:ecr:us-west-2:${ACCOUNT_ID}:repository/payroll`), "ImplicitlyDenied"],
        ["writes its own logs", call("logs:PutLogEvents", `arn:aws:logs:us-west-2:${ACCOUNT_ID}:log-group:/aws/sagemaker/Endpoints/ml-tabular-fraud-1a2b3c4d:log-stream:primary/i-1`), "Allowed"],
        ["writes another endpoint's logs", call("logs:PutLogEvents", `arn:aws:logs:us-west-2:${ACCOUNT_ID}:log-group:/aws/sagemaker/Endpoints/payroll:log-stream:x`), "ImplicitlyDenied"],
        ["attaches to its subnet", call("ec2:CreateNetworkInterface", `arn:aws:ec2:us-west-2:${ACCOUNT_ID}:subnet/subnet-0123456789abcdef0`), "Allowed"],
        ["attaches to another subnet", call("ec2:CreateNetworkInterface", `arn:aws:ec2:us-west-2:${ACCOUNT_ID}:subnet/subnet-0fedcba987654321f`), "ImplicitlyDenied"],
        ["deletes a network interface in its VPC", call("ec2:DeleteNetworkInterface", `arn:aws:ec2:us-west-2:${ACCOUNT_ID}:network-interface/eni-0123456789abcdef0`, { "ec2:Vpc": `arn:aws:ec2:us-west-2:${ACCOUNT_ID}:vpc/vpc-0123456789abcdef0` }), "Allowed"],
        ["deletes a network interface of another VPC (a node's elsewhere)", call("ec2:DeleteNetworkInterface", `arn:aws:ec2:us-west-2:${ACCOUNT_ID}:network-interface/eni-0fedcba987654321f`, { "ec2:Vpc": `arn:aws:ec2:us-west-2:${ACCOUNT_ID}:vpc/vpc-0fedcba987654321f` }), "ImplicitlyDenied"],
        ["writes captured data under its prefix", call("s3:PutObject", "arn:aws:s3:::capture/fraud/ml-tabular-fraud-1a2b3c4d/primary/2026/12/01/00/x.jsonl"), "Allowed"],
        ["writes anywhere else", call("s3:PutObject", "arn:aws:s3:::models/fraud/1.4.2/model.tar.gz"), "ImplicitlyDenied"],
        // The key keeps KMS's default policy, which lets IAM policies grant its use.
        ["encrypts captured data with the endpoint's key", { ...call("kms:GenerateDataKey", KEY), resourcePolicy: DEFAULT_KEY_POLICY }, "Allowed"],
        ["publishes SageMaker metrics", call("cloudwatch:PutMetricData", "*", { "cloudwatch:namespace": "/aws/sagemaker/Endpoints" }), "Allowed"],
        ["publishes into another namespace", call("cloudwatch:PutMetricData", "*", { "cloudwatch:namespace": "Billing" }), "ImplicitlyDenied"],
    ];
    for (const [what, request, expected] of cases) {
        it(`${expected === "Allowed" ? "lets the endpoint" : "keeps the endpoint from"} ${what}`, async () => assert.equal(await decide(policy, request), expected));
    }
    it("uses * only where AWS has no resource type (GetAuthorizationToken, PutMetricData, the EC2 Describe calls)", () => {
        const wildcards = policy.Statement.filter((s) => s.Resource === "*").map((s) => s.Sid);
        assert.deepEqual(wildcards, ["RegistryLogin", "PublishMetrics", "DescribeNetwork"]);
    });
});

describe("SageMakerEndpoint under the offline engine", () => {
    let run: RecordedRun;
    const of = (type: string) => run.resources.filter((r) => r.type === type);
    before(async () => {
        run = await recordOffline(() => new SageMakerEndpoint("fraud", {
            spec: SPEC, clusterName: "mlmesh-prod", protect: true,
            network: { vpcId: "vpc-0123456789abcdef0", privateSubnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"] },
        }));
    });
    it("runs the model network-isolated in the cluster's private subnets under its own security group", () => {
        const [model] = of("aws:sagemaker/model:Model");
        const [sg] = of("aws:ec2/securityGroup:SecurityGroup");
        assert.equal(model.inputs.enableNetworkIsolation, true);
        const vpcConfig = model.inputs.vpcConfig as { subnets: string[]; securityGroupIds: string[] };
        assert.deepEqual(vpcConfig.subnets, ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]);
        assert.match(vpcConfig.securityGroupIds[0], /^sg-[0-9a-f]{17}$/);
        assert.deepEqual((sg.inputs.egress as { fromPort: number; toPort: number }[]).map((rule) => [rule.fromPort, rule.toPort]), [[443, 443]]);
        assert.equal(sg.inputs.ingress, undefined, "no inbound rule");
    });
    it("gives its key an explicit policy: IAM administers it, and it encrypts and decrypts only through SageMaker and S3; kept from deletion in prod", async () => {
        const [key] = of("aws:kms/key:Key");
        const policy = JSON.parse(String(key.inputs.policy)) as { Statement: { Sid: string; Action: string[]; Condition?: Record<string, Record<string, string[]>> }[] };
        assert.deepEqual(policy.Statement.map((s) => s.Sid), ["Administration", "UseThroughSageMakerAndS3", "GrantsForSageMakerResources"]);
        assert.ok(!policy.Statement[0].Action.some((a) => /Decrypt|Encrypt|GenerateDataKey/.test(a)));
        assert.deepEqual(policy.Statement[1].Condition?.StringEquals["kms:ViaService"], ["sagemaker.us-west-2.amazonaws.com", "s3.us-west-2.amazonaws.com"]);
        assert.equal(key.options.protect, true);
        assert.equal(await decideFor(`arn:aws:iam::${ACCOUNT_ID}:role/data-science`, { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "kms:Decrypt", Resource: "*" }] },
            { api: "Decrypt", action: "kms:Decrypt", resource: String(key.outputs.arn), source: "https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html", resourcePolicy: policy } as never), "ImplicitlyDenied");
        const grant = { Version: "2012-10-17" as const, Statement: [{ Effect: "Allow", Action: "kms:CreateGrant", Resource: "*" }] };
        // Not even an admin can grant itself Decrypt outside SageMaker (kms:Create* would include CreateGrant).
        assert.equal(await decideFor(`arn:aws:iam::${ACCOUNT_ID}:role/deployer`, grant,
            { api: "CreateGrant", action: "kms:CreateGrant", resource: String(key.outputs.arn), context: { "kms:CallerAccount": ACCOUNT_ID }, source: "https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateGrant.html", resourcePolicy: policy } as never), "ImplicitlyDenied");
        assert.equal(await decideFor(`arn:aws:iam::${ACCOUNT_ID}:role/deployer`, grant,
            { api: "CreateGrant", action: "kms:CreateGrant", resource: String(key.outputs.arn), context: { "kms:ViaService": "sagemaker.us-west-2.amazonaws.com", "kms:CallerAccount": ACCOUNT_ID, "kms:GrantIsForAWSResource": "true" },
                source: "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpointConfig.html", resourcePolicy: policy } as never), "Allowed");
    });
    it("trusts only SageMaker with the execution role", () => {
        const [role] = of("aws:iam/role:Role");
        assert.deepEqual(JSON.parse(String(role.inputs.assumeRolePolicy)).Statement, [{ Effect: "Allow", Principal: { Service: "sagemaker.amazonaws.com" }, Action: "sts:AssumeRole" }]);
    });
    it("encrypts captured requests and responses with a rotating key of the endpoint's own", () => {
        const [key] = of("aws:kms/key:Key");
        const [config] = of("aws:sagemaker/endpointConfiguration:EndpointConfiguration");
        const capture = config.inputs.dataCaptureConfig as Record<string, unknown>;
        assert.deepEqual([key.inputs.enableKeyRotation, capture.kmsKeyId, capture.captureOptions], [true, key.outputs.arn, [{ captureMode: "Input" }, { captureMode: "Output" }]]);
    });
    it("names configurations by prefix, so a change creates the next one before the old goes, within SageMaker's 63 characters", () => {
        const [config] = of("aws:sagemaker/endpointConfiguration:EndpointConfiguration");
        assert.equal(config.inputs.name, undefined);
        assert.ok(String(config.inputs.namePrefix).length + 26 <= 63);
    });
    it("keeps the models and configurations it replaces in prod, so a rollout SageMaker rolls back still finds the one in use", () => {
        const [model] = of("aws:sagemaker/model:Model");
        const [config] = of("aws:sagemaker/endpointConfiguration:EndpointConfiguration");
        assert.deepEqual([model.options.retainOnDelete, config.options.retainOnDelete], [true, true]);
    });
    it("lets the provider name the model (a new name on every replacement), so going back to a model kept in prod never collides with it", () => {
        const [model] = of("aws:sagemaker/model:Model");
        assert.equal(model.inputs.name, undefined);
    });
    it("keeps the endpoint's name stable and protects it in prod", () => {
        const [endpoint] = of("aws:sagemaker/endpoint:Endpoint");
        assert.match(String(endpoint.inputs.name), /^ml-tabular-fraud-[0-9a-f]{8}$/);
        assert.equal(endpoint.options.protect, true);
    });
    it("scales the variant on invocations per instance", () => {
        const [target] = of("aws:appautoscaling/target:Target");
        const [policy] = of("aws:appautoscaling/policy:Policy");
        assert.deepEqual([target.inputs.minCapacity, target.inputs.maxCapacity, target.inputs.scalableDimension], [2, 8, "sagemaker:variant:DesiredInstanceCount"]);
        assert.deepEqual((policy.inputs.targetTrackingScalingPolicyConfiguration as { predefinedMetricSpecification: unknown; targetValue: number }).predefinedMetricSpecification,
            { predefinedMetricType: "SageMakerVariantInvocationsPerInstance" });
    });
});

describe("hasLocalStorage", () => {
    const cases: [string, boolean][] = [
        ["ml.g5.xlarge", true], ["ml.g4dn.xlarge", true], ["ml.p4d.24xlarge", true], ["ml.m5d.large", true], ["ml.c6id.xlarge", true],
        ["ml.m5.large", false], ["ml.c5.xlarge", false], ["ml.inf1.xlarge", false], ["ml.g4ad.xlarge", true],
        ["ml.trn2.48xlarge", true], ["ml.p6-b200.48xlarge", true], ["ml.p6e-gb200.36xlarge", true], ["ml.dl1.24xlarge", true],
    ];
    for (const [type, local] of cases) {
        it(`${local ? "finds" : "finds no"} instance store on ${type}`, () => assert.equal(hasLocalStorage(type), local));
    }
});

describe("instance types with local NVMe storage", () => {
    const plan = (instanceType: string) => recordOffline(() => new SageMakerEndpoint("ep", {
        spec: { ...SPEC, model: { ...MODEL, instanceType } }, clusterName: "mlmesh-dev",
        network: { vpcId: "vpc-0123456789abcdef0", privateSubnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"] },
    }));
    const config = (run: RecordedRun) => run.resources.find((r) => r.type === "aws:sagemaker/endpointConfiguration:EndpointConfiguration")!.inputs;
    it("get no storage key, which CreateEndpointConfig refuses for them; captured data keeps the endpoint's key", async () => {
        const g5 = config(await plan("ml.g5.xlarge"));
        assert.equal(g5.kmsKeyArn, undefined);
        assert.match(String((g5.dataCaptureConfig as { kmsKeyId: string }).kmsKeyId), /^arn:aws:kms:/);
    });
    it("others keep their storage volumes encrypted with it", async () => {
        assert.match(String(config(await plan("ml.m5.xlarge")).kmsKeyArn), /^arn:aws:kms:/);
    });
});

describe("SageMaker models in the planned dev stack", () => {
    it("are in the stack's models output with their in-mesh URL, endpoint and access; the VPC endpoint's DNS name is its own output", async () => {
        const result = await plannedStack("dev");
        const churn = (result.outputs.models as Record<string, unknown>[]).find((m) => m.name === "churn-sm");
        assert.deepEqual(churn, {
            name: "churn-sm", namespace: "ml-tabular", backend: "sagemaker", serviceHost: "churn-sm.ml-tabular.svc.cluster.local",
            url: "http://inference.istio-ingress.svc.cluster.local/v1/models/churn-sm:predict",
            publicUrl: "https://inference.dev.example.com/v1/models/churn-sm:predict",
            versions: [{ name: "churn-xgb-2024", weight: 100 }],
            access: { namespace: "mlmesh-sagemaker", selector: { app: "sagemaker-bridge" }, operations: [{ methods: ["POST"], paths: ["/endpoints/churn-xgb-2024/invocations"] }] },
            endpointName: "churn-xgb-2024", endpointArn: `arn:aws:sagemaker:us-west-2:${ACCOUNT_ID}:endpoint/churn-xgb-2024`,
        });
        assert.match(String(result.outputs.sagemakerVpcEndpointDns), /^vpce-[0-9a-f-]+\.runtime\.sagemaker\.us-west-2\.vpce\.amazonaws\.com$/);
    });
});

describe("an existing endpoint in the planned dev stack", () => {
    it("gets nothing created for it: one SageMaker model, configuration and endpoint, all the created one's", async () => {
        const result = await plannedStack("dev");
        const sagemaker = result.resources.filter((r) => r.type.startsWith("aws:sagemaker/"));
        assert.deepEqual(sagemaker.map((r) => r.type.split(":").pop()).sort(), ["Endpoint", "EndpointConfiguration", "Model"]);
        assert.ok(sagemaker.every((r) => r.name.includes("fraud-sm")), sagemaker.map((r) => r.name).join(", "));
    });
});
