/** The deployment tiers mlmesh knows; prod turns on deletion protection and stricter rules. */
export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];
