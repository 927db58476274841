import * as k8s from "@pulumi/kubernetes";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { METRICS_SERVER_CHART, MetricsServer, metricsServerValues } from "../../../components/cluster/metricsServer";
import { leafPaths, walkAccepts } from "../../chartValues";
import { recordOffline } from "../../offline/fixtures/offlineRun";
import { TEST_IMAGES } from "../fixtures/images";

const chartDir = path.join(__dirname, "../../../../shared/charts", `metrics-server-${METRICS_SERVER_CHART.version}`);

describe("metrics-server values", () => {
    const values = metricsServerValues(TEST_IMAGES) as Record<string, any>;
    it("runs two replicas behind a disruption budget that keeps one", () => {
        assert.deepEqual([values.replicas, values.podDisruptionBudget], [2, { enabled: true, minAvailable: 1 }]);
    });
    it("runs on the system nodes", () => assert.deepEqual(values.nodeSelector, { "mlmesh.io/node-role": "system" }));
    it("prefers putting the two replicas on different nodes", () => {
        const [term] = values.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution;
        assert.deepEqual([term.podAffinityTerm.topologyKey, term.podAffinityTerm.labelSelector.matchLabels], ["kubernetes.io/hostname", { "app.kubernetes.io/name": "metrics-server" }]);
    });
    it("sets only keys the pinned chart has", function () {
        if (!fs.existsSync(chartDir)) {
            console.warn(`      skipped: ${chartDir} is absent (it sits beside CI checkouts, not in a user's own clone)`);
            this.skip();
        }
        const chart = parse(fs.readFileSync(path.join(chartDir, "values.yaml"), "utf8")) as Record<string, unknown>;
        assert.equal((parse(fs.readFileSync(path.join(chartDir, "Chart.yaml"), "utf8")) as { version: string }).version, METRICS_SERVER_CHART.version);
        assert.deepEqual(leafPaths(values).filter((segments) => !walkAccepts(chart, segments)).map((s) => s.join(".")), []);
        assert.equal(walkAccepts(chart, ["podDisruptionBudget", "enabeld"]), false, "the check rejects a misspelt key");
    });
});

describe("MetricsServer under the offline engine", () => {
    it("installs the pinned chart as release metrics-server in kube-system", async () => {
        const run = await recordOffline(() => new MetricsServer("m", { provider: new k8s.Provider("k", { kubeconfig: "{}" }), images: TEST_IMAGES }));
        const release = run.resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release") ?? assert.fail("no release");
        const { name, chart, version, namespace, atomic } = release.inputs;
        assert.deepEqual({ name, chart, version, namespace, atomic }, { name: "metrics-server", chart: "metrics-server", version: "3.13.1", namespace: "kube-system", atomic: true });
    });
});
