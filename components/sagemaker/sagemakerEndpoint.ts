import * as aws from "@pulumi/aws";
import { KEY_ADMIN_ACTIONS } from "../cluster/secretsKeyPolicy";
import * as pulumi from "@pulumi/pulumi";
import type { PolicyDocument } from "../cluster/irsaServiceAccount";
import { parseImage } from "../images";
import { AWS_NAME_LIMITS, scopedName } from "../names";
import { createdEndpointName, s3ObjectArn, SAGEMAKER_VARIANT, type SageMakerCreatedModel, type SageMakerModelSpec } from "./sagemakerSpec";

/**
 * Instance types with local NVMe storage (instance store): CreateEndpointConfig refuses a
 * KmsKeyId for them, since SageMaker encrypts those volumes with a hardware key
 * (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpointConfig.html, KmsKeyId).
 * The GPU families with instance store, and every `d` variant (m5d, c6id, r5d, ...).
 */
export function hasLocalStorage(instanceType: string): boolean {
    const family = instanceType.split(".")[1] ?? "";
    return /^(g4dn|g5|g6|g6e|gr6|p3dn|p4d|p4de|p5|p5e|p5en|p6-b200|p6e-gb200|trn1|trn1n|trn2|dl1)$/.test(family) || /^[a-z]+\d+[a-z]*d$/.test(family);
}

export interface ExecutionRoleInputs {
    readonly partition: string;
    readonly region: string;
    readonly accountId: string;
    readonly vpcId: string;
    readonly endpointName: string;
    readonly model: SageMakerCreatedModel;
    readonly subnetIds: readonly string[];
    readonly securityGroupId: string;
    /** The endpoint's key, which encrypts captured data. */
    readonly keyArn: string;
    /** The KMS key of an SSE-KMS model archive. */
    readonly modelKmsKeyArn?: string;
}

/**
 * What the endpoint's execution role may do, statement by statement, as narrowly as AWS allows:
 * read exactly the model archive, pull exactly its ECR repository, write its own log group,
 * manage network interfaces in the endpoint's subnets and security group, and (with data capture)
 * write captured data under its prefix, encrypted with the endpoint's key.
 * @see https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html
 */
export function executionRolePolicy(inputs: ExecutionRoleInputs): PolicyDocument {
    const { partition, region, accountId } = inputs;
    const image = parseImage(inputs.model.image)!;
    const [registryAccount, , , imageRegion] = image.registry.split(".");
    const ec2 = (resource: string) => `arn:${partition}:ec2:${region}:${accountId}:${resource}`;
    const capture = inputs.model.dataCapture;
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "ReadModelArchive", Effect: "Allow", Action: "s3:GetObject", Resource: s3ObjectArn(partition, inputs.model.modelDataUrl) },
            ...(inputs.modelKmsKeyArn ? [{
                Sid: "DecryptModelArchiveThroughS3", Effect: "Allow", Action: "kms:Decrypt", Resource: inputs.modelKmsKeyArn,
                Condition: { StringLike: { "kms:ViaService": `s3.${region}.amazonaws.com` } },
            }] : []),
            {
                Sid: "PullModelImage", Effect: "Allow",
                Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
                Resource: `arn:${partition}:ecr:${imageRegion}:${registryAccount}:repository/${image.repository}`,
            },
            // GetAuthorizationToken has no resource type: AWS accepts only "*".
            { Sid: "RegistryLogin", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
            {
                Sid: "WriteOwnLogs", Effect: "Allow",
                Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                Resource: [
                    `arn:${partition}:logs:${region}:${accountId}:log-group:/aws/sagemaker/Endpoints/${inputs.endpointName}`,
                    `arn:${partition}:logs:${region}:${accountId}:log-group:/aws/sagemaker/Endpoints/${inputs.endpointName}:log-stream:*`,
                ],
            },
            // PutMetricData has no resource type: "*", held to SageMaker's namespaces.
            { Sid: "PublishMetrics", Effect: "Allow", Action: "cloudwatch:PutMetricData", Resource: "*", Condition: { StringLike: { "cloudwatch:namespace": "/aws/sagemaker/*" } } },
            {
                Sid: "AttachToEndpointSubnets", Effect: "Allow", Action: "ec2:CreateNetworkInterface",
                Resource: [ec2("network-interface/*"), ec2(`security-group/${inputs.securityGroupId}`), ...inputs.subnetIds.map((id) => ec2(`subnet/${id}`))],
            },
            {
                // Network interfaces in the endpoint's VPC only, not the nodes' elsewhere.
                Sid: "ManageOwnInterfaces", Effect: "Allow",
                Action: ["ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission"],
                Resource: ec2("network-interface/*"),
                Condition: { ArnEquals: { "ec2:Vpc": ec2(`vpc/${inputs.vpcId}`) } },
            },
            // The Describe calls have no resource types: AWS accepts only "*".
            {
                Sid: "DescribeNetwork", Effect: "Allow", Resource: "*",
                Action: ["ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs", "ec2:DescribeDhcpOptions", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"],
            },
            ...(capture ? [
                { Sid: "WriteCapturedData", Effect: "Allow", Action: "s3:PutObject", Resource: `${s3ObjectArn(partition, capture.destination.replace(/\/+$/, ""))}/*` },
                { Sid: "EncryptCapturedData", Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Encrypt"], Resource: inputs.keyArn },
            ] : []),
        ],
    };
}

export interface SageMakerEndpointArgs {
    /** A validated SageMaker model spec with `model` set. */
    spec: SageMakerModelSpec & { model: SageMakerCreatedModel };
    /** The cluster's name: it scopes the endpoint's and the role's names. */
    clusterName: string;
    /** Where the model's network interfaces go (the cluster's private subnets). */
    network: { readonly vpcId: pulumi.Input<string>; readonly privateSubnetIds: pulumi.Input<pulumi.Input<string>[]> };
    /** Protect the endpoint from `pulumi destroy` (prod). @default false */
    protect?: boolean;
    tags?: Record<string, string>;
}

/**
 * A SageMaker real-time endpoint made by mlmesh: a network-isolated model in the cluster's
 * private subnets under its own execution role, an endpoint configuration encrypted with the
 * endpoint's own key (auto-named, so a change creates the next configuration before the old one
 * goes and the endpoint moves to it without downtime), the endpoint under a stable name, and
 * target-tracking autoscaling of its variant.
 */
/**
 * The endpoint key's policy. KMS's default lets any IAM principal of the account use the key
 * directly; this one keeps administration with IAM (no cryptographic action) and lets the key
 * encrypt and decrypt only through SageMaker (the endpoint's volumes, the grants it creates) and S3
 * (captured data), for callers of this account. Nobody decrypts captured data outside S3.
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service
 */
export function endpointKeyPolicy(partition: string, region: string, accountId: string): Record<string, unknown> {
    const account = { AWS: `arn:${partition}:iam::${accountId}:root` };
    return {
        Version: "2012-10-17",
        Statement: [
            // kms:Create* would include CreateGrant: aliases only. (An admin who may PutKeyPolicy can still rewrite the policy;
            // that is administration, visible in CloudTrail, and needed so the key is never locked out.)
            { Sid: "Administration", Effect: "Allow", Principal: account, Action: KEY_ADMIN_ACTIONS.map((a) => (a === "kms:Create*" ? "kms:CreateAlias" : a)), Resource: "*" },
            {
                Sid: "UseThroughSageMakerAndS3",
                Effect: "Allow",
                Principal: account,
                Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
                Resource: "*",
                Condition: { StringEquals: { "kms:ViaService": [`sagemaker.${region}.amazonaws.com`, `s3.${region}.amazonaws.com`], "kms:CallerAccount": accountId } },
            },
            {
                // SageMaker creates grants for the endpoint's volumes with the caller's credentials.
                Sid: "GrantsForSageMakerResources",
                Effect: "Allow",
                Principal: account,
                Action: "kms:CreateGrant",
                Resource: "*",
                Condition: {
                    StringEquals: { "kms:ViaService": `sagemaker.${region}.amazonaws.com`, "kms:CallerAccount": accountId },
                    Bool: { "kms:GrantIsForAWSResource": "true" },
                },
            },
        ],
    };
}

export class SageMakerEndpoint extends pulumi.ComponentResource {
    public readonly endpointName: pulumi.Output<string>;
    public readonly endpointArn: pulumi.Output<string>;

    constructor(name: string, args: SageMakerEndpointArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlmesh:sagemaker:SageMakerEndpoint", name, {}, opts);
        const { spec } = args;
        const model = spec.model;
        const parent = { parent: this };
        const tags = { ...args.tags, "mlmesh.io/model": `${spec.namespace}/${spec.name}` };
        const endpointName = createdEndpointName(spec, args.clusterName);
        const partition = aws.getPartitionOutput({}, parent).partition;
        const region = aws.getRegionOutput({}, parent).region;
        const accountId = aws.getCallerIdentityOutput({}, parent).accountId;

        const key = new aws.kms.Key(`${name}-key`, {
            description: `SageMaker endpoint ${endpointName}: storage volumes and captured data`,
            enableKeyRotation: true,
            deletionWindowInDays: 30,
            policy: pulumi.all([partition, region, accountId]).apply(([p, r, account]) => JSON.stringify(endpointKeyPolicy(p, r, account))),
            tags,
        }, { parent: this, protect: args.protect ?? false, retainOnDelete: args.protect ?? false });
        // No inbound: SageMaker reaches the instances itself. Outbound HTTPS only, for the model
        // archive (through the VPC's S3 endpoint) and the image.
        const securityGroup = new aws.ec2.SecurityGroup(`${name}-sg`, {
            vpcId: args.network.vpcId,
            description: `SageMaker endpoint ${endpointName}`,
            egress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"], description: "HTTPS to S3 and ECR" }],
            tags,
        }, parent);
        const role = new aws.iam.Role(`${name}-role`, {
            name: region.apply((r) => scopedName(`${endpointName}-sm`, r, AWS_NAME_LIMITS.iamRole)),
            description: `Execution role of SageMaker endpoint ${endpointName}`,
            assumeRolePolicy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Principal: { Service: "sagemaker.amazonaws.com" }, Action: "sts:AssumeRole" }],
            }),
            tags,
        }, parent);
        const rolePolicy = new aws.iam.RolePolicy(`${name}-role-policy`, {
            name: "endpoint-permissions",
            role: role.name,
            policy: pulumi.all([partition, region, accountId, args.network.vpcId, args.network.privateSubnetIds, securityGroup.id, key.arn]).apply(([p, r, account, vpcId, subnets, sg, keyArn]) =>
                JSON.stringify(executionRolePolicy({ partition: p, region: r, accountId: account, vpcId, endpointName, model, subnetIds: subnets, securityGroupId: sg, keyArn, modelKmsKeyArn: spec.modelKmsKeyArn }))),
        }, { parent: this, deleteBeforeReplace: true });

        // Named by the provider: every replacement gets a new name, so it is created before the old
        // model goes, and going back to an earlier image never collides with a model kept in prod.
        // The logical name leaves room for the provider's `-<7>` within SageMaker's 63 characters.
        const sagemakerModel = new aws.sagemaker.Model(scopedName(endpointName, `${name}/model`, AWS_NAME_LIMITS.sagemakerName - 8), {
            executionRoleArn: role.arn,
            primaryContainer: { image: model.image, modelDataUrl: model.modelDataUrl },
            enableNetworkIsolation: true,
            vpcConfig: { subnets: args.network.privateSubnetIds, securityGroupIds: [securityGroup.id] },
            tags,
        // Kept when replaced, with the endpoint protected (prod): if SageMaker rolls an update back,
        // the endpoint stays on the old model and configuration, which the provider would otherwise
        // delete under it (hashicorp/terraform-provider-aws#48997). They cost nothing; remove old
        // ones by hand. Elsewhere the stack must tear down cleanly.
        }, { parent: this, dependsOn: [rolePolicy], retainOnDelete: args.protect ?? false });
        const config = new aws.sagemaker.EndpointConfiguration(`${name}-config`, {
            // A prefix: the provider adds a unique suffix (26 characters), so each change makes a new configuration.
            namePrefix: scopedName(endpointName, "config", AWS_NAME_LIMITS.sagemakerName - 26),
            ...(hasLocalStorage(model.instanceType) ? {} : { kmsKeyArn: key.arn }),
            productionVariants: [{
                variantName: SAGEMAKER_VARIANT,
                modelName: sagemakerModel.name,
                instanceType: model.instanceType,
                initialInstanceCount: model.initialInstanceCount,
            }],
            ...(model.dataCapture ? {
                dataCaptureConfig: {
                    enableCapture: true,
                    initialSamplingPercentage: model.dataCapture.samplingPercent,
                    destinationS3Uri: model.dataCapture.destination,
                    kmsKeyId: key.arn,
                    captureOptions: [{ captureMode: "Input" }, { captureMode: "Output" }],
                },
            } : {}),
            tags,
        }, { parent: this, retainOnDelete: args.protect ?? false });
        const endpoint = new aws.sagemaker.Endpoint(`${name}-endpoint`, {
            name: endpointName,
            endpointConfigName: config.name,
            tags,
        }, { parent: this, protect: args.protect ?? false, customTimeouts: { create: "60m", update: "60m" } });

        if (model.autoscaling) {
            const target = new aws.appautoscaling.Target(`${name}-scaling`, {
                serviceNamespace: "sagemaker",
                scalableDimension: "sagemaker:variant:DesiredInstanceCount",
                resourceId: pulumi.interpolate`endpoint/${endpoint.name}/variant/${SAGEMAKER_VARIANT}`,
                minCapacity: model.autoscaling.min,
                maxCapacity: model.autoscaling.max,
            }, parent);
            new aws.appautoscaling.Policy(`${name}-scaling`, {
                policyType: "TargetTrackingScaling",
                serviceNamespace: target.serviceNamespace,
                scalableDimension: target.scalableDimension,
                resourceId: target.resourceId,
                targetTrackingScalingPolicyConfiguration: {
                    predefinedMetricSpecification: { predefinedMetricType: "SageMakerVariantInvocationsPerInstance" },
                    targetValue: model.autoscaling.invocationsPerInstance,
                    scaleOutCooldown: 60,
                    scaleInCooldown: 300,
                },
            }, parent);
        }

        this.endpointName = endpoint.name;
        this.endpointArn = endpoint.arn;
        this.registerOutputs({ endpointName: this.endpointName, endpointArn: this.endpointArn });
    }
}
