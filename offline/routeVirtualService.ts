/**
 * VirtualServices as the route evaluator reads them: hosts and gateway bindings resolved, and the
 * whole object's shape checked, so an unmodelled field fails even in a route a request does not take.
 * @see https://istio.io/latest/docs/reference/config/networking/virtual-service/
 */
import { headerOperations } from "./routeHeaders";
import { PathIndex, type PathKeys } from "./pathIndex";
import { gatewayReference, MATCH_FIELDS, pathOnly, resolveShortName } from "./routeMatch";
import { fields, idOf, list, namespaceOf, notModelled, ofKind, ownerOf, strings, type IstioObject } from "./routeObjects";

export interface VirtualService {
    readonly object: IstioObject;
    /** `<namespace>/<name>`. */
    readonly id: string;
    readonly owner: string;
    readonly namespace: string;
    readonly hosts: readonly string[];
    /** Resolved `<namespace>/<name>` references, or `mesh`. */
    readonly gateways: readonly string[];
}

const read = new WeakMap<readonly IstioObject[], readonly VirtualService[]>();
const checked = new WeakSet<IstioObject>();

/** The VirtualServices among `objects`, read once per list of objects. */
export function virtualServices(objects: readonly IstioObject[]): readonly VirtualService[] {
    let services = read.get(objects);
    if (services === undefined) {
        services = readVirtualServices(objects);
        read.set(objects, services);
    }
    return services;
}

function readVirtualServices(objects: readonly IstioObject[]): VirtualService[] {
    return ofKind(objects, "networking.istio.io/VirtualService").map((object) => {
        const owner = ownerOf(object);
        const namespace = namespaceOf(object);
        const gateways = strings(object.spec?.gateways, owner, "spec.gateways");
        return {
            object, owner, namespace, id: idOf(object),
            hosts: strings(object.spec?.hosts, owner, "spec.hosts").map((h) => resolveShortName(h, namespace)),
            gateways: gateways.length === 0 ? ["mesh"] : gateways.map((g, i) => gatewayReference(g, namespace, owner, `spec.gateways[${i}]`)),
        };
    });
}

/** The whole VirtualService's shape, header operations included. */
export function checkVirtualService(vs: VirtualService): void {
    if (checked.has(vs.object)) {
        return;
    }
    const spec = fields(vs.object.spec, ["hosts", "gateways", "http", "exportTo"], vs.owner, "spec");
    list(spec.http, vs.owner, "spec.http").forEach((entry, i) => {
        const at = `spec.http[${i}]`;
        const route = fields(entry, ["name", "match", "route", "redirect", "directResponse", "rewrite", "timeout", "retries", "headers", "corsPolicy"], vs.owner, at);
        list(route.match, vs.owner, `${at}.match`).forEach((m, j) => fields(m, MATCH_FIELDS, vs.owner, `${at}.match[${j}]`));
        fields(route.rewrite ?? {}, ["uri", "authority"], vs.owner, `${at}.rewrite`);
        headerOperations(route.headers, vs.owner, `${at}.headers`);
        const destinations = list(route.route, vs.owner, `${at}.route`);
        destinations.forEach((d, j) => {
            const entry = fields(d, ["destination", "weight", "headers"], vs.owner, `${at}.route[${j}]`);
            const destination = fields(entry.destination, ["host", "subset", "port"], vs.owner, `${at}.route[${j}].destination`);
            fields(destination.port ?? {}, ["number"], vs.owner, `${at}.route[${j}].destination.port`);
            headerOperations(entry.headers, vs.owner, `${at}.route[${j}].headers`);
        });
        if (destinations.length === 0 && route.redirect === undefined && route.directResponse === undefined) {
            throw notModelled(vs.owner, at, "has no route, redirect or directResponse");
        }
    });
    checked.add(vs.object);
}

export interface HttpRoute {
    readonly vs: VirtualService;
    readonly index: number;
    readonly spec: Record<string, unknown>;
}

const httpRoutes = new WeakMap<IstioObject, { routes: HttpRoute[]; byPath: PathIndex }>();

/**
 * The http routes of a VirtualService a request could match, in order: those whose `uri` can match
 * its path, and every route whose match is not an exact or prefix uri (regex, case-insensitive,
 * none). The caller tries them first to last, as Istio does.
 */
export function httpRoutesFor(vs: VirtualService, path: string): HttpRoute[] {
    let read = httpRoutes.get(vs.object);
    if (read === undefined) {
        const routes = list(vs.object.spec.http, vs.owner, "spec.http").map((spec, index) => ({ vs, index, spec: spec as Record<string, unknown> }));
        read = { routes, byPath: new PathIndex(routes.map((route) => routeUriKeys(route.spec))) };
        httpRoutes.set(vs.object, read);
    }
    const { routes, byPath } = read;
    // An exact uri is compared with the path without its query, a prefix with the whole path.
    return byPath.candidates(pathOnly(path), path).map((i) => routes[i]);
}

function routeUriKeys(route: Record<string, unknown>): PathKeys | undefined {
    const matches = Array.isArray(route.match) ? route.match : [];
    const exact: string[] = [];
    const prefixes: string[] = [];
    for (const m of matches as { uri?: Record<string, unknown>; ignoreUriCase?: unknown }[]) {
        const keys = m?.uri !== null && typeof m?.uri === "object" ? Object.keys(m.uri) : [];
        if (m.ignoreUriCase === true || keys.length !== 1 || typeof m.uri?.[keys[0]] !== "string" || (keys[0] !== "exact" && keys[0] !== "prefix")) {
            return undefined;
        }
        (keys[0] === "exact" ? exact : prefixes).push(m.uri[keys[0]] as string);
    }
    return matches.length === 0 ? undefined : { exact, prefixes };
}
