/**
 * What a user declares about a model's routes beyond its own traffic policy: per-path overrides,
 * the JWT claims the front door asks for, and splits between models of different backends.
 */
import type { RetryPolicy } from "./modelSpec";

/** A path's own timeout and retries; unset fields are the model's. */
export interface PathOverride {
    prefix: string;
    timeout?: string;
    retries?: RetryPolicy;
}

/** JWT claim name → the values that admit (any one). */
export type RequiredClaims = Record<string, string[]>;

/** One leg of a split: another model of the list, and its percent of the split's traffic. */
export interface SplitRoute {
    model: string;
    weight: number;
}

/**
 * A model name that serves nothing itself: the front door splits its requests between other
 * models by weight, whatever backend serves each, and each leg receives the path its backend answers.
 */
export interface SplitModelSpec {
    name: string;
    namespace: string;
    backend: "split";
    routes: SplitRoute[];
    allowedPrincipals?: string[];
    requireClaims?: RequiredClaims;
    /** @default "30s" */
    timeout?: string;
    retries?: RetryPolicy;
}
