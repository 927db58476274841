/**
 * Schema validation of rendered Kubernetes objects. Core kinds are checked with the
 * `kubernetes-models` package; CRD kinds (Istio, KServe, Gateway API, inference extension,
 * ACK SageMaker) with the structural schemas shipped in offline/schemas/, closed so that a
 * misspelt field is an error rather than silently pruned by the API server.
 * CEL rules (`x-kubernetes-validations`) are not evaluated.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import standaloneCode from "ajv/dist/standalone";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";

export type ManifestStatus = "valid" | "invalid" | "unchecked";

export interface ManifestCheck {
    readonly status: ManifestStatus;
    /** Which schema judged it: `kubernetes-models` or a shipped schema file. */
    readonly schema?: string;
    readonly errors: readonly string[];
}

interface SchemaIndexEntry {
    readonly file: string;
    readonly scope: "Namespaced" | "Cluster";
}

const SCHEMA_DIR = path.join(__dirname, "schemas");

/** Core kinds that are not namespaced; CRD scopes come from the shipped schema index. */
const CLUSTER_SCOPED_CORE_KINDS = new Set([
    "Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
    "StorageClass", "PriorityClass", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "APIService", "CSIDriver", "RuntimeClass",
    "IngressClass", "VolumeAttachment", "CertificateSigningRequest",
]);

let schemaIndex: Record<string, SchemaIndexEntry> | undefined;
function index(): Record<string, SchemaIndexEntry> {
    schemaIndex ??= JSON.parse(readFileSync(path.join(SCHEMA_DIR, "index.json"), "utf8")) as Record<string, SchemaIndexEntry>;
    return schemaIndex;
}

/** Whether objects of this kind live in a namespace. */
export function isNamespaced(apiVersion: string, kind: string): boolean {
    const entry = index()[`${apiVersion}/${kind}`];
    return entry ? entry.scope === "Namespaced" : !CLUSTER_SCOPED_CORE_KINDS.has(kind);
}

/**
 * Adds `additionalProperties: false` to every object schema that lists its properties and does
 * not preserve unknown fields: what `kubectl apply --validate=strict` enforces.
 */
export function closeObjects(node: unknown): unknown {
    if (Array.isArray(node)) {
        return node.map(closeObjects);
    }
    if (node === null || typeof node !== "object") {
        return node;
    }
    const copy = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, key === "enum" || key === "default" ? value : closeObjects(value)]));
    const isOpen = copy["x-kubernetes-preserve-unknown-fields"] === true || "additionalProperties" in copy;
    if (copy.properties && !isOpen) {
        copy.additionalProperties = false;
    }
    return copy;
}

/** Keys whose values are data, not subschemas. */
const DATA_KEYS = new Set(["enum", "default", "example", "const"]);
/** Keys whose values map names to subschemas. */
const SCHEMA_MAP_KEYS = new Set(["properties", "patternProperties"]);

/** Each subschema of `node` (not `node` itself), with its JSON text, visited before its children. */
function eachSubschema(node: unknown, visit: (schema: object, text: string) => boolean): void {
    if (node === null || typeof node !== "object") {
        return;
    }
    const children = Array.isArray(node) ? node : Object.entries(node).flatMap(([key, value]) => (DATA_KEYS.has(key) ? [] : SCHEMA_MAP_KEYS.has(key) ? Object.values(value as object) : [value]));
    for (const child of children) {
        if (child !== null && typeof child === "object" && !Array.isArray(child) && !visit(child, JSON.stringify(child))) {
            continue;
        }
        eachSubschema(child, visit);
    }
}

/**
 * The schema with every subschema that occurs more than once (and is not tiny) moved to `$defs`
 * and referenced: the same rules, compiled once each. A CRD schema repeats itself at length
 * (KServe's InferenceService holds a full container and pod spec for every predictor framework
 * and component): compiled as written it makes 11 MB of validator code and takes seconds;
 * shared, under 1 MB. Identical text means identical rules, so nothing is judged differently.
 */
export function shareRepeatedSubschemas(schema: Record<string, unknown>, minLength = 200): Record<string, unknown> {
    const counts = new Map<string, number>();
    eachSubschema(schema, (_, text) => {
        const seen = counts.get(text);
        counts.set(text, (seen ?? 0) + 1);
        // A repeat's own subschemas were counted at its first occurrence: they are shared with it.
        return text.length >= minLength && seen === undefined;
    });
    const defs: Record<string, unknown> = {};
    const names = new Map<string, string>();
    const rewrite = (node: unknown): unknown => {
        if (Array.isArray(node)) {
            return node.map(rewrite);
        }
        if (node === null || typeof node !== "object") {
            return node;
        }
        const text = JSON.stringify(node);
        if ((counts.get(text) ?? 0) < 2 || text.length < minLength) {
            return rewriteChildren(node);
        }
        let name = names.get(text);
        if (name === undefined) {
            name = `shared${names.size}`;
            names.set(text, name);
            defs[name] = rewriteChildren(node);
        }
        return { $ref: `#/$defs/${name}` };
    };
    const rewriteChildren = (node: object): Record<string, unknown> => Object.fromEntries(Object.entries(node).map(([key, value]) => [
        key,
        DATA_KEYS.has(key) ? value : SCHEMA_MAP_KEYS.has(key) ? Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, rewrite(v)])) : rewrite(value),
    ]));
    const shared = rewriteChildren(schema);
    return names.size === 0 ? shared : { ...shared, $defs: defs };
}

const AJV_OPTIONS = { strict: false, allErrors: true, validateFormats: false } as const;
const ajv = new Ajv(AJV_OPTIONS);
const compiled = new Map<string, ValidateFunction>();

/** Where `npm run build` writes each CRD schema's validator as code (ajv standalone), beside the schemas. */
export const VALIDATOR_DIR = path.join(SCHEMA_DIR, "validators");
const validatorFile = (dir: string, file: string): string => path.join(dir, file.replace(/\.json$/, ".js"));

/** The schema a CRD's objects are judged by: its own, with type metadata, closed, repeats shared. */
export function crdSchema(file: string): Record<string, unknown> {
    const schema = JSON.parse(readFileSync(path.join(SCHEMA_DIR, file), "utf8")) as { properties?: Record<string, unknown> };
    // The API server supplies the type and object metadata fields; some CRDs leave them out.
    const withTypeMeta = {
        ...schema,
        properties: { apiVersion: { type: "string" }, kind: { type: "string" }, metadata: { type: "object" }, ...schema.properties },
    };
    return shareRepeatedSubschemas(closeObjects(withTypeMeta) as Record<string, unknown>);
}

/**
 * Writes every shipped CRD schema's validator to `dir` as a CommonJS module (`npm run build`
 * does, into dist/), so a plan loads compiled validators instead of compiling schemas.
 */
export function writeValidators(dir: string): string[] {
    mkdirSync(dir, { recursive: true });
    const files = [...new Set(Object.values(index()).map((entry) => entry.file))].sort();
    for (const file of files) {
        const generator = new Ajv({ ...AJV_OPTIONS, code: { source: true } });
        writeFileSync(validatorFile(dir, file), standaloneCode(generator, generator.compile(crdSchema(file))));
    }
    return files;
}

/** The validator of a CRD schema file: the one the build wrote, else compiled now (a checkout run from source). */
function crdValidator(file: string): ValidateFunction {
    let validate = compiled.get(file);
    if (!validate) {
        const built = validatorFile(VALIDATOR_DIR, file);
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        validate = existsSync(built) ? (require(built) as ValidateFunction) : ajv.compile(crdSchema(file));
        compiled.set(file, validate);
    }
    return validate;
}

function describeAjvError(error: ErrorObject): string {
    const where = error.instancePath || "/";
    if (error.keyword === "additionalProperties") {
        return `${where}: unknown field \`${String(error.params.additionalProperty)}\``;
    }
    return `${where}: ${error.message ?? error.keyword}`;
}

type ModelClass = new (data: unknown) => { validate(): void };

/** `apps/v1` → `kubernetes-models/apps/v1`; `v1` → `kubernetes-models/v1`. */
function coreModel(apiVersion: string, kind: string): ModelClass | undefined {
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const module = require(`kubernetes-models/${apiVersion}`) as Record<string, unknown>;
        const model = module[kind];
        return typeof model === "function" ? (model as ModelClass) : undefined;
    } catch {
        return undefined;
    }
}

/**
 * Rules Istio's validating webhook enforces beyond the CRD schema, for objects mlmesh renders
 * that could break them: a VirtualService needs at least one route
 * (istio/istio:pkg/config/validation/validation.go@1.30.3, "http, tcp or tls must be provided in virtual service").
 */
function istioRuleErrors(object: Record<string, unknown>): string[] {
    if (object.kind !== "VirtualService" || !String(object.apiVersion).startsWith("networking.istio.io/")) {
        return [];
    }
    const spec = (object.spec ?? {}) as Record<string, unknown[] | undefined>;
    return ["http", "tcp", "tls"].some((key) => (spec[key] ?? []).length > 0) ? [] : ["/spec: http, tcp or tls must be provided in virtual service (Istio's webhook refuses it)"];
}

/**
 * The largest object the API server can store: etcd refuses a request over 1.5 MiB
 * (etcd.io/docs/v3.5/dev-guide/limit, `--max-request-bytes` default), and the server adds its
 * own metadata (managed fields, uid, timestamps), for which 64 KiB is kept back.
 */
export const MAX_OBJECT_BYTES = 1.5 * 1024 * 1024 - 64 * 1024;

/** The API server's own limits (kubernetes/kubernetes:pkg/apis/core/validation/validation.go): a ConfigMap's or Secret's data, and an object's annotations. */
export const MAX_DATA_BYTES = 1024 * 1024;
export const MAX_ANNOTATION_BYTES = 256 * 1024;

/** The size errors of an object too large to store or admit, or none. */
function sizeErrors(object: Record<string, unknown>): string[] {
    const errors: string[] = [];
    const bytes = Buffer.byteLength(JSON.stringify(object));
    if (bytes > MAX_OBJECT_BYTES) {
        errors.push(`/: the object is ${bytes} bytes as JSON, over the ${MAX_OBJECT_BYTES} the API server can store (etcd's 1.5 MiB request limit, less room for its metadata): \`pulumi up\` would fail with "etcdserver: request is too large"`);
    }
    if (object.kind === "ConfigMap" || object.kind === "Secret") {
        const data = [object.data, object.binaryData, object.stringData].flatMap((map) => Object.entries((map ?? {}) as Record<string, string>));
        const total = data.reduce((sum, [key, value]) => sum + Buffer.byteLength(key) + Buffer.byteLength(String(value)), 0);
        if (total > MAX_DATA_BYTES) {
            errors.push(`/data: ${total} bytes, over the ${MAX_DATA_BYTES} a ${String(object.kind)} may hold`);
        }
    }
    const annotations = Object.entries(((object.metadata as { annotations?: Record<string, string> } | undefined)?.annotations) ?? {});
    const annotationBytes = annotations.reduce((sum, [key, value]) => sum + Buffer.byteLength(key) + Buffer.byteLength(String(value)), 0);
    if (annotationBytes > MAX_ANNOTATION_BYTES) {
        errors.push(`/metadata/annotations: ${annotationBytes} bytes, over the ${MAX_ANNOTATION_BYTES} the API server admits`);
    }
    return errors;
}

/** Validates one Kubernetes object against the schema of its apiVersion and kind, and its size. */
export function validateManifest(object: Record<string, unknown>): ManifestCheck {
    const check = validateShape(object);
    const tooLarge = sizeErrors(object);
    return tooLarge.length === 0 ? check : { ...check, status: "invalid", errors: [...check.errors, ...tooLarge] };
}

function validateShape(object: Record<string, unknown>): ManifestCheck {
    const apiVersion = String(object.apiVersion);
    const kind = String(object.kind);
    const entry = index()[`${apiVersion}/${kind}`];
    if (entry) {
        const validate = crdValidator(entry.file);
        const valid = validate(object);
        const errors = [...(validate.errors ?? []).map(describeAjvError), ...istioRuleErrors(object)];
        return { status: valid && errors.length === 0 ? "valid" : "invalid", schema: entry.file, errors };
    }
    const Model = coreModel(apiVersion, kind);
    if (!Model) {
        return { status: "unchecked", errors: [`mlmesh ships no schema for ${apiVersion} ${kind}`] };
    }
    try {
        new Model(object).validate();
        return { status: "valid", schema: "kubernetes-models", errors: [] };
    } catch (error) {
        const details = (error as { errors?: ErrorObject[] }).errors;
        const errors = details ? details.map(describeAjvError) : [(error as Error).message];
        return { status: "invalid", schema: "kubernetes-models", errors };
    }
}
