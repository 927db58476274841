import * as assert from "node:assert/strict";
import {
    cachedImage, cachedRegistry, cachePrefix, CACHED_UPSTREAMS, imageCacheProblems, imageSourceProblem, parseImage, pinnedTag, resolveImage, upstreamPrefix,
    type ImageRef, type ImageSource,
} from "../../components/images";
import { cachedUnder, TEST_IMAGES } from "./fixtures/images";

describe("parseImage", () => {
    const cases: [string, ImageRef | undefined][] = [
        ["tensorflow/serving:2.20.0-gpu", { registry: "docker.io", repository: "tensorflow/serving", tag: "2.20.0-gpu" }],
        // Docker Hub official images live under library/ (the cache needs the prefix spelled out).
        ["busybox:1.36", { registry: "docker.io", repository: "library/busybox", tag: "1.36" }],
        ["docker.io/istio/proxyv2:1.30.3", { registry: "docker.io", repository: "istio/proxyv2", tag: "1.30.3" }],
        ["quay.io/jetstack/cert-manager-controller:v1.21.1", { registry: "quay.io", repository: "jetstack/cert-manager-controller", tag: "v1.21.1" }],
        ["registry.k8s.io/autoscaling/cluster-autoscaler:v1.33.0@sha256:6ef10d108e0e45ecd883e074682330bbd4a3403e767ad56804800f2f4ee816da",
            { registry: "registry.k8s.io", repository: "autoscaling/cluster-autoscaler", tag: "v1.33.0", digest: "sha256:6ef10d108e0e45ecd883e074682330bbd4a3403e767ad56804800f2f4ee816da" }],
        ["123456789012.dkr.ecr.us-west-2.amazonaws.com/ml/fraud:1.4.2", { registry: "123456789012.dkr.ecr.us-west-2.amazonaws.com", repository: "ml/fraud", tag: "1.4.2" }],
        ["localhost:5000/model", { registry: "localhost:5000", repository: "model" }],
        ["kserve/storage-initializer", { registry: "docker.io", repository: "kserve/storage-initializer" }],
        ["Tensorflow/Serving:1", undefined],
        ["tensorflow/serving:", undefined],
        ["tensorflow/serving@sha256:abc", undefined],
    ];
    for (const [reference, expected] of cases) {
        it(`${expected ? "parses" : "refuses"} ${reference}`, () => assert.deepEqual(parseImage(reference), expected));
    }
});

describe("resolveImage through the test cluster's cache", () => {
    const cases: [string, ImageSource, string][] = [
        ["tensorflow/serving:2.20.0", "cache", `${cachedUnder("docker-hub")}tensorflow/serving:2.20.0`],
        ["busybox:1.36", "cache", `${cachedUnder("docker-hub")}library/busybox:1.36`],
        ["quay.io/brancz/kube-rbac-proxy:v0.18.0", "cache", `${cachedUnder("quay")}brancz/kube-rbac-proxy:v0.18.0`],
        ["public.ecr.aws/aws-observability/aws-sigv4-proxy:1.11.1", "cache", `${cachedUnder("ecr-public")}aws-observability/aws-sigv4-proxy:1.11.1`],
        ["registry.k8s.io/metrics-server/metrics-server", "cache", `${cachedUnder("k8s")}metrics-server/metrics-server`],
        ["123456789012.dkr.ecr.us-west-2.amazonaws.com/ml/fraud:1.4.2", "private-ecr", "123456789012.dkr.ecr.us-west-2.amazonaws.com/ml/fraud:1.4.2"],
        ["nvcr.io/nvidia/k8s-device-plugin:v0.18.2", "mirror", "123456789012.dkr.ecr.us-west-2.amazonaws.com/mirror/k8s-device-plugin:v0.18.2"],
        // No rule for ghcr.io in the test cache (no credentials): the reference stays as it is.
        ["ghcr.io/org/server:1.0", "upstream", "ghcr.io/org/server:1.0"],
        ["gcr.io/project/server:1.0", "upstream", "gcr.io/project/server:1.0"],
    ];
    for (const [reference, source, image] of cases) {
        it(`serves ${reference} from ${source}`, () => assert.deepEqual(resolveImage(reference, TEST_IMAGES), { source, image }));
    }
    it("keeps a digest when it routes an image through the cache", () => {
        const digest = "sha256:6ef10d108e0e45ecd883e074682330bbd4a3403e767ad56804800f2f4ee816da";
        assert.equal(cachedImage(`registry.k8s.io/autoscaling/cluster-autoscaler:v1.33.0@${digest}`, TEST_IMAGES), `${cachedUnder("k8s")}autoscaling/cluster-autoscaler:v1.33.0@${digest}`);
    });
    it("names an upstream's registry for charts that build image names themselves, or the upstream when it has no rule", () => {
        assert.deepEqual([cachedRegistry("quay.io", TEST_IMAGES), cachedRegistry("ghcr.io", TEST_IMAGES)], [cachedUnder("quay").slice(0, -1), "ghcr.io"]);
    });
});

describe("cache rule prefixes", () => {
    it("fit ECR's 30-character limit for every upstream, whatever the cluster name", () => {
        for (const upstream of Object.keys(CACHED_UPSTREAMS)) {
            const prefix = upstreamPrefix(cachePrefix("a".repeat(100)), upstream);
            assert.ok(prefix.length >= 2 && prefix.length <= 30, `${prefix} has ${prefix.length} characters`);
            assert.match(prefix, /^((?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*\/?)$/);
        }
    });
    it("differ between clusters, so two clusters in one account and region never share a rule", () => {
        assert.notEqual(cachePrefix("mlmesh-dev"), cachePrefix("mlmesh-staging"));
    });
});

describe("pinnedTag", () => {
    const direct = { ...TEST_IMAGES, cached: [] };
    it("adds the digest the image promoter published for the autoscaler's v1.33.0 where the image is pulled from its registry", () => {
        assert.equal(pinnedTag("registry.k8s.io/autoscaling/cluster-autoscaler", "v1.33.0", direct), "v1.33.0@sha256:6ef10d108e0e45ecd883e074682330bbd4a3403e767ad56804800f2f4ee816da");
    });
    it("keeps the tag alone through the cache, which cannot fill on a first pull by digest", () => {
        assert.equal(pinnedTag("registry.k8s.io/autoscaling/cluster-autoscaler", "v1.33.0", TEST_IMAGES), "v1.33.0");
    });
    it("keeps the tag alone where no digest is published", () => assert.equal(pinnedTag("registry.k8s.io/metrics-server/metrics-server", "v0.8.1", direct), "v0.8.1"));
});

describe("imageSourceProblem", () => {
    const cases: [string, Parameters<typeof imageSourceProblem>[1], RegExp | undefined][] = [
        ["tensorflow/serving:2.20.0", {}, undefined],
        ["123456789012.dkr.ecr.us-west-2.amazonaws.com/ml/fraud:1.4.2", {}, undefined],
        ["gcr.io/project/server:1.0", {}, /gcr\.io, which ECR's pull-through cache cannot serve; copy it into a private ECR repository/],
        ["gcr.io/project/server:1.0", { mirrors: { "gcr.io/project/server": "123456789012.dkr.ecr.us-west-2.amazonaws.com/mirror/server" } }, undefined],
        ["ghcr.io/org/server:1.0", {}, /set mlmesh:cluster\.imageCache\.githubSecretArn/],
        ["ghcr.io/org/server:1.0", { githubSecretArn: "arn:aws:secretsmanager:us-west-2:123456789012:secret:ecr-pullthroughcache/github" }, undefined],
        ["tensorflow/serving@sha256:6ef10d108e0e45ecd883e074682330bbd4a3403e767ad56804800f2f4ee816da", { dockerHubSecretArn: "arn:aws:secretsmanager:us-west-2:123456789012:secret:ecr-pullthroughcache/docker-hub" }, /cannot fill on a first pull by digest/],
        ["quay.io/org/server:1.0@sha256:6ef10d108e0e45ecd883e074682330bbd4a3403e767ad56804800f2f4ee816da", {}, /cannot fill on a first pull by digest/],
        // Without Docker Hub credentials the image comes straight from Docker Hub, where a digest works.
        ["tensorflow/serving:2.20.0@sha256:6ef10d108e0e45ecd883e074682330bbd4a3403e767ad56804800f2f4ee816da", {}, undefined],
        ["123456789012.dkr.ecr.us-west-2.amazonaws.com/ml/fraud@sha256:6ef10d108e0e45ecd883e074682330bbd4a3403e767ad56804800f2f4ee816da", {}, undefined],
    ];
    for (const [image, cache, problem] of cases) {
        it(`${problem ? "refuses" : "accepts"} ${image}${cache && Object.keys(cache).length > 0 ? ` with ${Object.keys(cache).join(", ")}` : ""}`, () => {
            const found = imageSourceProblem(image, cache);
            if (problem) {
                assert.match(found ?? "", problem);
            } else {
                assert.equal(found, undefined);
            }
        });
    }
});

describe("imageCacheProblems", () => {
    const SECRET = "arn:aws:secretsmanager:us-west-2:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf";
    const cases: [string, Parameters<typeof imageCacheProblems>[0], string[]][] = [
        ["a Docker Hub secret under ecr-pullthroughcache/", { dockerHubSecretArn: SECRET }, []],
        ["a secret ECR's cache cannot read", { dockerHubSecretArn: "arn:aws:secretsmanager:us-west-2:123456789012:secret:dockerhub" }, ["dockerHubSecretArn"]],
        ["a secret of the GovCloud partition, which has no pull-through cache", { dockerHubSecretArn: "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:ecr-pullthroughcache/docker-hub" }, ["dockerHubSecretArn"]],
        ["a mirror of an upstream repository into private ECR", { mirrors: { "nvcr.io/nvidia/k8s-device-plugin": "123456789012.dkr.ecr.us-west-2.amazonaws.com/mirror/k8s-device-plugin" } }, []],
        ["a mirror keyed by a tagged image", { mirrors: { "nvcr.io/nvidia/k8s-device-plugin:v0.18.2": "123456789012.dkr.ecr.us-west-2.amazonaws.com/mirror/k8s-device-plugin" } }, ["mirrors[\"nvcr.io/nvidia/k8s-device-plugin:v0.18.2\"]"]],
        ["a mirror keyed without its registry", { mirrors: { "nvidia/k8s-device-plugin": "123456789012.dkr.ecr.us-west-2.amazonaws.com/mirror/x" } }, ["mirrors[\"nvidia/k8s-device-plugin\"]"]],
        ["a mirror outside private ECR", { mirrors: { "nvcr.io/nvidia/k8s-device-plugin": "ghcr.io/me/k8s-device-plugin" } }, ["mirrors[\"nvcr.io/nvidia/k8s-device-plugin\"]"]],
    ];
    for (const [what, cache, fields] of cases) {
        it(`${fields.length ? "refuses" : "accepts"} ${what}`, () => assert.deepEqual(imageCacheProblems(cache).map((p) => p.field), fields));
    }
});
