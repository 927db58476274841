/**
 * A model served by Amazon SageMaker, as a stack declares it, and its checks: bridge an endpoint
 * that exists (`endpointName`), or let mlmesh create one (`model`). Pure; the config and the
 * SageMaker components share it.
 * @see ../shared/facts/SAGEMAKER.md for the runtime facts relied on here
 */
import { profileOf, type Environment } from "../platform/environment";
import type { PropertyErrors } from "../propertyErrors";
import { parseImage, PRIVATE_ECR_HOST } from "../images";
import { AWS_NAME_LIMITS, scopedName } from "../names";
import type { CommonModelSpec } from "../serving/modelSpec";

/** What mlmesh creates for a SageMaker model: a model, an endpoint configuration and an endpoint. */
export interface SageMakerCreatedModel {
    /** The inference image, in private ECR, by tag or digest; `latest` is refused. */
    image: string;
    /** `s3://bucket/key` of the model archive (`model.tar.gz`). */
    modelDataUrl: string;
    /** A SageMaker hosting instance type, e.g. `ml.g5.xlarge`. */
    instanceType: string;
    /** Instances the variant starts with; at least 2 in prod, so the endpoint survives an AZ loss. */
    initialInstanceCount: number;
    /** Target tracking on invocations per instance. @default none (fixed at initialInstanceCount) */
    autoscaling?: { min: number; max: number; invocationsPerInstance: number };
    /** Capture requests and responses to S3, encrypted with the endpoint's key. @default none */
    dataCapture?: { samplingPercent: number; destination: string };
}

export interface SageMakerModelSpec extends CommonModelSpec {
    backend: "sagemaker";
    /** An endpoint that already exists in the stack's account and region. */
    endpointName?: string;
    /** What mlmesh creates; exactly one of this and `endpointName`. */
    model?: SageMakerCreatedModel;
}

/**
 * A real-time InvokeEndpoint must be answered within 60 s; SageMaker has no longer real-time
 * limit (botocore data/sagemaker-runtime/2017-05-13/service-2.json; SageMaker developer guide,
 * "Invoke a real-time endpoint"). A route timeout above it only hides the endpoint's error.
 */
export const SAGEMAKER_MAX_TIMEOUT_MS = 60_000;
/** The production variant's name; autoscaling and data capture address it. */
export const SAGEMAKER_VARIANT = "primary";
/** SageMaker's endpoint name pattern (CreateEndpoint `EndpointName`). */
export const SAGEMAKER_ENDPOINT_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

const S3_OBJECT = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/[^\s]*[^\s/]$/;
const S3_PREFIX = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^\s]*)?$/;
const INSTANCE_TYPE = /^ml\.[a-z0-9]+\.[a-z0-9]+$/;

/** Fields every other backend uses that mean nothing to SageMaker (it runs its own instances). */
const NOT_FOR_SAGEMAKER = ["gpus", "gpuNodeGroup", "resources", "sidecar", "replicas"] as const;

function count(errors: PropertyErrors, path: string, value: number, min: number, max: number): boolean {
    return !errors.check(path, value, Number.isInteger(value) && value >= min && value <= max ? undefined : `must be a whole number from ${min} to ${max}`);
}

/** Checks what only a SageMaker model has; the common fields are checked with every model. */
export function validateSageMaker(spec: SageMakerModelSpec, context: { environment?: Environment; timeoutMs?: number }, errors: PropertyErrors, at: string): void {
    for (const field of NOT_FOR_SAGEMAKER) {
        errors.check(`${at}${field}`, spec[field], spec[field] === undefined ? undefined : "does not apply to a SageMaker model, which runs on SageMaker's instances; remove it (size the endpoint with model.instanceType and model.initialInstanceCount)");
    }
    errors.check(`${at}timeout`, spec.timeout, context.timeoutMs !== undefined && context.timeoutMs > SAGEMAKER_MAX_TIMEOUT_MS
        ? "is longer than SageMaker's 60s limit for a real-time invocation; the endpoint would fail the request first. Use 60s or less (or an asynchronous endpoint, which mlmesh does not bridge yet)"
        : undefined);
    const hasName = spec.endpointName !== undefined;
    const hasModel = spec.model !== undefined;
    if (hasName === hasModel) {
        errors.check(`${at}endpointName`, spec.endpointName, hasName
            ? "and `model` are both set; bridge the existing endpoint (endpointName) or let mlmesh create one (model), not both"
            : "or `model` is required: name an existing endpoint to bridge, or describe the model for mlmesh to create");
    }
    if (hasName) {
        errors.check(`${at}endpointName`, spec.endpointName, SAGEMAKER_ENDPOINT_NAME.test(spec.endpointName!) ? undefined : "must be a SageMaker endpoint name: letters, digits and '-', at most 63 characters");
    }
    const model = spec.model;
    if (!model) {
        return;
    }
    const image = parseImage(model.image);
    errors.check(`${at}model.image`, model.image, !image || !PRIVATE_ECR_HOST.test(image.registry)
        ? "must be an image in private ECR (<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>), which is where SageMaker pulls from"
        : !image.tag && !image.digest ? "needs a tag or a digest, so every instance runs the same image"
        : image.tag === "latest" && !image.digest ? "uses the floating tag latest; pin a version tag or a digest" : undefined);
    errors.check(`${at}model.modelDataUrl`, model.modelDataUrl, S3_OBJECT.test(model.modelDataUrl) ? undefined : "must be the s3://bucket/key of the model archive, e.g. s3://models/fraud/1.4.2/model.tar.gz");
    errors.check(`${at}model.instanceType`, model.instanceType, INSTANCE_TYPE.test(model.instanceType) ? undefined : "must be a SageMaker instance type such as ml.g5.xlarge (they start with ml.)");
    const floor = profileOf(context.environment).minSageMakerInstances;
    if (count(errors, `${at}model.initialInstanceCount`, model.initialInstanceCount, 1, 100)) {
        errors.check(`${at}model.initialInstanceCount`, model.initialInstanceCount, model.initialInstanceCount < floor
            ? `must be at least ${floor} in ${context.environment}: SageMaker spreads instances over availability zones, and one instance does not survive the loss of its zone` : undefined);
    }
    const scaling = model.autoscaling;
    if (scaling) {
        const minOk = count(errors, `${at}model.autoscaling.min`, scaling.min, 1, 100);
        const maxOk = count(errors, `${at}model.autoscaling.max`, scaling.max, 1, 100);
        if (minOk && maxOk) {
            errors.check(`${at}model.autoscaling.max`, scaling.max, scaling.max < scaling.min ? `is below \`autoscaling.min\` (${scaling.min})` : undefined);
            errors.check(`${at}model.autoscaling.min`, scaling.min, scaling.min < floor ? `must be at least ${floor} in ${context.environment}, like initialInstanceCount` : undefined);
        }
        count(errors, `${at}model.autoscaling.invocationsPerInstance`, scaling.invocationsPerInstance, 1, 100_000);
    }
    const capture = model.dataCapture;
    if (capture) {
        count(errors, `${at}model.dataCapture.samplingPercent`, capture.samplingPercent, 1, 100);
        errors.check(`${at}model.dataCapture.destination`, capture.destination, S3_PREFIX.test(capture.destination) ? undefined : "must be an s3://bucket/prefix URI");
    }
}

/**
 * The name of the endpoint mlmesh creates for a model: stable (callers and the bridge address
 * it), unique in the account and region (a hash of the cluster), at most 63 characters.
 */
export function createdEndpointName(spec: Pick<SageMakerModelSpec, "name" | "namespace">, clusterName: string): string {
    return scopedName(`${spec.namespace}-${spec.name}`, clusterName, AWS_NAME_LIMITS.sagemakerName);
}

/** The endpoint a SageMaker model's requests go to. */
export function endpointNameOf(spec: SageMakerModelSpec, clusterName: string): string {
    return spec.endpointName ?? createdEndpointName(spec, clusterName);
}

/**
 * An endpoint's ARN. IAM sees the endpoint name lowercased in it, so policies write it that way
 * (philschmid/cdk-samples#2; no AWS page states it, and lowercasing is harmless for names that are).
 */
export function endpointArn(partition: string, region: string, accountId: string, endpointName: string): string {
    return `arn:${partition}:sagemaker:${region}:${accountId}:endpoint/${endpointName.toLowerCase()}`;
}

/** `bucket/key` of an `s3://bucket/key` URI, as an object ARN. */
export function s3ObjectArn(partition: string, uri: string): string {
    return `arn:${partition}:s3:::${uri.slice("s3://".length)}`;
}
