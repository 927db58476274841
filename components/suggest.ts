/**
 * "Did you mean": the known name closest to a mistyped one, for config keys, enum values and
 * stack file keys. A candidate qualifies when it is a few edits away (case ignored) or when one
 * name starts the other (`production` → `prod`).
 */
import { distance } from "fastest-levenshtein";

export function closestName(value: string, candidates: readonly string[]): string | undefined {
    const wanted = value.toLowerCase();
    const scored = candidates.map((candidate) => {
        const name = candidate.toLowerCase();
        const edits = distance(wanted, name);
        const prefix = Math.min(wanted.length, name.length) >= 3 && (wanted.startsWith(name) || name.startsWith(wanted));
        return { candidate, edits, fits: edits <= Math.max(2, Math.floor(Math.max(wanted.length, name.length) / 3)) || prefix };
    }).filter((s) => s.fits && s.candidate !== value);
    return scored.sort((a, b) => a.edits - b.edits)[0]?.candidate;
}

/** ` (did you mean \`x\`?)`, or nothing. */
export function didYouMean(value: unknown, candidates: readonly string[]): string {
    const best = typeof value === "string" ? closestName(value, candidates) : undefined;
    return best === undefined ? "" : ` (did you mean \`${best}\`?)`;
}
