/**
 * The stacks `npm run bench` plans: the committed prod stack with its models replaced by `count`
 * generated ones across 4 mesh namespaces, half TF Serving with a stable and a canary version,
 * half KServe. Every generated stack is one a platform team could deploy (it plans with no
 * mandatory violation), so the bench measures the work a real plan does.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

/** The mesh namespaces the generated models are spread over. */
export const BENCH_NAMESPACES = ["ml-a", "ml-b", "ml-c", "ml-d"] as const;
const CALLER = "cluster.local/ns/ml-frontend/sa/frontend-sa";

/** The `mlmesh:models` entry of generated model `index`: even indexes TF Serving, odd KServe. */
export function benchModel(index: number): Record<string, unknown> {
    const namespace = BENCH_NAMESPACES[index % BENCH_NAMESPACES.length];
    if (index % 2 === 0) {
        const name = `tf-${index}`;
        return {
            name,
            namespace,
            backend: "tfserving",
            image: "tensorflow/serving:2.20.0",
            resources: { cpu: "1", memory: "2Gi" },
            versions: [
                { name: "v1", modelUri: `s3://models/${name}/v1`, weight: 90 },
                { name: "v2", modelUri: `s3://models/${name}/v2`, weight: 10 },
            ],
            // Prod keeps two pods per version, whatever the weight.
            replicas: { min: 4, max: 8 },
            allowedPrincipals: [CALLER],
        };
    }
    const name = `ks-${index}`;
    return { name, namespace, backend: "kserve", modelFormat: "xgboost", storageUri: `s3://models/${name}/v1`, replicas: { min: 2, max: 4 }, allowedPrincipals: [CALLER] };
}

/**
 * The config of a bench stack of `count` models, from the prod stack file in `stacksDir`: its
 * cluster, mesh and network, the bench namespaces, and no app teams (their namespaces are the
 * committed models').
 */
export function benchStackConfig(count: number, stacksDir: string): Record<string, unknown> {
    if (!Number.isInteger(count) || count < 1) {
        throw new Error(`a bench stack needs a whole number of models of at least 1, got ${count}`);
    }
    const prod = parse(readFileSync(path.join(stacksDir, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, any> };
    const config = structuredClone(prod.config);
    config["mlmesh:mesh"] = { ...config["mlmesh:mesh"], namespaces: [...BENCH_NAMESPACES] };
    config["mlmesh:cluster"] = { ...config["mlmesh:cluster"], access: { ...config["mlmesh:cluster"].access, appTeams: [] } };
    config["mlmesh:models"] = Array.from({ length: count }, (_, i) => benchModel(i));
    return config;
}
