/**
 * The front door's route table as people read it: for every public path of every model and
 * split, where the rendered Istio objects send it (judged by the route simulator, through every
 * hop), the path each backend receives, the timeout and retries, and who may call. Pure; `mlmesh
 * plan` writes it as routes.md (a table and a Mermaid diagram), `mlmesh routes` prints it.
 */
import { INFERENCE_SERVICE, type DoorSplit, type DoorTable } from "../components/gateway/doorRoutes";
import { resolveOverride, type DoorTarget } from "../components/gateway/doorTargets";
import type { JwtIssuer } from "../components/gateway/jwtIssuers";
import type { Probe } from "../components/serving/servedApis";
import { INGRESS_GATEWAY_PRINCIPAL } from "../components/serving/trafficPolicy";
import { evaluateRequest, finalLegs, type Backend, type IstioObject, type RequestToken, type RouteOutcome } from "./routes";

export interface RouteTableInput {
    readonly objects: readonly IstioObject[];
    readonly backends: readonly Backend[];
    readonly table: DoorTable;
    /** The ingress Gateway's public hosts; empty: the table is judged for in-mesh callers only. */
    readonly hosts: readonly string[];
    readonly jwt: readonly JwtIssuer[];
}

export interface RouteRowLeg {
    readonly weight: number;
    /** `host[/subset]:port` the last hop sends to. */
    readonly target: string;
    readonly path: string;
}

export interface RouteRow {
    readonly model: string;
    readonly namespace: string;
    /** `TF Serving`, `KServe (xgboost)`, `SageMaker`, or `split`. */
    readonly backend: string;
    readonly method: string;
    readonly path: string;
    readonly headers?: Readonly<Record<string, string>>;
    /** `public` (through the ingress gateway) or `mesh` (from an allowed caller on the inference host). */
    readonly via: "public" | "mesh";
    readonly legs: readonly RouteRowLeg[];
    readonly timeout?: string;
    readonly retries?: string;
    readonly callers: string;
    /** Why a leg does not reach an admitting server, or why there is no route; empty when it does. */
    readonly problems: readonly string[];
}

/** A token as the entry's callers would present it: from the first issuer, with the first admitting value of each required claim. */
function tokenFor(jwt: readonly JwtIssuer[], claims: Readonly<Record<string, readonly string[]>>): RequestToken | undefined {
    const issuer = jwt[0];
    return issuer && { iss: issuer.issuer, sub: "mlmesh-routes", aud: issuer.audiences[0], claims: Object.fromEntries(Object.entries(claims).map(([k, v]) => [k, [v[0]]])) };
}

function retriesText(retries: unknown): string | undefined {
    const r = retries as { attempts?: number; perTryTimeout?: string; retryOn?: string } | undefined;
    return r === undefined ? undefined : r.attempts === 0 ? "none" : `${r.attempts} × ${r.perTryTimeout} on ${r.retryOn}`;
}

function callersText(entry: { principals: readonly string[]; claims: Readonly<Record<string, readonly string[]>> }, input: RouteTableInput): string {
    const claims = Object.entries(entry.claims).map(([k, v]) => `${k} ∈ {${v.join(", ")}}`).join(", ");
    const publicCallers = input.hosts.length === 0 ? "no public door"
        : input.jwt.length === 0 ? "anyone who reaches the gateway (no JWT)"
        : `token from ${input.jwt.map((j) => j.issuer).join(" or ")}${claims ? ` with ${claims}` : ""}`;
    return `${publicCallers}; mesh: ${entry.principals.length > 0 ? entry.principals.join(", ") : "none"}`;
}

function row(input: RouteTableInput, entry: { name: string; namespace: string; principals: readonly string[]; claims: Readonly<Record<string, readonly string[]>> }, backend: string, probe: Probe): RouteRow {
    const viaPublic = input.hosts.length > 0;
    if (!viaPublic && entry.principals.length === 0) {
        return { model: entry.name, namespace: entry.namespace, backend, method: probe.method, path: probe.path, via: "mesh", legs: [], callers: callersText(entry, input), problems: [], ...(probe.headers ? { headers: probe.headers } : {}) };
    }
    const outcome: RouteOutcome = viaPublic
        ? evaluateRequest(input.objects, input.backends, { via: "gateway", host: input.hosts[0], path: probe.path, method: probe.method, headers: probe.headers, sourcePrincipal: INGRESS_GATEWAY_PRINCIPAL, jwt: tokenFor(input.jwt, entry.claims) })
        : evaluateRequest(input.objects, input.backends, { via: "mesh", host: INFERENCE_SERVICE.host, port: INFERENCE_SERVICE.port, path: probe.path, method: probe.method, headers: probe.headers, sourcePrincipal: entry.principals[0] });
    const legs = finalLegs(outcome);
    const problems = outcome.kind === "no-route" ? [outcome.reason] : legs.filter((l) => !l.authorized).map((l) => `${l.host}${l.subset ? `/${l.subset}` : ""}: ${l.reason}`);
    return {
        model: entry.name, namespace: entry.namespace, backend, method: probe.method, path: probe.path, via: viaPublic ? "public" : "mesh",
        ...(probe.headers ? { headers: probe.headers } : {}),
        legs: legs.map((l) => ({ weight: Math.round(l.weight * 100) / 100, target: `${l.host}${l.subset ? `/${l.subset}` : ""}${l.port ? `:${l.port}` : ""}`, path: l.path })),
        ...(outcome.kind === "routed" && outcome.timeout ? { timeout: outcome.timeout } : {}),
        ...(outcome.kind === "routed" && outcome.retries ? { retries: retriesText(outcome.retries) } : {}),
        callers: callersText(entry, input),
        problems,
    };
}

/** A model's probes: each family's, and one per per-path override (at its prefix, as a client sends it). */
function targetProbes(target: DoorTarget): Probe[] {
    const overrides = target.overrides.flatMap((override): Probe[] => {
        const match = resolveOverride(target, override.prefix)[0]?.matches[0];
        if (!match) {
            return [];
        }
        const path = "prefix" in match.uri ? match.uri.prefix : match.uri.exact;
        return [{ method: "POST", path, ...(match.headers ? { headers: match.headers } : {}) }];
    });
    const seen = new Set<string>();
    return [...target.families.flatMap((f) => f.probes), ...overrides].filter((p) => !seen.has(p.method + p.path) && seen.add(p.method + p.path) !== undefined);
}

function splitProbes(split: DoorSplit): Probe[] {
    return split.families.flatMap((f) => f.probes);
}

/** Every public path of the table, judged by the simulator. */
export function routeRows(input: RouteTableInput): RouteRow[] {
    return [
        ...input.table.targets.flatMap((target) => targetProbes(target).map((probe) => row(input, target, target.serverName, probe))),
        ...input.table.splits.flatMap((split) => splitProbes(split).map((probe) => row(input, split, "split", probe))),
    ];
}

const cell = (text: string): string => text.replace(/\|/g, "\\|");

function legsText(legs: readonly RouteRowLeg[]): string {
    return legs.map((l) => `${l.weight}% → ${l.target} \`${l.path}\``).join("<br>");
}

/** A Mermaid id from any text. */
const node = (text: string): string => text.replace(/[^A-Za-z0-9]/g, "_");

/** The diagram: clients → doors → models (splits by weight to their legs) → backends, from each model's first row. */
export function routesMermaid(rows: readonly RouteRow[], input: RouteTableInput): string {
    const lines = ["flowchart LR"];
    const door = input.hosts.length > 0 ? "gw" : "inf";
    if (input.hosts.length > 0) {
        lines.push(`  users([${input.jwt.length > 0 ? "clients with a token" : "clients"}]) --> gw[ingress gateway<br>${input.hosts.join("<br>")}]`);
    }
    lines.push(`  mesh([in-mesh callers]) --> inf[${INFERENCE_SERVICE.host}]`);
    const first = new Map<string, RouteRow>();
    rows.forEach((r) => first.set(`${r.namespace}/${r.model}`, first.get(`${r.namespace}/${r.model}`) ?? r));
    for (const split of input.table.splits) {
        const id = node(`m_${split.namespace}_${split.name}`);
        lines.push(`  ${door} --> ${id}{{${split.name}<br>split}}`, ...(door === "gw" ? [`  inf --> ${id}`] : []));
        for (const leg of split.legs) {
            lines.push(`  ${id} -- ${leg.weight}% --> ${node(`m_${leg.target.namespace}_${leg.target.name}`)}`);
        }
    }
    for (const [key, r] of first) {
        if (r.backend === "split") {
            continue;
        }
        const id = node(`m_${key}`);
        // Every model answers by its own name too, split legs included.
        lines.push(`  ${id}[${r.model}<br>${r.backend}]`, `  ${door} --> ${id}`, ...(door === "gw" ? [`  inf --> ${id}`] : []));
        for (const leg of r.legs) {
            lines.push(`  ${id} -- ${leg.weight}% --> ${node(`b_${leg.target}`)}[(${leg.target})]`);
        }
    }
    return lines.join("\n");
}

/** routes.md: where every public path goes and who may call it, and the diagram GitHub renders. */
export function renderRoutesMarkdown(stack: string, rows: readonly RouteRow[], input: RouteTableInput): string {
    const problems = rows.filter((r) => r.problems.length > 0);
    return [
        `# Routes of stack ${stack}`,
        "",
        input.hosts.length > 0 ? `Public: \`https://${input.hosts.join("`, `https://")}\`${input.jwt.length > 0 ? `, with a bearer token from ${input.jwt.map((j) => `\`${j.issuer}\``).join(" or ")}` : " (no token asked)"}.` : "No public hosts: in-mesh callers only.",
        `In the mesh: \`http://${INFERENCE_SERVICE.host}\` (the same table; callers are judged by their identity).`,
        "",
        "Judged by the route simulator on the rendered Istio objects" + (input.hosts.length > 0 ? ", as a client of the public door with the token each model asks for." : ", as each model's first allowed in-mesh caller."),
        problems.length === 0 ? "Every path reaches a server that admits it." : `**${problems.length} path(s) do not reach a server that admits them** (see Problems).`,
        "",
        "| Model | Backend | Request | Goes to (weight → target `path`) | Timeout | Retries | Who may call |",
        "|---|---|---|---|---|---|---|",
        ...rows.map((r) => `| ${cell(`${r.namespace}/${r.model}`)} | ${cell(r.backend)} | \`${r.method} ${cell(r.path)}\`${r.headers ? `<br>${Object.entries(r.headers).map(([k, v]) => `\`${k}: ${v}\``).join(" ")}` : ""} | ${cell(legsText(r.legs)) || "—"} | ${r.timeout ?? "—"} | ${cell(r.retries ?? "—")} | ${cell(r.callers)} |`),
        "",
        ...(problems.length > 0 ? ["## Problems", "", ...problems.flatMap((r) => r.problems.map((p) => `- \`${r.method} ${r.path}\`: ${p}`)), ""] : []),
        "```mermaid",
        routesMermaid(rows, input),
        "```",
        "",
    ].join("\n");
}

/** The table for a terminal. */
export function renderRoutesText(rows: readonly RouteRow[]): string {
    return rows.map((r) => [
        `${r.method} ${r.path}${r.headers ? ` [${Object.entries(r.headers).map(([k, v]) => `${k}: ${v}`).join(", ")}]` : ""}  (${r.namespace}/${r.model}, ${r.backend}, ${r.via})`,
        ...r.legs.map((l) => `    ${String(l.weight).padStart(5)}%  ${l.target}  ${l.path}`),
        `    timeout ${r.timeout ?? "-"}, retries ${r.retries ?? "-"}`,
        `    callers: ${r.callers}`,
        ...r.problems.map((p) => `    PROBLEM: ${p}`),
    ].join("\n")).join("\n");
}
