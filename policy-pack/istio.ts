/**
 * The pack's istio guardrails.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

export const istioPolicies: readonly (ResourceValidationPolicy | StackValidationPolicy)[] = [];
