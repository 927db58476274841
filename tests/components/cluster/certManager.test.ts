import * as k8s from "@pulumi/kubernetes";
import Ajv from "ajv";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { CERT_MANAGER_CHART, CertManager, certManagerValues } from "../../../components/cluster/certManager";
import { recordOffline } from "../../offline/fixtures/offlineRun";
import { TEST_IMAGES } from "../fixtures/images";

const chartDir = path.join(__dirname, "../../../../shared/charts", `cert-manager-${CERT_MANAGER_CHART.version}`);

describe("cert-manager values", () => {
    const values = certManagerValues(TEST_IMAGES) as Record<string, any>;
    it("installs the CRDs with the chart and keeps them on uninstall", () => assert.deepEqual(values.crds, { enabled: true, keep: true }));
    for (const part of ["controller", "webhook", "cainjector", "startupapicheck"]) {
        it(`runs the ${part} on the system nodes`, () => {
            const node = part === "controller" ? values : values[part];
            assert.deepEqual(node.nodeSelector, { "mlmesh.io/node-role": "system" });
        });
    }
    for (const part of ["controller", "webhook"]) {
        it(`runs two ${part} replicas behind a disruption budget`, () => {
            const node = part === "controller" ? values : values[part];
            assert.deepEqual([node.replicaCount, node.podDisruptionBudget], [2, { enabled: true, minAvailable: 1 }]);
        });
    }
    it("passes the pinned chart's closed values.schema.json, which rejects a misspelt key", function () {
        if (!fs.existsSync(chartDir)) {
            console.warn(`      skipped: ${chartDir} is absent (it sits beside CI checkouts, not in a user's own clone)`);
            this.skip();
        }
        const validate = new Ajv({ strict: false, allErrors: true }).compile(JSON.parse(fs.readFileSync(path.join(chartDir, "values.schema.json"), "utf8")));
        assert.equal(validate(values), true, JSON.stringify(validate.errors));
        assert.equal(validate({ ...values, webhook: { ...values.webhook, replicaCnt: 2 } }), false);
    });
});

describe("CertManager under the offline engine", () => {
    it("installs the pinned chart as release cert-manager into its own namespace, after that namespace", async () => {
        const run = await recordOffline(() => new CertManager("cm", { provider: new k8s.Provider("k", { kubeconfig: "{}" }), images: TEST_IMAGES }));
        const release = run.resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release") ?? assert.fail("no release");
        const ns = run.resources.find((r) => r.type === "kubernetes:core/v1:Namespace") ?? assert.fail("no namespace");
        const { name, chart, version, namespace } = release.inputs;
        assert.deepEqual({ name, chart, version, namespace }, { name: "cert-manager", chart: "cert-manager", version: "v1.21.1", namespace: "cert-manager" });
        assert.ok(release.options.dependsOn?.includes(ns.urn));
    });
});
