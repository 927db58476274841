/**
 * Kubernetes resource quantities ("500m", "2", "1.5Gi", "1e3"): parsing to a number so that
 * requests and limits can be compared, with the reason when the text is not a quantity.
 * @see https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/
 */

const SUFFIX_FACTORS: Readonly<Record<string, number>> = {
    n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
    Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

const QUANTITY = /^(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/;

/** What a quantity measures, which decides the example in error messages. */
export type QuantityKind = "cpu" | "memory";

const EXAMPLES: Readonly<Record<QuantityKind, string>> = {
    cpu: `cores like "2" or "500m"`,
    memory: `bytes like "512Mi" or "8Gi"`,
};

/**
 * Parses a non-negative quantity to its value in base units (cores or bytes). Returns the
 * reason as a string when the text is not a quantity.
 */
export function parseQuantity(text: string | number, kind: QuantityKind): number | string {
    const source = String(text);
    const match = QUANTITY.exec(source);
    if (!match) {
        return `is not a Kubernetes quantity; write ${EXAMPLES[kind]}`;
    }
    const [, digits, suffix, exponent] = match;
    const factor = exponent !== undefined ? 10 ** Number(exponent) : SUFFIX_FACTORS[suffix ?? ""];
    return Number(digits) * factor;
}

/**
 * Checks that `request` does not exceed `limit` (both valid quantities). Returns the reason
 * with the fix, or undefined when the pair is consistent.
 */
export function requestAboveLimit(request: string, limit: string, kind: QuantityKind, limitName: string): string | undefined {
    const requested = parseQuantity(request, kind);
    const limited = parseQuantity(limit, kind);
    // Relative tolerance: "700m" and "0.7" are one quantity even where binary floats differ.
    if (typeof requested === "string" || typeof limited === "string" || requested <= limited * (1 + 1e-9)) {
        return undefined;
    }
    return `is above \`${limitName}\` (${JSON.stringify(limit)}); Kubernetes rejects a request above its limit, so lower the request or raise the limit`;
}
