/**
 * The route evaluator's view of rendered objects: the object shape, how an object is named in
 * messages, and strict readers of its fields that throw on anything the evaluator does not model.
 */

export interface IstioObject {
    readonly apiVersion: string;
    readonly kind: string;
    readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string>; readonly annotations?: Record<string, string> };
    readonly spec: any;
}

/** `<group>/<Kind>`, e.g. `networking.istio.io/VirtualService`. */
export const groupKind = (o: IstioObject): string => `${o.apiVersion.split("/")[0]}/${o.kind}`;
export const namespaceOf = (o: IstioObject): string => o.metadata.namespace ?? "default";
export const idOf = (o: IstioObject): string => `${namespaceOf(o)}/${o.metadata.name}`;
/** How messages name an object: `VirtualService ml-serving/resnet`. */
export const ownerOf = (o: IstioObject): string => `${o.kind} ${idOf(o)}`;
const byKind = new WeakMap<readonly IstioObject[], Map<string, IstioObject[]>>();

/**
 * The objects of one `<group>/<Kind>`, in their order. Indexed once per list of objects: the
 * evaluator asks for a kind on every request and hop, and a plan holds thousands of objects.
 */
export function ofKind(objects: readonly IstioObject[], kind: string): readonly IstioObject[] {
    let index = byKind.get(objects);
    if (index === undefined) {
        index = new Map();
        for (const o of objects) {
            const key = groupKind(o);
            const list = index.get(key);
            if (list === undefined) {
                index.set(key, [o]);
            } else {
                list.push(o);
            }
        }
        byKind.set(objects, index);
    }
    return index.get(kind) ?? [];
}

type Fields = Record<string, unknown>;

/** The error for a field the evaluator does not model; names the object and the field. */
export function notModelled(owner: string, field: string, why = "is not modelled by the route evaluator"): Error {
    return new Error(`${owner}: \`${field}\` ${why}`);
}

/** The value as an object whose keys are all in `known`; throws on any other key. */
export function fields(value: unknown, known: readonly string[], owner: string, field: string): Fields {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
        throw notModelled(owner, field, `must be an object, got ${JSON.stringify(value)}`);
    }
    for (const key of Object.keys(value)) {
        if (!known.includes(key)) {
            throw notModelled(owner, `${field}.${key}`);
        }
    }
    return value as Fields;
}

/** The value as an object with any keys (absent is empty). */
export function record(value: unknown, owner: string, field: string): Fields {
    const keys = value !== null && typeof value === "object" ? Object.keys(value) : [];
    return value === undefined ? {} : fields(value, keys, owner, field);
}

/** The value as a list (absent is empty). */
export function list(value: unknown, owner: string, field: string): unknown[] {
    if (value !== undefined && !Array.isArray(value)) {
        throw notModelled(owner, field, "must be a list");
    }
    return (value ?? []) as unknown[];
}

/** The value as a list of strings (absent is empty). */
export function strings(value: unknown, owner: string, field: string): string[] {
    const values = list(value, owner, field);
    values.forEach((v, i) => {
        if (typeof v !== "string") {
            throw notModelled(owner, `${field}[${i}]`, "must be a string");
        }
    });
    return values as string[];
}

/** Whether `o` is visible to proxies of `namespace` (absent `exportTo`: everywhere). */
export function exportedTo(o: IstioObject, namespace: string): boolean {
    const exportTo = strings(o.spec?.exportTo, ownerOf(o), "spec.exportTo");
    return exportTo.length === 0 || exportTo.some((e) => e === "*" || e === namespace || (e === "." && namespaceOf(o) === namespace));
}

/** `{a=1, b=2}`, how messages show a label set. */
export const formatLabels = (labels: Readonly<Record<string, string>>): string => `{${Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(", ")}}`;

/** Whether every `selector` label is in `labels`. */
export const labelsMatch = (selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean =>
    Object.entries(selector).every(([k, v]) => labels[k] === v);
