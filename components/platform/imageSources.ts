/**
 * Whether every image the platform will run can be served the way the environment demands,
 * checked before anything is created: in prod, Docker Hub goes through the cache (credentials
 * required) and images from registries ECR cannot cache (nvcr.io) come from a private mirror;
 * elsewhere those are warnings. Pure; MlPlatform and the stack config share it.
 */
import { needsDevicePlugin, NVIDIA_DEVICE_PLUGIN_IMAGE } from "../cluster/nvidiaDevicePlugin";
import type { GpuNodeGroupPlacement } from "../cluster/gpuPlacement";
import { imageSourceProblem, parseImage, PRIVATE_ECR_HOST, type ImageCacheSpec } from "../images";
import type { PropertyProblem } from "../propertyErrors";
import { KSERVE_RUNTIME_IMAGES, KSERVE_RUNTIMES } from "../serving/kserve";
import type { ModelSpec } from "../serving/modelSpec";
import { profileOf, type Environment } from "./environment";

export interface PlatformImagesInput {
    readonly environment: Environment;
    readonly imageCache: ImageCacheSpec | undefined;
    readonly gpuNodeGroups: readonly GpuNodeGroupPlacement[];
    readonly models: readonly ModelSpec[];
}

/** Where the problems are reported: `cluster.` and `models` in MlPlatform, `mlmesh:cluster.` and `mlmesh:models` in stack config. */
export interface ProblemPaths {
    readonly cluster: string;
    readonly models: string;
}

export interface PlatformImageReport {
    readonly problems: PropertyProblem[];
    readonly warnings: string[];
    /** Models' own images that are already in private ECR: nodes may pull exactly these repositories. */
    readonly privateImages: string[];
}

/** The upstream images the platform needs from registries ECR's cache cannot serve. */
export function uncacheableImages(input: Pick<PlatformImagesInput, "gpuNodeGroups" | "models">): { image: string; why: string }[] {
    const needs: { image: string; why: string }[] = [];
    if (needsDevicePlugin(input.gpuNodeGroups)) {
        needs.push({ image: NVIDIA_DEVICE_PLUGIN_IMAGE, why: "the NVIDIA device plugin of the AL2023 GPU node groups" });
    }
    const triton = input.models.filter((m) => m.backend === "kserve" && KSERVE_RUNTIMES[m.modelFormat] === "tritonserver");
    if (triton.length > 0) {
        needs.push({ image: KSERVE_RUNTIME_IMAGES.tritonserver, why: `KServe's Triton runtime (models ${triton.map((m) => m.name).join(", ")})` });
    }
    return needs;
}

export function platformImageReport(input: PlatformImagesInput, paths: ProblemPaths): PlatformImageReport {
    const problems: PropertyProblem[] = [];
    const warnings: string[] = [];
    const cache = input.imageCache;
    const prod = profileOf(input.environment).refuseSecurityOptOuts;
    if (!cache?.dockerHubSecretArn) {
        const reason = "pulls Docker Hub images (Istio, KServe, TF Serving) anonymously, and Docker Hub allows only a few anonymous pulls per hour per address: a scale-out behind one NAT gateway ends in ImagePullBackOff; create a Secrets Manager secret named ecr-pullthroughcache/<name> with a Docker Hub username and accessToken and set its ARN here";
        if (prod) {
            problems.push({ path: `${paths.cluster}imageCache.dockerHubSecretArn`, value: undefined, reason: `is required in ${input.environment}: without it the platform ${reason}` });
        } else {
            warnings.push(`\`${paths.cluster}imageCache.dockerHubSecretArn\` is unset: the platform ${reason}`);
        }
    }
    for (const { image, why } of uncacheableImages(input)) {
        if (cache?.mirrors?.[image]) {
            continue;
        }
        const reason = `has no copy of ${image}, which ${why} needs: nvcr.io is not an upstream ECR's pull-through cache supports, so the image would be pulled from the internet by tag; copy it into a private ECR repository and add "${image}": "<account>.dkr.ecr.<region>.amazonaws.com/<repository>"`;
        if (prod) {
            problems.push({ path: `${paths.cluster}imageCache.mirrors`, value: cache?.mirrors ?? {}, reason: `${reason} (required in ${input.environment})` });
        } else {
            warnings.push(`\`${paths.cluster}imageCache.mirrors\` ${reason}`);
        }
    }
    const privateImages: string[] = [];
    input.models.forEach((model, i) => {
        // An image that does not parse is the model checks' to report.
        if (model.backend !== "tfserving" || model.image === undefined || !parseImage(model.image)) {
            return;
        }
        const problem = imageSourceProblem(model.image, cache);
        if (problem) {
            problems.push({ path: `${paths.models}[${i}].image`, value: model.image, reason: problem });
        } else if (PRIVATE_ECR_HOST.test(parseImage(model.image)?.registry ?? "")) {
            privateImages.push(model.image);
        }
    });
    return { problems, warnings, privateImages };
}
