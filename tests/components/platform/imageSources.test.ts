import * as assert from "node:assert/strict";
import { gpuInstance, type GpuInstance } from "../../../components/cluster/gpuInstances";
import { gpuNodeGroupPlacement } from "../../../components/cluster/gpuPlacement";
import { platformImageReport, type PlatformImagesInput } from "../../../components/platform/imageSources";
import type { ModelSpec } from "../../../components/serving/modelSpec";

const SECRET = "arn:aws:secretsmanager:us-west-2:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf";
const PLUGIN_MIRROR = { "nvcr.io/nvidia/k8s-device-plugin": "123456789012.dkr.ecr.us-west-2.amazonaws.com/mirror/k8s-device-plugin" };
const AL2023 = gpuNodeGroupPlacement({ name: "a10g", amiType: "AL2023_x86_64_NVIDIA", instance: gpuInstance("g5.2xlarge") as GpuInstance });
const BOTTLEROCKET = gpuNodeGroupPlacement({ name: "l4", amiType: "BOTTLEROCKET_x86_64_NVIDIA", instance: gpuInstance("g6.xlarge") as GpuInstance });
const tf = (image?: string): ModelSpec => ({ backend: "tfserving", name: "resnet", namespace: "ml-serving", versions: [{ name: "v1", modelUri: "s3://models/resnet/v1", weight: 100 }], ...(image ? { image } : {}) });
const onnx: ModelSpec = { backend: "kserve", name: "ranker", namespace: "ml-serving", modelFormat: "onnx", storageUri: "s3://models/ranker" };
const PATHS = { cluster: "cluster.", models: "models" };
const report = (input: Partial<PlatformImagesInput>) => platformImageReport({ environment: "prod", imageCache: { dockerHubSecretArn: SECRET }, gpuNodeGroups: [], models: [], ...input }, PATHS);

describe("platformImageReport", () => {
    const refused: [string, Partial<PlatformImagesInput>, string][] = [
        ["prod without Docker Hub credentials", { imageCache: {} }, "cluster.imageCache.dockerHubSecretArn"],
        ["prod with an AL2023 GPU group and no device plugin mirror", { gpuNodeGroups: [AL2023] }, "cluster.imageCache.mirrors"],
        ["prod with an ONNX model (Triton, on nvcr.io) and no mirror", { models: [onnx] }, "cluster.imageCache.mirrors"],
        ["a model image from a registry ECR cannot cache", { models: [tf("gcr.io/team/tfserving:2.20.0")] }, "models[0].image"],
        ["a ghcr.io model image without GitHub credentials", { models: [tf("ghcr.io/team/tfserving:2.20.0")] }, "models[0].image"],
    ];
    for (const [what, input, path] of refused) {
        it(`refuses ${what} at ${path}`, () => assert.deepEqual(report(input).problems.map((p) => p.path), [path]));
    }

    const accepted: [string, Partial<PlatformImagesInput>][] = [
        ["prod with credentials and a device plugin mirror", { gpuNodeGroups: [AL2023], imageCache: { dockerHubSecretArn: SECRET, mirrors: PLUGIN_MIRROR } }],
        ["Bottlerocket GPU groups, which ship their own device plugin", { gpuNodeGroups: [BOTTLEROCKET] }],
        ["a Docker Hub model image", { models: [tf("tensorflow/serving:2.19.0")] }],
    ];
    for (const [what, input] of accepted) {
        it(`accepts ${what}`, () => assert.deepEqual(report(input), { problems: [], warnings: [], privateImages: [] }));
    }

    it("warns, outside prod, about anonymous Docker Hub pulls and an unmirrored device plugin", () => {
        const dev = report({ environment: "dev", imageCache: {}, gpuNodeGroups: [AL2023] });
        assert.deepEqual(dev.problems, []);
        assert.deepEqual(dev.warnings.map((w) => w.split(" ")[0]), ["`cluster.imageCache.dockerHubSecretArn`", "`cluster.imageCache.mirrors`"]);
    });

    it("lists the model images already in private ECR, for the node role", () => {
        const image = "123456789012.dkr.ecr.us-west-2.amazonaws.com/ml/tfserving-fraud:2.20.0-r3";
        assert.deepEqual(report({ models: [tf(image), tf()] }).privateImages, [image]);
    });
});
