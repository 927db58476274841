/**
 * `mlmesh plan`: runs the project's real Pulumi program offline for one stack file and writes
 * what `pulumi up` would create: plan.json, every Kubernetes manifest, and the policy report.
 */
import * as pulumi from "@pulumi/pulumi";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { parseStackConfig, PlatformConfigError } from "../stacks/config";
import { PlatformContractError } from "../components/platform/platformReference";
import { doorTable } from "../components/gateway/doorRoutes";
import { planBackends } from "./planBackends";
import { PACK_CONFIG_DIR, PolicyConfigError, runPolicies, type PolicyViolation } from "./policyRunner";
import { renderRoutesMarkdown, routeRows, type RouteRow } from "./routeTable";
import type { IstioObject } from "./routes";
import { policies } from "../policy-pack/policies";
import { validateManifest, type ManifestCheck } from "./manifestSchemas";
import { renderManifests } from "./manifests";
import { liveResourcesOf } from "./liveResources";
import { renderResourceGraph } from "./resourceGraph";
import { DEFAULT_OFFLINE_ACCOUNT, PlanMocks } from "./mockOutputs";
import { installOrderProblems, type InstallOrderProblem } from "./installOrder";
import { imageReport, type ImageReport } from "./imageCheck";
import { podSecurityReport, type PodSecurityReport } from "./podSecurityCheck";
import { PhysicalNameError } from "./physicalNames";
import { runProgram, type RecordedResource } from "./recorder";
import { programEntry } from "./programEntry";
import { readStackFile, StackFileError } from "./stackFile";
import { readRecordedStack, StackOutputsError, type RecordedStack } from "./stackOutputs";
import { comparePlans, readPreviousPlan, PreviousPlanError, type Comparison, type PlannedResource } from "./compare";
import { summarize, type PlanSummary } from "./tree";
import { deployEstimate, type DeployEstimate } from "./criticalPath";

/** Exit codes of `mlmesh plan`. */
export const EXIT = { ok: 0, unsafe: 1, badInput: 2 } as const;

/** Bad config, stack file or arguments: the plan never ran (exit 2). */
/** One bad setting, for machines: where, what, what is wrong, and the fix when the message has one. */
export interface InputProblem {
    readonly path: string | null;
    readonly value: unknown;
    readonly message: string;
    readonly fix?: string;
}

export class PlanInputError extends Error {
    constructor(message: string, readonly problems: readonly InputProblem[] = [{ path: null, value: null, message }]) {
        super(message);
        this.name = "PlanInputError";
    }
}

/** A config problem's reason split into what is wrong and the fix (the part after the first "; "). */
export function inputProblem(problem: { path: string; value: unknown; reason: string }): InputProblem {
    const at = problem.reason.indexOf("; ");
    return at < 0
        ? { path: problem.path, value: problem.value ?? null, message: problem.reason }
        : { path: problem.path, value: problem.value ?? null, message: problem.reason.slice(0, at), fix: problem.reason.slice(at + 2) };
}

export interface PlanRequest {
    readonly stack: string;
    /** Plan this stack file instead of `<stackConfigDir>/Pulumi.<stack>.yaml`. */
    readonly configFile?: string;
    /** @default `<projectDir>/.mlmesh/plan/<stack>` */
    readonly outDir?: string;
    /** JSON file of policy settings: `{ "<policy-name>": { "enforcementLevel": ..., ... } }`. */
    readonly policyConfig?: string;
    /** The folder holding Pulumi.yaml. @default this package's root */
    readonly projectDir?: string;
    /** Recorded outputs (plan.json files) of the stacks the program reads through StackReference. */
    readonly platformOutputs?: readonly string[];
    /** Told each stage of a long plan as it starts (the CLI prints them on a terminal). */
    readonly onProgress?: (stage: string) => void;
    /** A previous plan.json of this stack: classify what `pulumi up` would create, update, replace or delete. */
    readonly compare?: string;
    /** Resource names (or `prefix*`) whose replacement or deletion in prod is intended. */
    readonly allow?: readonly string[];
}

export interface ManifestResult {
    readonly fileName: string;
    readonly urn: string;
    readonly check: ManifestCheck;
}

export interface PlanResult {
    readonly stack: string;
    readonly project: string;
    readonly configFile: string;
    readonly outDir: string;
    readonly outputs: Record<string, unknown>;
    readonly resources: readonly RecordedResource[];
    readonly summary: PlanSummary;
    readonly manifests: readonly ManifestResult[];
    readonly policyViolations: readonly PolicyViolation[];
    /** Charts and objects that would be installed before something they need. */
    readonly installOrder: readonly InstallOrderProblem[];
    /** Every image the plan pulls, and where from. */
    readonly images: ImageReport;
    /** The pods of the restricted namespaces, as admission would judge them. */
    readonly podSecurity: PodSecurityReport;
    /** Every public path of the front door, judged by the route simulator on the rendered objects. */
    readonly routes: readonly RouteRow[];
    /** How long a first `pulumi up` takes along its critical path, against the ideal. */
    readonly deploy: DeployEstimate;
    /** With `compare`: each resource's change against the previous plan, and the changes refused. */
    readonly comparison?: Comparison;
    readonly exitCode: number;
}

/**
 * A TypeScript program is compiled as it loads, as Pulumi's Node host does (ts-node, transpile
 * only: the project's own build type-checks). Nothing is registered when something already
 * compiles `.ts` (mlmesh's own checkout runs its sources that way) or the program is JavaScript.
 */
function compileTypeScriptOnLoad(entry: string, projectDir: string): void {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const extensions = require.extensions as Record<string, unknown>;
    if (!/\.[cm]?tsx?$/.test(entry) || extensions[".ts"] !== undefined) {
        return;
    }
    const tsconfig = path.join(projectDir, "tsconfig.json");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require("ts-node") as typeof import("ts-node")).register({
        transpileOnly: true,
        ...(existsSync(tsconfig) ? { project: tsconfig } : { skipProject: true, compilerOptions: { module: "commonjs", target: "ES2022", esModuleInterop: true } }),
    });
}

interface ProjectFile {
    name: string;
    main: string;
    stackConfigDir: string;
}


function readProject(projectDir: string): ProjectFile {
    const file = path.join(projectDir, "Pulumi.yaml");
    if (!existsSync(file)) {
        throw new PlanInputError(`${projectDir} holds no Pulumi.yaml: run mlmesh in a Pulumi project's folder, name one with --cwd DIR, or make one with \`mlmesh new DIR\``);
    }
    const project = parse(readFileSync(file, "utf8")) as Partial<ProjectFile>;
    if (!project?.name) {
        throw new PlanInputError(`${file}: \`name\` is missing`);
    }
    return { name: project.name, main: project.main ?? ".", stackConfigDir: project.stackConfigDir ?? "." };
}

/**
 * The policy config a stack's environment selects: the project's own
 * `policy-pack/config/<environment>.json` if it has one, else the one mlmesh ships.
 */
function environmentPolicyConfig(projectDir: string, environment: string | undefined): Record<string, unknown> {
    const own = path.join(projectDir, "policy-pack", "config", `${environment}.json`);
    const file = existsSync(own) ? own : path.join(PACK_CONFIG_DIR, `${environment}.json`);
    return environment && existsSync(file) ? readPolicyConfig(file) : {};
}

/** Checks the policy settings file: a JSON object naming only policies the pack has. */
function readPolicyConfig(file: string): Record<string, unknown> {
    let parsed: unknown;
    try {
        parsed = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
        throw new PlanInputError(`${file}: cannot read policy config as JSON (${(error as Error).message})`);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        throw new PlanInputError(`${file}: policy config must be a JSON object of policy name to settings`);
    }
    const known = new Set<string>(policies.map((policy) => policy.name));
    for (const name of Object.keys(parsed)) {
        if (name !== "all" && !known.has(name)) {
            throw new PlanInputError(`${file}: \`${name}\` is not a policy of the mlmesh pack; known policies: ${[...known].join(", ") || "(none yet)"}`);
        }
    }
    return parsed as Record<string, unknown>;
}

/** Errors that mean the input was wrong, not the engine: reported without a stack trace. */
function asInputError(error: unknown, configFile: string): PlanInputError | undefined {
    if (error instanceof PlatformConfigError) {
        return new PlanInputError(`${configFile}: ${error.message}`, error.problems.map(inputProblem));
    }
    if (error instanceof PhysicalNameError) {
        return new PlanInputError(`${configFile}: ${error.message}; shorten the names in the stack config`);
    }
    if (error instanceof StackOutputsError || error instanceof PlatformContractError || error instanceof PreviousPlanError) {
        return new PlanInputError(error.message);
    }
    // The program's own message for its user (pulumi.RunError prints without a stack trace).
    if (pulumi.RunError.isInstance(error)) {
        return new PlanInputError(`${configFile}: ${error.message}`);
    }
    if (pulumi.InputPropertiesError.isInstance(error) || error instanceof StackFileError) {
        return new PlanInputError(error instanceof StackFileError ? error.message : `${configFile}: ${error.message}`);
    }
    return undefined;
}

function writeOutputs(outDir: string, result: Omit<PlanResult, "exitCode" | "outDir" | "summary" | "installOrder" | "images" | "podSecurity" | "routes" | "comparison" | "deploy">, manifests: ReturnType<typeof renderManifests>): void {
    rmSync(path.join(outDir, "manifests"), { recursive: true, force: true });
    mkdirSync(path.join(outDir, "manifests"), { recursive: true });
    const plan = {
        stack: result.stack,
        project: result.project,
        outputs: result.outputs,
        resources: result.resources.map(({ urn, type, name, parent, custom, inputs, options }) => ({ urn, type, name, parent, custom, inputs, options })),
    };
    writeFileSync(path.join(outDir, "plan.json"), `${JSON.stringify(plan, null, 2)}\n`);
    for (const manifest of manifests) {
        writeFileSync(path.join(outDir, "manifests", manifest.fileName), manifest.yaml);
    }
    writeFileSync(path.join(outDir, "policy-report.json"), `${JSON.stringify(result.policyViolations, null, 2)}\n`);
    writeFileSync(path.join(outDir, "resources.md"), renderResourceGraph(result.stack, result.resources));
}

/**
 * Judges every public path of the plan's front door and writes routes.md beside the plan. A
 * project whose stack config is not mlmesh's (its program ran without it) has no front door.
 */
function frontDoorRoutes(stack: string, config: Readonly<Record<string, string>>, resources: readonly RecordedResource[], outDir: string): RouteRow[] {
    let platform;
    try {
        platform = parseStackConfig(config, stack);
    } catch (error) {
        if (error instanceof PlatformConfigError) {
            return [];
        }
        throw error;
    }
    const input = {
        objects: resources.filter((r) => /\.istio\.io\//.test(r.type)).map((r) => r.inputs as unknown as IstioObject),
        backends: planBackends(resources),
        table: doorTable(platform.models, platform.cluster.name),
        hosts: platform.mesh.ingressGateway.hosts,
        jwt: platform.mesh.ingressGateway.jwt,
    };
    const rows = routeRows(input);
    writeFileSync(path.join(outDir, "routes.md"), renderRoutesMarkdown(stack, rows, input));
    return rows;
}

/** Plans one stack offline and writes the plan files. Throws PlanInputError for bad input. */
export async function plan(request: PlanRequest): Promise<PlanResult> {
    const projectDir = request.projectDir ?? process.cwd();
    const project = readProject(projectDir);
    const configFile = request.configFile ?? path.join(projectDir, project.stackConfigDir, `Pulumi.${request.stack}.yaml`);
    const outDir = request.outDir ?? path.join(projectDir, ".mlmesh", "plan", request.stack);
    const explicitPolicyConfig = request.policyConfig ? readPolicyConfig(request.policyConfig) : undefined;
    let stacks: RecordedStack[];
    let previous: readonly PlannedResource[] | undefined;
    try {
        stacks = (request.platformOutputs ?? []).map(readRecordedStack);
        if (request.compare !== undefined && path.resolve(request.compare) === path.resolve(outDir, "plan.json")) {
            throw new PlanInputError(`--compare ${request.compare} is the plan.json this plan writes (its --out is ${outDir}), so the baseline would be overwritten as it is read and a second run would find no change; compare against a copy kept elsewhere (the last deployed plan: a CI artifact, or \`cp -r ${outDir} ${outDir}-deployed\`), or plan into another --out`);
        }
        previous = request.compare === undefined ? undefined : readPreviousPlan(request.compare);
    } catch (error) {
        throw asInputError(error, configFile) ?? error;
    }

    let run;
    let stackFile;
    let mocks: PlanMocks | undefined;
    try {
        stackFile = readStackFile(configFile);
        const region = stackFile.config["aws:region"] ?? "us-east-1";
        mocks = new PlanMocks({ ...DEFAULT_OFFLINE_ACCOUNT, region }, stacks, previous && liveResourcesOf(previous));
        request.onProgress?.(`running ${project.name}/${request.stack} offline`);
        run = await runProgram({
            project: project.name,
            stack: request.stack,
            config: stackFile.config,
            secretKeys: stackFile.secretKeys,
            mocks,
            program: () => {
                const entry = programEntry(projectDir, project.main);
                compileTypeScriptOnLoad(entry, projectDir);
                // eslint-disable-next-line @typescript-eslint/no-require-imports
                const main: unknown = require(entry);
                return typeof main === "function" ? main() : main;
            },
        });
    } catch (error) {
        throw asInputError(mocks?.unanswered[0] ?? error, configFile) ?? error;
    }

    request.onProgress?.(`checking ${run.resources.length} resources: manifests, policies, images, routes`);
    const rendered = renderManifests(run.resources);
    const manifests = rendered.map((manifest) => ({ fileName: manifest.fileName, urn: manifest.urn, check: validateManifest(manifest.object) }));
    const policyConfig = explicitPolicyConfig ?? environmentPolicyConfig(projectDir, stackFile.config[`mlmesh:environment`]);
    let policyRun;
    try {
        policyRun = await runPolicies(policies, run.resources, policyConfig);
    } catch (error) {
        if (error instanceof PolicyConfigError) {
            throw new PlanInputError(`${request.policyConfig ?? "policy config"}: ${error.message}`);
        }
        throw error;
    }
    const policyViolations = policyRun.violations;
    const result = { stack: request.stack, project: project.name, configFile, outputs: run.outputs, resources: run.resources, manifests, policyViolations };
    writeOutputs(outDir, result, rendered);
    const installOrder = installOrderProblems(run.resources, stacks.map((s) => s.outputs));
    const images = imageReport(run.resources);
    // A project on a recorded platform lands in that platform's namespaces, admitted by its labels.
    const podSecurity = podSecurityReport([...stacks.flatMap((s) => s.clusterSetup), ...run.resources]);
    const routes = frontDoorRoutes(request.stack, stackFile.config, run.resources, outDir);
    const comparison = previous && comparePlans(previous, run.resources, { environment: stackFile.config["mlmesh:environment"], allow: request.allow });
    const unsafe = (comparison?.problems.length ?? 0) > 0 || manifests.some((m) => m.check.status === "invalid") || installOrder.length > 0
        || images.problems.length > 0 || podSecurity.findings.length > 0 || routes.some((r) => r.problems.length > 0)
        || policyViolations.some((v) => v.level === "mandatory");
    const deploy = deployEstimate(run.resources);
    return { ...result, outDir, installOrder, images, podSecurity, routes, comparison, deploy, summary: summarize(run.resources), exitCode: unsafe ? EXIT.unsafe : EXIT.ok };
}
