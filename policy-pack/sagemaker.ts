/**
 * The pack's SageMaker guardrails, on the resources a SageMaker real-time endpoint is made of:
 * the model (`aws:sagemaker/model:Model`), the endpoint configuration
 * (`aws:sagemaker/endpointConfiguration:EndpointConfiguration`), the endpoint, and the
 * Application Auto Scaling target of its variants (`aws:appautoscaling/target:Target`).
 */
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

const MODEL = "aws:sagemaker/model:Model";
const ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration";
const ENDPOINT = "aws:sagemaker/endpoint:Endpoint";
const SCALING_TARGET = "aws:appautoscaling/target:Target";
const VARIANT_CAPACITY = "sagemaker:variant:DesiredInstanceCount";

const describe = (type: string, name: string) => `${type.split(":").pop()} ${name}`;

/**
 * Whether `object` sets `key`, read past the engine's preview proxy (which checks reads, not
 * property descriptors): a key ARN unknown during preview is still a key that will be set, so a
 * new endpoint with its new key is judged in preview rather than skipped.
 */
function isSet(object: unknown, key: string): boolean {
    const value = object !== null && typeof object === "object" ? Object.getOwnPropertyDescriptor(object, key)?.value : undefined;
    return value !== undefined && value !== null && value !== "";
}

/**
 * Instance types with local NVMe storage (instance store). CreateEndpointConfig refuses a
 * KmsKeyId when any variant runs on one: SageMaker encrypts those volumes with a hardware module
 * on the instance (API reference, CreateEndpointConfig `KmsKeyId`). The GPU and accelerator
 * families with instance store, and every `d` variant (m5d, c5d, r5d, c6id...). It must agree
 * with components/sagemaker/sagemakerEndpoint.ts `hasLocalStorage`, which decides whether mlmesh
 * sets the key (the pack cannot import it; a test holds the two together).
 * @see https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpointConfig.html
 */
export function hasLocalStorage(instanceType: string): boolean {
    const family = instanceType.split(".")[1] ?? "";
    return /^(g4dn|g5|g6|g6e|gr6|p3dn|p4d|p4de|p5|p5e|p5en|p6-b200|p6e-gb200|trn1|trn1n|trn2|dl1)$/.test(family) || /^[a-z]+\d+[a-z]*d$/.test(family);
}

interface Variant {
    readonly field: string;
    readonly variantName?: string;
    readonly instanceType?: string;
    readonly initialInstanceCount?: number;
    readonly serverlessConfig?: unknown;
    readonly managedInstanceScaling?: { status?: string; minInstanceCount?: number };
}

/** Every variant of an endpoint configuration, shadow variants included, with its field path. */
function variantsOf(props: Record<string, any>, withShadows = true): Variant[] {
    const list = (key: string) => ((props[key] ?? []) as Omit<Variant, "field">[]).map((v, i) => ({ ...pick(v), field: `${key}[${i}]` }));
    return [...list("productionVariants"), ...(withShadows ? list("shadowProductionVariants") : [])];
}

/** Reads only the fields the rules use, so an unknown field elsewhere in the variant stays unread. */
function pick(v: Omit<Variant, "field">): Omit<Variant, "field"> {
    return { variantName: v.variantName, instanceType: v.instanceType, initialInstanceCount: v.initialInstanceCount, serverlessConfig: v.serverlessConfig, managedInstanceScaling: v.managedInstanceScaling };
}

export const smEndpointKms: ResourceValidationPolicy = {
    name: "sm-endpoint-kms",
    description: "Checks whether SageMaker endpoint configurations encrypt what they keep at rest with a KMS key: the instances' storage volumes (`kmsKeyArn`, unless a variant's instance type has NVMe instance storage, which SageMaker encrypts in hardware and for which AWS refuses a key), captured data (`dataCaptureConfig.kmsKeyId`) and asynchronous inference results (`asyncInferenceConfig.outputConfig.kmsKeyId`).",
    enforcementLevel: "mandatory",
    remediationSteps: "Set `kmsKeyArn` on the endpoint configuration to a customer managed KMS key whose key policy lets the endpoint's execution role use it (mlmesh's SageMakerEndpoint creates one per endpoint); on instance types with NVMe instance storage (ml.g5, ml.p4d, ml.m5d, ...) leave it unset. Set `kmsKeyId` in `dataCaptureConfig` and in `asyncInferenceConfig.outputConfig` when they are used.",
    validateResource: (args, reportViolation) => {
        if (args.type !== ENDPOINT_CONFIG) {
            return;
        }
        const what = describe(args.type, args.name);
        const instanceVariants = variantsOf(args.props).filter((v) => v.instanceType !== undefined);
        const local = instanceVariants.filter((v) => hasLocalStorage(v.instanceType!));
        // Serverless variants have no storage volume of the account's; a local-storage variant forbids the key for all.
        if (instanceVariants.length > 0 && local.length === 0 && !isSet(args.props, "kmsKeyArn")) {
            const types = [...new Set(instanceVariants.map((v) => v.instanceType))].join(", ");
            reportViolation(`${what}: \`kmsKeyArn\` is not set, so the storage volumes of its ${types} instances are encrypted with a transient key SageMaker discards; set it to a customer managed KMS key the endpoint's execution role may use.`);
        }
        const capture = args.props.dataCaptureConfig;
        if (capture && capture.enableCapture !== false && !isSet(capture, "kmsKeyId")) {
            reportViolation(`${what}: \`dataCaptureConfig.kmsKeyId\` is not set, so captured requests and responses land in ${capture.destinationS3Uri ?? "S3"} under the bucket's default encryption, outside the endpoint's key; set it to the endpoint's KMS key.`);
        }
        const output = args.props.asyncInferenceConfig?.outputConfig;
        if (output && !isSet(output, "kmsKeyId")) {
            reportViolation(`${what}: \`asyncInferenceConfig.outputConfig.kmsKeyId\` is not set, so asynchronous inference results in ${output.s3OutputPath ?? "S3"} are not encrypted with a key of yours; set it to the endpoint's KMS key.`);
        }
    },
};

export const smModelNetworkIsolation: ResourceValidationPolicy = {
    name: "sm-model-network-isolation",
    description: "Checks whether SageMaker models enable network isolation (`enableNetworkIsolation: true`), so the inference container makes no outbound network calls and receives no AWS credentials.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set `enableNetworkIsolation: true` on the model. SageMaker still downloads the model archive and the image with the execution role; a container that needs to call out at run time should get what it needs in the archive instead.",
    url: "https://docs.aws.amazon.com/sagemaker/latest/dg/mkt-algo-model-internet-free.html",
    validateResource: (args, reportViolation) => {
        if (args.type === MODEL && args.props.enableNetworkIsolation !== true) {
            reportViolation(`${describe(args.type, args.name)}: \`enableNetworkIsolation\` is ${JSON.stringify(args.props.enableNetworkIsolation ?? "unset")}, so the inference container can reach the network and the execution role's credentials; set it to true.`);
        }
    },
};

export const smModelVpc: ResourceValidationPolicy = {
    name: "sm-model-vpc",
    description: "Checks whether SageMaker models run in a VPC: `vpcConfig` with at least one subnet and one security group, so the endpoint's instances reach S3 and ECR through the VPC rather than SageMaker's own network.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set `vpcConfig` on the model with the cluster's private subnets (`subnets`) and a security group that allows only outbound HTTPS (`securityGroupIds`); the VPC needs an S3 gateway endpoint and ECR endpoints or a NAT route.",
    url: "https://docs.aws.amazon.com/sagemaker/latest/dg/host-vpc.html",
    validateResource: (args, reportViolation) => {
        if (args.type !== MODEL) {
            return;
        }
        const what = describe(args.type, args.name);
        const vpc = args.props.vpcConfig;
        if (!vpc) {
            reportViolation(`${what}: \`vpcConfig\` is not set, so the model runs in SageMaker's network, not yours; set it with private \`subnets\` and \`securityGroupIds\`.`);
            return;
        }
        for (const field of ["subnets", "securityGroupIds"] as const) {
            if (((vpc[field] ?? []) as unknown[]).length === 0) {
                reportViolation(`${what}: \`vpcConfig.${field}\` is empty; list at least one (${field === "subnets" ? "private subnets in two or more availability zones" : "a security group allowing outbound HTTPS only"}).`);
            }
        }
    },
};

export const smDataCapture: ResourceValidationPolicy = {
    name: "sm-data-capture",
    description: "Checks whether SageMaker endpoint configurations capture a sample of requests and responses to S3 (`dataCaptureConfig` enabled, sampling at least `minSamplingPercent`), for audit, debugging and drift monitoring.",
    enforcementLevel: "advisory",
    remediationSteps: "Add `dataCaptureConfig` with `enableCapture: true`, an `initialSamplingPercentage`, a `destinationS3Uri` and `kmsKeyId`, and capture options Input and Output (in mlmesh: the model's `dataCapture: { samplingPercent, destination }`).",
    configSchema: {
        properties: {
            minSamplingPercent: { type: "integer", minimum: 1, maximum: 100, default: 1, description: "Lowest sampling percentage counted as capturing." },
        },
    },
    validateResource: (args, reportViolation) => {
        if (args.type !== ENDPOINT_CONFIG) {
            return;
        }
        const { minSamplingPercent } = args.getConfig<{ minSamplingPercent: number }>();
        const what = describe(args.type, args.name);
        const capture = args.props.dataCaptureConfig;
        if (!capture) {
            reportViolation(`${what}: \`dataCaptureConfig\` is not set, so no request or response is kept for audit or drift monitoring; add it (in mlmesh, the model's \`dataCapture\`).`);
        } else if (capture.enableCapture === false) {
            reportViolation(`${what}: \`dataCaptureConfig.enableCapture\` is false; set it to true (or leave it unset: AWS enables capture by default).`);
        } else if (!(Number(capture.initialSamplingPercentage) >= minSamplingPercent)) {
            reportViolation(`${what}: \`dataCaptureConfig.initialSamplingPercentage\` (${capture.initialSamplingPercentage}) is below ${minSamplingPercent}; capture at least ${minSamplingPercent}% of requests.`);
        }
    },
};

/** `endpoint/<endpoint>/variant/<variant>`, the resource ID Application Auto Scaling gives a SageMaker variant. */
function scaledVariant(target: PolicyResource): { endpoint: string; variant: string } | undefined {
    if (target.props.serviceNamespace !== "sagemaker" || target.props.scalableDimension !== VARIANT_CAPACITY) {
        return undefined;
    }
    const match = /^endpoint\/([^/]+)\/variant\/([^/]+)$/.exec(String(target.props.resourceId));
    return match ? { endpoint: match[1], variant: match[2] } : undefined;
}

const dependsOn = (resource: PolicyResource, on: PolicyResource) => resource.dependencies.some((d) => d.urn === on.urn);

/** The fewest instances a variant can be left with, and the setting that decides it. */
interface Floor {
    readonly count: number;
    readonly source: string;
}

/**
 * Security Hub SageMaker.4 (production variants with an initial instance count above 1) is the
 * counterpart. mlmesh judges the floor the variant can really reach: with an autoscaling target,
 * its minCapacity, since RegisterScalableTarget moves the current count into the target's range
 * and scale-in goes down to minCapacity (Application Auto Scaling API reference,
 * RegisterScalableTarget); so 1 initial instance with minCapacity 2 passes, 3 with minCapacity 1 does not.
 */
export const smEndpointHa: StackValidationPolicy = {
    name: "sm-endpoint-ha",
    description: "Checks whether every instance-based production variant of a SageMaker endpoint keeps at least `minInstances` instances (2 by default) at all times: the `minCapacity` of the Application Auto Scaling target on it (which it can shrink to), else its `initialInstanceCount`, and the floor of any managed instance scaling. SageMaker spreads a variant's instances across availability zones, and one instance does not survive the loss of its zone.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set the `minCapacity` of the variant's autoscaling target to at least 2, or without autoscaling its `initialInstanceCount` (in mlmesh: the model's `autoscaling.min` and `initialInstanceCount`, which prod already requires to be 2 or more). Development environments relax this rule in their policy config.",
    url: "https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-best-practices.html",
    configSchema: {
        properties: {
            minInstances: { type: "integer", minimum: 1, default: 2, description: "Fewest instances a production variant may run." },
        },
    },
    validateStack: (args, reportViolation) => {
        const { minInstances } = args.getConfig<{ minInstances: number }>();
        const endpoints = args.resources.filter((r) => r.type === ENDPOINT);
        const targets = args.resources.filter((r) => r.type === SCALING_TARGET).map((target) => ({ target, scaled: scaledVariant(target) })).filter((t) => t.scaled !== undefined);
        for (const config of args.resources.filter((r) => r.type === ENDPOINT_CONFIG)) {
            const served = endpoints.filter((e) => dependsOn(e, config) || (config.props.name !== undefined && e.props.endpointConfigName === config.props.name));
            // Autoscaling is not copied into shadow variants' capacity: HA is about the variants that answer.
            for (const variant of variantsOf(config.props, false).filter((v) => v.serverlessConfig === undefined)) {
                const scaling: Floor[] = [];
                for (const { target, scaled } of targets) {
                    const endpoint = served.find((e) => dependsOn(target, e) || String(e.props.name ?? "").toLowerCase() === scaled!.endpoint.toLowerCase());
                    if (endpoint && scaled!.variant === variant.variantName) {
                        scaling.push({ count: Number(target.props.minCapacity), source: `minCapacity ${target.props.minCapacity} on ${describe(target.type, target.name)}` });
                    }
                }
                // A scalable target owns the variant's capacity: registering it moves the count into
                // [minCapacity, maxCapacity], and scale-in goes down to minCapacity.
                const floors: Floor[] = scaling.length > 0 ? scaling : [{ count: Number(variant.initialInstanceCount ?? 1), source: `initialInstanceCount ${variant.initialInstanceCount ?? "unset"}` }];
                const managed = variant.managedInstanceScaling;
                if (managed && String(managed.status ?? "").toUpperCase() === "ENABLED") {
                    floors.push({ count: Number(managed.minInstanceCount ?? 0), source: `managedInstanceScaling.minInstanceCount ${managed.minInstanceCount ?? "unset"}` });
                }
                const low = floors.filter((f) => !(f.count >= minInstances));
                if (low.length > 0) {
                    reportViolation(`${describe(config.type, config.name)}: \`${variant.field}\` (${variant.variantName ?? "unnamed"}) can run ${Math.min(...low.map((f) => f.count))} instance(s) (${low.map((f) => f.source).join("; ")}), below ${minInstances}; one instance does not survive the loss of its availability zone. Raise ${low.map((f) => f.source.split(" ")[0]).join(" and ")} to at least ${minInstances}.`, config.urn);
                }
            }
        }
    },
};

export const sagemakerPolicies: readonly (ResourceValidationPolicy | StackValidationPolicy)[] = [
    smEndpointKms,
    smModelNetworkIsolation,
    smModelVpc,
    smDataCapture,
    smEndpointHa,
];
