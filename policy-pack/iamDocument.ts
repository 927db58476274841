/**
 * IAM policy documents as AWS reads them, for the pack's IAM rules: parsed from the JSON string
 * (or object) a resource carries, statements normalised, and action patterns judged by the
 * actions they match. Pure; no import from outside policy-pack/, so the pack publishes alone.
 *
 * Values unknown during preview are read through the engine's proxy: reading one throws, and the
 * engine reports that the policy cannot run during preview. Nothing here catches that error.
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
 */

/** One statement of a document, with where it sits for messages. */
export interface PolicyStatement {
    /** `Statement[1]`, or `Statement` when the document holds a single statement object. */
    readonly path: string;
    readonly allows: boolean;
    /** The statement itself; its fields are read when a rule needs them. */
    readonly body: Record<string, unknown>;
}

export type ParsedDocument =
    | { readonly statements: readonly PolicyStatement[]; readonly error?: undefined }
    | { readonly statements?: undefined; readonly error: string };

/** A policy document from a resource input: a JSON string, or the object Pulumi accepts in its place. */
export function parsePolicyDocument(value: unknown): ParsedDocument {
    let document: unknown = value;
    if (typeof value === "string") {
        try {
            document = JSON.parse(value);
        } catch {
            return { error: "is not JSON, so AWS refuses it as a malformed policy document" };
        }
    }
    if (document === null || typeof document !== "object" || Array.isArray(document)) {
        return { error: "is not a policy document (a JSON object with a Statement)" };
    }
    const statement = (document as Record<string, unknown>).Statement;
    if (Array.isArray(statement)) {
        return { statements: statement.map((body, i) => statementOf(body, `Statement[${i}]`)) };
    }
    if (statement !== null && typeof statement === "object") {
        return { statements: [statementOf(statement, "Statement")] };
    }
    return { error: "has no Statement" };
}

function statementOf(body: unknown, path: string): PolicyStatement {
    const record = (body ?? {}) as Record<string, unknown>;
    return { path, allows: String(record.Effect ?? "").toLowerCase() === "allow", body: record };
}

/** A string-or-list element (`Action`, `Resource`, a condition's values) as a list of strings. */
export function listOf(value: unknown): string[] {
    if (value === undefined || value === null) {
        return [];
    }
    return Array.isArray(value) ? value.map(String) : [String(value)];
}

/** Only `*` and `?`, with at least one `*`: matches every name (IAM names are never empty). */
const ONLY_WILDCARDS = /^[*?]*\*[*?]*$/;
const HAS_WILDCARD = /[*?]/;

/**
 * What an action pattern grants beyond naming actions, or undefined for an action or a partial
 * wildcard of one service (`s3:GetObject`, `s3:Get*`), which the rules accept as AWS Config's
 * `iam-policy-no-statements-with-full-access` does. Patterns are case-insensitive, as IAM reads them.
 * - `every-service`: `*`, `*:*` — every action of every service;
 * - `service`: `s3:*`, `S3:*`, `s3:?*` — every action of one service, present and future;
 * - `service-wildcard`: a wildcard in the service prefix (`s3*:*`, `*:Get*`) or no prefix at all
 *   (`s3*`): it reaches services the author did not name.
 */
export type ActionReach = { readonly kind: "every-service" } | { readonly kind: "service"; readonly service: string } | { readonly kind: "service-wildcard" };

export function actionReach(pattern: string): ActionReach | undefined {
    const p = pattern.trim().toLowerCase();
    if (ONLY_WILDCARDS.test(p)) {
        return { kind: "every-service" };
    }
    const colon = p.indexOf(":");
    if (colon < 0) {
        return HAS_WILDCARD.test(p) ? { kind: "service-wildcard" } : undefined;
    }
    const service = p.slice(0, colon);
    const name = p.slice(colon + 1);
    if (HAS_WILDCARD.test(service)) {
        return ONLY_WILDCARDS.test(service) && ONLY_WILDCARDS.test(name) ? { kind: "every-service" } : { kind: "service-wildcard" };
    }
    return ONLY_WILDCARDS.test(name) ? { kind: "service", service } : undefined;
}

/** One grant of more than named actions, found in an Allow statement. */
export interface WildcardGrant {
    readonly statement: PolicyStatement;
    readonly field: "Action" | "NotAction";
    /** The pattern as written, or the NotAction list joined. */
    readonly value: string;
    /** What it grants, in words: `every action of s3`. */
    readonly grants: string;
}

/**
 * Every grant of all actions of a service (or of every service) in a document's Allow
 * statements, skipping patterns the caller exempts. An Allow with NotAction grants every action
 * of every service it does not list, so it is always one (unless it lists `*` and grants nothing).
 * Deny statements grant nothing and are never reported; nor do they excuse a wildcard Allow,
 * as with AWS Config and Security Hub IAM.1/IAM.21, which judge Allow statements alone.
 */
export function wildcardGrants(statements: readonly PolicyStatement[], exempt: (pattern: string) => boolean = () => false): WildcardGrant[] {
    const grants: WildcardGrant[] = [];
    for (const statement of statements.filter((s) => s.allows)) {
        for (const pattern of listOf(statement.body.Action)) {
            const reach = actionReach(pattern);
            if (reach && !exempt(pattern)) {
                grants.push({ statement, field: "Action", value: pattern, grants: describeReach(reach, pattern) });
            }
        }
        const notActions = listOf(statement.body.NotAction);
        if (statement.body.Action === undefined && notActions.length > 0 && !notActions.some((p) => actionReach(p)?.kind === "every-service")) {
            grants.push({ statement, field: "NotAction", value: notActions.join(", "), grants: `every action of every service except ${notActions.join(", ")}` });
        }
    }
    return grants;
}

function describeReach(reach: ActionReach, pattern: string): string {
    switch (reach.kind) {
        case "every-service":
            return "every action of every service";
        case "service":
            return `every action of ${reach.service}, including those AWS adds later`;
        case "service-wildcard":
            return `actions of every service matching \`${pattern.split(":")[0]}\`, not one named service`;
    }
}

/**
 * The OIDC issuers (`oidc.eks.<region>.amazonaws.com/id/<id>`) a statement trusts through
 * `Principal.Federated` provider ARNs (`arn:<partition>:iam::<account>:oidc-provider/<issuer>`).
 */
export function trustedOidcIssuers(statement: PolicyStatement): string[] {
    const principal = statement.body.Principal;
    if (principal === null || typeof principal !== "object") {
        return [];
    }
    return listOf((principal as Record<string, unknown>).Federated)
        .map((arn) => /^arn:[^:]+:iam::[^:]*:oidc-provider\/(.+)$/.exec(arn)?.[1])
        .filter((issuer): issuer is string => issuer !== undefined);
}

/** The values a statement's `Condition.<operator>` gives a key, compared case-insensitively as IAM compares keys. */
export function conditionValues(statement: PolicyStatement, operator: string, key: string): string[] | undefined {
    const condition = statement.body.Condition;
    if (condition === null || typeof condition !== "object") {
        return undefined;
    }
    const block = (condition as Record<string, unknown>)[operator];
    if (block === null || typeof block !== "object") {
        return undefined;
    }
    const found = Object.keys(block).find((k) => k.toLowerCase() === key.toLowerCase());
    return found === undefined ? undefined : listOf((block as Record<string, unknown>)[found]);
}

/** Whether a string condition value may match more than itself under StringLike. */
export function hasWildcard(value: string): boolean {
    return HAS_WILDCARD.test(value);
}

/**
 * A resource input as the engine sent it, read past its preview proxy (which checks reads, not
 * property descriptors), so a value unknown during preview comes back as the engine's placeholder
 * string instead of stopping the policy. Only for values whose placeholder cannot be mistaken for
 * a verdict, such as an ARN matched against a pattern.
 */
export function rawValue(object: unknown, key: string): unknown {
    return object !== null && typeof object === "object" ? Object.getOwnPropertyDescriptor(object, key)?.value : undefined;
}

/** How messages name an AWS resource: `RolePolicy mlmesh-dev-ml-serving-resnet-s3-policy`. */
export function describeResource(type: string, name: string): string {
    return `${type.split(":").pop()} ${name}`;
}
