/**
 * The pack's nodes guardrails.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

export const nodesPolicies: readonly (ResourceValidationPolicy | StackValidationPolicy)[] = [];
