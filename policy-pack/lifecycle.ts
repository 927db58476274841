/**
 * The pack's lifecycle guardrails.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

export const lifecyclePolicies: readonly (ResourceValidationPolicy | StackValidationPolicy)[] = [];
