/**
 * resources.md beside plan.json: a Mermaid picture of the plan by component. Each component is a
 * box inside its parent, with its own resources counted by type; GitHub and most editors render it.
 */
import type { RecordedResource } from "./recorder";
import { displayType } from "./tree";

const escape = (text: string) => text.replace(/"/g, "#quot;");

export function renderResourceGraph(stack: string, resources: readonly RecordedResource[]): string {
    const known = new Map(resources.map((r, i) => [r.urn, { resource: r, id: `n${i}` }]));
    const components = resources.filter((r) => !r.custom && r.type !== "pulumi:pulumi:Stack");
    const children = (urn: string | undefined) => resources.filter((r) => (r.parent && known.has(r.parent) ? r.parent : undefined) === urn);
    const lines = ["flowchart LR"];
    const draw = (component: RecordedResource, depth: number) => {
        const indent = "    ".repeat(depth);
        const id = known.get(component.urn)!.id;
        lines.push(`${indent}subgraph ${id}["${escape(`${component.name} (${component.type})`)}"]`);
        const own = children(component.urn);
        const counts = new Map<string, number>();
        for (const child of own.filter((r) => r.custom)) {
            counts.set(displayType(child.type), (counts.get(displayType(child.type)) ?? 0) + 1);
        }
        if (counts.size > 0) {
            lines.push(`${indent}    ${id}_own["${escape([...counts].sort(([a], [b]) => a.localeCompare(b)).map(([type, n]) => `${n}× ${type}`).join("<br/>"))}"]`);
        } else if (component.options.remote) {
            // A remote component (eks:index:Cluster) registers its children in its provider.
            lines.push(`${indent}    ${id}_own["children not visible offline"]`);
        }
        for (const child of own.filter((r) => !r.custom)) {
            draw(child, depth + 1);
        }
        lines.push(`${indent}end`);
    };
    const stackResource = resources.find((r) => r.type === "pulumi:pulumi:Stack");
    for (const top of components.filter((c) => !c.parent || !known.has(c.parent) || c.parent === stackResource?.urn)) {
        draw(top, 1);
    }
    const loose = resources.filter((r) => r.custom && (!r.parent || r.parent === stackResource?.urn));
    if (loose.length > 0) {
        lines.push(`    stack_own["${escape(`${loose.length} resource(s) directly in the stack`)}"]`);
    }
    return [`# Resources of stack ${stack}`, "", `${resources.length} resources, by component (rendered by \`mlmesh plan\`).`, "", "```mermaid", ...lines, "```", ""].join("\n");
}
