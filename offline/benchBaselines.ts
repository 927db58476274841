/**
 * The baselines of `npm run bench`, each run as its own process from compiled JavaScript:
 *   node dist/offline/benchBaselines.js plain COUNT    the bare mock engine registering COUNT plain resources
 *   node dist/offline/benchBaselines.js replay PLAN    the bare mock engine registering exactly the resources
 *                                                      of a plan.json (types, names, parents, inputs, dependsOn)
 * Neither loads mlmesh, a provider SDK or the recorder: what is left is the floor the Pulumi SDK
 * sets for registering that many resources.
 */
import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "node:fs";

/** Mocks that answer every resource with its inputs, as cheaply as the SDK allows. */
const bareMocks: pulumi.runtime.Mocks = {
    newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }),
    call: (args) => args.inputs,
};

/** The SDK's resource classes, as a program's own classes extend them. */
class Custom extends pulumi.CustomResource {}
class Component extends pulumi.ComponentResource {}

interface ReplayedResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    readonly parent?: string;
    readonly custom: boolean;
    readonly inputs: Record<string, unknown>;
    readonly options: { readonly dependsOn?: readonly string[] };
}

/** Registers `count` custom resources of one type, with a small input each. */
export function registerPlain(count: number): void {
    for (let i = 0; i < count; i++) {
        new Custom("bench:index:Plain", `plain-${i}`, { index: i, name: `plain-${i}` });
    }
}

/**
 * Registers the plan's resources in its order (a parent is recorded before its children), under
 * their parents, with their recorded inputs and explicit `dependsOn`. The root stack is the replay's own.
 */
export function registerReplay(resources: readonly ReplayedResource[]): void {
    const byUrn = new Map<string, pulumi.Resource>();
    for (const resource of resources) {
        if (resource.type === pulumi.runtime.rootPulumiStackTypeName) {
            continue;
        }
        const opts: pulumi.CustomResourceOptions = {
            parent: resource.parent === undefined ? undefined : byUrn.get(resource.parent),
            dependsOn: (resource.options.dependsOn ?? []).flatMap((urn) => byUrn.get(urn) ?? []),
        };
        byUrn.set(resource.urn, resource.custom
            ? new Custom(resource.type, resource.name, resource.inputs, opts)
            : new Component(resource.type, resource.name, {}, opts));
    }
}

async function main(mode: string | undefined, argument: string | undefined): Promise<void> {
    if ((mode !== "plain" && mode !== "replay") || argument === undefined) {
        throw new Error("usage: benchBaselines.js plain COUNT | replay PLAN_JSON");
    }
    const register = mode === "plain"
        ? () => registerPlain(Number(argument))
        : () => registerReplay((JSON.parse(readFileSync(argument, "utf8")) as { resources: ReplayedResource[] }).resources);
    await pulumi.runtime.setMocks(bareMocks, "bench", "bench", false);
    await pulumi.runtime.runInPulumiStack(async () => register());
    await pulumi.runtime.disconnect();
}

if (require.main === module) {
    main(process.argv[2], process.argv[3]).catch((error: unknown) => {
        console.error(error);
        process.exitCode = 1;
    });
}
