import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
    CACHED_UPSTREAMS, cachedUpstreams, cachePrefix, parseImage, PRIVATE_ECR_HOST, upstreamPrefix, type ImageCacheSpec, type ImageRegistry,
} from "../images";
import type { PolicyDocument } from "./irsaServiceAccount";
import { repositoryArn } from "./clusterAccess";

const EKS_DEFAULT_ACCOUNT = "602401143452";

/**
 * The ECR accounts that host the images of the EKS add-ons (vpc-cni, kube-proxy, coredns, the pod
 * identity agent) and the pause image, for every region mlmesh runs in. Nodes may pull from
 * exactly these, so a region missing here is refused rather than guessed.
 * @see https://docs.aws.amazon.com/eks/latest/userguide/add-ons-images.html
 */
export const EKS_IMAGE_ACCOUNTS: Readonly<Record<string, string>> = {
    ...Object.fromEntries([
        "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1", "ap-southeast-2", "ca-central-1", "eu-central-1",
        "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
    ].map((region) => [region, EKS_DEFAULT_ACCOUNT])),
    // ap-east-2 is left out: AWS's page gives its registry host as `533267051163.dkr.ecr.ap-east-1`,
    // which may be a typo or a cross-region registry; refused until a pull confirms which.
    "af-south-1": "877085696533", "ap-east-1": "800184023465", "ap-south-2": "900889452093",
    "ap-southeast-3": "296578399912", "ap-southeast-4": "491585149902", "ap-southeast-5": "151610086707", "ap-southeast-6": "333609536671",
    "ap-southeast-7": "121268973566", "ca-west-1": "761377655185", "eu-central-2": "900612956339", "eu-south-1": "590381155156",
    "eu-south-2": "455263428931", "il-central-1": "066635153087", "me-central-1": "759879836304", "me-south-1": "558608220178",
    "cn-north-1": "918309763551", "cn-northwest-1": "961992271922", "us-gov-east-1": "151742754352", "us-gov-west-1": "013241004608",
};

/** Why mlmesh cannot run nodes in `region`, or undefined. */
export function eksImageRegionProblem(region: string): string | undefined {
    return EKS_IMAGE_ACCOUNTS[region] ? undefined
        : `is a region whose ECR account for EKS add-on images mlmesh does not know (nodes may pull only from known registries); add it to EKS_IMAGE_ACCOUNTS in components/cluster/imageCache.ts from https://docs.aws.amazon.com/eks/latest/userguide/add-ons-images.html`;
}

/**
 * The ECR accounts of Bottlerocket's host containers (the control container that runs the SSM
 * agent), by region (bottlerocket-os/bottlerocket:sources/api/schnauzer/src/helpers.rs, ECR_MAP):
 * 328549459982 in the regions listed with it there, and for any region not in that map,
 * 328549459982 in us-east-1, Bottlerocket's fallback.
 */
export const BOTTLEROCKET_IMAGE_ACCOUNTS: Readonly<Record<string, string>> = {
    "af-south-1": "917644944286", "ap-east-1": "375569722642", "ap-south-2": "764716012617", "ap-southeast-3": "386774335080",
    "ap-southeast-4": "731751899352", "ap-southeast-5": "851725293737", "ca-west-1": "253897149516", "cn-north-1": "183470599484",
    "cn-northwest-1": "183901325759", "eu-central-2": "861738308508", "eu-south-1": "586180183710", "eu-south-2": "620625777247",
    "il-central-1": "288123944683", "me-central-1": "553577323255", "me-south-1": "509306038620", "us-gov-east-1": "388230364387",
    "us-gov-west-1": "347163068887",
};
export const DEFAULT_BOTTLEROCKET_IMAGE_ACCOUNT = "328549459982";
const BOTTLEROCKET_DEFAULT_REGIONS = new Set([
    "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1", "ap-southeast-2", "ca-central-1", "eu-central-1",
    "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
]);

/** The repositories Bottlerocket pulls its host containers from in `region`. */
function bottlerocketRepositories(partition: string, region: string): string {
    const account = BOTTLEROCKET_IMAGE_ACCOUNTS[region];
    return account ? `arn:${partition}:ecr:${region}:${account}:repository/*`
        : `arn:${partition}:ecr:${BOTTLEROCKET_DEFAULT_REGIONS.has(region) ? region : "us-east-1"}:${DEFAULT_BOTTLEROCKET_IMAGE_ACCOUNT}:repository/*`;
}

/** What nodes do with a repository when they pull from it. */
export const ECR_PULL_ACTIONS = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"] as const;
/** What the first pull of an image through the cache needs besides (ECR imports it into a new repository). */
export const ECR_CACHE_IMPORT_ACTIONS = ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"] as const;

export interface NodeImagePolicyInputs {
    readonly partition: string;
    readonly region: string;
    readonly accountId: string;
    /** The cluster's cache prefix (`mlmesh-<hash>`). */
    readonly cachePrefix: string;
    /** Images in private ECR the cluster's workloads run (models' own images, mirrors). */
    readonly privateImages: readonly string[];
    /** Whole repositories (or `prefix/*`) app teams run images from. @default [] */
    readonly repositories?: readonly string[];
}

/** The repository ARN of an image in private ECR, or undefined. */
export function privateRepositoryArn(image: string, partition: string): string | undefined {
    const ref = parseImage(image);
    const host = ref && PRIVATE_ECR_HOST.exec(ref.registry);
    return host ? `arn:${partition}:ecr:${host[2]}:${host[1]}:repository/${ref.repository}` : undefined;
}

/**
 * What nodes may pull, and nothing else: the cluster's cache repositories (and importing into
 * them on a first pull), the private repositories its workloads name, and the AWS accounts
 * that serve the EKS add-ons and Bottlerocket's host containers. This replaces
 * AmazonEC2ContainerRegistryReadOnly, which lets nodes read every repository in the account
 * and lacks the cache's import permission.
 * @see https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-iam.html
 */
export function nodeImagePolicy(inputs: NodeImagePolicyInputs): PolicyDocument {
    const regionProblem = eksImageRegionProblem(inputs.region);
    if (regionProblem) {
        throw new Error(`${inputs.region} ${regionProblem}`);
    }
    const ecr = (account: string, repository: string) => `arn:${inputs.partition}:ecr:${inputs.region}:${account}:repository/${repository}`;
    const privateRepos = [...new Set([
        ...inputs.privateImages.map((image) => privateRepositoryArn(image, inputs.partition)),
        ...(inputs.repositories ?? []).map((repository) => repositoryArn(repository, inputs.partition)),
    ].filter((arn): arn is string => arn !== undefined))].sort();
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "RegistryLogin", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
            { Sid: "PullThroughTheCache", Effect: "Allow", Action: [...ECR_PULL_ACTIONS, ...ECR_CACHE_IMPORT_ACTIONS], Resource: ecr(inputs.accountId, `${inputs.cachePrefix}/*`) },
            {
                Sid: "PullAwsAndWorkloadImages",
                Effect: "Allow",
                Action: [...ECR_PULL_ACTIONS],
                Resource: [
                    ecr(EKS_IMAGE_ACCOUNTS[inputs.region], "*"),
                    bottlerocketRepositories(inputs.partition, inputs.region),
                    ...privateRepos,
                ],
            },
        ],
    };
}

export interface ImageCacheArgs {
    clusterName: string;
    cache?: ImageCacheSpec;
    tags?: Record<string, string>;
}

/**
 * One ECR pull-through cache rule per upstream registry, under a prefix of the cluster's own.
 * `registry` resolves once the rules exist, so everything that renders an image from it is
 * created after them.
 */
export class ImageCache extends pulumi.ComponentResource {
    public readonly registry: pulumi.Output<ImageRegistry>;
    public readonly prefix: string;

    constructor(name: string, args: ImageCacheArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlmesh:cluster:ImageCache", name, {}, opts);
        this.prefix = cachePrefix(args.clusterName);
        const upstreams = cachedUpstreams(args.cache);
        const rules = upstreams.map((registry) => {
            const upstream = CACHED_UPSTREAMS[registry];
            return new aws.ecr.PullThroughCacheRule(`${name}-${upstream.prefix}`, {
                ecrRepositoryPrefix: upstreamPrefix(this.prefix, registry),
                upstreamRegistryUrl: upstream.upstreamRegistryUrl,
                ...(upstream.credential ? { credentialArn: args.cache?.[upstream.credential] } : {}),
            }, { parent: this });
        });
        const region = aws.getRegionOutput({}, { parent: this }).region;
        const dnsSuffix = aws.getPartitionOutput({}, { parent: this }).dnsSuffix;
        this.registry = pulumi.all([rules.map((rule) => rule.registryId), region, dnsSuffix]).apply(([registryIds, r, suffix]) => ({
            host: `${registryIds[0]}.dkr.ecr.${r}.${suffix}`,
            prefix: this.prefix,
            cached: upstreams,
            mirrors: { ...args.cache?.mirrors },
        }));
        this.registerOutputs({ registry: this.registry, prefix: this.prefix });
    }
}
