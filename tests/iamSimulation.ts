/**
 * IAM judged by evaluation, not by reading: a real policy evaluator (@cloud-copilot/iam-simulate,
 * AGPL, a test-only devDependency) decides whether each AWS call a workload really makes is
 * allowed by the policy mlmesh writes for it, and whether a neighbour's resource is refused.
 */
import { runSimulation } from "@cloud-copilot/iam-simulate";
import type { PolicyDocument } from "../components/cluster/irsaServiceAccount";

export const ACCOUNT_ID = "123456789012";

/** One AWS API call as the workload's SDK sends it, with where in its source the call is made. */
export interface AwsCall {
    /** The API operation, e.g. `HeadBucket`. */
    readonly api: string;
    /** The IAM action AWS authorizes the operation as. */
    readonly action: string;
    readonly resource: string;
    /** Request context keys the service sets for this call (e.g. `s3:prefix`); absent keys stay absent. */
    readonly context?: Readonly<Record<string, string | string[]>>;
    /** `repo:path@tag` where the software makes the call. */
    readonly source: string;
    /** The resource's own policy, where AWS always reads one (a KMS key policy). */
    readonly resourcePolicy?: PolicyDocument;
    /** The account that owns the resource (`aws:ResourceAccount`). @default ACCOUNT_ID */
    readonly resourceAccount?: string;
    /** The policy of the VPC endpoint the request travels through, if any. */
    readonly endpointPolicy?: PolicyDocument;
}

/**
 * The default policy KMS gives a key: the account may delegate access to the key through IAM
 * policies. Without a key policy that says so, no IAM policy can grant kms:Decrypt.
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
 */
export const DEFAULT_KEY_POLICY: PolicyDocument = {
    Version: "2012-10-17",
    Statement: [{ Sid: "Enable IAM User Permissions", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: "kms:*", Resource: "*" }],
};

export type Decision = "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied";

/** The evaluator's decision on `call` for a role whose only permissions are `policy`. */
export async function decide(policy: PolicyDocument, call: AwsCall): Promise<Decision> {
    return decideFor(`arn:aws:iam::${ACCOUNT_ID}:role/workload`, policy, call);
}

/** The evaluator's decision on `call` made by `principal` (a role ARN) whose only permissions are `policy`. */
export async function decideFor(principal: string, policy: PolicyDocument, call: AwsCall): Promise<Decision> {
    const result = await runSimulation({
        request: {
            principal,
            action: call.action,
            resource: { resource: call.resource, accountId: call.resourceAccount ?? ACCOUNT_ID },
            // AWS puts these global keys in every request's context; the simulator does not add them itself.
            contextVariables: { "aws:PrincipalArn": principal, "aws:PrincipalAccount": ACCOUNT_ID, "aws:ResourceAccount": call.resourceAccount ?? ACCOUNT_ID, ...call.context },
        },
        identityPolicies: [{ name: "workload", policy: policy as unknown as Record<string, unknown> }],
        ...(call.resourcePolicy ? { resourcePolicy: call.resourcePolicy as unknown as Record<string, unknown> } : {}),
        ...(call.endpointPolicy ? { vpcEndpointPolicies: [{ name: "endpoint", policy: call.endpointPolicy as unknown as Record<string, unknown> }] } : {}),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
    }, {});
    // An action with no resource type is evaluated on "*" as a whole.
    if (result.resultType === "wildcard" && call.resource === "*") {
        return result.overallResult as Decision;
    }
    if (result.resultType !== "single") {
        throw new Error(`the IAM simulator could not evaluate ${call.api} on ${call.resource} as one request: ${JSON.stringify(result)}`);
    }
    return result.overallResult as Decision;
}
