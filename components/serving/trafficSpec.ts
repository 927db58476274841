/**
 * The checks of a route's traffic settings (durations, counts, timeout against retries), shared by
 * models, their per-path overrides and splits. Pure.
 */
import type { PropertyErrors } from "../propertyErrors";
import { DEFAULT_RETRIES, type RetryPolicy } from "./modelSpec";

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const DURATION_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of an Istio duration ("30s", "500ms", "1m"), or the reason it is not one. */
export function parseDuration(text: string): number | string {
    const match = DURATION.exec(text);
    return match ? Number(match[1]) * DURATION_MS[match[2]] : "is not a duration; write it like 30s, 500ms or 2m";
}

export function checkDuration(errors: PropertyErrors, path: string, value: string | undefined): number | undefined {
    if (value === undefined) {
        return undefined;
    }
    const parsed = parseDuration(value);
    errors.check(path, value, typeof parsed === "string" ? parsed : undefined);
    return typeof parsed === "number" ? parsed : undefined;
}

export function checkCount(errors: PropertyErrors, path: string, value: number | undefined, min: number, max: number): void {
    errors.check(path, value, value === undefined || (Number.isInteger(value) && value >= min && value <= max) ? undefined : `must be a whole number from ${min} to ${max}`);
}

/**
 * A route's timeout and retries, as given (`given`) and as the route will carry them with
 * defaults filled in (`effective`): durations, the attempt count, no retry setting beside
 * `attempts: 0`, and no per-try timeout longer than the whole.
 */
export function checkTraffic(errors: PropertyErrors, at: string, given: { timeout?: string; retries?: RetryPolicy }, effective: { timeout: string; retries: Required<RetryPolicy> }): void {
    const timeout = checkDuration(errors, `${at}timeout`, effective.timeout);
    const perTry = checkDuration(errors, `${at}retries.perTryTimeout`, effective.retries.perTryTimeout);
    const retriesOff = effective.retries.attempts === 0;
    for (const field of ["perTryTimeout", "retryOn"] as const) {
        errors.check(`${at}retries.${field}`, given.retries?.[field], retriesOff && given.retries?.[field] !== undefined ? "has no effect with `attempts: 0` (retries off), and Istio refuses it there; remove it or allow a retry" : undefined);
    }
    if (!retriesOff && timeout !== undefined && perTry !== undefined && perTry > timeout) {
        const timeoutText = given.timeout ?? `${effective.timeout} by default`;
        const perTryText = given.retries?.perTryTimeout ?? `${DEFAULT_RETRIES.perTryTimeout} by default`;
        if (given.retries?.perTryTimeout !== undefined) {
            errors.check(`${at}retries.perTryTimeout`, given.retries.perTryTimeout, `is longer than \`timeout\` (${timeoutText}); no retry could finish`);
        } else {
            errors.check(`${at}timeout`, given.timeout, `is shorter than \`retries.perTryTimeout\` (${perTryText}); raise the timeout or set a shorter perTryTimeout`);
        }
    }
    checkCount(errors, `${at}retries.attempts`, given.retries?.attempts, 0, 10);
}
