import * as assert from "node:assert/strict";
import fc from "fast-check";
import { ENVIRONMENTS, type Environment } from "../../../components/platform/environment";
import { environmentProblems, type TierSettings } from "../../../components/platform/environmentRules";
import { OUTBOUND_MODES } from "../../../components/mesh/egress";
import { MTLS_MODES } from "../../../components/mesh/meshPolicies";
import { POD_SECURITY_LEVELS } from "../../../components/mesh/podSecurity";

const RUNS = { numRuns: 1000 };
const NAMESPACES = ["ml-serving", "fraud", "search", "team-a"] as const;
const OKTA = { issuer: "https://example.okta.com/oauth2/default", jwksUri: "https://example.okta.com/oauth2/default/v1/keys", audiences: ["api://mlmesh"] };

const optional = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined, freq: 3 });
const namespaceArbitrary = fc.constantFrom(...NAMESPACES);

/** Any settings TierSettings can hold, each field set or unset, values valid or opted out. */
const settingsArbitrary: fc.Arbitrary<TierSettings> = fc.record({
    cluster: fc.record({
        endpointPublicAccess: optional(fc.boolean()),
        access: optional(fc.record({
            deployerRoleArn: optional(fc.constant("arn:aws:iam::123456789012:role/deployer")),
            appTeams: optional(fc.array(fc.record({ namespaces: fc.array(namespaceArbitrary, { maxLength: 3 }) }), { maxLength: 3 })),
        }, { requiredKeys: [] })),
    }, { requiredKeys: [] }),
    mesh: fc.record({
        mtls: optional(fc.constantFrom(...MTLS_MODES)),
        namespaces: optional(fc.uniqueArray(namespaceArbitrary, { maxLength: 3 })),
        podSecurity: optional(fc.constantFrom(...POD_SECURITY_LEVELS)),
        egress: optional(fc.record({ mode: optional(fc.constantFrom(...OUTBOUND_MODES)) }, { requiredKeys: [] })),
        ingressGateway: optional(fc.record({
            scheme: optional(fc.constantFrom("internal", "internet-facing")),
            replicas: optional(fc.integer({ min: 0, max: 4 })),
            jwt: optional(fc.array(fc.constant(OKTA), { maxLength: 2 })),
        }, { requiredKeys: [] })),
    }, { requiredKeys: [] }),
});

const environmentArbitrary = fc.option(fc.constantFrom(...ENVIRONMENTS), { nil: undefined });
const prefixArbitrary = fc.constantFrom("", "mlmesh:", "args.");

/** The value at `cluster.access.appTeams[1].namespaces[0]`-style paths, or undefined. */
function valueAt(root: unknown, path: string): unknown {
    return path.replace(/\[(\d+)\]/g, ".$1").split(".").reduce<unknown>((node, key) => (node !== null && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined), root);
}

/** Every field TierSettings has, as a problem path names it (list indices as `[n]`). */
const FIELD_PATTERNS = [
    /^cluster\.endpointPublicAccess$/,
    /^cluster\.access\.deployerRoleArn$/,
    /^cluster\.access\.appTeams\[\d+\]\.namespaces\[\d+\]$/,
    /^mesh\.mtls$/,
    /^mesh\.podSecurity$/,
    /^mesh\.egress\.mode$/,
    /^mesh\.ingressGateway\.replicas$/,
    /^mesh\.ingressGateway\.jwt$/,
];

/** The paths each tier should refuse, written from the tier table, independently of environmentRules.ts. */
function expectedPaths(environment: Environment | undefined, settings: TierSettings): string[] {
    const tier = environment ?? "dev";
    const strict = tier === "prod";
    const minReplicas = tier === "dev" ? 1 : 2;
    const { cluster, mesh } = settings;
    const gateway = mesh.ingressGateway ?? {};
    const meshNamespaces = mesh.namespaces ?? ["ml-serving"];
    const paths: string[] = [];
    (cluster.access?.appTeams ?? []).forEach((team, i) => team.namespaces.forEach((namespace, j) => {
        if (!meshNamespaces.includes(namespace)) {
            paths.push(`cluster.access.appTeams[${i}].namespaces[${j}]`);
        }
    }));
    if (gateway.replicas !== undefined && gateway.replicas < minReplicas) {
        paths.push("mesh.ingressGateway.replicas");
    }
    if (strict) {
        if (mesh.mtls === "PERMISSIVE") paths.push("mesh.mtls");
        if (mesh.podSecurity === "baseline" || mesh.podSecurity === "privileged") paths.push("mesh.podSecurity");
        if (mesh.egress?.mode === "ALLOW_ANY") paths.push("mesh.egress.mode");
        if (gateway.scheme === "internet-facing" && !(gateway.jwt && gateway.jwt.length > 0)) paths.push("mesh.ingressGateway.jwt");
        if (cluster.endpointPublicAccess === true) paths.push("cluster.endpointPublicAccess");
        if (cluster.access?.deployerRoleArn === undefined) paths.push("cluster.access.deployerRoleArn");
    }
    return paths.sort();
}

describe("environmentProblems (properties)", () => {
    it("refuses nothing in dev (or an unset tier) but gateway replicas below 1 and team namespaces outside the mesh", () => {
        fc.assert(fc.property(fc.constantFrom<Environment | undefined>("dev", undefined), settingsArbitrary, (environment, settings) => {
            const problems = environmentProblems(environment, settings);
            const replicas = settings.mesh.ingressGateway?.replicas;
            const meshNamespaces = settings.mesh.namespaces ?? ["ml-serving"];
            const strayTeam = (settings.cluster.access?.appTeams ?? []).some((team) => team.namespaces.some((ns) => !meshNamespaces.includes(ns)));
            assert.equal(problems.length > 0, (replicas !== undefined && replicas < 1) || strayTeam, JSON.stringify(problems));
            assert.ok(problems.every((p) => p.path === "mesh.ingressGateway.replicas" || p.path.startsWith("cluster.access.appTeams[")), JSON.stringify(problems));
        }), RUNS);
    });

    it("puts every problem under the prefix, on a real field, with that field's value and a reason", () => {
        fc.assert(fc.property(environmentArbitrary, settingsArbitrary, prefixArbitrary, (environment, settings, prefix) => {
            for (const problem of environmentProblems(environment, settings, prefix)) {
                assert.ok(problem.path.startsWith(prefix), `${problem.path} lacks the prefix ${JSON.stringify(prefix)}`);
                const field = problem.path.slice(prefix.length);
                assert.ok(FIELD_PATTERNS.some((pattern) => pattern.test(field)), `${field} is not a TierSettings field`);
                assert.deepEqual(problem.value, valueAt(settings, field), field);
                assert.ok(problem.reason.length > 0);
            }
        }), RUNS);
    });

    it("gives each tier exactly the problems its rules call for, one per field", () => {
        fc.assert(fc.property(environmentArbitrary, settingsArbitrary, (environment, settings) => {
            const paths = environmentProblems(environment, settings).map((p) => p.path);
            assert.deepEqual([...paths].sort(), expectedPaths(environment, settings));
            assert.equal(new Set(paths).size, paths.length, `a field reported twice: ${JSON.stringify(paths)}`);
        }), RUNS);
    });

    /** Settings prod accepts, and each security opt-out as one change to them. */
    const SOUND: TierSettings = {
        cluster: { endpointPublicAccess: false, access: { deployerRoleArn: "arn:aws:iam::123456789012:role/deployer" } },
        mesh: { mtls: "STRICT", podSecurity: "restricted", egress: { mode: "REGISTRY_ONLY" }, ingressGateway: { scheme: "internal", replicas: 2, jwt: [] } },
    };
    type Mutable = { cluster: Record<string, any>; mesh: Record<string, any> };
    const OPT_OUTS: Record<string, (s: Mutable) => void> = {
        "mesh.mtls": (s) => { s.mesh.mtls = "PERMISSIVE"; },
        "mesh.podSecurity": (s) => { s.mesh.podSecurity = "baseline"; },
        "mesh.podSecurity ": (s) => { s.mesh.podSecurity = "privileged"; },
        "mesh.egress.mode": (s) => { s.mesh.egress.mode = "ALLOW_ANY"; },
        "cluster.endpointPublicAccess": (s) => { s.cluster.endpointPublicAccess = true; },
        "cluster.access.deployerRoleArn": (s) => { delete s.cluster.access.deployerRoleArn; },
        "mesh.ingressGateway.jwt": (s) => { s.mesh.ingressGateway.scheme = "internet-facing"; },
    };

    it("refuses each prod opt-out with exactly one problem at its path, whatever else is opted out", () => {
        const choices = fc.subarray(Object.keys(OPT_OUTS), { minLength: 1 })
            .filter((keys) => !(keys.includes("mesh.podSecurity") && keys.includes("mesh.podSecurity ")));
        fc.assert(fc.property(choices, prefixArbitrary, (keys, prefix) => {
            const settings = structuredClone(SOUND) as unknown as Mutable;
            keys.forEach((key) => OPT_OUTS[key](settings));
            const problems = environmentProblems("prod", settings as unknown as TierSettings, prefix);
            assert.deepEqual(problems.map((p) => p.path).sort(), keys.map((key) => `${prefix}${key.trim()}`).sort());
            for (const problem of problems) {
                assert.ok(problem.reason.includes("prod"), problem.reason);
            }
        }), RUNS);
    });
});
