/**
 * Every mlmesh policy, in one explicit list. Policies live in per-domain modules and are added
 * here by domain; nothing registers itself. `mlmesh plan`, `mlmesh check` and the pack all read
 * this list.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { eksPolicies } from "./eks";
import { iamPolicies } from "./iam";
import { istioPolicies } from "./istio";
import { kservePolicies } from "./kserve";
import { lifecyclePolicies } from "./lifecycle";
import { networkPolicies } from "./network";
import { nodesPolicies } from "./nodes";
import { podHardeningPolicies } from "./podHardening";
import { sagemakerPolicies } from "./sagemaker";
import { workloadsPolicies } from "./workloads";

export const policies: readonly (ResourceValidationPolicy | StackValidationPolicy)[] = [
    ...eksPolicies,
    ...nodesPolicies,
    ...workloadsPolicies,
    ...podHardeningPolicies,
    ...istioPolicies,
    ...kservePolicies,
    ...sagemakerPolicies,
    ...networkPolicies,
    ...iamPolicies,
    ...lifecyclePolicies,
];
