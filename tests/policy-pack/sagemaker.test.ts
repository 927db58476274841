/**
 * The SageMaker guardrails: each rule on a happy-path resource with one field changed, the
 * rules' agreement with what mlmesh's SageMakerEndpoint renders, the committed stacks, and the
 * stack settings that turn a guardrail on or off, planned for real.
 */
import * as assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import { hasLocalStorage as componentHasLocalStorage, SageMakerEndpoint } from "../../components/sagemaker/sagemakerEndpoint";
import type { SageMakerCreatedModel, SageMakerModelSpec } from "../../components/sagemaker/sagemakerSpec";
import { plan } from "../../offline/plan";
import { runPolicies, UNKNOWN_PLACEHOLDER, type PolicyConfig } from "../../offline/policyRunner";
import type { RecordedResource } from "../../offline/recorder";
import { hasLocalStorage, sagemakerPolicies, smDataCapture, smEndpointHa, smEndpointKms, smModelNetworkIsolation, smModelVpc } from "../../policy-pack/sagemaker";
import { recordOffline } from "../offline/fixtures/offlineRun";
import { plannedStack } from "../offline/fixtures/plannedStack";
import { environmentConfig, violationsOf } from "./harness";

const KEY = "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration";
const MODEL = "aws:sagemaker/model:Model";
const ENDPOINT = "aws:sagemaker/endpoint:Endpoint";
const TARGET = "aws:appautoscaling/target:Target";

/** A recorded AWS resource named `name`, depending on `dependencies` (URNs). */
function aws(type: string, name: string, inputs: Record<string, unknown>, dependencies: string[] = []): RecordedResource {
    return { urn: `urn:pulumi:test::mlmesh::${type}::${name}`, type, name, custom: true, inputs, outputs: inputs, options: {}, dependencies, inputDependencies: dependencies };
}

/** `value` with `field` (a dotted path) set, or deleted when `to` is undefined; the rest is copied. */
function withField<T extends Record<string, unknown>>(value: T, field: string, to: unknown): T {
    const copy = structuredClone(value);
    const keys = field.split(".");
    const parent = keys.slice(0, -1).reduce((o: any, k) => o[k], copy);
    if (to === undefined) {
        delete parent[keys[keys.length - 1]];
    } else {
        parent[keys[keys.length - 1]] = to;
    }
    return copy;
}

/** An endpoint configuration as mlmesh writes one for an EBS-backed instance type. */
const happyConfig = () => ({
    namePrefix: "ml-tabular-fraud-1e0451c9",
    kmsKeyArn: KEY,
    productionVariants: [{ variantName: "primary", modelName: "fraud-model", instanceType: "ml.m5.xlarge", initialInstanceCount: 2 }],
    dataCaptureConfig: {
        enableCapture: true, initialSamplingPercentage: 20, destinationS3Uri: "s3://capture/fraud", kmsKeyId: KEY,
        captureOptions: [{ captureMode: "Input" }, { captureMode: "Output" }],
    },
});

const happyModel = () => ({
    executionRoleArn: "arn:aws:iam::123456789012:role/fraud-sm",
    primaryContainer: { image: "123456789012.dkr.ecr.us-west-2.amazonaws.com/fraud:1.4.2", modelDataUrl: "s3://models/fraud/1.4.2/model.tar.gz" },
    enableNetworkIsolation: true,
    vpcConfig: { subnets: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"], securityGroupIds: ["sg-0123456789abcdef0"] },
});

const config = (inputs = happyConfig()) => aws(CONFIG, "fraud-config", inputs);
const model = (inputs: Record<string, unknown> = happyModel()) => aws(MODEL, "fraud-model", inputs);
const messages = async (...args: Parameters<typeof violationsOf>) => (await violationsOf(...args)).map((v) => v.message);

describe("sm-endpoint-kms", () => {
    it("passes a configuration with a storage key and an encrypted capture", async () => {
        assert.deepEqual(await messages(smEndpointKms, config()), []);
    });
    it("passes an NVMe instance type without a storage key, which AWS refuses for it", async () => {
        const g5 = withField(withField(happyConfig(), "productionVariants.0.instanceType", "ml.g5.xlarge"), "kmsKeyArn", undefined);
        assert.deepEqual(await messages(smEndpointKms, config(g5)), []);
    });
    it("refuses an EBS-backed instance type without a storage key", async () => {
        const [message] = await messages(smEndpointKms, config(withField(happyConfig(), "kmsKeyArn", undefined)));
        assert.match(message, /^EndpointConfiguration fraud-config: `kmsKeyArn` is not set, .*ml\.m5\.xlarge.*customer managed KMS key/);
    });
    it("refuses capture without a key", async () => {
        const [message] = await messages(smEndpointKms, config(withField(happyConfig(), "dataCaptureConfig.kmsKeyId", undefined)));
        assert.match(message, /`dataCaptureConfig\.kmsKeyId` is not set.*s3:\/\/capture\/fraud/);
    });
    it("refuses asynchronous inference results without a key", async () => {
        const [message] = await messages(smEndpointKms, config(withField(happyConfig(), "asyncInferenceConfig", { outputConfig: { s3OutputPath: "s3://async/fraud" } })));
        assert.match(message, /`asyncInferenceConfig\.outputConfig\.kmsKeyId` is not set/);
    });
    it("passes a configuration that mixes an NVMe variant in, since AWS then refuses the key for all", async () => {
        const mixed = withField(withField(happyConfig(), "kmsKeyArn", undefined), "shadowProductionVariants", [{ variantName: "shadow", modelName: "m", instanceType: "ml.g5.xlarge", initialInstanceCount: 1 }]);
        assert.deepEqual(await messages(smEndpointKms, config(mixed)), []);
    });
    it("passes a serverless configuration, which has no storage volume of the account's", async () => {
        const serverless = withField(withField(happyConfig(), "kmsKeyArn", undefined), "productionVariants", [{ variantName: "primary", modelName: "m", serverlessConfig: { maxConcurrency: 5, memorySizeInMb: 2048 } }]);
        assert.deepEqual(await messages(smEndpointKms, config(serverless)), []);
    });
    it("judges a new endpoint in preview: keys unknown until created still count as set", async () => {
        const preview = withField(withField(happyConfig(), "kmsKeyArn", UNKNOWN_PLACEHOLDER), "dataCaptureConfig.kmsKeyId", UNKNOWN_PLACEHOLDER);
        assert.deepEqual(await violationsOf(smEndpointKms, config(preview)), []);
    });
    it("does not apply to a model", async () => {
        assert.deepEqual(await messages(smEndpointKms, model({})), []);
    });
    it("finds instance store where mlmesh's SageMakerEndpoint does, so the two never disagree on the key", () => {
        const types = ["ml.g5.xlarge", "ml.g4dn.xlarge", "ml.g6.xlarge", "ml.g6e.2xlarge", "ml.p4d.24xlarge", "ml.p5.48xlarge", "ml.m5d.large", "ml.c5d.xlarge", "ml.r5d.large",
            "ml.c6id.xlarge", "ml.g4ad.xlarge", "ml.trn1.2xlarge", "ml.m5.large", "ml.c5.xlarge", "ml.c6i.large", "ml.inf1.xlarge", "ml.inf2.xlarge", "ml.p3.2xlarge", "ml.t2.medium", "ml.g5g.xlarge"];
        assert.deepEqual(types.filter((t) => hasLocalStorage(t) !== componentHasLocalStorage(t)), []);
        assert.ok(hasLocalStorage("ml.g5.xlarge") && !hasLocalStorage("ml.m5.xlarge"));
    });
});

describe("what mlmesh's SageMakerEndpoint renders", () => {
    const MODEL_SPEC: SageMakerCreatedModel = {
        image: "123456789012.dkr.ecr.us-west-2.amazonaws.com/fraud:1.4.2", modelDataUrl: "s3://models/fraud/1.4.2/model.tar.gz", instanceType: "ml.g5.xlarge",
        initialInstanceCount: 2, autoscaling: { min: 2, max: 4, invocationsPerInstance: 100 }, dataCapture: { samplingPercent: 20, destination: "s3://capture/fraud" },
    };
    for (const instanceType of ["ml.g5.xlarge", "ml.m5.xlarge"]) {
        it(`passes every SageMaker guardrail on ${instanceType}`, async () => {
            const run = await recordOffline(() => new SageMakerEndpoint("ep", {
                spec: { backend: "sagemaker", name: "fraud", namespace: "ml-tabular", model: { ...MODEL_SPEC, instanceType } } as SageMakerModelSpec & { model: SageMakerCreatedModel },
                clusterName: "mlmesh-prod", network: { vpcId: "vpc-0123456789abcdef0", privateSubnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"] },
            }));
            const result = await runPolicies(sagemakerPolicies, run.resources, {});
            assert.deepEqual(result.violations.map((v) => `${v.policy}: ${v.message}`), []);
        });
    }
});

describe("sm-model-network-isolation", () => {
    it("passes a network-isolated model", async () => {
        assert.deepEqual(await messages(smModelNetworkIsolation, model()), []);
    });
    for (const value of [false, undefined]) {
        it(`refuses enableNetworkIsolation ${value}`, async () => {
            const [message] = await messages(smModelNetworkIsolation, model(withField(happyModel(), "enableNetworkIsolation", value)));
            assert.match(message, /^Model fraud-model: `enableNetworkIsolation` is .*; set it to true\.$/);
        });
    }
    it("does not apply to an endpoint configuration", async () => {
        assert.deepEqual(await messages(smModelNetworkIsolation, config()), []);
    });
});

describe("sm-model-vpc", () => {
    it("passes a model in private subnets with a security group", async () => {
        assert.deepEqual(await messages(smModelVpc, model()), []);
    });
    it("refuses a model without vpcConfig", async () => {
        assert.match((await messages(smModelVpc, model(withField(happyModel(), "vpcConfig", undefined))))[0], /`vpcConfig` is not set/);
    });
    it("refuses empty subnets", async () => {
        assert.deepEqual(await messages(smModelVpc, model(withField(happyModel(), "vpcConfig.subnets", []))), ["Model fraud-model: `vpcConfig.subnets` is empty; list at least one (private subnets in two or more availability zones)."]);
    });
    it("refuses empty security groups", async () => {
        assert.match((await messages(smModelVpc, model(withField(happyModel(), "vpcConfig.securityGroupIds", []))))[0], /`vpcConfig\.securityGroupIds` is empty/);
    });
    it("does not apply to an endpoint configuration", async () => {
        assert.deepEqual(await messages(smModelVpc, config()), []);
    });
});

describe("sm-data-capture", () => {
    it("is advisory by default", () => assert.equal(smDataCapture.enforcementLevel, "advisory"));
    it("passes a configuration that captures 20%", async () => {
        assert.deepEqual(await messages(smDataCapture, config()), []);
    });
    it("passes capture left at AWS's default (enabled)", async () => {
        assert.deepEqual(await messages(smDataCapture, config(withField(happyConfig(), "dataCaptureConfig.enableCapture", undefined))), []);
    });
    it("reports a configuration without dataCaptureConfig", async () => {
        const violations = await violationsOf(smDataCapture, config(withField(happyConfig(), "dataCaptureConfig", undefined)));
        assert.deepEqual(violations.map((v) => [v.level, /`dataCaptureConfig` is not set/.test(v.message)]), [["advisory", true]]);
    });
    it("reports capture switched off", async () => {
        assert.match((await messages(smDataCapture, config(withField(happyConfig(), "dataCaptureConfig.enableCapture", false))))[0], /`dataCaptureConfig\.enableCapture` is false/);
    });
    it("reports 0% sampling", async () => {
        assert.match((await messages(smDataCapture, config(withField(happyConfig(), "dataCaptureConfig.initialSamplingPercentage", 0))))[0], /\(0\) is below 1/);
    });
    it("takes its threshold from config: 20% falls short of minSamplingPercent 50", async () => {
        const settings: PolicyConfig = { "sm-data-capture": { enforcementLevel: "advisory", minSamplingPercent: 50 } };
        assert.match((await messages(smDataCapture, config(), settings))[0], /\(20\) is below 50; capture at least 50%/);
    });
    it("does not apply to a model", async () => {
        assert.deepEqual(await messages(smDataCapture, model()), []);
    });
});

describe("sm-endpoint-ha", () => {
    /** A configuration, the endpoint on it and, when `min` is given, an autoscaling target on its variant. */
    function endpointStack(count: number | undefined, min?: number, variant: Record<string, unknown> = {}): RecordedResource[] {
        const cfg = config(withField(happyConfig(), "productionVariants.0", { variantName: "primary", modelName: "m", instanceType: "ml.m5.xlarge", initialInstanceCount: count, ...variant }));
        const endpoint = aws(ENDPOINT, "fraud-endpoint", { name: "ml-tabular-fraud", endpointConfigName: "ml-tabular-fraud-1e0451c9-x" }, [cfg.urn]);
        const target = aws(TARGET, "fraud-scaling", { serviceNamespace: "sagemaker", scalableDimension: "sagemaker:variant:DesiredInstanceCount", resourceId: "endpoint/ml-tabular-fraud/variant/primary", minCapacity: min, maxCapacity: 8 }, [endpoint.urn]);
        return [cfg, endpoint, ...(min === undefined ? [] : [target])];
    }
    const table: [string, RecordedResource[], RegExp | undefined][] = [
        ["passes 2 instances without autoscaling", endpointStack(2), undefined],
        ["passes 2 instances that autoscaling keeps at 2 or more", endpointStack(2, 2), undefined],
        ["refuses 1 instance", endpointStack(1), /`productionVariants\[0\]` \(primary\) can run 1 instance\(s\) \(initialInstanceCount 1\), below 2/],
        ["refuses 3 instances that autoscaling may shrink to 1", endpointStack(3, 1), /can run 1 instance\(s\) \(minCapacity 1 on Target fraud-scaling\), below 2.*Raise minCapacity to at least 2/],
        ["passes 1 initial instance that registering an autoscaling floor of 2 raises", endpointStack(1, 2), undefined],
        ["refuses managed instance scaling down to 0", endpointStack(2, undefined, { managedInstanceScaling: { status: "ENABLED", minInstanceCount: 0, maxInstanceCount: 4 } }), /managedInstanceScaling\.minInstanceCount 0/],
        ["passes a serverless variant, which has no instances of its own", endpointStack(undefined, undefined, { instanceType: undefined, serverlessConfig: { maxConcurrency: 5, memorySizeInMb: 2048 } }), undefined],
    ];
    for (const [name, resources, expected] of table) {
        it(name, async () => {
            const found = await messages(smEndpointHa, resources);
            assert.deepEqual(found.map((m) => expected?.test(m) ?? false), expected ? [true] : [], found.join("\n"));
        });
    }
    it("finds the autoscaling target by the endpoint's name when no dependency links them", async () => {
        const [cfg, endpoint, target] = endpointStack(2, 1);
        assert.equal((await messages(smEndpointHa, [cfg, endpoint, { ...target, dependencies: [] }])).length, 1);
        assert.equal((await messages(smEndpointHa, [cfg, endpoint, { ...target, dependencies: [], inputs: { ...target.inputs, resourceId: "endpoint/another/variant/primary" }, outputs: { ...target.outputs, resourceId: "endpoint/another/variant/primary" } }])).length, 0);
    });
    it("names the configuration's URN in its violation", async () => {
        const [violation] = await violationsOf(smEndpointHa, endpointStack(1));
        assert.equal(violation.urn, `urn:pulumi:test::mlmesh::${CONFIG}::fraud-config`);
    });
    it("takes minInstances from config: 2 instances fall short of 3", async () => {
        assert.equal((await messages(smEndpointHa, endpointStack(2, 2), { "sm-endpoint-ha": { enforcementLevel: "mandatory", minInstances: 3 } })).length, 1);
    });
    it("is relaxed to advisory by an environment's config, never silently dropped", async () => {
        const violations = await violationsOf(smEndpointHa, endpointStack(1), { "sm-endpoint-ha": "advisory" });
        assert.deepEqual(violations.map((v) => v.level), ["advisory"]);
    });
    it("does not apply to a stack without SageMaker", async () => {
        assert.deepEqual(await messages(smEndpointHa, [model()]), []);
    });
});

describe("the SageMaker guardrails on the committed stacks", () => {
    for (const stack of ["dev", "prod"] as const) {
        it(`find no mandatory violation in ${stack} under its environment's config`, async () => {
            const run = await runPolicies(sagemakerPolicies, (await plannedStack(stack)).resources, environmentConfig(stack, sagemakerPolicies));
            assert.deepEqual(run.violations.filter((v) => v.level === "mandatory").map((v) => `${v.policy}: ${v.message}`), []);
        });
    }
});

describe("stack settings that turn a SageMaker guardrail on", () => {
    /** The dev stack planned with the fraud-sm model edited, or as committed when `edit` is undefined. */
    async function plannedDev(edit?: (model: Record<string, any>) => void): Promise<readonly RecordedResource[]> {
        if (!edit) {
            return (await plannedStack("dev")).resources;
        }
        const dir = mkdtempSync(path.join(tmpdir(), "mlmesh-sm-policy-"));
        process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
        const stackFile = YAML.parse(readFileSync(path.join(__dirname, "..", "..", "stacks", "Pulumi.dev.yaml"), "utf8"));
        edit((stackFile.config["mlmesh:models"] as Record<string, any>[]).find((m) => m.name === "fraud-sm")!.model);
        writeFileSync(path.join(dir, "Pulumi.dev.yaml"), YAML.stringify(stackFile));
        return (await plan({ stack: "dev", configFile: path.join(dir, "Pulumi.dev.yaml"), outDir: path.join(dir, "out") })).resources;
    }
    /** The SageMaker policies a plan violates, at any level, each policy at its own default level. */
    const violated = async (resources: readonly RecordedResource[]) => new Set((await runPolicies(sagemakerPolicies, resources, {})).violations.map((v) => v.policy));

    // [the change, the fraud-sm model before it, after it (undefined: as committed), the one policy that fires]
    const table: [string, ((model: Record<string, any>) => void) | undefined, ((model: Record<string, any>) => void) | undefined, string][] = [
        ["model.dataCapture removed", undefined, (m) => delete m.dataCapture, "sm-data-capture"],
        ["model.autoscaling.min lowered from 2 to 1 (as committed)", (m) => { m.autoscaling.min = 2; }, undefined, "sm-endpoint-ha"],
    ];
    for (const [change, editBefore, editAfter, policy] of table) {
        it(`${change} makes exactly ${policy} fire`, async () => {
            const [before, after] = [await violated(await plannedDev(editBefore)), await violated(await plannedDev(editAfter))];
            assert.deepEqual([...after].filter((p) => !before.has(p)), [policy]);
            assert.deepEqual([...before].filter((p) => !after.has(p)), []);
        });
    }
});
