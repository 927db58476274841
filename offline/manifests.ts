/**
 * Renders the Kubernetes objects of a recorded run (typed resources and CustomResources) as
 * YAML documents, one object per file named `<kind>-<namespace>-<name>.yaml`.
 */
import { stringify } from "yaml";
import { isNamespaced } from "./manifestSchemas";
import type { RecordedResource } from "./recorder";

/** The chart a Helm release installs: its name, or the last segment of an OCI reference; undefined for other resources. */
export function chartOf(resource: RecordedResource): string | undefined {
    return resource.type.startsWith("kubernetes:helm.sh/") ? String(resource.inputs.chart ?? "").split("/").pop() : undefined;
}

/** The value at a dotted path (`global.proxy.image`) of nested objects, or undefined. */
export function valueAt(values: unknown, path: string): unknown {
    return path.split(".").reduce<unknown>((node, key) => (node !== null && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined), values);
}

/** Kinds whose `spec.template` is a pod template. */
const WORKLOAD_KINDS = new Set(["Deployment", "DaemonSet", "StatefulSet", "Job", "ReplicaSet"]);

/** The pod a resource makes, as a template (a Pod is its own); undefined for resources that make none. */
export function podTemplateOf(resource: RecordedResource): { metadata?: { annotations?: Record<string, string> }; spec?: Record<string, unknown> } | undefined {
    const kind = resource.type.split(":").pop() ?? "";
    const inputs = resource.inputs as { metadata?: { annotations?: Record<string, string> }; spec?: Record<string, unknown> };
    if (kind === "Pod") {
        return { metadata: inputs.metadata, spec: inputs.spec };
    }
    return WORKLOAD_KINDS.has(kind) ? (inputs.spec as { template?: ReturnType<typeof podTemplateOf> } | undefined)?.template ?? {} : undefined;
}

/** The namespace segment of file names for cluster-scoped objects. */
export const CLUSTER_SCOPE_SEGMENT = "cluster";

export interface RenderedManifest {
    /** The URN of the Pulumi resource that declares the object. */
    readonly urn: string;
    readonly fileName: string;
    readonly object: Record<string, unknown>;
    readonly yaml: string;
}

interface ObjectMeta {
    name?: string;
    namespace?: string;
    [key: string]: unknown;
}

/**
 * Whether a recorded resource is a Kubernetes object: a `kubernetes:` type whose inputs carry
 * apiVersion and kind (Helm releases, providers and `*Patch` resources are not objects to apply whole).
 */
export function isKubernetesObject(resource: RecordedResource): boolean {
    return resource.custom
        && resource.type.startsWith("kubernetes:")
        && !resource.type.startsWith("kubernetes:helm.sh/")
        && !resource.type.endsWith("Patch")
        && typeof resource.inputs.apiVersion === "string"
        && typeof resource.inputs.kind === "string";
}

/** The object as it would be applied: inputs, with the provider-generated name when none was set. */
export function manifestObject(resource: RecordedResource): Record<string, unknown> {
    const metadata = { ...(resource.inputs.metadata as ObjectMeta | undefined) };
    const generated = (resource.outputs.metadata as ObjectMeta | undefined)?.name;
    metadata.name ??= generated ?? resource.name;
    const { apiVersion, kind, ...rest } = resource.inputs;
    return { apiVersion, kind, ...rest, metadata };
}

/** `<kind>-<namespace>-<name>.yaml`, lower-case kind, `cluster` for cluster-scoped objects. */
export function manifestFileName(object: Record<string, unknown>): string {
    const kind = String(object.kind);
    const metadata = object.metadata as ObjectMeta;
    const namespace = isNamespaced(String(object.apiVersion), kind) ? metadata.namespace ?? "default" : CLUSTER_SCOPE_SEGMENT;
    return `${kind.toLowerCase()}-${namespace}-${metadata.name}.yaml`;
}

/** Every Kubernetes object of the run, sorted by file name. Two objects with one file name are an error. */
export function renderManifests(resources: readonly RecordedResource[]): RenderedManifest[] {
    const manifests = resources.filter(isKubernetesObject).map((resource) => {
        const object = manifestObject(resource);
        return { urn: resource.urn, fileName: manifestFileName(object), object, yaml: stringify(object, { lineWidth: 0, aliasDuplicateObjects: false }) };
    });
    const seen = new Map<string, string>();
    for (const manifest of manifests) {
        const other = seen.get(manifest.fileName);
        if (other) {
            throw new Error(`two resources declare the same Kubernetes object ${manifest.fileName}: ${other} and ${manifest.urn}`);
        }
        seen.set(manifest.fileName, manifest.urn);
    }
    return manifests.sort((a, b) => a.fileName.localeCompare(b.fileName));
}
