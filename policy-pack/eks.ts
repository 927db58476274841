/**
 * The pack's eks guardrails.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

export const eksPolicies: readonly (ResourceValidationPolicy | StackValidationPolicy)[] = [];
