/**
 * Which old URNs each resource answers to, as the engine works it out before it decides between
 * update and delete-plus-create: its own URN, its `aliases`, and for a child of an aliased parent
 * the URN it had under the parent's old URN, with the parent's name prefix in its own name
 * swapped too (pulumi/pulumi:pkg/resource/deploy/step_generator.go@v3.259.0 generateAliases and
 * inheritedChildAlias).
 */
import type { RecordedResource } from "./recorder";

type Aliased = Pick<RecordedResource, "urn" | "type" | "name" | "parent"> & { readonly options?: { readonly aliases?: readonly string[] } };

const nameOf = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);
const qualifiedTypeOf = (urn: string) => urn.split("::")[2] ?? "";
const prefixOf = (urn: string) => urn.split("::").slice(0, 2).join("::");

/** Every old URN of every resource, by its current URN. */
export function previousUrns(resources: readonly Aliased[]): Map<string, Set<string>> {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const memo = new Map<string, Set<string>>();
    const of = (resource: Aliased): Set<string> => {
        const known = memo.get(resource.urn);
        if (known) {
            return known;
        }
        const own = new Set<string>([resource.urn, ...(resource.options?.aliases ?? [])]);
        memo.set(resource.urn, own);
        const parent = resource.parent ? byUrn.get(resource.parent) : undefined;
        if (parent) {
            for (const parentAlias of of(parent)) {
                if (parentAlias === parent.urn) {
                    continue;
                }
                for (const childUrn of [...own]) {
                    const name = nameOf(childUrn);
                    const aliasName = name.startsWith(parent.name) ? `${nameOf(parentAlias)}${name.slice(parent.name.length)}` : name;
                    const childType = qualifiedTypeOf(childUrn).split("$").pop();
                    own.add(`${prefixOf(childUrn)}::${qualifiedTypeOf(parentAlias)}$${childType}::${aliasName}`);
                }
            }
        }
        return own;
    };
    return new Map(resources.map((r) => [r.urn, of(r)]));
}
