import * as assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { SECRET_PLACEHOLDER } from "../../offline/recorder";
import { plannedStack } from "./fixtures/plannedStack";

/**
 * No secret in plain text: the cluster's admin kubeconfig (the one secret every stack holds) is
 * "[secret]" wherever it flows (stack outputs, the Kubernetes provider's inputs) and appears in no
 * file the plan writes.
 */
describe("secrets in what mlmesh plan writes", () => {
    for (const stack of ["dev", "staging", "prod"]) {
        it(`${stack}: the admin kubeconfig is masked in the outputs and provider inputs, and appears in no written file`, async () => {
            const result = await plannedStack(stack);
            const eks = result.resources.find((r) => r.type === "eks:index:Cluster")!;
            const kubeconfig = String(eks.outputs.kubeconfigJson);
            assert.ok(kubeconfig.includes("get-token"), "the offline cluster's kubeconfig, as the provider returns it");
            assert.equal(result.outputs.kubeconfig, SECRET_PLACEHOLDER);
            const providers = result.resources.filter((r) => r.type === "pulumi:providers:kubernetes");
            assert.ok(providers.length > 0);
            assert.deepEqual(providers.map((p) => p.inputs.kubeconfig), providers.map(() => SECRET_PLACEHOLDER));
            const files = [path.join(result.outDir, "plan.json"), ...readdirSync(path.join(result.outDir, "manifests")).map((f) => path.join(result.outDir, "manifests", f))];
            const exec = JSON.stringify((JSON.parse(kubeconfig) as { users: { user: { exec: { args: string[] } } }[] }).users[0].user.exec.args);
            for (const file of files) {
                const text = readFileSync(file, "utf8");
                assert.ok(!text.includes(kubeconfig) && !text.includes(exec), `${file} holds the admin kubeconfig`);
            }
        });
    }
});
