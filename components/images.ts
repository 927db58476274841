/**
 * Where every container image comes from. Docker Hub allows a handful of anonymous pulls per
 * hour per address and every node leaves through the same NAT gateways, so a GPU scale-out
 * pulling from it ends in ImagePullBackOff. mlmesh serves each image through an ECR pull-through
 * cache rule it creates per upstream registry, uses an image already in private ECR as it is,
 * and takes images from registries ECR cannot cache (nvcr.io) from a private mirror the stack
 * names. Pure: the cluster creates the rules, every chart value and manifest asks here.
 * @see https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache.html
 */
import { shortHash } from "./names";

/** The credential setting a cached upstream needs (ECR reads it from Secrets Manager). */
export type CacheCredential = "dockerHubSecretArn" | "githubSecretArn";

export interface CachedUpstream {
    /** The last segment of the cache's repository prefix. */
    readonly prefix: string;
    /** `upstreamRegistryUrl` of the pull-through cache rule. */
    readonly upstreamRegistryUrl: string;
    /** ECR's cache refuses these upstreams without credentials. */
    readonly credential?: CacheCredential;
}

/**
 * The upstream registries ECR's pull-through cache supports that mlmesh uses or accepts for
 * model images. nvcr.io, gcr.io and registry.istio.io are not among ECR's upstreams.
 */
export const CACHED_UPSTREAMS: Readonly<Record<string, CachedUpstream>> = {
    "docker.io": { prefix: "docker-hub", upstreamRegistryUrl: "registry-1.docker.io", credential: "dockerHubSecretArn" },
    "quay.io": { prefix: "quay", upstreamRegistryUrl: "quay.io" },
    "registry.k8s.io": { prefix: "k8s", upstreamRegistryUrl: "registry.k8s.io" },
    "public.ecr.aws": { prefix: "ecr-public", upstreamRegistryUrl: "public.ecr.aws" },
    "ghcr.io": { prefix: "ghcr", upstreamRegistryUrl: "ghcr.io", credential: "githubSecretArn" },
};

/** What a stack says about the image cache (`mlmesh:cluster.imageCache`). */
export interface ImageCacheSpec {
    /**
     * Secrets Manager secret (name starting `ecr-pullthroughcache/`, keys `username` and
     * `accessToken`) of a Docker Hub account for the cache. Required in prod; without it Docker
     * Hub images are pulled anonymously, straight from Docker Hub.
     */
    dockerHubSecretArn?: string;
    /** The same for ghcr.io, which ECR's cache reaches only with credentials. @default none: no ghcr.io images */
    githubSecretArn?: string;
    /**
     * Private ECR repositories holding copies of images from registries ECR cannot cache,
     * keyed by the upstream repository: `{ "nvcr.io/nvidia/k8s-device-plugin": "123456789012.dkr.ecr.us-west-2.amazonaws.com/mirror/k8s-device-plugin" }`.
     * The image keeps its tag. @default {}
     */
    mirrors?: Record<string, string>;
}

/** The upstreams a cache serves: those that need no credentials, and the others once the stack gives theirs. */
export function cachedUpstreams(cache: ImageCacheSpec | undefined): string[] {
    return Object.entries(CACHED_UPSTREAMS).filter(([, upstream]) => !upstream.credential || cache?.[upstream.credential] !== undefined).map(([registry]) => registry);
}

/** A parsed image reference, with Docker Hub's implicit registry and `library/` made explicit. */
export interface ImageRef {
    readonly registry: string;
    readonly repository: string;
    readonly tag?: string;
    readonly digest?: string;
}

const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const REFERENCE = new RegExp(`^(?:([a-zA-Z0-9.-]+(?::\\d+)?)/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::([\\w][\\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$`);

/** Parses an image reference as a container runtime does; undefined when it is not one. */
export function parseImage(reference: string): ImageRef | undefined {
    const match = REFERENCE.exec(reference);
    if (!match) {
        return undefined;
    }
    const [, first, rest, tag, digest] = match;
    // The first segment names a registry only if it looks like a host (a dot, a port or localhost).
    const isHost = first !== undefined && (/[.:]/.test(first) || first === "localhost");
    const registry = isHost ? first : "docker.io";
    const path = isHost ? rest : first !== undefined ? `${first}/${rest}` : rest;
    const repository = registry === "docker.io" && !path.includes("/") ? `library/${path}` : path;
    return { registry, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

export function formatImage(ref: ImageRef): string {
    return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}

/** A private ECR registry host: `<account>.dkr.ecr.<region>.amazonaws.com`. */
export const PRIVATE_ECR_HOST = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/;

/**
 * The image cache as components see it once the account is known: the registry host, the
 * repository prefix of this cluster's rules, which upstreams have a rule, and the mirrors.
 */
export interface ImageRegistry {
    /** `<account>.dkr.ecr.<region>.amazonaws.com` */
    readonly host: string;
    /** The cluster's prefix, e.g. `mlmesh-1a2b3c4d`; each upstream's rule adds `/<upstream prefix>`. */
    readonly prefix: string;
    /** Upstream registries (`docker.io`, `quay.io`, ...) that have a rule. */
    readonly cached: readonly string[];
    readonly mirrors: Readonly<Record<string, string>>;
}

/**
 * The repository prefix of a cluster's cache rules. Rules are per account and region, so two
 * clusters there each get their own; at most 30 characters with the upstream's prefix.
 */
export function cachePrefix(clusterName: string): string {
    return `mlmesh-${shortHash(clusterName)}`;
}

/** The rule prefix (`ecrRepositoryPrefix`) for one upstream. */
export function upstreamPrefix(clusterPrefix: string, upstream: string): string {
    return `${clusterPrefix}/${CACHED_UPSTREAMS[upstream].prefix}`;
}

/** How an image reaches the nodes. */
export type ImageSource = "cache" | "private-ecr" | "mirror" | "upstream";

/** Where a reference is pulled from, and the reference nodes pull. */
export function resolveImage(reference: string, registry: ImageRegistry): { source: ImageSource; image: string } {
    const ref = parseImage(reference);
    if (!ref) {
        throw new Error(`${reference} is not an image reference`);
    }
    if (PRIVATE_ECR_HOST.test(ref.registry)) {
        return { source: "private-ecr", image: reference };
    }
    const mirror = registry.mirrors[`${ref.registry}/${ref.repository}`];
    if (mirror) {
        return { source: "mirror", image: `${mirror}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}` };
    }
    if (registry.cached.includes(ref.registry)) {
        return { source: "cache", image: formatImage({ ...ref, registry: `${registry.host}/${upstreamPrefix(registry.prefix, ref.registry)}` }) };
    }
    return { source: "upstream", image: formatImage(ref) };
}

/** The reference nodes pull for `reference`. */
export function cachedImage(reference: string, registry: ImageRegistry): string {
    return resolveImage(reference, registry).image;
}

/** The registry-and-namespace part for a chart that takes a registry (e.g. `quay.io`) and builds the rest itself. */
export function cachedRegistry(upstream: string, registry: ImageRegistry): string {
    return registry.cached.includes(upstream) ? `${registry.host}/${upstreamPrefix(registry.prefix, upstream)}` : upstream;
}

/**
 * Digests published upstream for the images mlmesh pins, beside their tags. Only digests read
 * from a public source are here: the Kubernetes image promoter's manifest
 * (kubernetes/k8s.io:registry.k8s.io/images/k8s-staging-autoscaling/images.yaml), multi-arch
 * index digests. cert-manager, Istio, KServe, NVIDIA and TF Serving publish none in a source
 * mlmesh can read. ECR's cache cannot fill on a first pull by digest, even with the tag beside
 * it (aws/containers-roadmap#2837), so an image served through the cache is pulled by its tag;
 * the digest is used where the image is pulled from its registry, and `mlmesh plan` lists it
 * for checking the cached copy (`crane digest`).
 */
export const PINNED_DIGESTS: Readonly<Record<string, string>> = {
    "registry.k8s.io/autoscaling/cluster-autoscaler:v1.32.0": "sha256:656d21dacb015b8ccfdaec5047963499c10ad6e2598a29c450138c75d533010c",
    "registry.k8s.io/autoscaling/cluster-autoscaler:v1.33.0": "sha256:6ef10d108e0e45ecd883e074682330bbd4a3403e767ad56804800f2f4ee816da",
};

/** `tag@digest` where a digest is pinned for `repository:tag` and the image is not served through the cache, else the tag. */
export function pinnedTag(repository: string, tag: string, registry: ImageRegistry): string {
    const digest = PINNED_DIGESTS[`${repository}:${tag}`];
    return digest && resolveImage(repository, registry).source !== "cache" ? `${tag}@${digest}` : tag;
}

/** Why an image cannot be served as configured, or undefined. */
export function imageSourceProblem(reference: string, cache: ImageCacheSpec | undefined): string | undefined {
    const ref = parseImage(reference);
    if (!ref) {
        return "is not an image reference";
    }
    if (PRIVATE_ECR_HOST.test(ref.registry) || cache?.mirrors?.[`${ref.registry}/${ref.repository}`]) {
        return undefined;
    }
    const upstream = CACHED_UPSTREAMS[ref.registry];
    if (cachedUpstreams(cache).includes(ref.registry) && ref.digest) {
        return `is pinned by digest, and ECR's pull-through cache cannot fill on a first pull by digest, even with a tag beside it (aws/containers-roadmap#2837); reference it by tag, or copy it into a private ECR repository and pin the digest there`;
    }
    if (!upstream) {
        return `comes from ${ref.registry}, which ECR's pull-through cache cannot serve; copy it into a private ECR repository and use that, or name the copy in mlmesh:cluster.imageCache.mirrors["${ref.registry}/${ref.repository}"]`;
    }
    if (upstream.credential === "githubSecretArn" && !cache?.githubSecretArn) {
        return `comes from ${ref.registry}, which ECR's cache reaches only with credentials; set mlmesh:cluster.imageCache.githubSecretArn or use a private ECR copy`;
    }
    return undefined;
}

/** ECR's `credentialArn` pattern: the commercial partition only, and a name under ecr-pullthroughcache/. */
const SECRET_ARN = /^arn:aws:secretsmanager:([a-z0-9-]+):\d{12}:secret:ecr-pullthroughcache\/[\w/+=.@-]+$/;

/**
 * Why ECR's pull-through cache cannot serve a stack in `region`, or undefined: rules are not
 * available in the China and GovCloud regions
 * (https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache.html, Considerations).
 */
export function imageCacheRegionProblem(region: string): string | undefined {
    return /^(cn|us-gov|us-iso[a-z]?)-/.test(region)
        ? "is a region where ECR has no pull-through cache, which mlmesh serves every image through; deploy to a commercial AWS region"
        : undefined;
}
const MIRROR_TARGET = new RegExp(`^\\d{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/${PATH_COMPONENT}(/${PATH_COMPONENT})*$`);

const SECRET_FIELDS = ["dockerHubSecretArn", "githubSecretArn"] as const;

/** Credentials secrets outside the stack's region: ECR's cache reads them only from its own region. */
export function secretRegionProblems(cache: ImageCacheSpec | undefined, region: string): { field: string; value: unknown; reason: string }[] {
    return SECRET_FIELDS.flatMap((field) => {
        const arn = cache?.[field];
        const secretRegion = arn === undefined ? undefined : SECRET_ARN.exec(arn)?.[1];
        return secretRegion !== undefined && secretRegion !== region
            ? [{ field, value: arn, reason: `is a secret in ${secretRegion}; ECR's cache reads its credentials only from the same region as the stack (${region}), so create the secret there` }]
            : [];
    });
}

/** Problems with the image cache settings, each with the field it is on. */
export function imageCacheProblems(cache: ImageCacheSpec | undefined): { field: string; value: unknown; reason: string }[] {
    const problems: { field: string; value: unknown; reason: string }[] = [];
    for (const field of SECRET_FIELDS) {
        const arn = cache?.[field];
        if (arn !== undefined && !SECRET_ARN.test(arn)) {
            problems.push({ field, value: arn, reason: "must be the ARN of a Secrets Manager secret whose name starts with ecr-pullthroughcache/ (ECR's cache reads only those), e.g. arn:aws:secretsmanager:us-west-2:123456789012:secret:ecr-pullthroughcache/docker-hub" });
        }
    }
    for (const [source, target] of Object.entries(cache?.mirrors ?? {})) {
        const ref = parseImage(source);
        if (!ref || ref.tag || ref.digest || formatImage(ref) !== source) {
            problems.push({ field: `mirrors["${source}"]`, value: source, reason: "must be an upstream repository with its registry and no tag, e.g. nvcr.io/nvidia/k8s-device-plugin" });
        }
        if (!MIRROR_TARGET.test(target)) {
            problems.push({ field: `mirrors["${source}"]`, value: target, reason: "must be a private ECR repository without a tag, e.g. 123456789012.dkr.ecr.us-west-2.amazonaws.com/mirror/k8s-device-plugin" });
        }
    }
    return problems;
}
