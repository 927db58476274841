/**
 * Which of an ordered list of rules a request path could match, found without trying them all:
 * each rule is filed under the exact paths and path prefixes it can match, or as "always" when
 * its condition is anything else. The candidates come back in the list's order, so the caller
 * still tries them first to last and the first match is the same one a full scan finds. A front
 * door of N models has N routes and N authorization rules; without the index every request
 * scans them all, and checking every path costs N².
 */
export interface PathKeys {
    readonly exact: readonly string[];
    readonly prefixes: readonly string[];
}

export class PathIndex {
    private readonly exact = new Map<string, number[]>();
    private readonly prefixes = new Map<string, number[]>();
    private readonly always: number[] = [];
    private readonly longestPrefix: number;

    /** `keys[i]`: the paths rule `i` can match, or undefined when it may match any path. */
    constructor(keys: readonly (PathKeys | undefined)[]) {
        let longest = 0;
        keys.forEach((key, i) => {
            if (key === undefined) {
                this.always.push(i);
                return;
            }
            const file = (map: Map<string, number[]>, value: string) => {
                const list = map.get(value);
                if (list === undefined) {
                    map.set(value, [i]);
                } else if (list[list.length - 1] !== i) {
                    list.push(i);
                }
            };
            key.exact.forEach((path) => file(this.exact, path));
            key.prefixes.forEach((prefix) => {
                file(this.prefixes, prefix);
                longest = Math.max(longest, prefix.length);
            });
        });
        this.longestPrefix = longest;
    }

    /** The rules that could match, in order: filed under `exactPath`, under a prefix of `prefixPath`, or always. */
    candidates(exactPath: string, prefixPath = exactPath): number[] {
        const found = new Set<number>(this.always);
        this.exact.get(exactPath)?.forEach((i) => found.add(i));
        for (let length = 0; length <= Math.min(prefixPath.length, this.longestPrefix); length++) {
            this.prefixes.get(prefixPath.slice(0, length))?.forEach((i) => found.add(i));
        }
        return [...found].sort((a, b) => a - b);
    }
}
