/**
 * Every image the plan would pull, and where from: the Kubernetes manifests' pod templates and
 * the images each Helm release renders from its values. An image is fine when it comes through
 * one of the plan's ECR pull-through cache rules, from private ECR, or by digest. Docker Hub
 * without a cache rule and nvcr.io without a mirror are the stack's stated opt-outs (warnings);
 * any other upstream reference is an image mlmesh forgot to route (a problem).
 */
import { CACHED_UPSTREAMS, parseImage, PINNED_DIGESTS, PRIVATE_ECR_HOST } from "../components/images";
import { chartImages } from "./chartImages";
import { chartOf, podTemplateOf } from "./manifests";
import type { RecordedResource } from "./recorder";

export interface ImageUse {
    readonly image: string;
    /** The resource that renders it. */
    readonly where: string;
    readonly source: "cache" | "private-ecr" | "digest" | "upstream";
}

export interface ImageReport {
    readonly uses: readonly ImageUse[];
    /** Upstream references the stack's settings explain (no Docker Hub credentials, no nvcr.io mirror). */
    readonly warnings: readonly ImageUse[];
    /** Upstream references nothing explains. */
    readonly problems: readonly ImageUse[];
    /** Images pulled through the cache by tag whose upstream digest is published: check the cached copy against it. */
    readonly digestsToVerify: readonly { readonly image: string; readonly digest: string }[];
}

/** The upstream `registry/repository:tag` a cached image stands for, or undefined. */
function upstreamOf(image: string, cachePrefixes: readonly string[]): string | undefined {
    const ref = parseImage(image);
    const prefix = ref && cachePrefixes.find((p) => ref.repository.startsWith(p));
    if (!ref || !prefix || !ref.tag) {
        return undefined;
    }
    const upstream = Object.entries(CACHED_UPSTREAMS).find(([, u]) => prefix.endsWith(`/${u.prefix}/`))?.[0];
    return upstream && `${upstream}/${ref.repository.slice(prefix.length)}:${ref.tag}`;
}

type PodSpec = { containers?: { image?: unknown }[]; initContainers?: { image?: unknown }[] };

/** The images a resource names. */
function imagesOf(resource: RecordedResource): string[] {
    const chart = chartOf(resource);
    if (chart !== undefined) {
        const version = typeof resource.inputs.version === "string" ? resource.inputs.version : undefined;
        return chartImages(chart, (resource.inputs.values ?? {}) as Record<string, unknown>, version) ?? [];
    }
    const pod = podTemplateOf(resource)?.spec as PodSpec | undefined;
    return [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])].flatMap((c) => (typeof c.image === "string" ? [c.image] : []));
}

export function imageReport(resources: readonly RecordedResource[]): ImageReport {
    const rules = resources.filter((r) => r.type === "aws:ecr/pullThroughCacheRule:PullThroughCacheRule");
    const cachePrefixes = rules.map((r) => `${r.inputs.ecrRepositoryPrefix}/`);
    const dockerHubCached = rules.some((r) => r.inputs.upstreamRegistryUrl === "registry-1.docker.io");
    const uses = resources.flatMap((resource) => imagesOf(resource).map((image): ImageUse => {
        const ref = parseImage(image);
        const host = ref && PRIVATE_ECR_HOST.test(ref.registry);
        const source = !ref ? "upstream"
            : host && cachePrefixes.some((prefix) => ref.repository.startsWith(prefix)) ? "cache"
            : host ? "private-ecr"
            : ref.digest ? "digest"
            : "upstream";
        return { image, where: `${resource.type} ${resource.name}`, source };
    }));
    const upstream = uses.filter((use) => use.source === "upstream");
    const explained = (use: ImageUse) => {
        const registry = parseImage(use.image)?.registry;
        return (registry === "docker.io" && !dockerHubCached) || registry === "nvcr.io";
    };
    const digestsToVerify = [...new Set(uses.filter((use) => use.source === "cache").map((use) => use.image))].flatMap((image) => {
        const digest = PINNED_DIGESTS[upstreamOf(image, cachePrefixes) ?? ""];
        return digest ? [{ image, digest }] : [];
    });
    return { uses, warnings: upstream.filter(explained), problems: upstream.filter((use) => !explained(use)), digestsToVerify };
}
