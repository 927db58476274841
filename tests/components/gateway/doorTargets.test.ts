import * as assert from "node:assert/strict";
import { doorTarget, overridablePrefixes } from "../../../components/gateway/doorTargets";
import type { KServeModelSpec, TfServingModelSpec } from "../../../components/serving/modelSpec";
import type { SageMakerModelSpec } from "../../../components/sagemaker/sagemakerSpec";

const NS = "ml-serving";

describe("doorTarget: what the front door knows of a model", () => {
    it("sends TF Serving REST to 8501 and gRPC to 8500, by version subset", () => {
        const target = doorTarget({ backend: "tfserving", name: "resnet", namespace: NS, versions: [{ name: "v1", modelUri: "s3://m/r", weight: 100 }] } satisfies TfServingModelSpec, "c");
        assert.deepEqual(target.families.map((f) => [f.protocol, f.port, f.methods]), [["tfserving-rest", 8501, ["GET", "POST"]], ["tfserving-grpc", 8500, ["POST"]]]);
        assert.deepEqual([target.options.host, target.options.versions.map((v) => v.name)], ["resnet.ml-serving.svc.cluster.local", ["v1"]]);
    });
    it("sends a Standard canary's share to KServe's canary predictor Service", () => {
        const spec: KServeModelSpec = { backend: "kserve", name: "bert", namespace: NS, modelFormat: "tensorflow", storageUri: "s3://m/b", canaryStorageUri: "s3://m/b2", canaryTrafficPercent: 10 };
        assert.deepEqual(doorTarget(spec, "c").options.versions, [
            { name: "stable", weight: 90, host: "bert-predictor.ml-serving.svc.cluster.local" },
            { name: "canary", weight: 10, host: "bert-canary-predictor.ml-serving.svc.cluster.local" },
        ]);
    });
    it("gives a created SageMaker endpoint the name mlmesh creates it under, on the bridge's subset", () => {
        const target = doorTarget({ backend: "sagemaker", name: "fraud-sm", namespace: "ml-tabular", model: { image: "i", modelDataUrl: "s3://m/f.tar.gz", instanceType: "ml.m5.xlarge", initialInstanceCount: 1 } } satisfies SageMakerModelSpec, "mlmesh-dev");
        assert.match(target.families[0].rewrite!, /^\/endpoints\/ml-tabular-fraud-sm-[0-9a-f]{8}\/invocations$/);
        assert.equal(target.options.subset, "ml-tabular-fraud-sm");
    });
    it("refuses KServe's Knative mode, which the platform cannot route", () => {
        assert.throws(() => doorTarget({ backend: "kserve", name: "k", namespace: NS, modelFormat: "sklearn", storageUri: "s3://m/k", deploymentMode: "Knative" }, "c"), /Standard mode only/);
    });
    it("lists the prefixes an override may lie under", () => {
        const llm = doorTarget({ backend: "kserve", name: "llm", namespace: NS, modelFormat: "huggingface", storageUri: "s3://m/l" }, "c");
        assert.ok(overridablePrefixes(llm).includes("/openai/llm/"));
    });
});
