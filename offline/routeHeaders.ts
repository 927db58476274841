/**
 * VirtualService header operations (`http[].headers` and `http[].route[].headers`) as Istio hands
 * them to Envoy: the request headers the next hop receives, and the host rewrite a `host` or
 * `:authority` in `set`/`add` is. Response operations are validated and ignored: nothing here reads
 * responses. Pure; throws on what it does not model.
 * @see istio/istio:pilot/pkg/networking/core/route/route.go@1.30.3 (TranslateHeadersOperations, applyHTTPRouteDestination)
 */
import { fields, notModelled, record, strings } from "./routeObjects";

/** One `headers` block's request operations, names lower-cased as Envoy keeps them. */
export interface HeaderOperations {
    /** `set` before `add`, as Istio lists them (OVERWRITE_IF_EXISTS_OR_ADD, then APPEND_IF_EXISTS_OR_ADD). */
    readonly writes: readonly { readonly name: string; readonly value: string; readonly append: boolean }[];
    readonly remove: readonly string[];
    /** A `host`/`:authority` in `set`, else in `add`: Istio makes it a host rewrite, not a header. */
    readonly authority?: string;
}

const isAuthority = (name: string): boolean => name === "host" || name === ":authority";

function writes(value: unknown, append: boolean, owner: string, field: string): { name: string; value: string; append: boolean }[] {
    return Object.entries(record(value, owner, field)).map(([raw, v]) => {
        const name = raw.toLowerCase();
        if (typeof v !== "string") {
            throw notModelled(owner, `${field}.${raw}`, "must be a string");
        }
        if (name.startsWith(":") && name !== ":authority") {
            throw notModelled(owner, `${field}.${raw}`, "is rejected by Istio validation: a set or added header cannot be a pseudo-header");
        }
        if (v.includes("%")) {
            throw notModelled(owner, `${field}.${raw}`, `is an Envoy format string (${v}), which is not modelled`);
        }
        if (name === "authorization") {
            throw notModelled(owner, `${field}.${raw}`, "writes the bearer token, which is not modelled");
        }
        return { name, value: v, append };
    });
}

function removals(value: unknown, owner: string, field: string): string[] {
    return strings(value, owner, field).map((raw, i) => {
        const name = raw.toLowerCase();
        if (name.startsWith(":") || name === "host") {
            throw notModelled(owner, `${field}[${i}]`, `is rejected by Istio validation: ${raw} cannot be removed`);
        }
        return name;
    });
}

/** A `headers` block; undefined when absent. */
export function headerOperations(value: unknown, owner: string, field: string): HeaderOperations | undefined {
    if (value === undefined) {
        return undefined;
    }
    const spec = fields(value, ["request", "response"], owner, field);
    const response = fields(spec.response ?? {}, ["set", "add", "remove"], owner, `${field}.response`);
    removals([...Object.keys(record(response.set, owner, `${field}.response.set`)), ...Object.keys(record(response.add, owner, `${field}.response.add`)), ...strings(response.remove, owner, `${field}.response.remove`)], owner, `${field}.response`);
    const request = fields(spec.request ?? {}, ["set", "add", "remove"], owner, `${field}.request`);
    const all = [...writes(request.set, false, owner, `${field}.request.set`), ...writes(request.add, true, owner, `${field}.request.add`)];
    const names = all.filter((w) => !w.append).map((w) => w.name);
    const duplicate = names.find((n, i) => names.indexOf(n) !== i) ?? (names.includes("host") && names.includes(":authority") ? "host" : undefined);
    if (duplicate !== undefined) {
        throw notModelled(owner, `${field}.request.set`, `names ${duplicate} twice (in different case, or as host and :authority)`);
    }
    const authority = all.find((w) => isAuthority(w.name) && !w.append)?.value ?? all.find((w) => isAuthority(w.name))?.value;
    return { writes: all.filter((w) => !isAuthority(w.name)), remove: removals(request.remove, owner, `${field}.request.remove`), ...(authority !== undefined ? { authority } : {}) };
}

/**
 * The host the next hop sees. A route-level authority (`rewrite.authority`, else one in the route's
 * `headers`) wins over a destination's, for one destination and for weighted ones alike
 * (istio/istio:pilot/pkg/networking/core/route/route.go@1.30.3, processDestination).
 */
export function rewrittenAuthority(host: string, rewriteAuthority: string | undefined, route?: HeaderOperations, destination?: HeaderOperations): string {
    return rewriteAuthority || route?.authority || destination?.authority || host;
}

/**
 * The request headers after a route's and a destination's operations. With one destination Istio
 * appends the destination's operations after the route's in the same list, so its `set` wins. With
 * several, the destination's go on Envoy's weighted cluster, whose order against the route's is not
 * modelled: a header both touch throws. A header both removed and written throws too (Envoy's order
 * of removal against addition is not modelled). `add` to a present header joins the values with `,`,
 * as Envoy's matchers read several values.
 */
export function applyHeaderOperations(
    headers: ReadonlyMap<string, string>, route: HeaderOperations | undefined, destination: HeaderOperations | undefined,
    weighted: boolean, owner: string, field: string,
): Map<string, string> {
    const levels = [route, destination].filter((l): l is HeaderOperations => l !== undefined);
    const touched = levels.map((l) => new Set([...l.remove, ...l.writes.map((w) => w.name)]));
    if (weighted && touched.length === 2) {
        const both = [...touched[0]].find((name) => touched[1].has(name));
        if (both !== undefined) {
            throw notModelled(owner, field, `and its route both change header ${both} on a weighted destination; Envoy's order between the two is not modelled`);
        }
    }
    const removed = new Set(levels.flatMap((l) => l.remove));
    const written = levels.flatMap((l) => l.writes).find((w) => removed.has(w.name));
    if (written !== undefined) {
        throw notModelled(owner, field, `removes and writes header ${written.name}; Envoy's order between the two is not modelled`);
    }
    const out = new Map([...headers].filter(([name]) => !removed.has(name)));
    for (const w of levels.flatMap((l) => l.writes)) {
        const present = out.get(w.name);
        out.set(w.name, w.append && present !== undefined ? `${present},${w.value}` : w.value);
    }
    return out;
}

/** Whether the operations remove `Authorization`, and with it the bearer token. */
export const removesToken = (...levels: (HeaderOperations | undefined)[]): boolean => levels.some((l) => l?.remove.includes("authorization"));
