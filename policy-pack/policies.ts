/**
 * Every mlmesh policy, in one explicit list. Policies live in per-domain modules and are added
 * here by name; nothing registers itself. `mlmesh plan` and the pack both read this list.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

export const policies: readonly (ResourceValidationPolicy | StackValidationPolicy)[] = [];
