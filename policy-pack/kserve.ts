/**
 * The pack's kserve guardrails.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

export const kservePolicies: readonly (ResourceValidationPolicy | StackValidationPolicy)[] = [];
