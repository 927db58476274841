import * as assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import {
    asPulumiSees, type ConfigItems, deriveProjectConfig, type JsonSchemaNode, PROJECT_NAME, type ProjectConfig, projectConfigProblems,
    PULUMI_CONFIG_TYPES, pulumiAccepts, pulumiTypeOf, REGENERATE_COMMAND, renderPulumiYaml, stackConfigProblems,
} from "../../offline/projectConfig";
import { CONFIG_NAMESPACE, parsePlatformConfig, PlatformConfigError } from "../../stacks/config";
import { validRaw } from "../stacks/fixtures/rawConfig";

const ROOT = path.join(__dirname, "..", "..");
const PROJECT_FILE = path.join(ROOT, "Pulumi.yaml");
const STACKS = path.join(ROOT, "stacks");

const projectText = (): string => readFileSync(PROJECT_FILE, "utf8");
const committedConfig = (): ProjectConfig => (parse(projectText()) as { config: ProjectConfig }).config;
/** The derived block as YAML would hold it (no `undefined` fields). */
const derived = (): ProjectConfig => JSON.parse(JSON.stringify(deriveProjectConfig())) as ProjectConfig;

const typeOf = (schema: z.ZodType): ConfigItems | undefined =>
    pulumiTypeOf(z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchemaNode);

/** The config stacks/config.ts gives for raw settings, or the paths of the problems it reports. */
function outcome(raw: Record<string, unknown>): unknown {
    try {
        return parsePlatformConfig(raw, "dev");
    } catch (error) {
        assert.ok(error instanceof PlatformConfigError, String(error));
        return error.problems.map((problem) => `${problem.path}: ${problem.reason}`);
    }
}

/** The `mlmesh:*` keys stacks/config.ts accepts, as its unknown-key message lists them. */
function acceptedKeys(): string[] {
    const probe = `${CONFIG_NAMESPACE}:notASetting`;
    try {
        parsePlatformConfig({ ...validRaw(), [probe]: 1 }, "dev");
    } catch (error) {
        const problem = (error as PlatformConfigError).problems.find((p) => p.path === probe);
        const listed = problem?.reason.match(/use one of: (.+)$/);
        if (listed) {
            return listed[1].split(", ");
        }
    }
    assert.fail(`stacks/config.ts no longer lists its keys when it refuses \`${probe}\`; read them some other way`);
}

const PROJECT_FIXTURE = [
    "name: mlmesh",
    "# what the platform is",
    "description: ML inference",
    "runtime:",
    "  name: nodejs",
    "main: stacks/",
    "stackConfigDir: stacks",
    "",
].join("\n");

describe("project config declarations (Pulumi.yaml `config:`)", () => {
    describe("the committed Pulumi.yaml", () => {
        it("declares exactly what offline/projectConfig.ts derives from stacks/configSchema.ts", () => {
            assert.deepEqual(committedConfig(), derived(), `Pulumi.yaml's config block is stale; run \`${REGENERATE_COMMAND}\``);
            assert.equal(projectText(), renderPulumiYaml(projectText(), deriveProjectConfig()), `Pulumi.yaml is not as the generator writes it; run \`${REGENERATE_COMMAND}\``);
        });

        it("is the project whose namespace the settings use", () => {
            assert.equal((parse(projectText()) as { name: string }).name, CONFIG_NAMESPACE);
            assert.equal(PROJECT_NAME, CONFIG_NAMESPACE);
        });

        it("declares every mlmesh:* key stacks/config.ts accepts, and no other", () => {
            assert.deepEqual(Object.keys(committedConfig()).sort(), acceptedKeys().sort());
        });

        it("leaves aws:region to the stacks: another namespace may not declare a type, and a value would pin every stack", () => {
            assert.ok(!("aws:region" in committedConfig()));
        });

        it("gives a default exactly to the keys stacks/config.ts lets a stack leave out, and it means the same as leaving it out", () => {
            for (const [key, entry] of Object.entries(committedConfig())) {
                for (const base of [{ "aws:region": "us-west-2", "mlmesh:environment": "dev" }, validRaw()]) {
                    const without: Record<string, unknown> = { ...base };
                    delete without[key];
                    if (entry.default === undefined) {
                        const problems = outcome(without);
                        assert.ok(Array.isArray(problems) && problems.some((p: string) => p.startsWith(`${key}:`)), `${key} has no default, yet config.ts accepts a stack without it`);
                    } else {
                        assert.deepEqual(outcome({ ...without, [key]: entry.default }), outcome(without), `${key}: default ${JSON.stringify(entry.default)} means something else than no ${key}`);
                    }
                }
            }
        });

        it("passes Pulumi's own checks of a project file, with only types Pulumi knows", () => {
            const config = committedConfig();
            assert.deepEqual(projectConfigProblems(PROJECT_NAME, config), []);
            const typesIn = (items: ConfigItems | undefined): string[] => items ? [items.type, ...typesIn(items.items)] : [];
            for (const [key, entry] of Object.entries(config)) {
                for (const type of typesIn(entry.type ? (entry as ConfigItems) : undefined)) {
                    assert.ok((PULUMI_CONFIG_TYPES as readonly string[]).includes(type), `${key}: ${type}`);
                }
                assert.ok(entry.description.length > 0, `${key} has no description`);
            }
        });
    });

    describe("the type a schema declares", () => {
        const ROWS: readonly { schema: z.ZodType; declares: ConfigItems | undefined; why: string }[] = [
            { schema: z.enum(["dev", "prod"]), declares: { type: "string" }, why: "a string enum" },
            { schema: z.string().regex(/^a/), declares: { type: "string" }, why: "a patterned string" },
            { schema: z.literal("split"), declares: { type: "string" }, why: "a string literal" },
            { schema: z.number().int(), declares: { type: "integer" }, why: "a whole number" },
            { schema: z.number(), declares: undefined, why: "a number that may be fractional: `integer` would refuse 1.5" },
            { schema: z.boolean().default(false), declares: { type: "boolean" }, why: "a boolean with a default" },
            { schema: z.strictObject({ a: z.string() }), declares: { type: "object" }, why: "an object" },
            { schema: z.record(z.string(), z.string()), declares: { type: "object" }, why: "a map" },
            { schema: z.array(z.string()), declares: { type: "array", items: { type: "string" } }, why: "a list of strings" },
            { schema: z.array(z.array(z.boolean())), declares: { type: "array", items: { type: "array", items: { type: "boolean" } } }, why: "a list of lists" },
            { schema: z.array(z.number()), declares: undefined, why: "a list with items of no Pulumi type (items need a type)" },
            { schema: z.union([z.string(), z.number()]), declares: undefined, why: "a union of types" },
            { schema: z.union([z.string(), z.enum(["x"])]), declares: { type: "string" }, why: "a union of strings" },
            { schema: z.discriminatedUnion("kind", [z.object({ kind: z.literal("a") }), z.object({ kind: z.literal("b") })]), declares: { type: "object" }, why: "a union of objects" },
            { schema: z.array(z.discriminatedUnion("kind", [z.object({ kind: z.literal("a") })])), declares: { type: "array", items: { type: "object" } }, why: "a list of a union of objects" },
            { schema: z.string().nullable(), declares: undefined, why: "a nullable string" },
            { schema: z.any(), declares: undefined, why: "anything" },
            { schema: z.custom<string>(() => true), declares: undefined, why: "an unrepresentable check" },
        ];
        for (const row of ROWS) {
            it(`declares ${row.declares ? JSON.stringify(row.declares) : "no type"} for ${row.why}`, () => {
                assert.deepEqual(typeOf(row.schema), row.declares);
            });
        }

        it("declares the settings as environment string, network, cluster and mesh objects, models a list of objects", () => {
            const declared = Object.fromEntries(Object.entries(deriveProjectConfig()).map(([key, entry]) => [key, entry.items ? `array<${entry.items.type}>` : entry.type]));
            assert.deepEqual(declared, {
                "mlmesh:environment": "string", "mlmesh:network": "object", "mlmesh:cluster": "object", "mlmesh:mesh": "object", "mlmesh:models": "array<object>",
            });
        });
    });

    describe("Pulumi's checks, as ported", () => {
        const PROBLEMS: readonly { config: Record<string, unknown>; problem: RegExp | undefined }[] = [
            { config: { "mlmesh:x": { type: "number" } }, problem: /"number" is not one of string, integer, boolean, array, object/ },
            { config: { "mlmesh:x": { type: "array" } }, problem: /declares an array but no `items`/ },
            { config: { "mlmesh:x": { type: "array", items: { type: "array" } } }, problem: /an array item type needs `items`/ },
            { config: { "mlmesh:x": { type: "object", default: [] } }, problem: /not of the expected type 'object'/ },
            { config: { "mlmesh:x": { default: 1, value: 2 } }, problem: /both a `default` and a `value`/ },
            { config: { "mlmesh:x": { type: "string", required: true } }, problem: /attribute `required` is not allowed/ },
            { config: { "aws:region": { type: "string", value: "us-west-2" } }, problem: /may not declare a `type`/ },
            { config: { "aws:region": { description: "the region" } }, problem: /must give a `value`/ },
            { config: { "aws:region": { value: "us-west-2" } }, problem: undefined },
            { config: { x: { type: "array", items: { type: "object" }, default: [{}] } }, problem: undefined },
        ];
        for (const row of PROBLEMS) {
            it(`${row.problem ? "refuses" : "accepts"} ${JSON.stringify(row.config)}`, () => {
                const problems = projectConfigProblems(PROJECT_NAME, row.config);
                if (row.problem) {
                    assert.equal(problems.length, 1, problems.join("\n"));
                    assert.match(problems[0], row.problem);
                } else {
                    assert.deepEqual(problems, []);
                }
            });
        }

        it("checks a stack value as Pulumi holds it: scalars as text, mappings and lists decoded", () => {
            assert.equal(asPulumiSees(3), "3");
            assert.equal(asPulumiSees({ secure: "v1:abc" }), "[secret]");
            assert.deepEqual(asPulumiSees({ a: [1, { secure: "v1:abc" }] }), { a: [1, "[secret]"] });
            const cases: readonly [ConfigItems, unknown, boolean][] = [
                [{ type: "string" }, "dev", true],
                [{ type: "integer" }, "5", true],
                [{ type: "integer" }, "1.5", false],
                [{ type: "boolean" }, "true", true],
                [{ type: "object" }, {}, true],
                [{ type: "object" }, [], false],
                [{ type: "object" }, null, false],
                [{ type: "array", items: { type: "object" } }, [{ name: "a" }], true],
                [{ type: "array", items: { type: "object" } }, ["a"], false],
                [{ type: "array", items: { type: "object" } }, {}, false],
            ];
            for (const [declared, value, accepted] of cases) {
                assert.equal(pulumiAccepts(declared, asPulumiSees(value)), accepted, `${JSON.stringify(declared)} ${JSON.stringify(value)}`);
            }
        });
    });

    describe("the stack files", () => {
        const stackFiles = readdirSync(STACKS).filter((file) => /^Pulumi\.[^.]+\.yaml$/.test(file));

        it("exist", () => {
            assert.ok(stackFiles.length > 0);
        });

        for (const file of stackFiles) {
            it(`${file} passes the checks \`pulumi up\` makes against the declarations`, () => {
                const stack = file.split(".")[1];
                const values = (parse(readFileSync(path.join(STACKS, file), "utf8")) as { config: Record<string, unknown> }).config;
                assert.deepEqual(stackConfigProblems(stack, committedConfig(), values), []);
            });
        }

        it("a stack that leaves out a required key, or gives a value of another type, is reported as Pulumi reports it", () => {
            const values = { "mlmesh:cluster": "big", "mlmesh:models": [{ name: "a" }, "b"] };
            assert.deepEqual(stackConfigProblems("dev", committedConfig(), values), [
                "Stack 'dev' is missing configuration value 'mlmesh:environment'",
                "Stack 'dev' with configuration key 'mlmesh:cluster' must be of type 'object'",
                "Stack 'dev' with configuration key 'mlmesh:models' must be of type 'array<object>'",
            ]);
        });
    });

    describe("rendering Pulumi.yaml", () => {
        const config: ProjectConfig = { "mlmesh:environment": { type: "string", description: "The tier: dev or prod." } };

        it("adds the config block last and keeps every other line as written", () => {
            const text = renderPulumiYaml(PROJECT_FIXTURE, config);
            assert.ok(text.startsWith(PROJECT_FIXTURE), text);
            assert.deepEqual((parse(text) as { config: unknown }).config, config);
            assert.match(text, new RegExp(`# ${REGENERATE_COMMAND.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\n`));
        });

        it("replaces an existing config block and is stable when run again", () => {
            const once = renderPulumiYaml(`${PROJECT_FIXTURE}config:\n  mlmesh:old: 1\n`, config);
            assert.equal(once, renderPulumiYaml(PROJECT_FIXTURE, config));
            assert.equal(renderPulumiYaml(once, config), once);
        });

        it("refuses a project of another name, whose namespace could not declare mlmesh:* types", () => {
            assert.throws(() => renderPulumiYaml(PROJECT_FIXTURE.replace("name: mlmesh", "name: other"), config), /Pulumi types only in a project named mlmesh/);
        });
    });
});
