import * as assert from "node:assert/strict";
import { parsePlatformConfig, PlatformConfigError } from "../../stacks/config";
import { DEFAULT_KUBERNETES_VERSION } from "../../components/cluster/eksAddons";
import { type BadConfig, changed, cluster, deepFreeze, DEVICE_PLUGIN, existing, gpu, inProd, mesh, model, problemsOf, type Raw, readStack, rejectsExactlyOne, SAGEMAKER, SUBNET_A, SUBNET_B, validRaw, VPC_ID } from "./fixtures/rawConfig";

const BAD_CONFIGS: readonly BadConfig[] = [
    { change: "a prod cluster with no deployer role", mutate: inProd((r) => { cluster(r).access = {}; }), path: "mlmesh:cluster.access.deployerRoleArn", value: undefined, reason: "is required in prod" },
    { change: "a deployer that is not an IAM role ARN", mutate: (r) => { cluster(r).access = { deployerRoleArn: "arn:aws:iam::123456789012:user/ci" }; }, path: "mlmesh:cluster.access.deployerRoleArn", value: "arn:aws:iam::123456789012:user/ci", reason: "must be an IAM role ARN" },
    { change: "an admin listed as the deployer too", mutate: (r) => { cluster(r).access = { deployerRoleArn: "arn:aws:iam::123456789012:role/ci", clusterAdmins: ["arn:aws:iam::123456789012:role/ci"] }; }, path: "mlmesh:cluster.access.clusterAdmins[0]", value: "arn:aws:iam::123456789012:role/ci", reason: "repeats deployerRoleArn; EKS takes one access entry per principal" },
    { change: "a misspelt access key", mutate: (r) => { cluster(r).access = { deployerRole: "x" }; }, path: "mlmesh:cluster.access.deployerRole", value: "x", reason: "is not a known setting" },
    { change: "a misspelled top-level key mlmesh:modles", mutate: (r) => { r["mlmesh:modles"] = []; }, path: "mlmesh:modles", value: [], reason: "is not a known setting (did you mean `mlmesh:models`?); use one of: mlmesh:environment" },
    { change: "no aws:region", mutate: (r) => { delete r["aws:region"]; }, path: "aws:region", value: undefined, reason: "must be set to the AWS region" },
    { change: "an aws:region that is not a region name", mutate: (r) => { r["aws:region"] = "US West 2"; }, path: "aws:region", value: "US West 2", reason: "is not an AWS region name" },
    { change: "an unknown environment", mutate: (r) => { r["mlmesh:environment"] = "production"; }, path: "mlmesh:environment", value: "production", reason: "must be one of dev, staging, prod (did you mean `prod`?)" },
    { change: "a misspelt model key gpuNodegroup", mutate: (r) => { model(r).gpuNodegroup = "a10g"; }, path: "mlmesh:models[0].gpuNodegroup", value: "a10g", reason: "is not a known setting (did you mean `gpuNodeGroup`?); use one of: name, namespace, gpus, gpuNodeGroup" },
    { change: "an unquoted kubernetesVersion 1.30, which YAML reads as 1.3", mutate: (r) => { cluster(r).kubernetesVersion = 1.3; }, path: "mlmesh:cluster.kubernetesVersion", value: 1.3, reason: "is a number, not a version: YAML reads an unquoted version as a number (1.30 becomes 1.3); quote it, e.g. \"1.34\" (one of 1.32, 1.33, 1.34)" },
    { change: "a GPU model asking for more memory than its group's nodes have", mutate: (r) => { model(r).resources = { cpu: "2", memory: "40Gi" }; }, path: "mlmesh:models[0].resources.memory", value: "40Gi", reason: "with the sidecar's 256Mi, asks for more memory than a g5.2xlarge node of group a10g has for pods (30.5 of its 32 GiB" },
    { change: "TF Serving's CPU image on a GPU", mutate: (r) => { model(r).image = "tensorflow/serving:2.20.0"; }, path: "mlmesh:models[0].image", value: "tensorflow/serving:2.20.0", reason: "is TF Serving's CPU build, but the model asks for 1 GPU(s)" },
    { change: "a timeout without its unit", mutate: (r) => { model(r).timeout = 30; }, path: "mlmesh:models[0].timeout", value: 30, reason: "must be a duration with its unit, e.g. 30s (a bare number has none)" },
    { change: "a vpcCidr with host bits set", mutate: (r) => { r["mlmesh:network"].vpcCidr = "10.40.1.0/16"; }, path: "mlmesh:network.vpcCidr", value: "10.40.1.0/16", reason: "has host bits set; the network address is 10.40.0.0/16" },
    { change: "a /12 vpcCidr", mutate: (r) => { r["mlmesh:network"].vpcCidr = "10.32.0.0/12"; }, path: "mlmesh:network.vpcCidr", value: "10.32.0.0/12", reason: "has prefix /12" },
    { change: "a public vpcCidr", mutate: (r) => { r["mlmesh:network"].vpcCidr = "8.8.0.0/16"; }, path: "mlmesh:network.vpcCidr", value: "8.8.0.0/16", reason: "is not private address space" },
    { change: "a prod VPC whose zones are picked by name", mutate: inProd((r) => { r["mlmesh:network"] = { vpcCidr: "10.40.0.0/16" }; }), path: "mlmesh:network.availabilityZoneIds", value: undefined, reason: "is required in prod: zones picked by name from a lookup shift" },
    { change: "a zone ID EKS refuses", mutate: (r) => { r["mlmesh:network"] = { vpcCidr: "10.40.0.0/16", availabilityZoneIds: ["use1-az1", "use1-az3"] }; }, path: "mlmesh:network.availabilityZoneIds[1]", value: "use1-az3", reason: "is a zone EKS does not accept" },
    { change: "a zone name where an ID belongs", mutate: (r) => { r["mlmesh:network"] = { vpcCidr: "10.40.0.0/16", availabilityZoneIds: ["us-west-2a", "usw2-az2"] }; }, path: "mlmesh:network.availabilityZoneIds[0]", value: "us-west-2a", reason: "is not a zone ID" },
    { change: "zone IDs and a different zone count", mutate: (r) => { r["mlmesh:network"] = { vpcCidr: "10.40.0.0/16", availabilityZones: 3, availabilityZoneIds: ["usw2-az1", "usw2-az2"] }; }, path: "mlmesh:network.availabilityZoneIds", value: ["usw2-az1", "usw2-az2"], reason: "lists 2 zones but availabilityZoneCount is 3" },
    { change: "a KServe model with KServe not turned on", mutate: (r) => { r["mlmesh:models"] = [{ name: "bert", namespace: "ml-serving", backend: "kserve", modelFormat: "tensorflow", storageUri: "s3://models/bert/v1" }]; }, path: "mlmesh:models[0].backend", value: "kserve", reason: "needs KServe: set `kserve: true` (mlmesh:cluster.kserve)" },
    { change: "a single availability zone", mutate: (r) => { r["mlmesh:network"].availabilityZones = 1; }, path: "mlmesh:network.availabilityZones", value: 1, reason: "must be at least 2" },
    { change: "seven availability zones", mutate: (r) => { r["mlmesh:network"].availabilityZones = 7; }, path: "mlmesh:network.availabilityZones", value: 7, reason: "must be at most 6" },
    { change: "an existing network with a malformed vpcId", mutate: existing([SUBNET_A, SUBNET_B], "vpc-XYZ"), path: "mlmesh:network.vpcId", value: "vpc-XYZ", reason: "is not a VPC id" },
    { change: "an existing network with one subnet", mutate: existing([SUBNET_A]), path: "mlmesh:network.privateSubnetIds", value: [SUBNET_A], reason: "at least two availability zones" },
    { change: "an existing network listing a subnet twice", mutate: existing([SUBNET_A, SUBNET_A]), path: "mlmesh:network.privateSubnetIds", value: [SUBNET_A, SUBNET_A], reason: "lists a subnet more than once" },
    { change: "an unknown key inside the cluster", mutate: (r) => { cluster(r).nodeGroups = []; }, path: "mlmesh:cluster.nodeGroups", value: [], reason: "is not a known setting (did you mean `gpuNodeGroups`?); use one of: name, kubernetesVersion" },
    { change: "an unsupported kubernetesVersion", mutate: (r) => { cluster(r).kubernetesVersion = "1.29"; }, path: "mlmesh:cluster.kubernetesVersion", value: "1.29", reason: "must be one of 1.32, 1.33, 1.34" },
    { change: "a GPU node group whose maxSize is below minSize", mutate: (r) => { gpu(r).minSize = 9; }, path: "mlmesh:cluster.gpuNodeGroups[0].maxSize", value: 8, reason: "is below `minSize` (9)" },
    { change: "a GPU node group whose desiredSize is above maxSize", mutate: (r) => { gpu(r).desiredSize = 9; }, path: "mlmesh:cluster.gpuNodeGroups[0].desiredSize", value: 9, reason: "must lie between `minSize` (0) and `maxSize` (8)" },
    { change: "a CPU-only instance type in a GPU group", mutate: (r) => { gpu(r).instanceTypes = ["m6i.large"]; }, path: "mlmesh:cluster.gpuNodeGroups[0].instanceTypes[0]", value: "m6i.large", reason: "has no NVIDIA GPU mlmesh supports" },
    { change: "an ARM GPU instance with an x86 AMI", mutate: (r) => { gpu(r).instanceTypes = ["g5g.xlarge"]; }, path: "mlmesh:cluster.gpuNodeGroups[0].instanceTypes[0]", value: "g5g.xlarge", reason: "use amiType AL2023_ARM_64_NVIDIA" },
    { change: "two GPU models in one group", mutate: (r) => { gpu(r).instanceTypes = ["g5.2xlarge", "g6.2xlarge"]; }, path: "mlmesh:cluster.gpuNodeGroups[0].instanceTypes[1]", value: "g6.2xlarge", reason: "one group holds one GPU model" },
    { change: "a GPU disk below 50 GiB", mutate: (r) => { gpu(r).diskSizeGiB = 20; }, path: "mlmesh:cluster.gpuNodeGroups[0].diskSizeGiB", value: 20, reason: "must be at least 50" },
    { change: "time-slicing with one replica", mutate: (r) => { gpu(r).timeSlicing = { replicas: 1 }; }, path: "mlmesh:cluster.gpuNodeGroups[0].timeSlicing.replicas", value: 1, reason: "must be at least 2" },
    { change: "two GPU node groups with the same name", mutate: (r) => { cluster(r).gpuNodeGroups.push({ ...gpu(r) }); }, path: "mlmesh:cluster.gpuNodeGroups[1].name", value: "a10g", reason: "is used by an earlier group" },
    { change: "a GPU node group without instance types", mutate: (r) => { gpu(r).instanceTypes = []; }, path: "mlmesh:cluster.gpuNodeGroups[0].instanceTypes", value: [], reason: "must name at least one instance type" },
    { change: "a GPU node group with a non-GPU amiType", mutate: (r) => { gpu(r).amiType = "AL2_x86_64"; }, path: "mlmesh:cluster.gpuNodeGroups[0].amiType", value: "AL2_x86_64", reason: "must be one of AL2023_x86_64_NVIDIA" },
    { change: "a GPU node group with an unknown capacityType", mutate: (r) => { gpu(r).capacityType = "RESERVED"; }, path: "mlmesh:cluster.gpuNodeGroups[0].capacityType", value: "RESERVED", reason: "must be one of ON_DEMAND, SPOT" },
    { change: "a GPU node group name that is not a DNS label", mutate: (r) => { gpu(r).name = "A10G_big"; }, path: "mlmesh:cluster.gpuNodeGroups[0].name", value: "A10G_big", reason: "must be a DNS-1123 label" },
    { change: "a GPU node group whose maxSize is a string", mutate: (r) => { gpu(r).maxSize = "8"; }, path: "mlmesh:cluster.gpuNodeGroups[0].maxSize", value: "8", reason: "must be a whole number" },
    { change: "a public endpoint with no publicAccessCidrs", mutate: (r) => { cluster(r).endpointPublicAccess = true; }, path: "mlmesh:cluster.publicAccessCidrs", value: [], reason: "must list the networks allowed" },
    { change: "publicAccessCidrs on a private endpoint", mutate: (r) => { cluster(r).publicAccessCidrs = ["203.0.113.0/24"]; }, path: "mlmesh:cluster.publicAccessCidrs", value: ["203.0.113.0/24"], reason: "has no effect while `endpointPublicAccess` is false" },
    // Prod keeps the API endpoint private, whatever the CIDRs (the tier table's security opt-outs).
    {
        change: "a prod public endpoint, even to one office range",
        mutate: inProd((r) => { Object.assign(cluster(r), { endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24"] }); }),
        path: "mlmesh:cluster.endpointPublicAccess", value: true, reason: "must be false in prod",
    },
    { change: "one ingress gateway pod in staging", mutate: (r) => { r["mlmesh:environment"] = "staging"; mesh(r).ingressGateway = { replicas: 1 }; }, path: "mlmesh:mesh.ingressGateway.replicas", value: 1, reason: "must be at least 2 in staging" },
    { change: "a two-version model whose versions cannot all keep staging's floor", mutate: (r) => { r["mlmesh:environment"] = "staging"; model(r).replicas = { min: 3, max: 6 }; }, path: "mlmesh:models[0].replicas.min", value: 3, reason: "must be at least 4 in staging: each of the 2 versions keeps 2 pod(s)" },
    { change: "a two-version model with one replica in dev", mutate: (r) => { model(r).replicas = { min: 1, max: 3 }; }, path: "mlmesh:models[0].replicas.min", value: 1, reason: "must be at least 2 in dev: each of the 2 versions keeps 1 pod(s)" },
    { change: "PERMISSIVE mTLS in prod", mutate: inProd((r) => { mesh(r).mtls = "PERMISSIVE"; }), path: "mlmesh:mesh.mtls", value: "PERMISSIVE", reason: "is not allowed in prod" },
    { change: "open egress (ALLOW_ANY) in prod", mutate: inProd((r) => { mesh(r).egress = { mode: "ALLOW_ANY" }; }), path: "mlmesh:mesh.egress.mode", value: "ALLOW_ANY", reason: "list the hosts it needs under egress.allow" },
    { change: "Pod Security baseline in prod", mutate: inProd((r) => { mesh(r).podSecurity = "baseline"; }), path: "mlmesh:mesh.podSecurity", value: "baseline", reason: "is not allowed in prod" },
    { change: "served Istio versions without the one in use", mutate: (r) => { mesh(r).servedVersions = ["1.30.2"]; }, path: "mlmesh:mesh.servedVersions", value: ["1.30.2"], reason: "must include istioVersion (1.30.3)" },
    { change: "an unsupported served Istio version", mutate: (r) => { mesh(r).servedVersions = ["1.29.0", "1.30.3"]; }, path: "mlmesh:mesh.servedVersions", value: ["1.29.0", "1.30.3"], reason: "lists 1.29.0; each must be one of 1.30.2, 1.30.3" },
    { change: "mlmesh's own namespace as an ML namespace", mutate: (r) => { mesh(r).namespaces = ["mlmesh-sagemaker"]; }, path: "mlmesh:mesh.namespaces[0]", value: "mlmesh-sagemaker", reason: "is a namespace of the system or of mlmesh itself" },
    { change: "the Istio CNI off under Pod Security restricted", mutate: (r) => { mesh(r).cni = false; }, path: "mlmesh:mesh.cni", value: false, reason: "keep cni: true, or set podSecurity: privileged" },
    { change: "an egress allowance for a namespace outside the mesh", mutate: (r) => { mesh(r).egress = { allow: [{ namespace: "payments", hosts: ["api.example.com"] }] }; }, path: "mlmesh:mesh.egress.allow[0].namespace", value: "payments", reason: "is not a mesh namespace" },
    { change: "an s3Regions entry that is not a region", mutate: (r) => { mesh(r).egress = { s3Regions: ["europe"] }; }, path: "mlmesh:mesh.egress.s3Regions[0]", value: "europe", reason: "must be an AWS region name" },
    { change: "an egress allowance for every host", mutate: (r) => { mesh(r).egress = { allow: [{ namespace: "ml-serving", hosts: ["*"] }] }; }, path: "mlmesh:mesh.egress.allow[0].hosts[0]", value: "*", reason: "must be a fully qualified host name" },
    { change: "prod without Docker Hub credentials for the cache", mutate: inProd((r) => { delete cluster(r).imageCache.dockerHubSecretArn; }), path: "mlmesh:cluster.imageCache.dockerHubSecretArn", value: undefined, reason: "is required in prod" },
    { change: "prod with an AL2023 GPU group and no device plugin mirror", mutate: inProd((r) => { cluster(r).imageCache.mirrors = {}; }), path: "mlmesh:cluster.imageCache.mirrors", value: {}, reason: "nvcr.io is not an upstream ECR's pull-through cache supports" },
    { change: "a Docker Hub secret the cache cannot read", mutate: (r) => { cluster(r).imageCache = { dockerHubSecretArn: "arn:aws:secretsmanager:us-west-2:123456789012:secret:dockerhub" }; }, path: "mlmesh:cluster.imageCache.dockerHubSecretArn", value: "arn:aws:secretsmanager:us-west-2:123456789012:secret:dockerhub", reason: "ecr-pullthroughcache/" },
    { change: "a mirror outside private ECR", mutate: (r) => { cluster(r).imageCache = { mirrors: { [DEVICE_PLUGIN]: "ghcr.io/me/k8s-device-plugin" } }; }, path: `mlmesh:cluster.imageCache.mirrors["${DEVICE_PLUGIN}"]`, value: "ghcr.io/me/k8s-device-plugin", reason: "must be a private ECR repository" },
    { change: "a model image from a registry ECR cannot cache", mutate: (r) => { model(r).image = "gcr.io/team/tfserving:2.20.0"; }, path: "mlmesh:models[0].image", value: "gcr.io/team/tfserving:2.20.0", reason: "copy it into a private ECR repository" },
    { change: "a Docker Hub secret in another region than the stack's", mutate: (r) => { cluster(r).imageCache = { dockerHubSecretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/docker-hub" }; }, path: "mlmesh:cluster.imageCache.dockerHubSecretArn", value: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/docker-hub", reason: "same region as the stack (us-west-2)" },
    { change: "a China region, where ECR has no pull-through cache", mutate: (r) => { r["aws:region"] = "cn-north-1"; }, path: "aws:region", value: "cn-north-1", reason: "pull-through cache" },
    { change: "a GovCloud region, where ECR has no pull-through cache", mutate: (r) => { r["aws:region"] = "us-gov-west-1"; }, path: "aws:region", value: "us-gov-west-1", reason: "pull-through cache" },
    { change: "a region whose EKS image registry mlmesh does not know", mutate: (r) => { r["aws:region"] = "xx-nowhere-1"; }, path: "aws:region", value: "xx-nowhere-1", reason: "EKS add-on images" },
    { change: "an S3 endpoint account that is not an account id", mutate: (r) => { r["mlmesh:network"].s3Accounts = ["shared-models"]; }, path: "mlmesh:network.s3Accounts[0]", value: "shared-models", reason: "12-digit AWS account id" },
    {
        change: "an internet-facing gateway with no hosts",
        mutate: (r) => { Object.assign(mesh(r).ingressGateway, { scheme: "internet-facing", hosts: [] }); },
        path: "mlmesh:mesh.ingressGateway.hosts", value: [], reason: "must list the public host names",
    },
    { change: "a wildcard gateway host", mutate: (r) => { mesh(r).ingressGateway.hosts = ["*.example.com"]; }, path: "mlmesh:mesh.ingressGateway.hosts[0]", value: "*.example.com", reason: "without wildcards" },
    { change: "a tracing sampling of 150", mutate: (r) => { mesh(r).tracing.sampling = 150; }, path: "mlmesh:mesh.tracing.sampling", value: 150, reason: "must be a percentage from 0 to 100" },
    { change: "a sidecar memory that is not a quantity", mutate: (r) => { mesh(r).defaultSidecar.memory = "lots"; }, path: "mlmesh:mesh.defaultSidecar.memory", value: "lots", reason: "is not a Kubernetes quantity" },
    { change: "a sidecar cpu request above its limit", mutate: (r) => { mesh(r).defaultSidecar.cpu = "4"; }, path: "mlmesh:mesh.defaultSidecar.cpu", value: "4", reason: "is above `cpuLimit` (\"500m\")" },
    { change: "a network given as a string instead of a map", mutate: (r) => { r["mlmesh:network"] = "10.40.0.0/16"; }, path: "mlmesh:network", value: "10.40.0.0/16", reason: "must be a mapping of settings" },
    { change: "a model without a backend", mutate: (r) => { r["mlmesh:models"] = [{ name: "bert" }]; }, path: "mlmesh:models[0].backend", value: undefined, reason: "must name its `backend`: one of tfserving, kserve" },
    { change: "a model with an unknown backend", mutate: (r) => { r["mlmesh:models"] = [{ name: "bert", backend: "onnx" }]; }, path: "mlmesh:models[0].backend", value: "onnx", reason: "must name its `backend`" },
    { change: "TF Serving versions whose weights add up to 90", mutate: (r) => { model(r).versions[1].weight = 0; }, path: "mlmesh:models[0].versions", value: ["v1:90", "v2:0"], reason: "adding up to 90; they must add up to 100" },
    { change: "two versions with one name", mutate: (r) => { model(r).versions[1].name = "v1"; }, path: "mlmesh:models[0].versions[1].name", value: "v1", reason: "version names must be unique" },
    { change: "a gpuNodeGroup the cluster does not have", mutate: (r) => { model(r).gpuNodeGroup = "h100"; }, path: "mlmesh:models[0].gpuNodeGroup", value: "h100", reason: "is not a GPU node group of the cluster; use one of: a10g" },
    { change: "GPUs with no GPU node group", mutate: (r) => { cluster(r).gpuNodeGroups = []; delete model(r).gpuNodeGroup; }, path: "mlmesh:models[0].gpus", value: 1, reason: "the cluster has no GPU node group" },
    { change: "a timeout that is not a duration", mutate: (r) => { model(r).timeout = "thirty"; }, path: "mlmesh:models[0].timeout", value: "thirty", reason: "is not a duration" },
    { change: "the latest image tag", mutate: (r) => { model(r).image = "tensorflow/serving:latest"; }, path: "mlmesh:models[0].image", value: "tensorflow/serving:latest", reason: "floating tag latest" },
    { change: "a model in a namespace outside the mesh", mutate: (r) => { model(r).namespace = "default"; }, path: "mlmesh:models[0].namespace", value: "default", reason: "is not a mesh namespace" },
    { change: "a SageMaker model with both an endpoint and a model", mutate: (r) => { r["mlmesh:models"] = [{ ...SAGEMAKER, endpointName: "fraud-2024" }]; }, path: "mlmesh:models[0].endpointName", value: "fraud-2024", reason: "bridge the existing endpoint (endpointName) or let mlmesh create one (model), not both" },
    { change: "a SageMaker image outside ECR", mutate: (r) => { r["mlmesh:models"] = [{ ...SAGEMAKER, model: { ...SAGEMAKER.model, image: "docker.io/acme/fraud:1.4.2" } }]; }, path: "mlmesh:models[0].model.image", value: "docker.io/acme/fraud:1.4.2", reason: "must be an image in private ECR" },
    { change: "a SageMaker timeout beyond the 60s real-time limit", mutate: (r) => { r["mlmesh:models"] = [{ ...SAGEMAKER, timeout: "90s" }]; }, path: "mlmesh:models[0].timeout", value: "90s", reason: "SageMaker's 60s limit" },
    { change: "a single-instance SageMaker endpoint in prod", mutate: inProd((r) => { r["mlmesh:models"] = [SAGEMAKER]; }), path: "mlmesh:models[0].model.initialInstanceCount", value: 1, reason: "at least 2 in prod" },
    { change: "a SageMaker model asking for GPUs", mutate: (r) => { r["mlmesh:models"] = [{ ...SAGEMAKER, gpus: 1 }]; }, path: "mlmesh:models[0].gpus", value: 1, reason: "does not apply to a SageMaker model" },
    { change: "a model sidecar request above the mesh default limit", mutate: (r) => { model(r).sidecar = { cpu: "4" }; }, path: "mlmesh:models[0].sidecar.cpu", value: "4", reason: "is above `cpuLimit`" },
];


describe("parsePlatformConfig", () => {
    it("accepts the valid dev config the negative cases start from", () => {
        const config = parsePlatformConfig(validRaw(), "dev");
        assert.equal(config.environment, "dev");
        assert.equal(config.cluster.gpuNodeGroups[0].name, "a10g");
    });

    describe("rejects one bad setting with exactly one problem at its path", () => {
        BAD_CONFIGS.forEach(rejectsExactlyOne);
    });

    it("reports every problem in different keys in a single throw", () => {
        const raw = changed((r) => {
            r["aws:region"] = "mars-1";
            r["mlmesh:environment"] = "qa";
            r["mlmesh:network"].availabilityZones = 9;
            gpu(r).instanceTypes = [];
            mesh(r).tracing.sampling = -5;
            r["mlmesh:models"] = ["bert"];
        });
        const problems = problemsOf(raw);
        assert.equal(problems.length, 6, JSON.stringify(problems, null, 1));
        const paths = problems.map((p) => p.path);
        assert.deepEqual([...paths].sort(), [
            "aws:region",
            "mlmesh:cluster.gpuNodeGroups[0].instanceTypes",
            "mlmesh:environment",
            "mlmesh:mesh.tracing.sampling",
            "mlmesh:models[0]",
            "mlmesh:network.availabilityZones",
        ]);
    });

    it("writes each problem into the error message as `path` (value) reason", () => {
        const raw = changed((r) => {
            delete r["aws:region"];
            r["mlmesh:environment"] = "production";
        });
        assert.throws(() => parsePlatformConfig(raw, "dev"), (error: unknown) => {
            assert.ok(error instanceof PlatformConfigError);
            assert.equal(error.name, "PlatformConfigError");
            assert.match(error.message, /stack config has 2 problem\(s\)/);
            assert.ok(error.message.includes("  - `aws:region` (unset) must be set to the AWS region to deploy to"), error.message);
            assert.ok(error.message.includes("  - `mlmesh:environment` (\"production\") must be one of dev, staging, prod"), error.message);
            return true;
        });
    });

    describe("resolves defaults", () => {
        const DEPLOYER = "arn:aws:iam::123456789012:role/deployer";
        const DOCKER_HUB_SECRET = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf";
        const minimal = (environment: string): Raw => ({
            "aws:region": "eu-central-1", "mlmesh:environment": environment,
            ...(environment === "prod" ? { "mlmesh:cluster": { access: { deployerRoleArn: DEPLOYER }, imageCache: { dockerHubSecretArn: DOCKER_HUB_SECRET } } } : {}),
        });

        it("creates a 10.40.0.0/16 network over three zones with a single NAT gateway in dev", () => {
            const config = parsePlatformConfig(minimal("dev"), "dev");
            assert.deepEqual(config.network, { mode: "create", vpcCidr: "10.40.0.0/16", availabilityZones: 3, natGateways: "single", s3Accounts: [] });
        });

        const ZONES = ["usw2-az1", "usw2-az2", "usw2-az4"];
        it("uses one NAT gateway per zone in prod, over the zones it names by ID", () => {
            const raw = { ...minimal("prod"), "mlmesh:network": { availabilityZoneIds: ZONES } };
            assert.deepEqual(parsePlatformConfig(raw, "prod").network, { mode: "create", vpcCidr: "10.40.0.0/16", availabilityZones: 3, availabilityZoneIds: ZONES, natGateways: "perZone", s3Accounts: [] });
        });

        it("keeps an explicit natGateways choice", () => {
            const raw = { ...minimal("prod"), "mlmesh:network": { vpcCidr: "10.60.0.0/16", natGateways: "single", availabilityZoneIds: ZONES.slice(0, 2) } };
            assert.deepEqual(parsePlatformConfig(raw, "prod").network, { mode: "create", vpcCidr: "10.60.0.0/16", availabilityZones: 2, availabilityZoneIds: ZONES.slice(0, 2), natGateways: "single", s3Accounts: [] });
        });

        it("defaults vpcCidr to 10.40.0.0/16 when the network sets only other fields", () => {
            const raw = { ...minimal("dev"), "mlmesh:network": { availabilityZones: 2, natGateways: "perZone" } };
            assert.deepEqual(parsePlatformConfig(raw, "dev").network, { mode: "create", vpcCidr: "10.40.0.0/16", availabilityZones: 2, natGateways: "perZone", s3Accounts: [] });
        });

        it("names the cluster after the stack and fills in the cluster defaults", () => {
            const config = parsePlatformConfig(minimal("staging"), "staging-eu");
            assert.deepEqual(config.cluster, {
                name: "mlmesh-staging-eu",
                kubernetesVersion: DEFAULT_KUBERNETES_VERSION,
                endpointPublicAccess: false,
                publicAccessCidrs: [],
                systemNodes: { instanceType: "m6i.large", minSize: 2, maxSize: 4, diskSizeGiB: 50 },
                gpuNodeGroups: [],
                access: { clusterAdmins: [], appTeams: [] },
                kserve: false,
                imageCache: { mirrors: {} },
            });
        });

        it("keeps an explicit cluster name", () => {
            const raw = { ...minimal("dev"), "mlmesh:cluster": { name: "inference-east" } };
            assert.equal(parsePlatformConfig(raw, "dev").cluster.name, "inference-east");
        });

        it("fills in the mesh defaults with STRICT mTLS, and no models", () => {
            const config = parsePlatformConfig(minimal("dev"), "dev");
            assert.deepEqual(config.mesh, {
                istioVersion: "1.30.3",
                mtls: "STRICT",
                ingressGateway: { scheme: "internal", replicas: 2, hosts: [], jwt: [] },
                tracing: { sampling: 1, otelCollector: "opentelemetry-collector.observability.svc.cluster.local:4317" },
                defaultSidecar: { cpu: "100m", memory: "128Mi", cpuLimit: "2", memoryLimit: "1Gi", concurrency: 2 },
                namespaces: ["ml-serving"],
                inferenceExtension: false,
                cni: true,
                podSecurity: "restricted",
                egress: { mode: "REGISTRY_ONLY", allow: [], s3Regions: [] },
            });
            assert.deepEqual(config.models, []);
            assert.deepEqual({ stack: config.stack, region: config.region }, { stack: "dev", region: "eu-central-1" });
        });

        it("defaults the amiType and capacityType of a GPU node group", () => {
            const raw = changed((r) => { delete gpu(r).amiType; delete gpu(r).capacityType; });
            const [group] = parsePlatformConfig(raw, "dev").cluster.gpuNodeGroups;
            assert.deepEqual([group.amiType, group.capacityType], ["AL2023_x86_64_NVIDIA", "ON_DEMAND"]);
        });
    });

    describe("the committed stack files", () => {
        it("parses Pulumi.dev.yaml as a dev stack", () => {
            const config = parsePlatformConfig(readStack("dev"), "dev");
            assert.equal(config.environment, "dev");
            assert.deepEqual(config.network, { mode: "create", vpcCidr: "10.40.0.0/16", availabilityZones: 3, natGateways: "single", s3Accounts: [] });
            assert.equal(config.cluster.name, "mlmesh-dev");
        });

        it("parses Pulumi.prod.yaml as a prod stack with per-zone NAT gateways", () => {
            const config = parsePlatformConfig(readStack("prod"), "prod");
            assert.equal(config.environment, "prod");
            assert.deepEqual(config.network, { mode: "create", vpcCidr: "10.60.0.0/16", availabilityZones: 3, availabilityZoneIds: ["use1-az1", "use1-az2", "use1-az4"], natGateways: "perZone", s3Accounts: [] });
            assert.deepEqual(config.cluster.gpuNodeGroups.map((g) => g.name), ["a10g", "l4-spot"]);
            assert.equal(config.mesh.mtls, "STRICT");
        });
    });

    it("returns an existing network as mode existing", () => {
        const raw = changed(existing([SUBNET_A, SUBNET_B]));
        assert.deepEqual(parsePlatformConfig(raw, "dev").network, { mode: "existing", vpcId: VPC_ID, privateSubnetIds: [SUBNET_A, SUBNET_B] });
    });

    it("never mutates its input, valid or not", () => {
        for (const raw of [validRaw(), { "aws:region": "us-east-1", "mlmesh:environment": "prod" }, changed((r) => { gpu(r).minSize = 9; })]) {
            const before = JSON.stringify(raw);
            const frozen = deepFreeze(raw);
            try {
                parsePlatformConfig(frozen, "dev");
            } catch (error) {
                assert.ok(error instanceof PlatformConfigError, String(error));
            }
            assert.equal(JSON.stringify(frozen), before);
        }
    });
});
