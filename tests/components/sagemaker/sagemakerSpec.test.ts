import * as assert from "node:assert/strict";
import { PropertyErrors } from "../../../components/propertyErrors";
import { createdEndpointName, endpointArn, validateSageMaker, type SageMakerModelSpec } from "../../../components/sagemaker/sagemakerSpec";
import type { Environment } from "../../../components/platform/environment";

const CREATED: SageMakerModelSpec = {
    backend: "sagemaker", name: "fraud", namespace: "ml-tabular",
    model: {
        image: "123456789012.dkr.ecr.us-west-2.amazonaws.com/fraud:1.4.2",
        modelDataUrl: "s3://models/fraud/1.4.2/model.tar.gz",
        instanceType: "ml.g5.xlarge",
        initialInstanceCount: 2,
        autoscaling: { min: 2, max: 8, invocationsPerInstance: 100 },
        dataCapture: { samplingPercent: 20, destination: "s3://capture/fraud" },
    },
};
const EXISTING: SageMakerModelSpec = { backend: "sagemaker", name: "churn", namespace: "ml-tabular", endpointName: "churn-xgb-2024" };
const withModel = (changes: Partial<NonNullable<SageMakerModelSpec["model"]>>): SageMakerModelSpec => ({ ...CREATED, model: { ...CREATED.model!, ...changes } });

function problems(spec: SageMakerModelSpec, environment: Environment = "prod", timeoutMs = 30_000): string[] {
    const errors = new PropertyErrors();
    validateSageMaker(spec, { environment, timeoutMs }, errors, "models[0].");
    return errors.list.map((p) => p.path);
}

describe("validateSageMaker", () => {
    it("accepts a created endpoint sized for prod", () => assert.deepEqual(problems(CREATED), []));
    it("accepts an existing endpoint to bridge", () => assert.deepEqual(problems(EXISTING), []));
    const bad: [string, SageMakerModelSpec, string, Environment?, number?][] = [
        ["both endpointName and model", { ...CREATED, endpointName: "fraud" }, "models[0].endpointName"],
        ["neither endpointName nor model", { backend: "sagemaker", name: "x", namespace: "ml-tabular" }, "models[0].endpointName"],
        ["an endpoint name SageMaker refuses", { ...EXISTING, endpointName: "churn_xgb" }, "models[0].endpointName"],
        ["an image outside ECR", withModel({ image: "tensorflow/serving:2.20.0" }), "models[0].model.image"],
        ["an image without tag or digest", withModel({ image: "123456789012.dkr.ecr.us-west-2.amazonaws.com/fraud" }), "models[0].model.image"],
        ["the latest tag", withModel({ image: "123456789012.dkr.ecr.us-west-2.amazonaws.com/fraud:latest" }), "models[0].model.image"],
        ["a model archive given as a prefix", withModel({ modelDataUrl: "s3://models/fraud/" }), "models[0].model.modelDataUrl"],
        ["a model archive outside S3", withModel({ modelDataUrl: "https://models.example.com/model.tar.gz" }), "models[0].model.modelDataUrl"],
        ["an EC2 instance type", withModel({ instanceType: "g5.xlarge" }), "models[0].model.instanceType"],
        ["one instance in prod", withModel({ initialInstanceCount: 1, autoscaling: undefined }), "models[0].model.initialInstanceCount"],
        ["autoscaling down to one instance in prod", withModel({ autoscaling: { min: 1, max: 8, invocationsPerInstance: 100 } }), "models[0].model.autoscaling.min"],
        ["autoscaling max below min", withModel({ autoscaling: { min: 4, max: 2, invocationsPerInstance: 100 } }), "models[0].model.autoscaling.max"],
        ["a sampling of 0%", withModel({ dataCapture: { samplingPercent: 0, destination: "s3://capture/fraud" } }), "models[0].model.dataCapture.samplingPercent"],
        ["a capture destination outside S3", withModel({ dataCapture: { samplingPercent: 20, destination: "capture/fraud" } }), "models[0].model.dataCapture.destination"],
        ["GPUs, which SageMaker's instance type decides", { ...CREATED, gpus: 1 }, "models[0].gpus"],
        ["replicas, which autoscaling decides", { ...CREATED, replicas: { min: 1, max: 2 } }, "models[0].replicas"],
        ["a 90s timeout, beyond SageMaker's 60s real-time limit", { ...CREATED, timeout: "90s" }, "models[0].timeout", "prod", 90_000],
    ];
    for (const [what, spec, path, environment, timeout] of bad) {
        it(`refuses ${what} at ${path}`, () => assert.deepEqual(problems(spec, environment, timeout), [path]));
    }
    it("allows one instance outside prod", () => assert.deepEqual(problems(withModel({ initialInstanceCount: 1, autoscaling: undefined }), "dev"), []));
});

describe("SageMaker names and ARNs", () => {
    it("names a created endpoint stably within 63 characters, distinct per cluster", () => {
        const name = createdEndpointName({ name: "a".repeat(40), namespace: "b".repeat(63) }, "mlmesh-dev");
        assert.ok(name.length <= 63 && /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/.test(name), name);
        assert.equal(createdEndpointName(CREATED, "mlmesh-dev"), createdEndpointName(CREATED, "mlmesh-dev"));
        assert.notEqual(createdEndpointName(CREATED, "mlmesh-dev"), createdEndpointName(CREATED, "mlmesh-staging"));
    });
    it("writes the endpoint's name lowercased in its ARN, as IAM sees it", () => {
        assert.equal(endpointArn("aws", "us-west-2", "123456789012", "Churn-XGB"), "arn:aws:sagemaker:us-west-2:123456789012:endpoint/churn-xgb");
    });
});
