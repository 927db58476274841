/**
 * `mlmesh check PATH...`: the pack's policies over Kubernetes YAML that no Pulumi program made
 * (Helm output, samples, other teams' manifests). Each object becomes a resource of type
 * `kubernetes:<group>/<version>:<Kind>` with the object as its props, as the Kubernetes provider
 * would register it; resource policies run per object, stack policies over the whole set.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { runPolicies, type PolicyConfig, type PolicyViolation } from "./policyRunner";
import type { RecordedResource } from "./recorder";

/** A file or document that is not a Kubernetes object (exit 2). */
export class CheckInputError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "CheckInputError";
    }
}

/** Where an object came from, for messages: `deploy.yaml#2 Deployment ml/web`. */
export interface CheckedObject {
    readonly file: string;
    /** The document's index in its file (from 0), and the item's in a `List`. */
    readonly document: number;
    readonly item?: number;
    readonly object: Record<string, unknown>;
    readonly resource: RecordedResource;
}

export interface CheckViolation extends PolicyViolation {
    /** `file#document[ item]: Kind namespace/name`, or undefined for a stack-wide violation. */
    readonly where?: string;
}

export interface CheckResult {
    readonly objects: readonly CheckedObject[];
    readonly violations: readonly CheckViolation[];
}

const YAML_FILE = /\.(ya?ml|json)$/i;

/** The files under the paths, folders walked in name order. */
export function manifestFiles(paths: readonly string[]): string[] {
    return paths.flatMap((p) => {
        let stat;
        try {
            stat = statSync(p);
        } catch {
            throw new CheckInputError(`${p}: no such file or folder`);
        }
        if (!stat.isDirectory()) {
            return [p];
        }
        return readdirSync(p).sort().flatMap((entry) => {
            const full = path.join(p, entry);
            return statSync(full).isDirectory() ? manifestFiles([full]) : YAML_FILE.test(entry) ? [full] : [];
        });
    });
}

/** `apps/v1` + `Deployment` → `kubernetes:apps/v1:Deployment`; `v1` is the core group. */
export function typeToken(apiVersion: string, kind: string): string {
    return `kubernetes:${apiVersion.includes("/") ? apiVersion : `core/${apiVersion}`}:${kind}`;
}

function asObject(value: unknown, where: string): Record<string, unknown> {
    const object = value as Record<string, unknown> | null;
    if (object === null || typeof object !== "object" || Array.isArray(object) || typeof object.apiVersion !== "string" || typeof object.kind !== "string") {
        throw new CheckInputError(`${where}: is not a Kubernetes object (it needs apiVersion and kind)`);
    }
    return object;
}

/** Every object of a file: each YAML document, and each item of a `List`. */
export function readObjects(file: string): CheckedObject[] {
    const documents = parseAllDocuments(readFileSync(file, "utf8"));
    return documents.flatMap((document, index): CheckedObject[] => {
        if (document.errors.length > 0) {
            throw new CheckInputError(`${file}#${index}: is not valid YAML (${document.errors[0].message.split("\n")[0]})`);
        }
        const value = document.toJS() as unknown;
        if (value === null || value === undefined) {
            return [];
        }
        const object = asObject(value, `${file}#${index}`);
        const items = /List$/.test(String(object.kind)) && Array.isArray(object.items)
            ? (object.items as unknown[]).map((item, i) => ({ object: asObject(item, `${file}#${index} items[${i}]`), item: i }))
            : [{ object, item: undefined }];
        return items.map(({ object: o, item }) => {
            const metadata = (o.metadata ?? {}) as { name?: string; namespace?: string };
            const type = typeToken(String(o.apiVersion), String(o.kind));
            const name = metadata.name ?? `${path.basename(file)}-${index}`;
            const id = `${file}#${index}${item === undefined ? "" : `-${item}`}`;
            return {
                file, document: index, ...(item === undefined ? {} : { item }), object: o,
                resource: { urn: `urn:pulumi:check::mlmesh::${type}::${id}`, type, name, custom: true, inputs: o, outputs: {}, options: {}, dependencies: [], inputDependencies: [] },
            };
        });
    });
}

function describe(o: CheckedObject): string {
    const metadata = (o.object.metadata ?? {}) as { name?: string; namespace?: string };
    return `${o.file}#${o.document}${o.item === undefined ? "" : ` items[${o.item}]`}: ${String(o.object.kind)} ${metadata.namespace ? `${metadata.namespace}/` : ""}${metadata.name ?? "(unnamed)"}`;
}

/** Runs the policies over every object under the paths. Throws CheckInputError for bad input. */
export async function check(paths: readonly string[], policies: readonly (ResourceValidationPolicy | StackValidationPolicy)[], config: PolicyConfig = {}): Promise<CheckResult> {
    const objects = manifestFiles(paths).flatMap(readObjects);
    const byUrn = new Map(objects.map((o) => [o.resource.urn, o]));
    const run = await runPolicies(policies, objects.map((o) => o.resource), config);
    return {
        objects,
        violations: run.violations.map((v) => {
            const source = v.urn ? byUrn.get(v.urn) : undefined;
            return { ...v, ...(source ? { where: describe(source) } : {}) };
        }),
    };
}
