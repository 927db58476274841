/**
 * The pack's sagemaker guardrails.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

export const sagemakerPolicies: readonly (ResourceValidationPolicy | StackValidationPolicy)[] = [];
