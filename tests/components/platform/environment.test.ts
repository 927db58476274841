import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { ENVIRONMENT_PROFILES, ENVIRONMENTS, profileOf, renderEnvironmentTable, type Environment } from "../../../components/platform/environment";
import { environmentProblems, type TierSettings } from "../../../components/platform/environmentRules";

const ROOT = path.join(__dirname, "..", "..", "..");
const OKTA = { issuer: "https://example.okta.com/oauth2/default", jwksUri: "https://example.okta.com/oauth2/default/v1/keys", audiences: ["api://mlmesh"] };

/** Settings every tier accepts: the secure defaults, a deployer role, two gateway pods. */
const SOUND: TierSettings = {
    cluster: { endpointPublicAccess: false, access: { deployerRoleArn: "arn:aws:iam::123456789012:role/deployer" } },
    mesh: { mtls: "STRICT", podSecurity: "restricted", egress: { mode: "REGISTRY_ONLY" }, ingressGateway: { scheme: "internal", replicas: 2, jwt: [] } },
};

function withSetting(change: (s: { cluster: Record<string, unknown>; mesh: Record<string, unknown> }) => void): TierSettings {
    const copy = structuredClone(SOUND) as unknown as { cluster: Record<string, unknown>; mesh: Record<string, unknown> };
    change(copy);
    return copy as unknown as TierSettings;
}

describe("environment profiles", () => {
    it("have one profile per environment, and unknown tiers get dev's rules", () => {
        assert.deepEqual(Object.keys(ENVIRONMENT_PROFILES).sort(), [...ENVIRONMENTS].sort());
        assert.equal(profileOf(undefined), ENVIRONMENT_PROFILES.dev);
    });

    // The table the README documents; a change here is a change of product behaviour.
    const table: [field: keyof (typeof ENVIRONMENT_PROFILES)["dev"], dev: unknown, staging: unknown, prod: unknown][] = [
        ["protectStateful", false, false, true],
        ["natGateways", "single", "single", "perZone"],
        ["modelReplicas", { min: 1, max: 3 }, { min: 2, max: 4 }, { min: 2, max: 6 }],
        ["minModelReplicas", 1, 2, 2],
        ["minGatewayReplicas", 1, 2, 2],
        ["minSageMakerInstances", 1, 2, 2],
        ["bridgeReplicas", { min: 1, max: 3 }, { min: 2, max: 6 }, { min: 2, max: 6 }],
        ["refuseSecurityOptOuts", false, false, true],
        ["upgradeSupport", "EXTENDED", "EXTENDED", "EXTENDED"],
    ];
    for (const [field, dev, staging, prod] of table) {
        it(`${field}: dev ${JSON.stringify(dev)}, staging ${JSON.stringify(staging)}, prod ${JSON.stringify(prod)}`, () => {
            assert.deepEqual([ENVIRONMENT_PROFILES.dev[field], ENVIRONMENT_PROFILES.staging[field], ENVIRONMENT_PROFILES.prod[field]], [dev, staging, prod]);
        });
    }

    it("never default a tier below its own floors", () => {
        for (const env of ENVIRONMENTS) {
            const p = ENVIRONMENT_PROFILES[env];
            assert.ok(p.modelReplicas.min >= p.minModelReplicas && p.modelReplicas.max >= p.modelReplicas.min, env);
            assert.ok(p.bridgeReplicas.min >= p.minModelReplicas, `${env}: the bridge is a Deployment in an ML namespace like any model`);
        }
    });

    // The pack's per-tier settings and the tier's floors must agree: a floor below a mandatory
    // policy's threshold would let config through that the plan then refuses.
    for (const env of ENVIRONMENTS) {
        it(`${env}: the floors meet every mandatory threshold in ${ENVIRONMENT_PROFILES[env].policyConfig}`, () => {
            const config = JSON.parse(readFileSync(path.join(ROOT, ENVIRONMENT_PROFILES[env].policyConfig), "utf8")) as Record<string, { enforcementLevel?: string; minReplicas?: number }>;
            const p = ENVIRONMENT_PROFILES[env];
            const mandatory = (policy: string) => (config[policy]?.enforcementLevel ?? "mandatory") === "mandatory";
            if (mandatory("k8s-min-replicas")) {
                assert.ok(p.minModelReplicas >= (config["k8s-min-replicas"]?.minReplicas ?? 2));
                assert.ok(p.bridgeReplicas.min >= (config["k8s-min-replicas"]?.minReplicas ?? 2));
            }
            if (mandatory("kserve-min-replicas")) {
                assert.ok(p.minModelReplicas >= (config["kserve-min-replicas"]?.minReplicas ?? 2));
            }
            if (mandatory("sm-endpoint-ha")) {
                assert.ok(p.minSageMakerInstances >= 2);
            }
            assert.equal(mandatory("stateful-protected"), p.protectStateful, "protection is mandatory exactly where the tier protects");
        });
    }

    it("render the README's table, which the README keeps verbatim", () => {
        const rendered = renderEnvironmentTable();
        assert.match(rendered, /^\| \| dev \| staging \| prod \|/);
        assert.ok(readFileSync(path.join(ROOT, "README.md"), "utf8").includes(rendered), "README.md's environment table is out of date; paste renderEnvironmentTable()'s output");
    });
});

describe("environmentProblems", () => {
    it("accepts the secure defaults in every tier", () => {
        for (const env of ENVIRONMENTS) {
            assert.deepEqual(environmentProblems(env, SOUND), []);
        }
    });

    const table: [what: string, change: Parameters<typeof withSetting>[0], path: string, refusedIn: Environment[], words: string][] = [
        ["PERMISSIVE mTLS", (s) => { s.mesh.mtls = "PERMISSIVE"; }, "mesh.mtls", ["prod"], "use STRICT"],
        ["baseline Pod Security", (s) => { s.mesh.podSecurity = "baseline"; }, "mesh.podSecurity", ["prod"], "restricted"],
        ["ALLOW_ANY egress", (s) => { s.mesh.egress = { mode: "ALLOW_ANY" }; }, "mesh.egress.mode", ["prod"], "egress.allow"],
        ["an internet-facing gateway without JWT", (s) => { s.mesh.ingressGateway = { scheme: "internet-facing", replicas: 2, jwt: [] }; }, "mesh.ingressGateway.jwt", ["prod"], "use scheme: internal"],
        ["a public API endpoint", (s) => { s.cluster.endpointPublicAccess = true; }, "cluster.endpointPublicAccess", ["prod"], "private to the VPC"],
        ["no deployer role", (s) => { s.cluster.access = {}; }, "cluster.access.deployerRoleArn", ["prod"], "CI deploys as"],
        ["one gateway pod", (s) => { s.mesh.ingressGateway = { scheme: "internal", replicas: 1 }; }, "mesh.ingressGateway.replicas", ["staging", "prod"], "at least 2"],
    ];
    for (const [what, change, at, refusedIn, words] of table) {
        it(`${what}: refused in ${refusedIn.join(" and ")} only, at ${at}`, () => {
            for (const env of ENVIRONMENTS) {
                const problems = environmentProblems(env, withSetting(change), "mlmesh:");
                if (refusedIn.includes(env)) {
                    assert.equal(problems.length, 1, `${env}: ${JSON.stringify(problems)}`);
                    assert.equal(problems[0].path, `mlmesh:${at}`);
                    assert.ok(problems[0].reason.includes(words) && problems[0].reason.includes(env), problems[0].reason);
                } else {
                    assert.deepEqual(problems, [], env);
                }
            }
        });
    }

    it("lets an internet-facing prod gateway through once it has an issuer", () => {
        assert.deepEqual(environmentProblems("prod", withSetting((s) => { s.mesh.ingressGateway = { scheme: "internet-facing", replicas: 3, jwt: [OKTA] }; })), []);
    });
});
