/**
 * The offline engine's core: runs a Pulumi program in-process against mocks and records every
 * resource registration exactly as the engine would receive it (URN, parent, inputs and the
 * resource options), by sitting at the resource-monitor boundary.
 */
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import * as rpc from "@pulumi/pulumi/runtime/rpc";

/** Runtime internals the public typings leave out: the monitor slot and the RPC drain. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const runtimeState = require("@pulumi/pulumi/runtime/state") as { getStore(): { settings: { monitor: unknown } } };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const runtimeSettings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };

/** The resource options a registration carried; unset options are left out. */
export interface RecordedOptions {
    protect?: boolean;
    retainOnDelete?: boolean;
    deleteBeforeReplace?: boolean;
    /** The URNs in the resource's own `dependsOn` option, as written (a component stays a component). */
    dependsOn?: string[];
    /** URN of the explicit provider. */
    provider?: string;
    ignoreChanges?: string[];
    replaceOnChanges?: string[];
    additionalSecretOutputs?: string[];
    deletedWith?: string;
    /** How long the provider may take to create, update or delete the resource. */
    customTimeouts?: { create?: string; update?: string; delete?: string };
    /** How many resource transforms the registration carries (run by the engine on it and its children). */
    transforms?: number;
    /** A multi-language component: its children live in another process and are not recorded. */
    remote?: boolean;
    /** The URNs the resource had before (its `aliases`), resolved as the engine resolves them. */
    aliases?: string[];
}

export interface RecordedResource {
    urn: string;
    type: string;
    name: string;
    parent?: string;
    custom: boolean;
    inputs: Record<string, unknown>;
    outputs: Record<string, unknown>;
    options: RecordedOptions;
    /**
     * Every URN the engine waits for before it creates this resource: explicit `dependsOn`
     * (a component expanded to its custom children) and the resources its inputs come from.
     * A component's own `dependsOn` is not passed on to its children, so it is not here either.
     */
    dependencies: string[];
    /**
     * The part of `dependencies` the resource's inputs come from (its property dependencies):
     * what it reads, as opposed to what it is told to wait for.
     */
    inputDependencies: string[];
}

export interface RecordedRun {
    project: string;
    stack: string;
    outputs: Record<string, unknown>;
    resources: RecordedResource[];
}

/** The text written wherever a secret value would be. */
export const SECRET_PLACEHOLDER = "[secret]";
const UNKNOWN_PLACEHOLDER = "[unknown]";

/**
 * `value` with each part `matches` picks replaced by `replace(part)`. Objects and arrays are
 * copied only on the way to a replaced part; the rest is shared with `value` (most inputs hold
 * nothing to replace, and a plan records thousands). Callers must not mutate the result.
 */
export function replaceWhere(value: unknown, matches: (part: unknown) => boolean, replace: (part: unknown) => unknown): unknown {
    if (matches(value)) {
        return replace(value);
    }
    if (value === null || typeof value !== "object") {
        return value;
    }
    if (Array.isArray(value)) {
        let copy: unknown[] | undefined;
        value.forEach((item, i) => {
            const replaced = replaceWhere(item, matches, replace);
            if (replaced !== item) {
                copy ??= [...value];
                copy[i] = replaced;
            }
        });
        return copy ?? value;
    }
    let copy: Record<string, unknown> | undefined;
    for (const [key, inner] of Object.entries(value)) {
        const replaced = replaceWhere(inner, matches, replace);
        if (replaced !== inner) {
            copy ??= { ...value };
            copy[key] = replaced;
        }
    }
    return copy ?? value;
}

const redacted = (value: unknown): boolean => rpc.isRpcSecret(value) || value === rpc.unknownValue || pulumi.Resource.isInstance(value);

/** Replaces secrets and unknowns with placeholders and resource references with `[resource]`. */
export function redact(value: unknown): unknown {
    return replaceWhere(value, redacted, (part) => (rpc.isRpcSecret(part) ? SECRET_PLACEHOLDER : part === rpc.unknownValue ? UNKNOWN_PLACEHOLDER : "[resource]"));
}

function nonEmpty<T>(list: T[]): T[] | undefined {
    return list.length > 0 ? list : undefined;
}

/** The URN part of a provider reference (`<urn>::<id>`). */
function providerUrn(reference: string): string | undefined {
    return reference ? reference.slice(0, reference.lastIndexOf("::")) : undefined;
}

type Request = import("@pulumi/pulumi/proto/resource_pb").RegisterResourceRequest;

function optionsOf(req: Request): RecordedOptions {
    const options: RecordedOptions = {
        protect: req.hasProtect() ? req.getProtect() : undefined,
        retainOnDelete: req.hasRetainondelete() ? req.getRetainondelete() : undefined,
        deleteBeforeReplace: req.getDeletebeforereplacedefined() ? req.getDeletebeforereplace() : undefined,
        provider: providerUrn(req.getProvider()),
        ignoreChanges: nonEmpty(req.getIgnorechangesList()),
        replaceOnChanges: nonEmpty(req.getReplaceonchangesList()),
        additionalSecretOutputs: nonEmpty(req.getAdditionalsecretoutputsList()),
        deletedWith: req.getDeletedwith() || undefined,
        customTimeouts: timeoutsOf(req),
        remote: req.getRemote() || undefined,
        transforms: req.getTransformsList().length || undefined,
        aliases: nonEmpty(req.getAliasesList().map((alias) => aliasUrn(alias, req))),
    };
    return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}

/** The qualified type of a URN (`parent$…$type`), the part between the project and the name. */
function qualifiedType(urn: string): string {
    const parts = urn.split("::");
    return parts[2] ?? "";
}

/**
 * The URN an alias stands for: a URN as given, or a spec resolved against the resource's own
 * name, type, stack, project and parent (pulumi/pulumi:pkg/resource/deploy/source_eval.go@v3.259.0, alias URNs).
 */
function aliasUrn(alias: import("@pulumi/pulumi/proto/alias_pb").Alias, req: Request): string {
    if (alias.getUrn()) {
        return alias.getUrn();
    }
    const spec = alias.getSpec()!;
    const type = spec.getType() || req.getType();
    const parent = spec.getNoparent() ? "" : (spec.getParenturn() || req.getParent());
    const parentType = parent ? qualifiedType(parent) : "";
    return `urn:pulumi:${spec.getStack() || pulumi.getStack()}::${spec.getProject() || pulumi.getProject()}::${parentType ? `${parentType}$` : ""}${type}::${spec.getName() || req.getName()}`;
}

function timeoutsOf(req: Request): RecordedOptions["customTimeouts"] {
    const timeouts = req.getCustomtimeouts();
    if (!timeouts) {
        return undefined;
    }
    const set = Object.entries({ create: timeouts.getCreate(), update: timeouts.getUpdate(), delete: timeouts.getDelete() }).filter(([, value]) => value);
    return set.length > 0 ? Object.fromEntries(set) : undefined;
}

type Callback = (err: unknown, resp: unknown) => void;

/** A mock monitor that keeps a record of every registration and of the stack outputs. */
class RecordingMonitor extends MockMonitor {
    readonly recorded: RecordedResource[] = [];
    private readonly urns = new Set<string>();
    stackOutputs: Record<string, unknown> = {};

    async registerResource(req: Request, callback: Callback): Promise<void> {
        const object = req.getObject();
        const inputs = (object ? redact(rpc.deserializeProperties(object)) : {}) as Record<string, unknown>;
        await super.registerResource(req, (err: unknown, resp: any) => {
            // The engine refuses a second registration of a URN (pulumi/pulumi:pkg/engine/lifecycletest/testdata/output/TestDuplicateURN@v3.259.0).
            if (!err && resp && this.urns.has(resp.getUrn())) {
                callback(new Error(`Duplicate resource URN '${resp.getUrn()}'; try giving it a unique name`), undefined);
                return;
            }
            if (!err && resp) {
                this.urns.add(resp.getUrn());
                this.recorded.push({
                    urn: resp.getUrn(),
                    type: req.getType(),
                    name: req.getName(),
                    parent: req.getParent() || undefined,
                    custom: req.getCustom(),
                    inputs,
                    outputs: redact(rpc.deserializeProperties(resp.getObject())) as Record<string, unknown>,
                    options: optionsOf(req),
                    dependencies: [...new Set(req.getDependenciesList())],
                    inputDependencies: [...new Set([...req.getPropertydependenciesMap().values()].flatMap((deps) => deps.getUrnsList()))],
                });
            }
            callback(err, resp);
        });
    }

    registerResourceOutputs(req: any, callback: Callback): void {
        const urn: string = req.getUrn();
        if (urn.endsWith(`::${pulumi.runtime.rootPulumiStackTypeName}::${pulumi.getProject()}-${pulumi.getStack()}`)) {
            this.stackOutputs = redact(rpc.deserializeProperties(req.getOutputs())) as Record<string, unknown>;
        }
        super.registerResourceOutputs(req, callback);
    }
}

/** Resolves an output the way the engine would, once the program has run. */
function settle<T>(value: pulumi.Input<T>): Promise<T> {
    return new Promise((resolve) => pulumi.output(value).apply((resolved) => {
        resolve(resolved as T);
        return resolved;
    }));
}

/**
 * The engine is told every dependency of a resource, explicit or from inputs, in one list; the
 * `dependsOn` option as written is only seen client-side. A stack transformation observes it
 * (changing nothing) and keys it by parent URN, type and name, which together fix the URN.
 */
class DependsOnObserver {
    private readonly pending: Promise<[string, string[]]>[] = [];

    readonly transformation: pulumi.ResourceTransformation = ({ type, name, opts }) => {
        if (opts.dependsOn !== undefined) {
            const parentUrn = opts.parent ? settle(opts.parent.urn) : Promise.resolve("");
            // A plain list of resources is read as it is: wrapping it in an Output makes the SDK
            // walk everything reachable from those resources for unknowns (output.ts
            // containsUnknowns), the whole resource tree, once per registration.
            const written = opts.dependsOn;
            const deps = Array.isArray(written) && written.every((dep) => pulumi.Resource.isInstance(dep))
                ? Promise.resolve(written as pulumi.Resource[])
                : settle(written as pulumi.Input<pulumi.Input<pulumi.Resource>[]>);
            const urns = deps.then((list) => Promise.all([list].flat().map((dep) => settle((dep as pulumi.Resource).urn))));
            this.pending.push(Promise.all([parentUrn, urns]).then(([parent, list]) => [`${parent}|${type}|${name}`, list]));
        }
        return undefined;
    };

    async apply(resources: RecordedResource[]): Promise<void> {
        const byKey = new Map(await Promise.all(this.pending));
        for (const resource of resources) {
            const dependsOn = byKey.get(`${resource.parent ?? ""}|${resource.type}|${resource.name}`);
            if (dependsOn && dependsOn.length > 0) {
                resource.options.dependsOn = dependsOn;
            }
        }
    }
}

export interface RunOptions {
    project: string;
    stack: string;
    /** Config as Pulumi keeps it: `namespace:key` to a string (structured values as JSON text). */
    config: Record<string, string>;
    /** Config keys whose values are secrets. */
    secretKeys?: string[];
    mocks: pulumi.runtime.Mocks;
    /** The program: what a Pulumi project's main module exports (a function or nothing). */
    program: () => unknown;
}

/**
 * Runs `program` as `pulumi up` would, against mocks, and returns what it registered. The
 * runtime is reset first, so runs in one process do not see each other.
 */
export async function runProgram(options: RunOptions): Promise<RecordedRun> {
    await pulumi.runtime.setMocks(options.mocks, options.project, options.stack, false);
    const monitor = new RecordingMonitor(options.mocks);
    runtimeState.getStore().settings.monitor = monitor;
    pulumi.runtime.setAllConfig(options.config, options.secretKeys);

    // The program's own error is kept and rethrown after the runtime settles, so it is not
    // reported a second time as an unhandled rejection of the stack resource. An error thrown
    // in an apply callback surfaces only as an unhandled rejection; `pulumi up` fails the
    // program on those, and so does this engine.
    let programError: { error: unknown } | undefined;
    const dependsOn = new DependsOnObserver();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
        await runInStack(options.program, dependsOn.transformation, (error) => {
            programError ??= { error };
        });
        await runtimeSettings.waitForRPCs();
        await new Promise((resolve) => setImmediate(resolve));
    } finally {
        process.off("unhandledRejection", onUnhandled);
    }
    if (programError) {
        throw programError.error;
    }
    if (unhandled.length > 0) {
        throw unhandled[0];
    }
    await dependsOn.apply(monitor.recorded);
    return {
        project: options.project,
        stack: options.stack,
        outputs: monitor.stackOutputs,
        resources: monitor.recorded,
    };
}

/** Runs the program as the root stack's body, handing its error to `onError` instead of rejecting. */
async function runInStack(program: () => unknown, observer: pulumi.ResourceTransformation, onError: (error: unknown) => void): Promise<void> {
    await pulumi.runtime.runInPulumiStack(async () => {
        pulumi.runtime.registerStackTransformation(observer);
        try {
            return await program();
        } catch (error) {
            onError(error);
            return undefined;
        }
    });
}
