import * as pulumi from "@pulumi/pulumi";
import * as assert from "node:assert/strict";
import { MlPlatform, validateMlPlatformArgs, type MlPlatformArgs } from "../../../components/platform/mlPlatform";
import type { ModelSpec } from "../../../components/serving/modelSpec";
import { recordOffline } from "../../offline/fixtures/offlineRun";

const resnet: ModelSpec = {
    backend: "tfserving", name: "resnet", namespace: "ml-serving", gpus: 1,
    versions: [{ name: "v1", modelUri: "s3://models/resnet/v1", weight: 100 }],
};

/** A valid platform: a created VPC, one a10g GPU group, the default mesh, and one model. */
function validArgs(): MlPlatformArgs {
    return {
        environment: "dev",
        network: { create: { cidrBlock: "10.40.0.0/16" } },
        cluster: { clusterName: "mlmesh-test", gpuNodeGroups: [{ name: "a10g", instanceTypes: ["g5.2xlarge"], maxSize: 2 }] },
        mesh: {},
        models: [resnet],
    };
}

describe("MlPlatform validation", () => {
    it("accepts a sound platform", () => {
        assert.deepEqual(validateMlPlatformArgs(validArgs()).list, []);
    });

    const cases: [string, (args: MlPlatformArgs) => MlPlatformArgs, string[]][] = [
        ["a VPC CIDR with host bits", (a) => ({ ...a, network: { create: { cidrBlock: "10.40.0.1/16" } } }), ["network.create.cidrBlock"]],
        ["a CPU instance in a GPU group", (a) => ({ ...a, cluster: { ...a.cluster, gpuNodeGroups: [{ name: "a10g", instanceTypes: ["m6i.large"], maxSize: 2 }] } }), ["cluster.gpuNodeGroups[0].instanceTypes[0]"]],
        ["a mesh namespace listed twice", (a) => ({ ...a, mesh: { namespaces: ["ml-serving", "ml-serving"] } }), ["mesh.namespaces[1]"]],
        ["a bad mesh sidecar default", (a) => ({ ...a, mesh: { defaultSidecar: { memory: "lots" } } }), ["mesh.defaultSidecar.memory"]],
        ["two models with one name", (a) => ({ ...a, models: [resnet, { ...resnet }] }), ["models[1].name"]],
        ["a model on a GPU group the cluster lacks", (a) => ({ ...a, models: [{ ...resnet, gpuNodeGroup: "h100" }] }), ["models[0].gpuNodeGroup"]],
    ];
    for (const [what, change, paths] of cases) {
        it(`reports ${what} with its path under the platform`, () => {
            assert.deepEqual(validateMlPlatformArgs(change(validArgs())).list.map((p) => p.path), paths);
        });
    }

    it("checks models only once the cluster and mesh are sound, since their context comes from those", () => {
        const args = { ...validArgs(), cluster: { clusterName: "1bad" }, models: [{ ...resnet, gpuNodeGroup: "h100" }] };
        assert.deepEqual(validateMlPlatformArgs(args).list.map((p) => p.path), ["cluster.clusterName"]);
    });

    it("creates nothing when the platform is invalid", async () => {
        let error: unknown;
        const run = await recordOffline(() => {
            try {
                new MlPlatform("p", { ...validArgs(), models: [resnet, { ...resnet }] });
            } catch (caught) {
                error = caught;
            }
        });
        assert.ok(pulumi.InputPropertiesError.isInstance(error));
        assert.deepEqual(run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack" && r.type !== "mlmesh:platform:MlPlatform").map((r) => r.type), []);
    });
});
