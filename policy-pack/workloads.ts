/**
 * The pack's workloads guardrails.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

export const workloadsPolicies: readonly (ResourceValidationPolicy | StackValidationPolicy)[] = [];
