/**
 * Schema validation of rendered Kubernetes objects. Core kinds are checked with the
 * `kubernetes-models` package; CRD kinds (Istio, KServe, Gateway API, inference extension,
 * ACK SageMaker) with the structural schemas shipped in offline/schemas/, closed so that a
 * misspelt field is an error rather than silently pruned by the API server.
 * CEL rules (`x-kubernetes-validations`) are not evaluated.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import { readFileSync } from "node:fs";
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

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
const compiled = new Map<string, ValidateFunction>();

function crdValidator(file: string): ValidateFunction {
    let validate = compiled.get(file);
    if (!validate) {
        const schema = JSON.parse(readFileSync(path.join(SCHEMA_DIR, file), "utf8")) as { properties?: Record<string, unknown> };
        // The API server supplies the type and object metadata fields; some CRDs leave them out.
        const withTypeMeta = {
            ...schema,
            properties: { apiVersion: { type: "string" }, kind: { type: "string" }, metadata: { type: "object" }, ...schema.properties },
        };
        validate = ajv.compile(closeObjects(withTypeMeta) as object);
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

/** Validates one Kubernetes object against the schema of its apiVersion and kind. */
export function validateManifest(object: Record<string, unknown>): ManifestCheck {
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
