/**
 * The `mlmesh` command line (commander: subcommands, help, short flags and suggestions):
 *   mlmesh plan -s NAME [--cwd DIR] [--config-file FILE] [--platform-outputs FILE]... [--out DIR] [--policy-config FILE]
 *               [--compare FILE [--allow NAME]...] [--verbose] [--json]
 *   mlmesh routes -s NAME [--cwd DIR] [--config-file FILE] [--json]
 *   mlmesh check PATH... [--environment ENV | --policy-config FILE] [--json]
 *   mlmesh new DIR;  mlmesh help [COMMAND];  mlmesh --version
 * Exit codes: 0 ok; 1 invalid manifests, mandatory policy violations or routes that reach no
 * admitting server (or an engine failure); 2 bad config, stack file or arguments.
 */
import { Command, CommanderError } from "commander";
import * as path from "node:path";
import { EXIT, plan, PlanInputError, type PlanResult } from "./plan";
import { renderSummary, renderTree } from "./tree";
import { renderRoutesText } from "./routeTable";
import { deployLines } from "./criticalPath";
import { CHECK_USAGE, runCheck } from "./checkCommand";
import { SECRET_PLACEHOLDER } from "./recorder";
import { NewProjectError, ownPackage, scaffoldProject } from "./newProject";

export interface CliIo {
    readonly out: (text: string) => void;
    readonly err: (text: string) => void;
    readonly cwd: string;
    /** Where progress goes on a terminal (nothing is written when it is unset). */
    readonly progress?: (text: string) => void;
}

/** A stack name, or a fully qualified one (`org/project/stack`) as `pulumi -s` takes it. */
const STACK_NAME = /^([A-Za-z0-9_][A-Za-z0-9_.-]*\/){0,2}[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

function report(result: PlanResult, verbose: boolean): string {
    const invalid = result.manifests.filter((m) => m.check.status === "invalid");
    const unchecked = result.manifests.filter((m) => m.check.status === "unchecked");
    const lines = [
        `Previewing mlmesh plan (${result.project}/${result.stack}, offline) from ${result.configFile}`,
        "",
        renderTree(result.resources),
        "",
        renderSummary(result.summary, verbose),
        "",
        `Manifests: ${result.manifests.length} written, ${invalid.length} invalid, ${unchecked.length} without a schema`,
        ...invalid.flatMap((m) => [`  invalid ${m.fileName} (${m.urn})`, ...m.check.errors.map((e) => `    ${e}`)]),
        ...unchecked.map((m) => `  unchecked ${m.fileName}: ${m.check.errors.join("; ")}`),
        `Install order: ${result.installOrder.length === 0 ? "every chart and object waits for what it needs" : `${result.installOrder.length} problem(s)`}`,
        ...result.installOrder.map((problem) => `  ${problem.message}`),
        ...imageLines(result),
        ...podSecurityLines(result),
        ...routeLines(result),
        ...policyLines(result),
        ...changeLines(result),
        ...deployLines(result.deploy),
        "",
        ...outputLines(result.outputs),
        "",
        `Wrote ${path.join(result.outDir, "plan.json")}, ${path.join(result.outDir, "manifests")}/, ${path.join(result.outDir, "policy-report.json")}, ${path.join(result.outDir, "routes.md")}, ${path.join(result.outDir, "resources.md")}`,
        result.exitCode === EXIT.ok
            ? `Next: \`pulumi up -s ${result.stack}\`, then keep a copy of this plan.json outside ${result.outDir} (a CI artifact): the next change compares against it with --compare`
            : "Next: fix what is marked above, then plan again; `pulumi up` would deploy it as it is",
    ];
    return lines.join("\n");
}

/** The stack outputs as `pulumi preview` lists them: one per line, secrets masked; lists of objects summarized. */
export function outputLines(outputs: Readonly<Record<string, unknown>>): string[] {
    const names = Object.keys(outputs).sort();
    if (names.length === 0) {
        return [];
    }
    const width = Math.max(...names.map((name) => name.length));
    const render = (value: unknown): string => {
        if (value === SECRET_PLACEHOLDER) {
            return value;
        }
        if (Array.isArray(value) && value.some((item) => item !== null && typeof item === "object")) {
            const labels = value.map((item) => (item !== null && typeof item === "object" && typeof item.name === "string"
                ? [item.name, item.backend && `(${item.backend})`].filter(Boolean).join(" ") : JSON.stringify(item)));
            return `[${value.length}] ${labels.join(", ")}`;
        }
        const text = JSON.stringify(value);
        return text.length > 100 ? `${text.slice(0, 97)}...` : text;
    };
    return ["Outputs:", ...names.map((name) => `    ${name.padEnd(width)}: ${render(outputs[name])}`)];
}

/** With --compare: the changes by kind, each non-trivial one with its fields, then what the gate refuses. */
export function changeLines({ comparison }: Pick<PlanResult, "comparison">): string[] {
    if (!comparison) {
        return [];
    }
    const count = (kind: string) => comparison.changes.filter((c) => c.kind === kind).length;
    const mark: Record<string, string> = { create: "+", update: "~", replace: "+-", delete: "-" };
    return [
        `Changes against the previous plan: ${count("create")} to create, ${count("update")} to update, ${count("replace")} to replace, ${count("delete")} to delete`,
        ...comparison.changes.filter((c) => c.kind !== "create").map((c) => `  ${mark[c.kind]} ${c.type} ${c.name}${c.kind === "replace" ? ` (replaced by ${c.replacedBy.join(", ")})` : c.kind === "update" ? ` (${c.fields.slice(0, 4).join(", ")}${c.fields.length > 4 ? ", …" : ""})` : ""}`),
        ...comparison.changes.filter((c) => c.kind === "create").map((c) => `  + ${c.type} ${c.name}`),
        ...(comparison.problems.length > 0 ? [`Refused: ${comparison.problems.length} change(s)`, ...comparison.problems.map((p) => `  refused ${p.message}`)] : []),
    ];
}

function imageLines({ images }: PlanResult): string[] {
    const distinct = (uses: readonly { image: string }[]) => [...new Set(uses.map((use) => use.image))];
    const count = (source: string) => distinct(images.uses.filter((use) => use.source === source)).length;
    return [
        `Images: ${distinct(images.uses).length} pulled: ${count("cache")} through the ECR cache, ${count("private-ecr")} from private ECR, ${count("digest")} by digest, ${count("upstream")} from upstream`,
        ...distinct(images.problems).map((image) => `  problem: ${image} bypasses the cache (${images.problems.find((use) => use.image === image)?.where})`),
        ...distinct(images.warnings).map((image) => `  warning: ${image} is pulled from upstream (see the warnings above)`),
        ...images.digestsToVerify.map(({ image, digest }) => `  pulled by tag through the cache (ECR cannot cache a first pull by digest); upstream publishes ${digest}: check with \`crane digest ${image}\``),
    ];
}

function podSecurityLines({ podSecurity }: PlanResult): string[] {
    const where = podSecurity.namespaces.length > 0 ? ` (${podSecurity.namespaces.join(", ")})` : "";
    return [
        `Pod Security: ${podSecurity.pods.length} pod(s) in restricted namespaces${where}, ${podSecurity.findings.length === 0 ? "all admitted" : `${podSecurity.findings.length} refused`}`,
        ...podSecurity.findings.flatMap((finding) => [`  refused ${finding.where}:`, ...finding.violations.map((v) => `    ${v}`)]),
    ];
}

/** Violations grouped by level, mandatory first, each with its policy, resource and message. */
function policyLines({ policyViolations }: PlanResult): string[] {
    const of = (level: string) => policyViolations.filter((v) => v.level === level);
    const lines = [`Policies: ${of("mandatory").length} mandatory, ${of("advisory").length} advisory violation(s)`];
    for (const level of ["mandatory", "advisory"]) {
        for (const v of of(level)) {
            lines.push(`  ${level} ${v.policy}: ${v.message}${v.urn ? `\n    ${v.urn}` : ""}`);
        }
    }
    return lines;
}

function routeLines({ routes }: PlanResult): string[] {
    const broken = routes.filter((r) => r.problems.length > 0);
    const legs = routes.reduce((sum, r) => sum + r.legs.length, 0);
    return [
        `Routes: ${routes.length} public path(s), ${legs} leg(s), ${broken.length === 0 ? "every one reaches a server that admits it" : `${broken.length} do not`}`,
        ...broken.flatMap((r) => r.problems.map((p) => `  ${r.method} ${r.path}: ${p}`)),
    ];
}

function jsonResult(result: PlanResult): string {
    return JSON.stringify({
        stack: result.stack,
        project: result.project,
        configFile: result.configFile,
        outDir: result.outDir,
        summary: result.summary,
        outputs: result.outputs,
        manifests: result.manifests.map((m) => ({ file: m.fileName, urn: m.urn, status: m.check.status, errors: m.check.errors })),
        policyViolations: result.policyViolations,
        installOrder: result.installOrder,
        images: result.images,
        podSecurity: result.podSecurity,
        routes: result.routes,
        ...(result.comparison ? { changes: result.comparison.changes, refused: result.comparison.problems } : {}),
        exitCode: result.exitCode,
    }, null, 2);
}

function routesReport(result: PlanResult): string {
    return [
        `Routes of ${result.project}/${result.stack} (offline, judged on the rendered Istio objects) from ${result.configFile}`,
        "",
        renderRoutesText(result.routes),
        "",
        ...routeLines(result),
        `Wrote ${path.join(result.outDir, "routes.md")}`,
    ].join("\n");
}

/** `mlmesh new DIR`: scaffolds the project and says what to do next. */
function newCommand(folder: string, io: CliIo): number {
    const dir = path.resolve(io.cwd, folder);
    try {
        const files = scaffoldProject(dir);
        io.out([
            `Created a platform project in ${dir}: ${files.join(", ")}`,
            "",
            "Next:",
            `  cd ${path.relative(io.cwd, dir).startsWith("..") ? dir : path.relative(io.cwd, dir) || "."} && npm install`,
            "  npx mlmesh plan -s dev      # what pulumi up would create, checked offline",
            "  pulumi up -s dev            # once the plan is clean and you are logged in to AWS and a Pulumi backend",
        ].join("\n"));
        return EXIT.ok;
    } catch (error) {
        if (error instanceof NewProjectError) {
            io.err(`mlmesh new: ${error.message}`);
            return EXIT.badInput;
        }
        throw error;
    }
}

/** The options of `plan` and `routes`, as commander names them. */
interface PlanOptions {
    readonly stack?: string;
    readonly cwd?: string;
    readonly configFile?: string;
    readonly out?: string;
    readonly policyConfig?: string;
    readonly platformOutputs?: string[];
    readonly compare?: string;
    readonly allow?: string[];
    readonly json?: boolean;
    readonly verbose?: boolean;
}

const EXIT_CODES = `
Exit codes: 0 ok; 1 invalid manifests, install-order problems, images outside the cache, pods Pod
Security would refuse, routes that reach no admitting server, mandatory policy violations, or a
refused change (--compare); 2 bad config, stack file or arguments.`;

const collect = (value: string, previous: string[]) => [...previous, value];

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
    let code: number = EXIT.ok;
    const program = new Command("mlmesh")
        .description("Plan an mlmesh platform offline, check Kubernetes manifests against its policies, or start a platform project.")
        .version(`mlmesh ${ownPackage().version}`, "-v, --version", "print mlmesh's version")
        .showSuggestionAfterError(true)
        .exitOverride()
        .configureOutput({ writeOut: (text) => io.out(text.replace(/\n$/, "")), writeErr: (text) => io.err(text.replace(/\n$/, "")) })
        .addHelpText("after", EXIT_CODES);
    const stackOptions = (command: Command) => command
        .option("-s, --stack <name>", "the stack: reads Pulumi.<name>.yaml in the project's stackConfigDir (needed unless --config-file names a Pulumi.<name>.yaml)")
        .option("--cwd <dir>", "plan the Pulumi project in this folder instead of the current one")
        .option("--config-file <file>", "plan this stack file instead (check a config before committing it)")
        .option("--json", "print a machine-readable result");
    stackOptions(program.command("plan").description("what `pulumi up` would create, checked offline; writes plan.json, manifests/, policy-report.json, routes.md and resources.md"))
        .option("--out <dir>", "where to write the files (default .mlmesh/plan/<stack>)")
        .option("--policy-config <file>", "policy settings as JSON, as for pulumi preview --policy-pack-config")
        .option("--platform-outputs <file>", "the recorded outputs (a plan.json) of a stack the program reads through StackReference; repeatable", collect, [])
        .option("--compare <file>", "a previous plan.json of this stack: what `pulumi up` would create, update, replace or delete, and the changes refused")
        .option("--allow <name>", "a resource (or NAME*) whose replacement or deletion is intended; repeatable", collect, [])
        .option("--verbose", "also count the resources by type")
        .addHelpText("after", EXIT_CODES)
        .action(async (options: PlanOptions) => { code = await planCommand("plan", options, io); });
    stackOptions(program.command("routes").description("every public path of the front door: where it goes, its timeout and retries, who may call it"))
        .action(async (options: PlanOptions) => { code = await planCommand("routes", options, io); });
    program.command("check").description("check Kubernetes manifests (YAML or JSON files or folders) against the policy pack")
        .argument("<paths...>", "files or folders of manifests")
        .option("--environment <env>", "use the pack's config for dev, staging or prod")
        .option("--policy-config <file>", "policy settings as JSON")
        .option("--json", "print a machine-readable result")
        .addHelpText("after", `\n${CHECK_USAGE}`)
        .action(async (paths: string[], options: { environment?: string; policyConfig?: string; json?: boolean }) => {
            code = await runCheck({ paths: paths.map((p) => path.resolve(io.cwd, p)), environment: options.environment, policyConfig: options.policyConfig && path.resolve(io.cwd, options.policyConfig), json: options.json ?? false }, io);
        });
    program.command("new").description("a platform project (Pulumi.yaml, program, dev stack) that plans at once")
        .argument("<dir>", "a new or empty folder")
        .action((dir: string) => { code = newCommand(dir, io); });
    try {
        await program.parseAsync([...argv], { from: "user" });
    } catch (error) {
        if (error instanceof CommanderError) {
            // Help and version exit 0; a bad command, option or argument is bad input.
            return error.exitCode === 0 ? EXIT.ok : EXIT.badInput;
        }
        throw error;
    }
    return code;
}

/** `mlmesh plan` and `mlmesh routes`. */
async function planCommand(command: "plan" | "routes", values: PlanOptions, io: CliIo): Promise<number> {
    // A stack file named Pulumi.NAME.yaml names its stack, as for `pulumi -s NAME`.
    const fromFile = values.configFile === undefined ? undefined : /^Pulumi\.([A-Za-z0-9_.-]+)\.ya?ml$/.exec(path.basename(values.configFile))?.[1];
    const stack = values.stack?.split("/").pop() ?? fromFile;
    // With both, -s names the stack, as `pulumi --config-file` takes any file for the selected stack.
    if (values.stack !== undefined && !STACK_NAME.test(values.stack)) {
        io.err(`mlmesh ${command}: \`--stack\` (${JSON.stringify(values.stack)}) must be a stack name (letters, digits, '-', '_' and '.') or org/project/stack`);
        return EXIT.badInput;
    }
    if (!stack) {
        io.err(`mlmesh ${command}: \`--stack\` is required, e.g. -s dev (or a --config-file named Pulumi.<stack>.yaml)`);
        return EXIT.badInput;
    }
    const resolve = (file: string | undefined) => (file === undefined ? undefined : path.resolve(io.cwd, file));
    try {
        const result = await plan({
            stack,
            configFile: resolve(values.configFile),
            outDir: resolve(values.out),
            policyConfig: resolve(values.policyConfig),
            projectDir: resolve(values.cwd) ?? io.cwd,
            platformOutputs: values.platformOutputs?.map((file) => path.resolve(io.cwd, file)),
            compare: resolve(values.compare),
            allow: values.allow,
            onProgress: values.json ? undefined : io.progress && ((stage) => io.progress!(`mlmesh: ${stage}…`)),
        });
        if (command === "routes") {
            io.out(values.json ? JSON.stringify({ stack: result.stack, routes: result.routes }, null, 2) : routesReport(result));
            return result.routes.some((r) => r.problems.length > 0) ? EXIT.unsafe : EXIT.ok;
        }
        io.out(values.json ? jsonResult(result) : report(result, values.verbose ?? false));
        return result.exitCode;
    } catch (error) {
        if (error instanceof PlanInputError) {
            io.err(values.json ? JSON.stringify({ error: error.message, errors: error.problems, exitCode: EXIT.badInput }, null, 2) : `mlmesh ${command}: ${error.message}`);
            return EXIT.badInput;
        }
        io.err(`mlmesh ${command}: the program failed: ${(error as Error).stack ?? String(error)}`);
        return EXIT.unsafe;
    }
}

/** Runs the CLI on this process's arguments and streams (what both `mlmesh` entry points do). */
export function runFromProcess(): void {
    void main(process.argv.slice(2), {
        out: (text) => process.stdout.write(`${text}\n`),
        err: (text) => process.stderr.write(`${text}\n`),
        cwd: process.cwd(),
        progress: process.stderr.isTTY ? (text) => process.stderr.write(`${text}\n`) : undefined,
    }).then((code) => {
        process.exitCode = code;
    });
}
