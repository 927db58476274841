/**
 * The pack's network guardrails.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

export const networkPolicies: readonly (ResourceValidationPolicy | StackValidationPolicy)[] = [];
