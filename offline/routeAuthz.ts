/**
 * Istio authorization as the route evaluator decides it: which AuthorizationPolicies apply to a
 * workload, and whether their rules allow a request. Pure; throws on what it does not model.
 * @see https://istio.io/latest/docs/reference/config/security/authorization-policy/
 */
import { ISTIO_ROOT_NAMESPACE } from "../components/mesh/istioCharts";
import { authzPattern, compileWhen, requestPrincipalMatches, valuesCondition, type Predicate, type VerifiedJwt } from "./routeConditions";
import { PathIndex, type PathKeys } from "./pathIndex";
import { fields, idOf, list, namespaceOf, notModelled, ofKind, ownerOf, record, strings, type IstioObject } from "./routeObjects";
export { authzPattern };

type Fields = Record<string, unknown>;

/** A workload a policy may select. */
export interface Workload {
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
    /** False when only some labels are known (the gateway's, from its Gateway's selector). */
    readonly labelsComplete: boolean;
    readonly description: string;
}

/**
 * Whether a policy (AuthorizationPolicy, RequestAuthentication, PeerAuthentication) in `o`'s
 * namespace, or in the root namespace, selects the workload
 * (istio/istio:pilot/pkg/model/authentication.go@1.30.3, getConfigsForWorkload).
 */
export function selectsWorkload(o: IstioObject, workload: Workload): boolean {
    const namespace = namespaceOf(o);
    if (namespace !== workload.namespace && namespace !== ISTIO_ROOT_NAMESPACE) {
        return false;
    }
    const owner = ownerOf(o);
    const target = ["targetRef", "targetRefs"].find((field) => o.spec?.[field] !== undefined);
    if (target !== undefined) {
        throw notModelled(owner, `spec.${target}`);
    }
    const selector = fields(o.spec?.selector ?? {}, ["matchLabels"], owner, "spec.selector");
    return Object.entries(record(selector.matchLabels, owner, "spec.selector.matchLabels")).every(([key, value]) => {
        const actual = workload.labels[key];
        if (actual === undefined && !workload.labelsComplete) {
            throw new Error(`${owner}: cannot tell whether \`spec.selector.matchLabels.${key}\` selects ${workload.description}`);
        }
        return actual === value;
    });
}

/** The AuthorizationPolicies that apply to the workload (PeerAuthentication DISABLE is not modelled). */
export function policiesFor(objects: readonly IstioObject[], workload: Workload): CompiledPolicy[] {
    for (const peer of ofKind(objects, "security.istio.io/PeerAuthentication").filter((o) => selectsWorkload(o, workload))) {
        const modes = [peer.spec?.mtls?.mode, ...Object.values(record(peer.spec?.portLevelMtls, ownerOf(peer), "spec.portLevelMtls")).map((p) => (p as { mode?: string })?.mode)];
        if (modes.includes("DISABLE")) {
            throw notModelled(ownerOf(peer), "spec.mtls.mode", "DISABLE leaves requests without a principal, which is not modelled");
        }
    }
    return ofKind(objects, "security.istio.io/AuthorizationPolicy")
        .filter((o) => o.metadata.annotations?.["istio.io/dry-run"] !== "true" && selectsWorkload(o, workload))
        .map(compiledPolicyOf);
}

const compiledPolicies = new WeakMap<IstioObject, CompiledPolicy>();

/** An AuthorizationPolicy object compiled once: the evaluator asks for it on every request it applies to. */
function compiledPolicyOf(o: IstioObject): CompiledPolicy {
    let compiled = compiledPolicies.get(o);
    if (compiled === undefined) {
        compiled = compilePolicy(idOf(o), o.spec);
        compiledPolicies.set(o, compiled);
    }
    return compiled;
}

export interface AuthzAttributes {
    /** The peer's SPIFFE principal without `spiffe://`; undefined for a plaintext peer (a client of the ingress gateway). */
    readonly principal?: string;
    /** The path without its query string. */
    readonly path: string;
    readonly method: string;
    readonly authority: string;
    /** The destination port; undefined when neither the request nor the route gives one. */
    readonly port?: number;
    /** The token the workload's RequestAuthentication verified; undefined without one (no token, or no RequestAuthentication). */
    readonly jwt?: VerifiedJwt;
    /** The request headers the workload receives, by lower-case name (several values joined by `,`). @default none */
    readonly headers?: ReadonlyMap<string, string>;
}

/** Istio matches a namespace as the regex `.*\/ns/<value>/.*` on the principal, `*` becoming `.*`. */
function namespacePattern(pattern: string, principal: string | undefined): boolean {
    const escaped = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*");
    return principal !== undefined && new RegExp(`^.*/ns/${escaped}/.*$`).test(principal);
}

/** `key` and `notKey` of a source or operation. */
function condition(spec: Fields, key: string, owner: string, field: string, test: (value: string, attributes: AuthzAttributes) => boolean): Predicate[] {
    const negated = `not${key[0].toUpperCase()}${key.slice(1)}`;
    return valuesCondition(strings(spec[key], owner, `${field}.${key}`), strings(spec[negated], owner, `${field}.${negated}`), test);
}

function compileSource(entry: unknown, owner: string, field: string): Predicate {
    const known = ["principals", "notPrincipals", "requestPrincipals", "notRequestPrincipals", "namespaces", "notNamespaces"];
    const source = fields(fields(entry, ["source"], owner, field).source ?? {}, known, owner, `${field}.source`);
    const checks = [
        ...condition(source, "principals", owner, `${field}.source`, (v, a) => authzPattern(v, a.principal)),
        ...condition(source, "requestPrincipals", owner, `${field}.source`, (v, a) => requestPrincipalMatches(v, a.jwt)),
        ...condition(source, "namespaces", owner, `${field}.source`, (v, a) => namespacePattern(v, a.principal)),
    ];
    return (a) => checks.every((check) => check(a));
}

function compileOperation(entry: unknown, owner: string, field: string): Predicate {
    const at = `${field}.operation`;
    const operation = fields(fields(entry, ["operation"], owner, field).operation ?? {}, ["hosts", "notHosts", "ports", "notPorts", "methods", "notMethods", "paths", "notPaths"], owner, at);
    const invalid = (key: string, test: (value: string) => boolean, why: string): void => {
        for (const k of [key, `not${key[0].toUpperCase()}${key.slice(1)}`]) {
            strings(operation[k], owner, `${at}.${k}`).forEach((v, i) => {
                if (test(v)) {
                    throw notModelled(owner, `${at}.${k}[${i}]`, `${why}: ${v}`);
                }
            });
        }
    };
    invalid("paths", (p) => p.includes("{"), "is a path template, which is not modelled");
    invalid("ports", (p) => !/^\d+$/.test(p), "must be a port number");
    const port = (v: string, a: AuthzAttributes): boolean => {
        if (a.port === undefined) {
            throw notModelled(owner, `${at}.ports`, "needs the destination port: give the request or the route destination a port");
        }
        return Number(v) === a.port;
    };
    const checks = [
        // Paths first: a rule whose paths cannot match is decided (not matched) before a port it cannot judge,
        // as the path index in decide() skips it.
        ...condition(operation, "paths", owner, at, (v, a) => authzPattern(v, a.path)),
        ...condition(operation, "hosts", owner, at, (v, a) => authzPattern(v, a.authority, true)),
        ...condition(operation, "ports", owner, at, port),
        ...condition(operation, "methods", owner, at, (v, a) => authzPattern(v, a.method)),
    ];
    return (a) => checks.every((check) => check(a));
}

/** A rule matches when one `from` entry and one `to` entry match (absent lists match anything) and every `when` condition holds. */
export function compileRule(rule: unknown, owner: string, field: string): Predicate {
    const spec = fields(rule, ["from", "to", "when"], owner, field);
    const from = list(spec.from, owner, `${field}.from`).map((e, i) => compileSource(e, owner, `${field}.from[${i}]`));
    const to = list(spec.to, owner, `${field}.to`).map((e, i) => compileOperation(e, owner, `${field}.to[${i}]`));
    const when = list(spec.when, owner, `${field}.when`).flatMap((e, i) => compileWhen(e, owner, `${field}.when[${i}]`));
    return (a) => (from.length === 0 || from.some((m) => m(a))) && (to.length === 0 || to.some((m) => m(a))) && when.every((holds) => holds(a));
}

export interface CompiledPolicy {
    /** `<namespace>/<name>`. */
    readonly name: string;
    readonly action: "ALLOW" | "DENY";
    readonly rules: readonly Predicate[];
    /** The rules a request path could match (by their `to.operation.paths`), in order. */
    readonly byPath: PathIndex;
}

/**
 * The paths a rule can match: every `to` entry must name paths, each exact or a `prefix*`;
 * anything else (no `to`, no paths, `*` or `*suffix`) may match any path.
 */
function rulePaths(rule: unknown): PathKeys | undefined {
    const to = (rule as { to?: unknown } | null)?.to;
    if (!Array.isArray(to) || to.length === 0) {
        return undefined;
    }
    const exact: string[] = [];
    const prefixes: string[] = [];
    for (const entry of to) {
        const paths = (entry as { operation?: { paths?: unknown } } | null)?.operation?.paths;
        if (!Array.isArray(paths) || paths.length === 0 || !paths.every((p) => typeof p === "string" && !p.startsWith("*"))) {
            return undefined;
        }
        for (const path of paths as string[]) {
            (path.endsWith("*") ? prefixes : exact).push(path.endsWith("*") ? path.slice(0, -1) : path);
        }
    }
    return { exact, prefixes };
}

/** Validates the whole policy (every rule), so an unmodelled field fails even when an earlier rule decides. */
export function compilePolicy(name: string, spec: unknown): CompiledPolicy {
    const owner = `AuthorizationPolicy ${name}`;
    const body = fields(spec ?? {}, ["selector", "action", "rules"], owner, "spec");
    const action = body.action ?? "ALLOW";
    if (action !== "ALLOW" && action !== "DENY") {
        throw notModelled(owner, "spec.action", `${String(action)} is not modelled`);
    }
    const rules = list(body.rules, owner, "spec.rules");
    return { name, action, rules: rules.map((rule, i) => compileRule(rule, owner, `spec.rules[${i}]`)), byPath: new PathIndex(rules.map(rulePaths)) };
}

export interface Decision {
    readonly allowed: boolean;
    readonly reason: string;
}

/** DENY policies first (any matching rule denies), then ALLOW policies (if any apply, one rule must match). */
export function decide(policies: readonly CompiledPolicy[], attributes: AuthzAttributes): Decision {
    if (policies.length === 0) {
        return { allowed: true, reason: "no AuthorizationPolicy applies" };
    }
    for (const policy of policies.filter((p) => p.action === "DENY")) {
        const rule = policy.byPath.candidates(attributes.path).find((i) => policy.rules[i](attributes)) ?? -1;
        if (rule >= 0) {
            return { allowed: false, reason: `denied by DENY policy ${policy.name} (rules[${rule}])` };
        }
    }
    const allow = policies.filter((p) => p.action === "ALLOW");
    if (allow.length === 0) {
        return { allowed: true, reason: "no DENY policy matches and no ALLOW policy applies" };
    }
    for (const policy of allow) {
        const rule = policy.byPath.candidates(attributes.path).find((i) => policy.rules[i](attributes)) ?? -1;
        if (rule >= 0) {
            return { allowed: true, reason: `allowed by ${policy.name} (rules[${rule}])` };
        }
    }
    const why = allow.map((p) => (p.rules.length === 0 ? `${p.name} allows nothing` : `${p.name} has no matching rule`));
    return { allowed: false, reason: `denied: no ALLOW policy matches (${why.join("; ")})` };
}
