import * as assert from "node:assert/strict";
import { ImageCache, nodeImagePolicy, privateRepositoryArn } from "../../../components/cluster/imageCache";
import { GpuCluster } from "../../../components/cluster/gpuCluster";
import type { ImageRegistry } from "../../../components/images";
import type { RecordedRun } from "../../../offline/recorder";
import { ACCOUNT_ID, decide, type AwsCall, type Decision } from "../../iamSimulation";
import { recordOffline } from "../../offline/fixtures/offlineRun";

const REGION = "us-west-2";
const PREFIX = "mlmesh-1a2b3c4d";
const MODEL_IMAGE = `${ACCOUNT_ID}.dkr.ecr.${REGION}.amazonaws.com/ml/fraud:1.4.2`;
const MIRROR = `${ACCOUNT_ID}.dkr.ecr.${REGION}.amazonaws.com/mirror/nvidia/k8s-device-plugin`;
const policy = nodeImagePolicy({ partition: "aws", region: REGION, accountId: ACCOUNT_ID, cachePrefix: PREFIX, privateImages: [MODEL_IMAGE, MIRROR] });

const repository = (account: string, name: string) => `arn:aws:ecr:${REGION}:${account}:repository/${name}`;
/** One call containerd or ECR's cache makes for a node pulling an image (docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-iam.html). */
const call = (action: string, resource: string): AwsCall => ({ api: action.replace("ecr:", ""), action, resource, source: "https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-pull.html" });

describe("nodeImagePolicy, judged by the IAM evaluator", () => {
    const cases: [string, AwsCall, Decision][] = [
        ["logs in to the registry", call("ecr:GetAuthorizationToken", "*"), "Allowed"],
        ["pulls a cached Docker Hub image", call("ecr:BatchGetImage", repository(ACCOUNT_ID, `${PREFIX}/docker-hub/istio/proxyv2`)), "Allowed"],
        ["downloads its layers", call("ecr:GetDownloadUrlForLayer", repository(ACCOUNT_ID, `${PREFIX}/quay/jetstack/cert-manager-controller`)), "Allowed"],
        ["imports an image on its first pull through the cache", call("ecr:BatchImportUpstreamImage", repository(ACCOUNT_ID, `${PREFIX}/k8s/metrics-server/metrics-server`)), "Allowed"],
        ["creates the cache repository on its first pull", call("ecr:CreateRepository", repository(ACCOUNT_ID, `${PREFIX}/docker-hub/kserve/storage-initializer`)), "Allowed"],
        ["pulls a model's own image from private ECR", call("ecr:BatchGetImage", repository(ACCOUNT_ID, "ml/fraud")), "Allowed"],
        ["pulls the device plugin's mirror", call("ecr:BatchGetImage", repository(ACCOUNT_ID, "mirror/nvidia/k8s-device-plugin")), "Allowed"],
        ["pulls the EKS add-on images (vpc-cni, coredns, ...)", call("ecr:BatchGetImage", repository("602401143452", "amazon-k8s-cni")), "Allowed"],
        ["pulls Bottlerocket's control container", call("ecr:BatchGetImage", repository("328549459982", "bottlerocket-control")), "Allowed"],
        ["reads another repository of the account", call("ecr:BatchGetImage", repository(ACCOUNT_ID, "payments/ledger")), "ImplicitlyDenied"],
        ["reads another cluster's cache", call("ecr:BatchGetImage", repository(ACCOUNT_ID, "mlmesh-99999999/docker-hub/istio/proxyv2")), "ImplicitlyDenied"],
        ["creates a repository outside the cache", call("ecr:CreateRepository", repository(ACCOUNT_ID, "ml/fraud-copy")), "ImplicitlyDenied"],
        ["imports upstream images into a private repository", call("ecr:BatchImportUpstreamImage", repository(ACCOUNT_ID, "ml/fraud")), "ImplicitlyDenied"],
        ["pushes to the cache", call("ecr:PutImage", repository(ACCOUNT_ID, `${PREFIX}/docker-hub/istio/proxyv2`)), "ImplicitlyDenied"],
    ];
    for (const [what, request, expected] of cases) {
        it(`${expected === "Allowed" ? "lets a node" : "keeps a node from"} ${what}`, async () => assert.equal(await decide(policy, request), expected));
    }

    it("uses the EKS registry of ap-southeast-6 and Bottlerocket's us-east-1 fallback there", () => {
        const resources = JSON.stringify(nodeImagePolicy({ partition: "aws", region: "ap-southeast-6", accountId: ACCOUNT_ID, cachePrefix: PREFIX, privateImages: [] }));
        assert.ok(resources.includes("arn:aws:ecr:ap-southeast-6:333609536671:repository/*") && resources.includes("arn:aws:ecr:us-east-1:328549459982:repository/*"), resources);
    });
    it("refuses a region whose EKS image registry mlmesh does not know, rather than guess one nodes could not pull from", () => {
        assert.throws(() => nodeImagePolicy({ partition: "aws", region: "xx-nowhere-1", accountId: ACCOUNT_ID, cachePrefix: PREFIX, privateImages: [] }), /xx-nowhere-1.*EKS_IMAGE_ACCOUNTS/);
    });
    it("uses the region's own EKS and Bottlerocket registries", () => {
        const resources = JSON.stringify(nodeImagePolicy({ partition: "aws", region: "af-south-1", accountId: ACCOUNT_ID, cachePrefix: PREFIX, privateImages: [] }));
        assert.ok(resources.includes("arn:aws:ecr:af-south-1:877085696533:repository/*") && resources.includes("arn:aws:ecr:af-south-1:917644944286:repository/*"), resources);
    });

    it("knows a private ECR image's repository, and nothing of other registries", () => {
        assert.deepEqual([privateRepositoryArn(MODEL_IMAGE, "aws"), privateRepositoryArn("tensorflow/serving:2.20.0", "aws")], [repository(ACCOUNT_ID, "ml/fraud"), undefined]);
    });
});

describe("nodeImagePolicy with app teams' repositories, judged by the IAM evaluator", () => {
    const registry = `${ACCOUNT_ID}.dkr.ecr.${REGION}.amazonaws.com`;
    const teams = nodeImagePolicy({
        partition: "aws", region: REGION, accountId: ACCOUNT_ID, cachePrefix: PREFIX, privateImages: [MODEL_IMAGE],
        repositories: [`${registry}/crm/*`, `${registry}/shared/report-base`],
    });
    const cases: [string, AwsCall, Decision][] = [
        ["pulls a repository under a team's prefix", call("ecr:BatchGetImage", repository(ACCOUNT_ID, "crm/churn-report")), "Allowed"],
        ["downloads the layers of a repository nested deeper under it", call("ecr:GetDownloadUrlForLayer", repository(ACCOUNT_ID, "crm/x/y")), "Allowed"],
        ["pulls a team's exact repository", call("ecr:BatchGetImage", repository(ACCOUNT_ID, "shared/report-base")), "Allowed"],
        ["still pulls the models' own images", call("ecr:BatchGetImage", repository(ACCOUNT_ID, "ml/fraud")), "Allowed"],
        ["pulls a repository no team lists", call("ecr:BatchGetImage", repository(ACCOUNT_ID, "payments/app")), "ImplicitlyDenied"],
        ["pulls the prefix itself as a repository", call("ecr:BatchGetImage", repository(ACCOUNT_ID, "crm")), "ImplicitlyDenied"],
        ["pulls a repository that only starts like the prefix", call("ecr:BatchGetImage", repository(ACCOUNT_ID, "crm-legacy/app")), "ImplicitlyDenied"],
        ["pulls a repository under an exact one", call("ecr:BatchGetImage", repository(ACCOUNT_ID, "shared/report-base/extra")), "ImplicitlyDenied"],
        ["pushes to a team's repository", call("ecr:PutImage", repository(ACCOUNT_ID, "crm/churn-report")), "ImplicitlyDenied"],
        ["creates a repository under a team's prefix", call("ecr:CreateRepository", repository(ACCOUNT_ID, "crm/new")), "ImplicitlyDenied"],
        ["imports upstream images into a team's repository", call("ecr:BatchImportUpstreamImage", repository(ACCOUNT_ID, "crm/churn-report")), "ImplicitlyDenied"],
    ];
    for (const [what, request, expected] of cases) {
        it(`${expected === "Allowed" ? "lets a node" : "keeps a node from"} ${what}`, async () => assert.equal(await decide(teams, request), expected));
    }

    it("grants nothing for an entry that is not a repository (a tagged image), rather than a wrong ARN", () => {
        const tagged = nodeImagePolicy({ partition: "aws", region: REGION, accountId: ACCOUNT_ID, cachePrefix: PREFIX, privateImages: [], repositories: [`${registry}/crm/app:1.0`] });
        assert.deepEqual(tagged, nodeImagePolicy({ partition: "aws", region: REGION, accountId: ACCOUNT_ID, cachePrefix: PREFIX, privateImages: [] }));
    });
});

describe("ImageCache", () => {
    const program = (cache: ConstructorParameters<typeof ImageCache>[1]["cache"]) => () => {
        const images = new ImageCache("img", { clusterName: "mlmesh-dev", cache });
        return { registry: images.registry, prefix: images.prefix };
    };
    const rules = (run: RecordedRun) => Object.fromEntries(run.resources.filter((r) => r.type === "aws:ecr/pullThroughCacheRule:PullThroughCacheRule")
        .map((r) => [r.inputs.upstreamRegistryUrl, { prefix: r.inputs.ecrRepositoryPrefix, credentialArn: r.inputs.credentialArn }]));

    it("creates rules for the upstreams that need no credentials, and none for Docker Hub or GHCR without them", async () => {
        const run = await recordOffline(program(undefined));
        const prefix = String(run.outputs.prefix);
        assert.deepEqual(rules(run), {
            "quay.io": { prefix: `${prefix}/quay`, credentialArn: undefined },
            "registry.k8s.io": { prefix: `${prefix}/k8s`, credentialArn: undefined },
            "public.ecr.aws": { prefix: `${prefix}/ecr-public`, credentialArn: undefined },
        });
        assert.deepEqual((run.outputs.registry as ImageRegistry).cached, ["quay.io", "registry.k8s.io", "public.ecr.aws"]);
    });

    it("adds Docker Hub with its credentials secret, and serves the registry of the account and region", async () => {
        const secret = `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:ecr-pullthroughcache/docker-hub-AbCdEf`;
        const run = await recordOffline(program({ dockerHubSecretArn: secret }));
        assert.deepEqual(rules(run)["registry-1.docker.io"], { prefix: `${run.outputs.prefix}/docker-hub`, credentialArn: secret });
        assert.equal((run.outputs.registry as ImageRegistry).host, `${ACCOUNT_ID}.dkr.ecr.${REGION}.amazonaws.com`);
    });
});

describe("GpuCluster image pulls", () => {
    let run: RecordedRun;
    before(async () => {
        run = await recordOffline(() => {
            const cluster = new GpuCluster("c", {
                clusterName: "mlmesh-test",
                network: { vpcId: "vpc-0123456789abcdef0", privateSubnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"] },
                gpuNodeGroups: [{ name: "a10g", instanceTypes: ["g5.2xlarge"], maxSize: 2 }],
                imageCache: { mirrors: { "nvcr.io/nvidia/k8s-device-plugin": MIRROR } },
                privateImages: [MODEL_IMAGE],
                access: { appTeams: [{ name: "crm", roleArn: "arn:aws:iam::123456789012:role/crm-deployer", namespaces: ["ml-tabular"], imageRepositories: [`${ACCOUNT_ID}.dkr.ecr.${REGION}.amazonaws.com/crm/*`] }] },
            });
            return { images: cluster.images };
        });
    });
    const of = (type: string) => run.resources.filter((r) => r.type === type);

    it("no longer gives nodes AmazonEC2ContainerRegistryReadOnly (every repository in the account)", () => {
        const managed = of("aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((a) => a.name.startsWith("c-node-")).map((a) => String(a.inputs.policyArn).split("/").pop());
        assert.deepEqual(managed.sort(), ["AmazonEKSWorkerNodePolicy", "AmazonSSMManagedInstanceCore"]);
    });
    it("gives nodes the cache's repositories, the mirror's and the model image's", () => {
        const inline = of("aws:iam/rolePolicy:RolePolicy").find((p) => p.name === "c-node-images") ?? assert.fail("no node image policy");
        const statements = JSON.parse(String(inline.inputs.policy)).Statement as { Sid: string; Resource: string | string[] }[];
        const prefix = (run.outputs.images as ImageRegistry).prefix;
        assert.equal(statements.find((s) => s.Sid === "PullThroughTheCache")?.Resource, repository(ACCOUNT_ID, `${prefix}/*`));
        const pulls = statements.find((s) => s.Sid === "PullAwsAndWorkloadImages")?.Resource as string[];
        assert.ok(pulls.includes(repository(ACCOUNT_ID, "mirror/nvidia/k8s-device-plugin")) && pulls.includes(repository(ACCOUNT_ID, "ml/fraud")), JSON.stringify(pulls));
    });
    it("gives nodes the app teams' repositories too, so the teams' pods can pull their images", async () => {
        const inline = of("aws:iam/rolePolicy:RolePolicy").find((p) => p.name === "c-node-images") ?? assert.fail("no node image policy");
        const policy = JSON.parse(String(inline.inputs.policy));
        assert.equal(await decide(policy, call("ecr:BatchGetImage", repository(ACCOUNT_ID, "crm/churn-report"))), "Allowed");
        assert.equal(await decide(policy, call("ecr:BatchGetImage", repository(ACCOUNT_ID, "payments/app"))), "ImplicitlyDenied");
    });
    it("launches nodes only once they may pull", () => {
        const inline = of("aws:iam/rolePolicy:RolePolicy").find((p) => p.name === "c-node-images")!;
        for (const group of of("aws:eks/nodeGroup:NodeGroup")) {
            assert.ok(group.options.dependsOn?.includes(inline.urn), group.name);
        }
    });
    it("pulls the device plugin from the mirror and the metrics server and autoscaler through the cache", () => {
        const release = (chart: string) => of("kubernetes:helm.sh/v3:Release").find((r) => r.inputs.chart === chart)?.inputs.values as { image: { repository: string } };
        const registry = run.outputs.images as ImageRegistry;
        assert.deepEqual(
            ["nvidia-device-plugin", "metrics-server", "cluster-autoscaler"].map((chart) => release(chart).image.repository),
            [MIRROR, `${registry.host}/${registry.prefix}/k8s/metrics-server/metrics-server`, `${registry.host}/${registry.prefix}/k8s/autoscaling/cluster-autoscaler`],
        );
    });
});
