/**
 * Text views of a recorded run: the resource tree as `pulumi preview` prints it, and counts by
 * provider and type.
 */
import type { RecordedResource } from "./recorder";

/** `aws:ec2/vpc:Vpc` → `aws:ec2:Vpc`, the short form `pulumi preview` shows. */
export function displayType(type: string): string {
    const [pkg, module, name] = type.split(":");
    if (name === undefined) {
        return type;
    }
    const moduleName = module.split("/")[0];
    return `${pkg}:${moduleName}:${name}`;
}

function annotations(resource: RecordedResource): string {
    const notes: string[] = [];
    if (resource.options.protect) {
        notes.push("protect");
    }
    if (resource.options.retainOnDelete) {
        notes.push("retain");
    }
    if (resource.options.remote) {
        notes.push("remote: children not visible offline");
    }
    return notes.length > 0 ? `  [${notes.join(", ")}]` : "";
}

/** The resource tree, one line per resource: `+   ├─ type  name  [notes]`. */
export function renderTree(resources: readonly RecordedResource[]): string {
    const children = new Map<string | undefined, RecordedResource[]>();
    const known = new Set(resources.map((r) => r.urn));
    for (const resource of resources) {
        const parent = resource.parent && known.has(resource.parent) ? resource.parent : undefined;
        children.set(parent, [...(children.get(parent) ?? []), resource]);
    }
    const rows: { prefix: string; type: string; name: string; notes: string }[] = [];
    const walk = (parent: string | undefined, indent: string, depth: number): void => {
        const list = children.get(parent) ?? [];
        list.forEach((resource, i) => {
            const last = i === list.length - 1;
            const branch = depth === 0 ? "" : last ? "└─ " : "├─ ";
            rows.push({ prefix: indent + branch, type: displayType(resource.type), name: resource.name, notes: annotations(resource) });
            walk(resource.urn, depth === 0 ? "" : indent + (last ? "   " : "│  "), depth + 1);
        });
    };
    walk(undefined, "", 0);
    const typeWidth = Math.max(4, ...rows.map((row) => row.prefix.length + row.type.length));
    const lines = rows.map((row) => ` +   ${(row.prefix + row.type).padEnd(typeWidth)}  ${row.name}${row.notes}`);
    return [`     ${"Type".padEnd(typeWidth)}  Name`, ...lines].join("\n");
}

export interface PlanSummary {
    readonly total: number;
    readonly byProvider: Record<string, number>;
    readonly byType: Record<string, number>;
}

function countBy(resources: readonly RecordedResource[], key: (r: RecordedResource) => string): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const resource of resources) {
        counts[key(resource)] = (counts[key(resource)] ?? 0) + 1;
    }
    return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

export function summarize(resources: readonly RecordedResource[]): PlanSummary {
    return {
        total: resources.length,
        byProvider: countBy(resources, (r) => r.type.split(":")[0]),
        byType: countBy(resources, (r) => displayType(r.type)),
    };
}

export function renderSummary(summary: PlanSummary, verbose = true): string {
    const typeWidth = Math.max(...Object.keys(summary.byType).map((t) => t.length));
    return [
        `Resources: ${summary.total} to create`,
        `  by provider: ${Object.entries(summary.byProvider).map(([p, n]) => `${p} ${n}`).join(", ")}`,
        ...(verbose ? ["  by type:", ...Object.entries(summary.byType).map(([type, n]) => `    ${type.padEnd(typeWidth)}  ${n}`)] : ["  by type: --verbose (or resources.md)"]),
    ].join("\n");
}
