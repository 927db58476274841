import * as fc from "fast-check";
import * as assert from "node:assert/strict";
import { MlPlatform, type MlPlatformArgs } from "../../../components/platform/mlPlatform";
import { recordOffline } from "../../offline/fixtures/offlineRun";

/** A name of exactly `length` characters that the mlmesh validators accept (a letter first). */
const nameOf = (stem: string, length: number) => `${stem}${"x".repeat(Math.max(0, length - stem.length - 1))}9`.slice(0, length);

interface Lengths {
    readonly cluster: number;
    readonly group: number;
    readonly namespace: number;
    readonly model: number;
    readonly version: number;
}

/** A platform whose names have the given lengths: a GPU group, a mesh namespace, a TF Serving and a KServe model with a canary. */
function platform(lengths: Lengths): MlPlatformArgs {
    const group = nameOf("g", lengths.group);
    const namespace = nameOf("ns", lengths.namespace);
    const common = { namespace, gpus: 1, gpuNodeGroup: group, allowedPrincipals: ["cluster.local/ns/ml-frontend/sa/frontend"] };
    return {
        environment: "dev",
        network: { create: { cidrBlock: "10.40.0.0/16" } },
        cluster: { clusterName: nameOf("c", lengths.cluster), gpuNodeGroups: [{ name: group, instanceTypes: ["g5.2xlarge"], maxSize: 2 }] },
        mesh: { namespaces: [namespace], ingressGateway: { hosts: ["inference.example.com"] } },
        kserve: true,
        models: [
            { ...common, backend: "tfserving", name: nameOf("tf", lengths.model), versions: [{ name: nameOf("v", lengths.version), modelUri: "s3://models/a/b", weight: 100 }] },
            { ...common, backend: "kserve", name: nameOf("ks", lengths.model), modelFormat: "huggingface", storageUri: "s3://models/c", canaryStorageUri: "s3://models/d", canaryTrafficPercent: 10 },
        ],
    };
}

/** The longest names validation accepts: cluster 100, node group, model and version 40, namespace 63. */
const LONGEST: Lengths = { cluster: 100, group: 40, namespace: 63, model: 40, version: 40 };

describe("physical names at every length validation accepts", () => {
    it("plans the platform with every name at its longest, every physical name within AWS's and Kubernetes' limits", async () => {
        const run = await recordOffline(() => new MlPlatform(nameOf("c", LONGEST.cluster), platform(LONGEST)));
        const roles = run.resources.filter((r) => r.type === "aws:iam/role:Role").map((r) => String(r.outputs.name));
        assert.ok(roles.length >= 4 && roles.every((name) => name.length <= 64), roles.join(", "));
    });

    it("plans the platform for any mix of name lengths up to the longest", async () => {
        await fc.assert(fc.asyncProperty(
            fc.record({
                cluster: fc.integer({ min: 2, max: 100 }),
                group: fc.integer({ min: 2, max: 40 }),
                namespace: fc.integer({ min: 3, max: 63 }),
                model: fc.integer({ min: 3, max: 40 }),
                version: fc.integer({ min: 2, max: 40 }),
            }),
            async (lengths) => {
                await recordOffline(() => new MlPlatform(nameOf("c", lengths.cluster), platform(lengths)));
            },
        ), { numRuns: 3, seed: 8 });
    });
});
