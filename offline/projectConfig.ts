/**
 * The `config:` block of Pulumi.yaml, derived from the schema that parses the settings
 * (stacks/configSchema.ts), so the settings Pulumi declares and the ones mlmesh reads cannot
 * drift: tests/offline/projectConfig.test.ts fails when the committed block is stale.
 * Regenerate: `npx ts-node --transpile-only offline/projectConfig.ts` (`--check` only reports).
 *
 * What the Pulumi CLI accepts and checks, read in pulumi/pulumi@v3.259.0, the newest release in
 * the source mirror (3.270.0 is not there; the files below are unchanged on master at 1b5949891b,
 * 2026-08-21). The CLI does these checks, not @pulumi/pulumi, so its version is the one that counts:
 * - sdk/go/common/workspace/project.json@v3.259.0, `$defs/simpleConfigType`: `type` is one of
 *   string, integer, boolean, array, object. `object` is in the schema since v3.186.0 (#20129) and
 *   checked by `ValidateConfigValue` since v3.187.0 (#20132): an older CLI refuses this file.
 *   `configTypeDeclaration` allows only type, items, description, secret, default and value; an
 *   `items` needs its own `type`, and an array item type its own `items`.
 * - sdk/go/common/workspace/project.go@v3.259.0, `Project.Validate`: a key of the project's own
 *   namespace (`mlmesh:x`, or a bare `x`: `configKeyIsNamespacedByProject`, so the project must be
 *   named `mlmesh`) with `type: array` must give `items`, and its `default` must have its type. A
 *   key of another namespace may declare neither `type` nor `default` and must give a `value`; so
 *   `aws:region` is not declared here, since a project-wide value would pin every stack's region.
 * - pkg/workspace/config.go@v3.259.0, `mergeConfig`: a declared key of the project with no
 *   `default` (or `value`) is required; `pulumi up` stops with "Stack 'dev' is missing
 *   configuration value 'mlmesh:x'". A setting stacks/config.ts lets a stack leave out therefore
 *   declares, as its default, what config.ts reads in its place (`{}` or `[]`), which means the
 *   same to mlmesh. Other defaults stay in configSchema.ts, the one place they are resolved.
 * - pkg/workspace/config.go@v3.259.0, `validateStackConfigValue`, and project.go
 *   `ValidateConfigValue`: a typed key's stack value is checked shallowly. A scalar arrives as a
 *   string (`integer` accepts a whole-number string, `boolean` "true" or "false"); a YAML mapping or
 *   list is JSON-decoded, `object` only checks it is a mapping, `array` that each element has the
 *   `items` type. Fields inside an object are never checked, so zod stays the real check. JSON
 *   Schema's `number` has no Pulumi type (`integer` refuses 1.5) and a union of types cannot be
 *   declared: such a setting gets no `type` (not checked) rather than a wrong one.
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { isMap, isScalar, parseDocument, type Pair } from "yaml";
import { z } from "zod";
import { MODEL_BACKENDS } from "../components/serving/modelSpec";
import {
    clusterSchema, createdNetworkSchema, environmentSchema, existingNetworkSchema, meshSchema, modelsSchema,
} from "../stacks/configSchema";

/** The project name, and so the only config namespace Pulumi lets Pulumi.yaml declare types in. */
export const PROJECT_NAME = "mlmesh";

export const REGENERATE_COMMAND = "npx ts-node --transpile-only offline/projectConfig.ts";

/** project.json `$defs/simpleConfigType`. */
export const PULUMI_CONFIG_TYPES = ["string", "integer", "boolean", "array", "object"] as const;
export type PulumiConfigType = (typeof PULUMI_CONFIG_TYPES)[number];

/** project.json `$defs/configTypeDeclaration`: the only attributes a declared key may have. */
const DECLARATION_ATTRIBUTES = ["type", "items", "description", "secret", "default", "value"];

export interface ConfigItems {
    readonly type: PulumiConfigType;
    readonly items?: ConfigItems;
}

export interface ProjectConfigEntry {
    readonly type?: PulumiConfigType;
    readonly items?: ConfigItems;
    readonly default?: unknown;
    readonly description: string;
}

export type ProjectConfig = Readonly<Record<string, ProjectConfigEntry>>;

/** One top-level `mlmesh:*` setting as stacks/config.ts reads it. */
export interface SettingSource {
    readonly schema: z.ZodType;
    readonly description: string;
    /** What config.ts parses when a stack leaves the key out; `undefined` when it is required. */
    readonly whenAbsent: Readonly<Record<string, never>> | readonly never[] | undefined;
}

/** The keys of stacks/config.ts KNOWN_KEYS, in its order (a test holds the two together). */
export const SETTINGS: Readonly<Record<string, SettingSource>> = {
    environment: {
        schema: environmentSchema,
        description: "The deployment tier: it sets replica counts, NAT gateways and protection, and what prod refuses.",
        whenAbsent: undefined,
    },
    network: {
        schema: z.union([createdNetworkSchema, existingNetworkSchema]),
        description: `The VPC: a new one (${Object.keys(createdNetworkSchema.shape).join(", ")}), or an existing one (${Object.keys(existingNetworkSchema.shape).join(", ")}).`,
        whenAbsent: {},
    },
    cluster: {
        schema: clusterSchema,
        description: "The EKS cluster: Kubernetes version, API endpoint access, system and GPU node groups, access roles and image cache.",
        whenAbsent: {},
    },
    mesh: {
        schema: meshSchema,
        description: "Istio: version, mTLS, ingress gateway, tracing, default sidecar resources, mesh namespaces, pod security and egress.",
        whenAbsent: {},
    },
    models: {
        schema: modelsSchema,
        description: `The models to serve, each naming its backend: ${MODEL_BACKENDS.join(", ")}.`,
        whenAbsent: [],
    },
};

/** The part of a JSON Schema node (as zod's toJSONSchema writes it) that decides a Pulumi type. */
export interface JsonSchemaNode {
    readonly type?: string | readonly string[];
    readonly enum?: readonly unknown[];
    readonly const?: unknown;
    readonly items?: JsonSchemaNode | readonly JsonSchemaNode[];
    readonly anyOf?: readonly JsonSchemaNode[];
    readonly oneOf?: readonly JsonSchemaNode[];
    readonly allOf?: readonly JsonSchemaNode[];
    readonly $ref?: string;
}

function jsonTypeOf(node: JsonSchemaNode): string | undefined {
    if (typeof node.type === "string") {
        return node.type;
    }
    if (Array.isArray(node.type)) {
        return node.type.length === 1 ? node.type[0] : undefined;
    }
    const values = node.enum ?? ("const" in node ? [node.const] : undefined);
    return values && values.length > 0 && values.every((value) => typeof value === "string") ? "string" : undefined;
}

/**
 * The Pulumi type a JSON Schema node can honestly declare, or `undefined` when none fits: a
 * number that may be fractional, a union of different types, a reference, anything unknown.
 */
export function pulumiTypeOf(node: JsonSchemaNode): ConfigItems | undefined {
    const branches = node.anyOf ?? node.oneOf;
    if (branches) {
        const types = branches.map(pulumiTypeOf);
        const first = types[0];
        return first && types.every((type) => isDeepStrictEqual(type, first)) ? first : undefined;
    }
    if (node.allOf || node.$ref) {
        return undefined;
    }
    const type = jsonTypeOf(node);
    switch (type) {
        case "string":
        case "integer":
        case "boolean":
        case "object":
            return { type };
        case "array": {
            const items = node.items && !Array.isArray(node.items) ? pulumiTypeOf(node.items as JsonSchemaNode) : undefined;
            return items && { type: "array", items };
        }
        default:
            return undefined;
    }
}

/** Whether Pulumi's `ValidateConfigValue` passes a value, as Pulumi holds it (see `asPulumiSees`). */
export function pulumiAccepts(declared: ConfigItems, value: unknown): boolean {
    switch (declared.type) {
        case "string":
            return typeof value === "string";
        case "integer":
            return (typeof value === "number" && Number.isInteger(value)) || (typeof value === "string" && /^[+-]?\d+$/.test(value));
        case "boolean":
            return typeof value === "boolean" || value === "true" || value === "false";
        case "object":
            return value !== null && typeof value === "object" && !Array.isArray(value);
        case "array":
            return Array.isArray(value) && declared.items !== undefined && value.every((item) => pulumiAccepts(declared.items!, item));
    }
}

function isSecure(value: unknown): boolean {
    return value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 1 && "secure" in value;
}

/** A stack value with every `secure:` value replaced by a string, as decryption leaves it. */
function decrypted(value: unknown): unknown {
    if (isSecure(value)) {
        return "[secret]";
    }
    if (Array.isArray(value)) {
        return value.map(decrypted);
    }
    return value !== null && typeof value === "object" ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decrypted(v)])) : value;
}

/**
 * A stack file value as Pulumi type-checks it: a `secure:` value decrypted to a string, any other
 * scalar as its text, a mapping or list JSON-decoded (numbers stay numbers inside it), null as null.
 */
export function asPulumiSees(value: unknown): unknown {
    const plain = decrypted(value);
    if (plain === null || typeof plain !== "object") {
        return plain === null ? null : String(plain);
    }
    return JSON.parse(JSON.stringify(plain));
}

function typeName(declared: ConfigItems): string {
    return declared.items ? `array<${typeName(declared.items)}>` : declared.type;
}

function declaredOf(entry: { type?: unknown; items?: unknown }): ConfigItems | undefined {
    return typeof entry.type === "string" ? (entry as ConfigItems) : undefined;
}

/** The entry for one setting; throws when its default would not mean "left out" or not pass Pulumi. */
function entryFor(key: string, setting: SettingSource): ProjectConfigEntry {
    const json = z.toJSONSchema(setting.schema, { io: "input", unrepresentable: "any" }) as JsonSchemaNode;
    const declared = pulumiTypeOf(json);
    const values = declared?.type === "string" && Array.isArray(json.enum) ? ` One of: ${json.enum.join(", ")}.` : "";
    if (setting.whenAbsent !== undefined) {
        if (!setting.schema.safeParse(setting.whenAbsent).success) {
            throw new Error(`\`${key}\`: the schema refuses its default ${JSON.stringify(setting.whenAbsent)}`);
        }
        if (declared && !pulumiAccepts(declared, setting.whenAbsent)) {
            throw new Error(`\`${key}\`: default ${JSON.stringify(setting.whenAbsent)} is not of its type ${typeName(declared)}`);
        }
    }
    return {
        ...(declared && { type: declared.type }),
        ...(declared?.items && { items: declared.items }),
        ...(setting.whenAbsent !== undefined && { default: setting.whenAbsent }),
        description: `${setting.description}${values}`,
    };
}

/** The `config:` block: one entry per setting, keyed `mlmesh:<setting>`. */
export function deriveProjectConfig(settings: Readonly<Record<string, SettingSource>> = SETTINGS): ProjectConfig {
    return Object.fromEntries(Object.entries(settings).map(([key, setting]) => [`${PROJECT_NAME}:${key}`, entryFor(key, setting)]));
}

function itemsProblems(where: string, items: unknown): string[] {
    if (items === null || typeof items !== "object" || Array.isArray(items)) {
        return [`${where}: must be a mapping with a \`type\``];
    }
    const { type, items: inner } = items as Record<string, unknown>;
    if (!(PULUMI_CONFIG_TYPES as readonly unknown[]).includes(type)) {
        return [`${where}.type: ${JSON.stringify(type)} is not one of ${PULUMI_CONFIG_TYPES.join(", ")}`];
    }
    if (type === "array") {
        return inner === undefined ? [`${where}: an array item type needs \`items\``] : itemsProblems(`${where}.items`, inner);
    }
    return [];
}

/** What Pulumi refuses in a `config:` block (project.json and `Project.Validate`), as messages. */
export function projectConfigProblems(projectName: string, config: Readonly<Record<string, unknown>>): string[] {
    const problems: string[] = [];
    for (const [key, raw] of Object.entries(config)) {
        if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
            continue; // Short-hand: a plain value is a default (own namespace) or a value (another).
        }
        const entry = raw as Record<string, unknown>;
        const unknown = Object.keys(entry).filter((attribute) => !DECLARATION_ATTRIBUTES.includes(attribute));
        problems.push(...unknown.map((attribute) => `${key}: attribute \`${attribute}\` is not allowed`));
        if (entry.default !== undefined && entry.value !== undefined) {
            problems.push(`${key}: cannot have both a \`default\` and a \`value\``);
        }
        const own = !key.includes(":") || key.startsWith(`${projectName}:`);
        if (!own) {
            problems.push(...entry.type !== undefined ? [`${key}: not in the project's namespace, so it may not declare a \`type\``] : [],
                ...entry.default !== undefined ? [`${key}: not in the project's namespace, so it may not declare a \`default\``] : [],
                ...entry.value === undefined ? [`${key}: not in the project's namespace, so it must give a \`value\``] : []);
            continue;
        }
        if (entry.type === undefined) {
            continue;
        }
        if (!(PULUMI_CONFIG_TYPES as readonly unknown[]).includes(entry.type)) {
            problems.push(`${key}.type: ${JSON.stringify(entry.type)} is not one of ${PULUMI_CONFIG_TYPES.join(", ")}`);
            continue;
        }
        if (entry.type === "array" && entry.items === undefined) {
            problems.push(`${key}: declares an array but no \`items\``);
            continue;
        }
        const itemProblems = entry.items === undefined ? [] : itemsProblems(`${key}.items`, entry.items);
        problems.push(...itemProblems);
        const declared = declaredOf(entry)!;
        if (itemProblems.length === 0 && entry.default !== undefined && !pulumiAccepts(declared, entry.default)) {
            problems.push(`${key}: default ${JSON.stringify(entry.default)} is not of the expected type '${typeName(declared)}'`);
        }
    }
    return problems;
}

/**
 * What `pulumi up` would refuse in a stack's `config:` (its values as written in the stack file)
 * under the project's declarations: a required key left out, or a value of another type.
 */
export function stackConfigProblems(stack: string, config: ProjectConfig, values: Readonly<Record<string, unknown>>): string[] {
    const problems: string[] = [];
    for (const [key, entry] of Object.entries(config)) {
        const present = Object.prototype.hasOwnProperty.call(values, key);
        if (!present && entry.default === undefined) {
            problems.push(`Stack '${stack}' is missing configuration value '${key}'`);
            continue;
        }
        const declared = declaredOf(entry);
        if (declared && !pulumiAccepts(declared, asPulumiSees(present ? values[key] : entry.default))) {
            problems.push(`Stack '${stack}' with configuration key '${key}' must be of type '${typeName(declared)}'`);
        }
    }
    return problems;
}

const GENERATED_NOTE = [
    ` Generated from stacks/configSchema.ts by offline/projectConfig.ts: change the schema, then run`,
    ` ${REGENERATE_COMMAND}`,
    ` aws:region is set in each stack: Pulumi.yaml may declare only the project's own keys.`,
].join("\n");

/** Pulumi.yaml with its `config:` block replaced (or added last); every other key is kept as written. */
export function renderPulumiYaml(text: string, config: ProjectConfig): string {
    const document = parseDocument(text);
    if (document.errors.length > 0 || !isMap(document.contents)) {
        throw new Error(`Pulumi.yaml is not a YAML mapping: ${document.errors[0]?.message ?? "its top level is not key: value"}`);
    }
    const name = document.get("name");
    if (name !== PROJECT_NAME) {
        throw new Error(`Pulumi.yaml names the project ${JSON.stringify(name)}; the settings are \`${PROJECT_NAME}:*\`, which Pulumi types only in a project named ${PROJECT_NAME}`);
    }
    const pair: Pair = document.createPair("config", config);
    if (isScalar(pair.key)) {
        pair.key.commentBefore = GENERATED_NOTE;
        pair.key.spaceBefore = true;
    }
    const items: Pair[] = document.contents.items;
    const at = items.findIndex((item) => isScalar(item.key) && item.key.value === "config");
    if (at >= 0) {
        items[at] = pair;
    } else {
        items.push(pair);
    }
    return document.toString({ lineWidth: 0 });
}

if (require.main === module) {
    const file = path.join(__dirname, "..", "Pulumi.yaml");
    const current = readFileSync(file, "utf8");
    const next = renderPulumiYaml(current, deriveProjectConfig());
    if (process.argv.includes("--check")) {
        if (next !== current) {
            console.error(`${file} is stale; run \`${REGENERATE_COMMAND}\``);
            process.exit(1);
        }
        console.log(`${file} is up to date`);
    } else {
        writeFileSync(file, next);
        console.log(next === current ? `${file} was already up to date` : `rewrote the config block of ${file}`);
    }
}
