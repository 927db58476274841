/**
 * The `mlmesh check` command: argument handling and the report. The work is in check.ts.
 */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { policies } from "../policy-pack/policies";
import { check, CheckInputError, type CheckResult } from "./check";
import { PACK_CONFIG_DIR, PolicyConfigError, type PolicyConfig } from "./policyRunner";
import { EXIT } from "./plan";

export const CHECK_USAGE = `usage: mlmesh check PATH... [--environment ENV | --policy-config FILE] [--json]

  PATH                  YAML or JSON manifests, or folders of them (multi-document files and Lists)
  --environment ENV     use the pack's config for ENV (policy-pack/config/ENV.json): dev, staging, prod
  --policy-config FILE  policy settings as JSON, as for pulumi preview --policy-pack-config
  --json                print a machine-readable result

exit codes: 0 no mandatory violation, 1 a mandatory violation, 2 a file that is not YAML or not a
            Kubernetes object, or bad arguments`;

export interface CheckOptions {
    readonly paths: readonly string[];
    readonly environment?: string;
    readonly policyConfig?: string;
    readonly json: boolean;
}



function readConfig(options: CheckOptions): PolicyConfig {
    const file = options.policyConfig ?? (options.environment ? path.join(PACK_CONFIG_DIR, `${options.environment}.json`) : undefined);
    if (file === undefined) {
        return {};
    }
    if (!existsSync(file)) {
        throw new CheckInputError(options.policyConfig ? `${file}: no such file` : `--environment ${options.environment}: the pack has no config for it; use dev, staging or prod`);
    }
    try {
        return JSON.parse(readFileSync(file, "utf8")) as PolicyConfig;
    } catch (error) {
        throw new CheckInputError(`${file}: cannot read policy config as JSON (${(error as Error).message})`);
    }
}

function textReport(result: CheckResult): string {
    const of = (level: string) => result.violations.filter((v) => v.level === level);
    const files = new Set(result.objects.map((o) => o.file)).size;
    return [
        `Checked ${result.objects.length} object(s) in ${files} file(s) against ${policies.length} policies`,
        ...["mandatory", "advisory"].flatMap((level) => of(level).map((v) => `  ${level} ${v.policy}: ${v.where ?? "(all objects)"}\n    ${v.message}`)),
        `Policies: ${of("mandatory").length} mandatory, ${of("advisory").length} advisory violation(s)`,
    ].join("\n");
}

/** Runs the command; returns the exit code. */
export async function runCheck(options: CheckOptions, io: { out(text: string): void; err(text: string): void }): Promise<number> {
    if (options.paths.length === 0) {
        io.err(`mlmesh check: name at least one file or folder\n${CHECK_USAGE}`);
        return EXIT.badInput;
    }
    try {
        const result = await check(options.paths, policies, readConfig(options));
        io.out(options.json ? JSON.stringify({ objects: result.objects.length, violations: result.violations }, null, 2) : textReport(result));
        return result.violations.some((v) => v.level === "mandatory") ? EXIT.unsafe : EXIT.ok;
    } catch (error) {
        if (error instanceof CheckInputError || error instanceof PolicyConfigError) {
            io.err(options.json ? JSON.stringify({ error: error.message, exitCode: EXIT.badInput }, null, 2) : `mlmesh check: ${error.message}`);
            return EXIT.badInput;
        }
        throw error;
    }
}
