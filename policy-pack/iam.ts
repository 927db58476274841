/**
 * The pack's iam guardrails.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

export const iamPolicies: readonly (ResourceValidationPolicy | StackValidationPolicy)[] = [];
