import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { EKS_ADDON_VERSIONS, SUPPORTED_KUBERNETES_VERSIONS, DEFAULT_KUBERNETES_VERSION } from "../../../components/cluster/eksAddons";
import { GpuCluster, type GpuClusterArgs } from "../../../components/cluster/gpuCluster";
import type { GpuNodeGroupSpec } from "../../../components/cluster/gpuNodeGroup";
import { NVIDIA_DEVICE_PLUGIN_CHART } from "../../../components/cluster/nvidiaDevicePlugin";
import { SECRET_PLACEHOLDER, type RecordedResource, type RecordedRun } from "../../../offline/recorder";
import { recordOffline } from "../../offline/fixtures/offlineRun";

const T = {
    cluster: "eks:index:Cluster", key: "aws:kms/key:Key", addon: "aws:eks/addon:Addon",
    nodeGroup: "aws:eks/nodeGroup:NodeGroup", launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate", asgTag: "aws:autoscaling/tag:Tag",
    release: "kubernetes:helm.sh/v3:Release", k8sProvider: "pulumi:providers:kubernetes",
} as const;

/** One GPU group of the test cluster and what its nodes must end up with. */
interface GroupCase {
    readonly spec: GpuNodeGroupSpec;
    readonly amiType: string;
    readonly accelerator: string;
    readonly imageDevice: string;
    readonly gpusPerNode: number;
}

const GROUPS: readonly GroupCase[] = [
    { spec: { name: "a10g", instanceTypes: ["g5.2xlarge"], maxSize: 4 }, amiType: "AL2023_x86_64_NVIDIA", accelerator: "nvidia-a10g", imageDevice: "/dev/xvda", gpusPerNode: 1 },
    { spec: { name: "l4", instanceTypes: ["g6.xlarge"], amiType: "BOTTLEROCKET_x86_64_NVIDIA", maxSize: 2, timeSlicing: { replicas: 4 } }, amiType: "BOTTLEROCKET_x86_64_NVIDIA", accelerator: "nvidia-l4", imageDevice: "/dev/xvdb", gpusPerNode: 4 },
    { spec: { name: "t4g", instanceTypes: ["g5g.xlarge"], amiType: "AL2023_ARM_64_NVIDIA", maxSize: 2, timeSlicing: { replicas: 2 } }, amiType: "AL2023_ARM_64_NVIDIA", accelerator: "nvidia-t4g", imageDevice: "/dev/xvda", gpusPerNode: 2 },
];

const BASE_ARGS: GpuClusterArgs = {
    clusterName: "mlmesh-test",
    network: { vpcId: "vpc-0123456789abcdef0", privateSubnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"] },
    gpuNodeGroups: GROUPS.map((g) => g.spec),
};

/** A program that creates the cluster `c` and exports the outputs workloads read. */
const clusterProgram = (args: GpuClusterArgs) => () => {
    const cluster = new GpuCluster("c", args);
    return { gpuNodeGroups: cluster.gpuNodeGroups, kubeconfig: cluster.kubeconfig, oidcProviderArn: cluster.oidcProviderArn, oidcProviderUrl: cluster.oidcProviderUrl };
};

interface Plan {
    readonly run: RecordedRun;
    of(type: string): RecordedResource[];
    /** The one resource of `type` (named `name`, when given). */
    one(type: string, name?: string): RecordedResource;
}

async function planCluster(overrides: Partial<GpuClusterArgs> = {}): Promise<Plan> {
    const run = await recordOffline(clusterProgram({ ...BASE_ARGS, ...overrides }));
    const of = (type: string) => run.resources.filter((r) => r.type === type);
    const one = (type: string, name?: string) => {
        const found = of(type).filter((r) => name === undefined || r.name === name);
        assert.equal(found.length, 1, `expected one ${type} ${name ?? ""}; found ${found.map((r) => r.name).join(", ") || "none"}`);
        return found[0];
    };
    return { run, of, one };
}

const clusterInputs = (plan: Plan) => plan.one(T.cluster).inputs;
const nodeGroupOf = (plan: Plan, group: string) => plan.one(T.nodeGroup, `c-gpu-${group}-ng`);
/** The launch template a node group launches from, found by the id the node group references. */
function launchTemplateOf(plan: Plan, nodeGroup: RecordedResource): RecordedResource {
    const id = (nodeGroup.inputs.launchTemplate as { id: string }).id;
    return plan.of(T.launchTemplate).find((lt) => String(lt.outputs.arn).endsWith(`/${id}`)) ?? assert.fail(`no launch template ${id}`);
}
/** The ASG tags of a node group: children of the same GpuNodeGroup component. */
const asgTagsOf = (plan: Plan, nodeGroup: RecordedResource) => plan.of(T.asgTag).filter((t) => t.parent === nodeGroup.parent);
const tagMap = (tags: RecordedResource[]) => Object.fromEntries(tags.map((t) => [(t.inputs.tag as { key: string }).key, (t.inputs.tag as { value: string }).value]));
const addonVersions = (plan: Plan) => Object.fromEntries(plan.of(T.addon).map((a) => [a.inputs.addonName, a.inputs.addonVersion]));

describe("GpuCluster with three GPU groups and default settings", () => {
    let plan: Plan;
    before(async () => {
        plan = await planCluster();
    });

    describe("control plane", () => {
        it("keeps the API endpoint private, with no public access CIDRs", () => {
            const { endpointPrivateAccess, endpointPublicAccess, publicAccessCidrs } = clusterInputs(plan);
            assert.deepEqual({ endpointPrivateAccess, endpointPublicAccess, publicAccessCidrs }, { endpointPrivateAccess: true, endpointPublicAccess: false, publicAccessCidrs: undefined });
        });
        it("authenticates through access entries only (API mode)", () => assert.equal(clusterInputs(plan).authenticationMode, "API"));
        it("skips the eks component's default node group", () => assert.equal(clusterInputs(plan).skipDefaultNodeGroup, true));
        it("encrypts Kubernetes secrets with the cluster's own KMS key", () => {
            assert.equal(clusterInputs(plan).encryptionConfigKeyArn, plan.one(T.key).outputs.arn);
        });
        it("rotates the secrets key", () => assert.equal(plan.one(T.key).inputs.enableKeyRotation, true));
        it("sends exactly the api, audit and authenticator logs to CloudWatch", () => {
            assert.deepEqual(clusterInputs(plan).enabledClusterLogTypes, ["api", "audit", "authenticator"]);
        });
        it("creates an OIDC provider for IRSA", () => assert.equal(clusterInputs(plan).createOidcProvider, true));
        it(`runs Kubernetes ${DEFAULT_KUBERNETES_VERSION} by default`, () => assert.equal(clusterInputs(plan).version, "1.33"));
        it("turns off the eks component's own coredns and kube-proxy add-ons", () => {
            const enabled = (key: string) => (clusterInputs(plan)[key] as { enabled?: boolean } | undefined)?.enabled;
            assert.deepEqual([enabled("corednsAddonOptions"), enabled("kubeProxyAddonOptions")], [false, false]);
        });
        it("protects neither the secrets key nor the cluster by default", () => {
            const key = plan.one(T.key).options;
            const cluster = plan.one(T.cluster);
            assert.deepEqual([key.protect === true, key.retainOnDelete === true, cluster.options.protect === true, cluster.inputs.deletionProtection], [false, false, false, false]);
        });
    });

    describe("core add-ons", () => {
        it("installs exactly vpc-cni, kube-proxy, coredns and eks-pod-identity-agent at the versions pinned for 1.33", () => {
            assert.equal(plan.of(T.addon).length, 4);
            assert.deepEqual(addonVersions(plan), EKS_ADDON_VERSIONS["1.33"]);
        });
        it("gives the VPC CNI its own IRSA role, trusted only by kube-system/aws-node, and the node role none of its permissions", () => {
            const cni = plan.of(T.addon).find((a) => a.inputs.addonName === "vpc-cni") ?? assert.fail("no vpc-cni add-on");
            const role = plan.one("aws:iam/role:Role", "c-vpc-cni-role");
            assert.equal(cni.inputs.serviceAccountRoleArn, role.outputs.arn);
            const trust = JSON.parse(String(role.inputs.assumeRolePolicy)) as { Statement: { Condition: { StringEquals: Record<string, string> } }[] };
            assert.deepEqual(Object.values(trust.Statement[0].Condition.StringEquals), ["system:serviceaccount:kube-system:aws-node", "sts.amazonaws.com"]);
            const attachments = plan.of("aws:iam/rolePolicyAttachment:RolePolicyAttachment");
            const cniPolicyHolders = attachments.filter((a) => String(a.inputs.policyArn).endsWith("/AmazonEKS_CNI_Policy")).map((a) => a.inputs.role);
            assert.deepEqual(cniPolicyHolders, [role.outputs.name]);
            assert.ok(cni.options.dependsOn?.includes(attachments.find((a) => a.inputs.role === role.outputs.name)!.urn), "the add-on waits for its role's policy");
        });
        it("restarts aws-node once its service account carries the role, so running pods (a stack upgraded from the node role) pick it up", () => {
            const cni = plan.of(T.addon).find((a) => a.inputs.addonName === "vpc-cni")!;
            const patch = plan.one("kubernetes:apps/v1:DaemonSetPatch");
            assert.deepEqual(patch.inputs.metadata, { name: "aws-node", namespace: "kube-system" });
            assert.deepEqual(patch.inputs.spec, { template: { metadata: { annotations: { "mlmesh.io/vpc-cni-role": plan.one("aws:iam/role:Role", "c-vpc-cni-role").outputs.arn } } } });
            assert.ok(patch.options.dependsOn?.includes(cni.urn), "the restart follows the add-on's update");
            assert.ok(patch.options.dependsOn?.includes(plan.one(T.cluster).urn), "and the cluster's access entries, like every Kubernetes object");
            // aws-node rolls 10% of nodes at a time: a large cluster needs longer than the default 10 minutes.
            assert.deepEqual(patch.options.customTimeouts, { create: "30m", update: "30m" });
        });
        it("gives the secrets key a policy that keeps disabling and deletion from everyone when no admins are named", () => {
            const policy = JSON.parse(String(plan.one(T.key).inputs.policy)) as { Statement: { Sid: string; Principal: unknown }[] };
            assert.deepEqual(policy.Statement.map((s) => s.Sid), ["KeyAdministrationThroughIam", "ClusterEncryptsSecrets", "ClusterGrantsToAwsResources"]);
            assert.deepEqual(policy.Statement[1].Principal, { AWS: plan.one("aws:iam/role:Role", "c-service-role").outputs.arn });
        });
        it("installs coredns only after the system node group exists", () => {
            const coredns = plan.of(T.addon).find((a) => a.inputs.addonName === "coredns") ?? assert.fail("no coredns add-on");
            assert.ok(coredns.options.dependsOn?.includes(plan.one(T.nodeGroup, "c-system-ng").urn), `dependsOn ${coredns.options.dependsOn}`);
        });
    });

    for (const { spec, amiType, accelerator, imageDevice } of GROUPS) {
        describe(`GPU node group ${spec.name}`, () => {
            const nodeGroup = () => nodeGroupOf(plan, spec.name);
            const launchTemplate = () => launchTemplateOf(plan, nodeGroup());

            it(`runs the ${amiType} AMI`, () => assert.equal(nodeGroup().inputs.amiType, amiType));
            it("taints its nodes with nvidia.com/gpu=true:NO_SCHEDULE only", () => {
                assert.deepEqual(nodeGroup().inputs.taints, [{ key: "nvidia.com/gpu", value: "true", effect: "NO_SCHEDULE" }]);
            });
            it(`labels its nodes as GPU nodes with accelerator ${accelerator} and group ${spec.name}`, () => {
                const labels = nodeGroup().inputs.labels as Record<string, string>;
                assert.deepEqual([labels["mlmesh.io/gpu"], labels["mlmesh.io/accelerator"], labels["mlmesh.io/node-group"]], ["true", accelerator, spec.name]);
            });
            it("requires IMDSv2 with a hop limit of 1 in its launch template", () => {
                const { httpTokens, httpPutResponseHopLimit } = launchTemplate().inputs.metadataOptions as Record<string, unknown>;
                assert.deepEqual({ httpTokens, httpPutResponseHopLimit }, { httpTokens: "required", httpPutResponseHopLimit: 1 });
            });
            it(`keeps images on an encrypted 200 GiB gp3 volume at ${imageDevice}`, () => {
                const [mapping, ...others] = launchTemplate().inputs.blockDeviceMappings as { deviceName: string; ebs: Record<string, unknown> }[];
                assert.equal(others.length, 0);
                const { encrypted, volumeType, volumeSize } = mapping.ebs;
                assert.deepEqual({ deviceName: mapping.deviceName, encrypted, volumeType, volumeSize }, { deviceName: imageDevice, encrypted: "true", volumeType: "gp3", volumeSize: 200 });
            });
            it(`scales from 0 to ${spec.maxSize} nodes`, () => {
                const { minSize, maxSize } = nodeGroup().inputs.scalingConfig as Record<string, number>;
                assert.deepEqual({ minSize, maxSize }, { minSize: 0, maxSize: spec.maxSize });
            });
            it("sends the desired size it read live (none yet: the minimum), never a stale one kept by ignoreChanges", () => {
                assert.equal((nodeGroup().inputs.scalingConfig as Record<string, number>).desiredSize, 0);
                assert.deepEqual(nodeGroup().options.ignoreChanges ?? [], []);
            });
            it("buys on-demand capacity by default", () => assert.equal(nodeGroup().inputs.capacityType, "ON_DEMAND"));
            if (amiType.startsWith("BOTTLEROCKET")) {
                it(`configures Bottlerocket's device plugin for ${spec.timeSlicing?.replicas} time-sliced replicas in the user data`, () => {
                    const toml = Buffer.from(String(launchTemplate().inputs.userData), "base64").toString("utf8");
                    assert.match(toml, /^\[settings\.kubelet-device-plugins\.nvidia\.time-slicing\]$/m);
                    assert.match(toml, new RegExp(`^replicas = ${spec.timeSlicing?.replicas}$`, "m"));
                });
            } else {
                it("gives its AL2023 launch template no user data", () => assert.equal(launchTemplate().inputs.userData, undefined));
            }
        });
    }

    describe("cluster-autoscaler node-template tags", () => {
        const prefix = "k8s.io/cluster-autoscaler/node-template";
        it("describe a10g nodes by their labels, their GPU taint and one GPU", () => {
            assert.deepEqual(tagMap(asgTagsOf(plan, nodeGroupOf(plan, "a10g"))), {
                [`${prefix}/label/mlmesh.io/gpu`]: "true",
                [`${prefix}/label/mlmesh.io/accelerator`]: "nvidia-a10g",
                [`${prefix}/label/mlmesh.io/node-group`]: "a10g",
                [`${prefix}/label/mlmesh.io/device-plugin`]: "helm",
                [`${prefix}/label/k8s.amazonaws.com/accelerator`]: "nvidia-a10g",
                [`${prefix}/taint/nvidia.com/gpu`]: "true:NoSchedule",
                [`${prefix}/resources/nvidia.com/gpu`]: "1",
            });
        });
        it("advertise 4 schedulable GPUs on the time-sliced Bottlerocket l4 nodes", () => {
            assert.equal(tagMap(asgTagsOf(plan, nodeGroupOf(plan, "l4")))[`${prefix}/resources/nvidia.com/gpu`], "4");
        });
        it("land on the Auto Scaling group of their own node group", () => {
            for (const { spec } of GROUPS) {
                const nodeGroup = nodeGroupOf(plan, spec.name);
                const asg = (nodeGroup.outputs.resources as { autoscalingGroups: { name: string }[] }[])[0].autoscalingGroups[0].name;
                const tags = asgTagsOf(plan, nodeGroup);
                assert.ok(tags.length > 0, spec.name);
                assert.deepEqual(tags.map((t) => t.inputs.autoscalingGroupName), tags.map(() => asg), spec.name);
            }
        });
    });

    describe("system node group", () => {
        const system = () => plan.one(T.nodeGroup, "c-system-ng").inputs;
        it("runs the standard AL2023 x86 AMI", () => assert.equal(system().amiType, "AL2023_x86_64_STANDARD"));
        it("has no taints", () => assert.deepEqual(system().taints ?? [], []));
        it("labels its nodes mlmesh.io/node-role=system", () => assert.deepEqual(system().labels, { "mlmesh.io/node-role": "system" }));
        it("scales between 2 and 4 nodes by default", () => {
            const { minSize, maxSize } = system().scalingConfig as Record<string, number>;
            assert.deepEqual({ minSize, maxSize }, { minSize: 2, maxSize: 4 });
        });
    });

    describe("every node group", () => {
        const groups = () => plan.of(T.nodeGroup);
        it("runs the control plane's Kubernetes version, so upgrades carry the nodes along", () => {
            assert.deepEqual(groups().map((g) => g.inputs.version), groups().map(() => "1.33"));
        });
        it("launches only after the node role's policies are attached and the VPC CNI, kube-proxy and pod identity agent are installed", () => {
            const policies = [...plan.of("aws:iam/rolePolicyAttachment:RolePolicyAttachment"), ...plan.of("aws:iam/rolePolicy:RolePolicy")].filter((r) => r.name.startsWith("c-node-")).map((r) => r.urn);
            assert.equal(policies.length, 3);
            const networking = plan.of(T.addon).filter((a) => a.inputs.addonName !== "coredns").map((a) => a.urn);
            for (const group of groups()) {
                assert.deepEqual([...(group.options.dependsOn ?? [])].sort(), [...policies, ...networking].sort(), group.name);
            }
        });
    });

    describe("NVIDIA device plugin", () => {
        const release = () => plan.one(T.release, "c-nvidia-release");
        const configNames = () => Object.keys((release().inputs.values as { config: { map: Record<string, string> } }).config.map);
        it("installs one pinned nvidia-device-plugin Helm release", () => {
            const { chart, version } = release().inputs;
            assert.deepEqual({ chart, version }, { chart: "nvidia-device-plugin", version: NVIDIA_DEVICE_PLUGIN_CHART.version });
        });
        it("installs the release through the cluster's Kubernetes provider", () => {
            assert.equal(release().options.provider, plan.one(T.k8sProvider, "c-k8s").urn);
        });
        it("carries the default config and the time-slicing-2 config of the ARM AL2023 group", () => {
            assert.deepEqual(configNames().sort(), ["default", "time-slicing-2"]);
        });
        it("carries no time-slicing-4 config, since Bottlerocket's own plugin shares the l4 GPUs", () => {
            assert.equal(configNames().includes("time-slicing-4"), false);
        });
    });

    describe("outputs", () => {
        const outputs = () => plan.run.outputs;
        it("list each GPU group's placement with its schedulable GPUs per node", () => {
            const placements = (outputs().gpuNodeGroups as { name: string; gpusPerNode: number }[]).map(({ name, gpusPerNode }) => ({ name, gpusPerNode }));
            assert.deepEqual(placements, GROUPS.map(({ spec, gpusPerNode }) => ({ name: spec.name, gpusPerNode })));
        });
        it("keep the kubeconfig secret", () => assert.equal(outputs().kubeconfig, SECRET_PLACEHOLDER));
        it("give the IAM OIDC provider's ARN for the cluster's issuer", () => {
            assert.match(String(outputs().oidcProviderArn), /^arn:aws:iam::123456789012:oidc-provider\/oidc\.eks\.us-west-2\.amazonaws\.com\/id\/[0-9A-F]+$/);
        });
        it("give the issuer URL of the same OIDC provider", () => {
            const url = String(outputs().oidcProviderUrl);
            assert.match(url, /^https:\/\/oidc\.eks\.us-west-2\.amazonaws\.com\/id\/[0-9A-F]+$/);
            assert.ok(String(outputs().oidcProviderArn).endsWith(`/${url.replace("https://", "")}`));
        });
    });
});

for (const version of SUPPORTED_KUBERNETES_VERSIONS.filter((v) => v !== DEFAULT_KUBERNETES_VERSION)) {
    describe(`GpuCluster on Kubernetes ${version}`, () => {
        let plan: Plan;
        before(async () => {
            plan = await planCluster({ kubernetesVersion: version });
        });
        it(`runs the control plane at ${version}`, () => assert.equal(clusterInputs(plan).version, version));
        it(`pins the core add-ons to the versions listed for ${version}`, () => assert.deepEqual(addonVersions(plan), EKS_ADDON_VERSIONS[version]));
    });
}

describe("GpuCluster with deletionProtection", () => {
    let plan: Plan;
    before(async () => {
        plan = await planCluster({ deletionProtection: true });
    });
    it("protects the secrets key and retains it if its resource is deleted", () => {
        const { protect, retainOnDelete } = plan.one(T.key).options;
        assert.deepEqual({ protect, retainOnDelete }, { protect: true, retainOnDelete: true });
    });
    // Protect on the component would reach its access entries too, and removing an app team would be refused.
    it("protects the EKS control plane (a transform on the component's aws:eks/cluster:Cluster child), not the component, and turns on EKS deletion protection", () => {
        const cluster = plan.one(T.cluster);
        assert.deepEqual([cluster.options.protect, cluster.options.transforms, cluster.inputs.deletionProtection], [undefined, 1, true]);
    });
});

describe("GpuCluster with cluster access configured", () => {
    it("makes the deployer and the cluster admins the secrets key's only administrators, who alone may disable or delete it", async () => {
        const access = { deployerRoleArn: "arn:aws:iam::123456789012:role/deployer", clusterAdmins: ["arn:aws:iam::123456789012:role/break-glass"] };
        const plan = await planCluster({ access });
        const policy = JSON.parse(String(plan.one(T.key).inputs.policy)) as { Statement: { Sid: string; Effect: string; Action: string[]; Condition?: Record<string, Record<string, string[]>> }[] };
        const bySid = Object.fromEntries(policy.Statement.map((s) => [s.Sid, s]));
        // The offline engine's caller is arn:aws:iam::123456789012:user/mlmesh-plan: whoever runs
        // `pulumi up` must administer the key, or KMS refuses to create it (lockout check).
        const admins = [access.deployerRoleArn, ...access.clusterAdmins, "arn:aws:iam::123456789012:user/mlmesh-plan"];
        assert.deepEqual(bySid.KeyAdministrators.Condition, { ArnEquals: { "aws:PrincipalArn": admins } });
        assert.deepEqual(bySid.OnlyAdministratorsDisableOrDelete, {
            Sid: "OnlyAdministratorsDisableOrDelete", Effect: "Deny", Principal: "*", Action: ["kms:DisableKey", "kms:ScheduleKeyDeletion"], Resource: "*",
            Condition: { ArnNotEquals: { "aws:PrincipalArn": admins } },
        });
    });
});

describe("GpuCluster with other settings", () => {
    it("passes a public endpoint's flag and allowed CIDRs to the control plane", async () => {
        const { endpointPublicAccess, publicAccessCidrs } = clusterInputs(await planCluster({ endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24"] }));
        assert.deepEqual({ endpointPublicAccess, publicAccessCidrs }, { endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24"] });
    });
    it("installs no NVIDIA device plugin release when every GPU group runs Bottlerocket", async () => {
        const plan = await planCluster({ gpuNodeGroups: [GROUPS[1].spec, { ...GROUPS[1].spec, name: "l4-solo", timeSlicing: undefined }] });
        assert.deepEqual(plan.of(T.release).map((r) => r.name).sort(), ["c-autoscaler-release", "c-metrics-release"]);
    });
});

describe("GpuCluster argument validation", () => {
    const group = (overrides: Partial<GpuNodeGroupSpec>): GpuNodeGroupSpec => ({ name: "a10g", instanceTypes: ["g5.2xlarge"], maxSize: 4, ...overrides });
    const bad: [string, string, Partial<GpuClusterArgs>][] = [
        ["a CPU-only instance type in a GPU group", "gpuNodeGroups[0].instanceTypes[0]", { gpuNodeGroups: [group({ instanceTypes: ["m6i.large"] })] }],
        ["an ARM instance type with an x86 AMI", "gpuNodeGroups[0].instanceTypes[0]", { gpuNodeGroups: [group({ instanceTypes: ["g5g.xlarge"], amiType: "AL2023_x86_64_NVIDIA" })] }],
        ["a maxSize below minSize", "gpuNodeGroups[0].maxSize", { gpuNodeGroups: [group({ minSize: 3, maxSize: 2 })] }],
        ["a GPU group name used twice", "gpuNodeGroups[1].name", { gpuNodeGroups: [group({}), group({ instanceTypes: ["g6.xlarge"] })] }],
        ["a public endpoint without allowed CIDRs", "publicAccessCidrs", { endpointPublicAccess: true }],
        ["an unsupported Kubernetes version", "kubernetesVersion", { kubernetesVersion: "1.29" as any }],
        ["a cluster name that starts with a digit", "clusterName", { clusterName: "1-mlmesh" }],
        ["a Docker Hub secret ECR's cache cannot read", "imageCache.dockerHubSecretArn", { imageCache: { dockerHubSecretArn: "arn:aws:secretsmanager:us-west-2:123456789012:secret:dockerhub" } }],
        ["a private image outside private ECR", "privateImages[0]", { privateImages: ["tensorflow/serving:2.20.0"] }],
    ];
    const pathsOf = (error: unknown): string[] => {
        assert.ok(pulumi.InputPropertiesError.isInstance(error), `not an InputPropertiesError: ${error}`);
        return error.errors.map((e) => e.propertyPath);
    };

    for (const [what, path, overrides] of bad) {
        it(`rejects ${what} with an InputPropertiesError at ${path}`, async () => {
            await assert.rejects(recordOffline(clusterProgram({ ...BASE_ARGS, ...overrides })), (error) => {
                assert.ok(pathsOf(error).includes(path), `paths ${pathsOf(error)}`);
                return true;
            });
        });
        it(`registers no AWS resource when given ${what}`, async () => {
            let caught: unknown;
            const run = await recordOffline(() => {
                try {
                    new GpuCluster("c", { ...BASE_ARGS, ...overrides });
                } catch (error) {
                    caught = error;
                }
            });
            assert.ok(pathsOf(caught).includes(path));
            assert.deepEqual(run.resources.filter((r) => r.type.startsWith("aws:")).map((r) => r.name), []);
        });
    }

    it("reports every bad argument in one error", async () => {
        const allBad: Partial<GpuClusterArgs> = {
            clusterName: "1-mlmesh",
            kubernetesVersion: "1.29" as any,
            endpointPublicAccess: true,
            gpuNodeGroups: [group({ instanceTypes: ["m6i.large"] }), group({ minSize: 3, maxSize: 2 })],
        };
        await assert.rejects(recordOffline(clusterProgram({ ...BASE_ARGS, ...allBad })), (error) => {
            assert.deepEqual(pathsOf(error).sort(), ["clusterName", "gpuNodeGroups[0].instanceTypes[0]", "gpuNodeGroups[1].maxSize", "gpuNodeGroups[1].name", "kubernetesVersion", "publicAccessCidrs"]);
            return true;
        });
    });
});
