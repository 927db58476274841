/**
 * The policy of the VPC's S3 gateway endpoint. Without one the endpoint reaches every bucket in
 * the region, so a compromised workload could copy weights to a bucket of its own. With it,
 * requests through the endpoint reach the account's buckets (and those of accounts the stack
 * names), plus the AWS-owned buckets nodes read from: ECR's image layers, the Amazon Linux
 * 2023 package repositories and the SSM agent's buckets. The mesh allows only regional S3 host
 * names (see mesh/egress), which resolve to the addresses this endpoint routes. Pure.
 * @see https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-s3.html#vpc-endpoints-policies-s3
 * @see https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html#ecr-minimum-s3-perms
 * @see https://docs.aws.amazon.com/systems-manager/latest/userguide/ssm-agent-minimum-s3-permissions.html
 */
import type { PolicyDocument } from "./irsaServiceAccount";

/** Buckets AWS owns that nodes read objects from, by region. */
export function awsOwnedBuckets(region: string): string[] {
    return [
        // ECR serves image layers (cached images too) from this bucket through presigned URLs.
        `prod-${region}-starport-layer-bucket`,
        // Amazon Linux 2023 package repositories (aws-samples/data-perimeter-policy-examples:vpc_endpoint_policies/s3_endpoint_policy.json).
        `al2023-repos-${region}-de612dc2`,
        `al2023-${region}`,
        // The SSM agent's updates, documents and patch baselines.
        `amazon-ssm-${region}`,
        `amazon-ssm-packages-${region}`,
        `aws-ssm-${region}`,
        `${region}-birdwatcher-prod`,
        `aws-ssm-distributor-file-${region}`,
        `aws-ssm-document-attachments-${region}`,
        `patch-baseline-snapshot-${region}`,
    ];
}

export interface S3EndpointPolicyInputs {
    readonly partition: string;
    readonly region: string;
    readonly accountId: string;
    /** Further accounts whose buckets the VPC may reach (a shared model registry). @default [] */
    readonly extraAccounts?: readonly string[];
}

export function s3EndpointPolicy(inputs: S3EndpointPolicyInputs): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "TheAccountsBuckets",
                Effect: "Allow",
                Principal: "*",
                Action: "s3:*",
                Resource: "*",
                Condition: { StringEquals: { "aws:ResourceAccount": [inputs.accountId, ...(inputs.extraAccounts ?? [])] } },
            },
            {
                Sid: "AwsOwnedBucketsNodesReadFrom",
                Effect: "Allow",
                Principal: "*",
                Action: "s3:GetObject",
                Resource: awsOwnedBuckets(inputs.region).map((bucket) => `arn:${inputs.partition}:s3:::${bucket}/*`),
            },
        ],
    };
}
