/**
 * The front door's checks, run before anything is created: splits (members, weights, a protocol
 * every leg speaks), per-path overrides (a prefix some route reaches, sound timeouts), required
 * claims (only with JWT issuers and public hosts), and the JWT issuers themselves. Pure.
 */
import { PropertyErrors } from "../propertyErrors";
import { DEFAULT_DEPLOYMENT_MODE, effectiveTraffic, isServed, type ModelEntry, type ModelSpec, type RequiredClaims, type SplitModelSpec } from "../serving/modelSpec";
import { checkCount, checkTraffic } from "../serving/trafficSpec";
import { doorTarget, overridablePrefixes, resolveOverride, type DoorTarget } from "./doorTargets";
import { sharedProtocols, splitProtocols, splitTraffic } from "./doorRoutes";
import type { JwtIssuer } from "./jwtIssuers";

export type { JwtIssuer };

/** What the front door is given besides the models. */
export interface FrontDoorContext {
    readonly jwt: readonly JwtIssuer[];
    /** The ingress Gateway's public hosts; none means no public door (in-mesh callers only). */
    readonly hosts: readonly string[];
    readonly clusterName: string;
}

const CLAIM = /^[A-Za-z0-9_.:-]+$/;

function checkClaims(claims: RequiredClaims | undefined, context: FrontDoorContext, errors: PropertyErrors, at: string): void {
    if (claims === undefined) {
        const anyAudience = context.hosts.length > 0 ? context.jwt.find((rule) => rule.audiences.length === 0) : undefined;
        errors.check(`${at}requireClaims`, claims, anyAudience ? `must name a claim that tells your application's tokens apart, e.g. { client_id: [<app client id>] }: issuer ${anyAudience.issuer} accepts tokens for any audience` : undefined);
        return;
    }
    const reason = context.jwt.length === 0 ? "needs JWT issuers (mlmesh:mesh.ingressGateway.jwt): claims come from a validated token; add an issuer or remove requireClaims"
        : context.hosts.length === 0 ? "has no effect: the ingress gateway has no public hosts, and in-mesh callers are judged by allowedPrincipals; add mesh.ingressGateway.hosts or remove requireClaims"
        : Object.keys(claims).length === 0 ? "names no claim; remove it or add one like { groups: [fraud-analysts] }" : undefined;
    if (errors.check(`${at}requireClaims`, claims, reason)) {
        return;
    }
    for (const [claim, values] of Object.entries(claims)) {
        errors.check(`${at}requireClaims.${claim}`, values, !CLAIM.test(claim) ? "names a claim with characters Istio's `request.auth.claims[...]` cannot hold; use letters, digits, '_', '.', ':' or '-'"
            : values.length === 0 || values.some((v) => v.trim() === "") ? "must list the values that admit a caller (any one of them)" : undefined);
    }
}

function checkOverrides(spec: ModelSpec, target: DoorTarget, errors: PropertyErrors, at: string): void {
    const traffic = effectiveTraffic(spec);
    (spec.paths ?? []).forEach((override, j) => {
        const where = `${at}paths[${j}].`;
        const reason = !override.prefix.startsWith("/") ? "must be a path starting with /"
            : (spec.paths ?? []).findIndex((other) => other.prefix === override.prefix) < j ? "is listed twice; give each prefix one entry"
            : resolveOverride(target, override.prefix).length === 0 ? `is not under a path ${spec.name} answers, so no route can reach it; use a prefix under one of: ${overridablePrefixes(target).join(", ")}` : undefined;
        errors.check(`${where}prefix`, override.prefix, reason);
        checkTraffic(errors, where, override, { timeout: override.timeout ?? traffic.timeout, retries: { ...traffic.retries, ...override.retries } });
    });
}

function checkSplit(split: SplitModelSpec, targets: ReadonlyMap<string, DoorTarget>, entries: readonly ModelEntry[], errors: PropertyErrors, at: string): void {
    errors.check(`${at}routes`, split.routes, split.routes.length < 2 ? "must list at least two models; to send everything to one model, call that model by name" : undefined);
    split.routes.forEach((route, j) => {
        const entry = entries.find((e) => e.name === route.model);
        const reason = entry === undefined ? `is not a model of the list; use one of: ${entries.filter(isServed).map((e) => e.name).join(", ")}`
            : !isServed(entry) ? (entry === split ? "is this split itself" : "is itself a split; list its legs here directly (splits do not nest)")
            : !targets.has(route.model) ? "is not routed by the front door (KServe Knative mode)"
            : split.routes.findIndex((other) => other.model === route.model) < j ? "is named twice; give each model one leg with its whole weight" : undefined;
        errors.check(`${at}routes[${j}].model`, route.model, reason);
        checkCount(errors, `${at}routes[${j}].weight`, route.weight, 0, 100);
    });
    const total = split.routes.reduce((sum, route) => sum + route.weight, 0);
    errors.check(`${at}routes`, split.routes.map((r) => `${r.model}:${r.weight}`), split.routes.length >= 2 && total !== 100 ? `have weights adding up to ${total}; they must add up to 100` : undefined);
    const legs = split.routes.map((route) => targets.get(route.model)).filter((t): t is DoorTarget => t !== undefined);
    if (legs.length === split.routes.length && legs.length >= 2 && sharedProtocols(legs).length === 0) {
        const spoken = legs.map((leg) => `${leg.name} (${splitProtocols(leg).join(", ") || "none a split can carry"})`).join(", ");
        errors.check(`${at}routes`, split.routes.map((r) => r.model), `share no protocol a split can carry (v1 or v2 REST, or :predict with a SageMaker leg): ${spoken}; gRPC and OpenAI calls name the model in the body, so they cannot be split by path`);
    }
    if (legs.length === split.routes.length) {
        checkSplitAccess(split, legs, errors, at);
        checkTraffic(errors, at, split, splitTraffic(split, legs));
    }
}

/**
 * A split reaches its legs as the ingress gateway, which every model admits, so it may open a leg
 * no wider than the leg's own rules: its in-mesh callers must be the leg's, its required claims at
 * least the leg's, and its retries no more than the leg allows.
 */
function checkSplitAccess(split: SplitModelSpec, legs: readonly DoorTarget[], errors: PropertyErrors, at: string): void {
    (split.allowedPrincipals ?? []).forEach((principal, i) => {
        const refusing = legs.filter((leg) => !leg.principals.includes(principal)).map((leg) => leg.name);
        errors.check(`${at}allowedPrincipals[${i}]`, principal, refusing.length > 0
            ? `is not in the allowedPrincipals of ${refusing.join(", ")}; the split would let it call them anyway. Add it there, or drop it here` : undefined);
    });
    const claims = split.requireClaims ?? {};
    for (const leg of legs) {
        const wider = Object.entries(leg.claims).some(([claim, values]) => claims[claim] === undefined || claims[claim].some((v) => !values.includes(v)));
        const asked = Object.entries(leg.claims).map(([claim, values]) => `${claim} ∈ {${values.join(", ")}}`).join(", ");
        if (errors.check(`${at}requireClaims`, split.requireClaims, wider ? `must ask at least what ${leg.name} asks (${asked}): the split would admit callers ${leg.name} refuses` : undefined)) {
            break;
        }
    }
    const conditions = (retryOn: string) => retryOn.split(",").map((c) => c.trim()).filter((c) => c !== "");
    const narrower = legs.find((leg) => leg.options.retries.attempts > 0 && conditions(split.retries?.retryOn ?? "").some((c) => !conditions(leg.options.retries.retryOn).includes(c)));
    errors.check(`${at}retries.retryOn`, split.retries?.retryOn, narrower
        ? `retries on conditions a leg does not: ${narrower.name} retries only on ${narrower.options.retries.retryOn}; keep to its conditions or leave retryOn unset` : undefined);
    const fewest = Math.min(...legs.map((leg) => leg.options.retries.attempts));
    const strict = legs.find((leg) => leg.options.retries.attempts === fewest)!;
    errors.check(`${at}retries.attempts`, split.retries?.attempts, split.retries?.attempts !== undefined && split.retries.attempts > fewest
        ? `retries a leg more than it allows: ${strict.name} allows ${fewest}; a split retries the same leg, so keep to ${fewest} or leave retries unset (the split then takes its legs' fewest)` : undefined);
}

/** Checks every split, per-path override and claim requirement of the list; paths are `models[i].…` under `at`. */
export function validateFrontDoor(entries: readonly ModelEntry[], context: FrontDoorContext, errors = new PropertyErrors(), at = "models"): PropertyErrors {
    const targets = new Map<string, DoorTarget>();
    for (const spec of entries.filter(isServed)) {
        if (spec.backend !== "kserve" || (spec.deploymentMode ?? DEFAULT_DEPLOYMENT_MODE) === "Standard") {
            targets.set(spec.name, doorTarget(spec, context.clusterName));
        }
    }
    entries.forEach((entry, i) => {
        const where = `${at}[${i}].`;
        checkClaims(entry.requireClaims, context, errors, where);
        if (!isServed(entry)) {
            checkSplit(entry, targets, entries, errors, where);
        } else if (targets.has(entry.name)) {
            checkOverrides(entry, targets.get(entry.name)!, errors, where);
        } else {
            errors.check(`${where}paths`, entry.paths, entry.paths !== undefined ? "has no effect: the front door does not route KServe's Knative mode; remove it" : undefined);
        }
    });
    return errors;
}
