/**
 * The README's table of guardrails, generated from the pack itself: each policy's name, its level
 * in every environment's config, what it checks and how to fix a violation. A test keeps the
 * README's copy equal to this.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { enforcementLevelOf, type PolicyConfig } from "./policyRunner";

export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;

export function environmentConfigs(packDir: string): Record<(typeof ENVIRONMENTS)[number], PolicyConfig> {
    return Object.fromEntries(ENVIRONMENTS.map((env) => [env, JSON.parse(readFileSync(path.join(packDir, "config", `${env}.json`), "utf8")) as PolicyConfig])) as Record<(typeof ENVIRONMENTS)[number], PolicyConfig>;
}

const cell = (text: string): string => text.replace(/\s+/g, " ").replace(/\|/g, "\\|").trim();

/** The markdown table, one row per policy in the pack's order. */
export function policyTable(policies: readonly (ResourceValidationPolicy | StackValidationPolicy)[], configs: Record<(typeof ENVIRONMENTS)[number], PolicyConfig>): string {
    return [
        "| policy | dev | staging | prod | checks whether… | fix |",
        "|---|---|---|---|---|---|",
        ...policies.map((p) => {
            const levels = ENVIRONMENTS.map((env) => enforcementLevelOf(p, configs[env]));
            const scope = "validateStack" in p ? " (stack)" : "";
            return `| \`${p.name}\`${scope} | ${levels.join(" | ")} | ${cell(p.description.replace(/^Checks whether /, ""))} | ${cell(p.remediationSteps ?? "")} |`;
        }),
    ].join("\n");
}
