/**
 * Reads a `Pulumi.<stack>.yaml` the way the Pulumi CLI hands it to a program: every key under
 * `config:` becomes a string (structured values as JSON), `secure:` values become secrets.
 */
import { existsSync, readFileSync } from "node:fs";
import { parseDocument } from "yaml";
import { didYouMean } from "../components/suggest";

/** A problem with the stack file itself (missing, not YAML, wrong shape): exit code 2. */
export class StackFileError extends Error {
    constructor(readonly file: string, detail: string) {
        super(`${file}: ${detail}`);
        this.name = "StackFileError";
    }
}

export interface StackFile {
    readonly file: string;
    /** Config as Pulumi passes it to a program. */
    readonly config: Record<string, string>;
    readonly secretKeys: string[];
}

/**
 * The offline engine has no stack passphrase or KMS key, so a `secure:` value is planned as this
 * placeholder, marked secret, and shows as "[secret]" in every output.
 */
export const OFFLINE_SECRET_VALUE = "offline-plan-secret";

function isSecureValue(value: unknown): boolean {
    return value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 1 && "secure" in value;
}

/** The top-level keys of a Pulumi stack file (Pulumi.<stack>.yaml). */
const STACK_FILE_KEYS = ["config", "environment", "secretsprovider", "encryptedkey", "encryptionsalt"];

/** The 1-based line of a character offset. */
function lineOf(text: string, offset: number): number {
    return text.slice(0, offset).split("\n").length;
}

export function readStackFile(file: string): StackFile {
    if (!existsSync(file)) {
        throw new StackFileError(file, "no such stack file; create it, or pass --stack with a stack that has one (Pulumi.<stack>.yaml in the project's stackConfigDir)");
    }
    const document = parseDocument(readFileSync(file, "utf8"), { prettyErrors: true });
    if (document.errors.length > 0) {
        throw new StackFileError(file, `is not valid YAML: ${document.errors[0].message}`);
    }
    const root: unknown = document.toJS();
    // What a Pulumi stack file holds besides config; anything else (a dedented setting, say) would be ignored.
    if (root !== null && typeof root === "object" && !Array.isArray(root)) {
        for (const key of Object.keys(root)) {
            if (!STACK_FILE_KEYS.includes(key)) {
                const line = document.contents && "items" in document.contents
                    ? (document.contents.items as { key?: { range?: [number] } & object; value?: unknown }[]).find((item) => String((item.key as { value?: unknown })?.value) === key)?.key?.range?.[0]
                    : undefined;
                const at = line === undefined ? "" : ` (line ${lineOf(readFileSync(file, "utf8"), line)})`;
                throw new StackFileError(file, `\`${key}\`${at} is not a stack file setting${didYouMean(key, STACK_FILE_KEYS)}: a stack file holds ${STACK_FILE_KEYS.join(", ")}; settings go under \`config:\` as namespace:key (e.g. mlmesh:models), indented`);
            }
        }
    }
    const section = root === null || root === undefined ? {} : (root as Record<string, unknown>).config;
    if (section === undefined || section === null) {
        return { file, config: {}, secretKeys: [] };
    }
    if (typeof section !== "object" || Array.isArray(section)) {
        throw new StackFileError(file, "`config` must be a mapping of `namespace:key` to values");
    }
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, value] of Object.entries(section)) {
        if (!/^[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+$/.test(key)) {
            throw new StackFileError(file, `config key \`${key}\` must be written namespace:key, e.g. mlmesh:environment`);
        }
        if (isSecureValue(value)) {
            config[key] = OFFLINE_SECRET_VALUE;
            secretKeys.push(key);
        } else {
            config[key] = typeof value === "string" ? value : JSON.stringify(value);
        }
    }
    return { file, config, secretKeys };
}
