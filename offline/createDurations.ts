/**
 * How long `pulumi up` typically spends creating one resource of each type mlmesh plans: what
 * the provider waits for, with the figure's basis. AWS publishes few creation times, so most
 * figures are estimates from the provider's wait logic (pulumi-aws runs the Terraform AWS
 * provider's create and waiters; pulumi-kubernetes has its own awaiters and Helm's `wait`).
 * `kind`: `documented` when a vendor publishes the figure, `estimate` when it is derived from
 * what the provider waits for (a timeout is never used as the figure, only as a bound).
 */
import { requestsGpu } from "../policy-pack/kserve";
import { chartOf } from "./manifests";
import type { RecordedResource } from "./recorder";

export interface CreateDuration {
    /** A type token, or `kubernetes:helm.sh/v3:Release <chart>` for one chart's release. */
    readonly type: string;
    readonly seconds: number;
    readonly kind: "documented" | "estimate";
    readonly basis: string;
    readonly source: string;
}

const TFAWS = "hashicorp/terraform-provider-aws:internal/service";
const PK8S = "pulumi/pulumi-kubernetes:provider/pkg";
const HELM_WAIT = `${PK8S}/provider/helm_release.go@v4.32.0 (wait unless skipAwait, atomic passed through); helm/helm:pkg/kube/ready.go`;
const sync = (type: string, seconds: number, source: string): CreateDuration => ({ type, seconds, kind: "estimate", basis: "one synchronous API call, retried only while IAM propagates", source });
const noAwait = (type: string): CreateDuration => ({ type, seconds: 1, kind: "estimate", basis: "no await: done when the API server accepts it", source: `${PK8S}/await/awaiters.go@v4.32.0` });

export const CREATE_DURATIONS: readonly CreateDuration[] = [
    // The EKS control plane inside the eks.Cluster component (its role, security group and the control plane).
    { type: "eks:index:Cluster", seconds: 600, kind: "documented", basis: "EKS creates a control plane in 9 minutes or less on average, up to about 15", source: "https://aws.amazon.com/about-aws/whats-new/2021/03/amazon-eks-reduces-cluster-creation-time-40-percent/; https://docs.aws.amazon.com/eks/latest/userguide/automode-get-started-cli.html" },
    { type: "aws:eks/cluster:Cluster", seconds: 600, kind: "documented", basis: "as eks:index:Cluster", source: `${TFAWS}/eks/cluster.go (waits for ACTIVE)` },
    { type: "aws:eks/nodeGroup:NodeGroup", seconds: 240, kind: "estimate", basis: "\"several minutes\" from CREATING to ACTIVE; the provider waits for ACTIVE", source: `https://docs.aws.amazon.com/eks/latest/userguide/troubleshooting.html; ${TFAWS}/eks/node_group.go` },
    { type: "aws:eks/addon:Addon", seconds: 60, kind: "estimate", basis: "\"several seconds\" to create; the provider waits for ACTIVE, which an add-on with pods reaches once nodes run them", source: `${TFAWS}/eks/addon.go, eks/wait.go` },
    { type: "aws:ec2/natGateway:NatGateway", seconds: 120, kind: "estimate", basis: "the provider waits for `available`; acceptance runs take 1 to 3 minutes", source: `${TFAWS}/ec2/vpc_nat_gateway.go` },
    { type: "aws:ec2/vpcEndpoint:VpcEndpoint Interface", seconds: 90, kind: "estimate", basis: "waits for `available` while network interfaces and private DNS are made in every subnet", source: `${TFAWS}/ec2/vpc_endpoint.go` },
    { type: "aws:ec2/vpcEndpoint:VpcEndpoint Gateway", seconds: 10, kind: "estimate", basis: "waits for `available`; a gateway endpoint only edits route tables", source: `${TFAWS}/ec2/vpc_endpoint.go` },
    { type: "aws:sagemaker/endpoint:Endpoint", seconds: 360, kind: "estimate", basis: "the provider waits for InService; acceptance runs take 4 to 5 minutes", source: `${TFAWS}/sagemaker/endpoint.go; https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpoint.html` },
    { type: "aws:kms/key:Key", seconds: 15, kind: "estimate", basis: "create, then wait until the key policy and tags read back", source: `${TFAWS}/kms/key.go, kms/wait.go` },
    { type: "aws:ec2/vpc:Vpc", seconds: 3, kind: "estimate", basis: "create, wait for `available`, set DNS attributes", source: `${TFAWS}/ec2/vpc_.go` },
    { type: "aws:ec2/subnet:Subnet", seconds: 3, kind: "estimate", basis: "waits for `available`", source: `${TFAWS}/ec2/vpc_subnet.go` },
    { type: "aws:ec2/internetGateway:InternetGateway", seconds: 3, kind: "estimate", basis: "create and attach", source: `${TFAWS}/ec2/vpc_internet_gateway.go` },
    { type: "aws:ec2/securityGroup:SecurityGroup", seconds: 3, kind: "estimate", basis: "create, revoke the default egress, authorize rules", source: `${TFAWS}/ec2/vpc_security_group.go` },
    sync("aws:ec2/eip:Eip", 2, `${TFAWS}/ec2/ec2_eip.go`),
    sync("aws:ec2/routeTable:RouteTable", 2, `${TFAWS}/ec2/vpc_route_table.go`),
    sync("aws:ec2/route:Route", 2, `${TFAWS}/ec2/vpc_route.go`),
    sync("aws:ec2/routeTableAssociation:RouteTableAssociation", 1, `${TFAWS}/ec2/vpc_route_table_association.go`),
    sync("aws:ec2/securityGroupRule:SecurityGroupRule", 1, `${TFAWS}/ec2/vpc_security_group_rule.go`),
    sync("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", 2, `${TFAWS}/ec2/vpc_default_security_group.go`),
    sync("aws:ec2/launchTemplate:LaunchTemplate", 2, `${TFAWS}/ec2/ec2_launch_template.go`),
    sync("aws:ecr/pullThroughCacheRule:PullThroughCacheRule", 2, `${TFAWS}/ecr/pull_through_cache_rule.go`),
    sync("aws:iam/role:Role", 2, `${TFAWS}/iam/role.go (retries until the role is visible)`),
    sync("aws:iam/rolePolicy:RolePolicy", 1, `${TFAWS}/iam/role_policy.go`),
    sync("aws:iam/rolePolicyAttachment:RolePolicyAttachment", 1, `${TFAWS}/iam/role_policy_attachment.go`),
    sync("aws:kms/alias:Alias", 1, `${TFAWS}/kms/alias.go`),
    sync("aws:autoscaling/tag:Tag", 1, `${TFAWS}/autoscaling/tag.go`),
    sync("aws:eks/accessEntry:AccessEntry", 2, `${TFAWS}/eks/access_entry.go`),
    sync("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", 2, `${TFAWS}/eks/access_policy_association.go`),
    sync("aws:eks/podIdentityAssociation:PodIdentityAssociation", 2, `${TFAWS}/eks/pod_identity_association.go`),
    sync("aws:sagemaker/model:Model", 2, `${TFAWS}/sagemaker/model.go`),
    sync("aws:sagemaker/endpointConfiguration:EndpointConfiguration", 1, `${TFAWS}/sagemaker/endpoint_configuration.go`),
    sync("aws:appautoscaling/target:Target", 2, `${TFAWS}/appautoscaling/target.go`),
    sync("aws:appautoscaling/policy:Policy", 2, `${TFAWS}/appautoscaling/policy.go`),
    sync("aws:iam/openIdConnectProvider:OpenIdConnectProvider", 1, `${TFAWS}/iam/openid_connect_provider.go`),
    { type: "pulumi:providers:kubernetes", seconds: 0, kind: "estimate", basis: "a provider configures itself; it waits only for its kubeconfig", source: "pulumi/pulumi:pkg/resource/deploy/providers" },
    { type: "pulumi:providers:aws", seconds: 0, kind: "estimate", basis: "a provider configures itself", source: "pulumi/pulumi:pkg/resource/deploy/providers" },
    // Helm releases: `wait` holds until pods are ready, Deployments available and LoadBalancer Services have an address.
    { type: "kubernetes:helm.sh/v3:Release base", seconds: 10, kind: "estimate", basis: "CRDs and cluster roles; Helm waits for the CRDs to be established", source: HELM_WAIT },
    { type: "kubernetes:helm.sh/v3:Release istiod", seconds: 60, kind: "estimate", basis: "one Deployment pulls its image and passes readiness", source: HELM_WAIT },
    { type: "kubernetes:helm.sh/v3:Release gateway", seconds: 90, kind: "estimate", basis: "gateway pods ready and the LoadBalancer Service given its NLB's address", source: HELM_WAIT },
    { type: "kubernetes:helm.sh/v3:Release cni", seconds: 45, kind: "estimate", basis: "a DaemonSet rolled out on every node", source: HELM_WAIT },
    { type: "kubernetes:helm.sh/v3:Release cert-manager", seconds: 75, kind: "estimate", basis: "three Deployments, then the post-install startupapicheck Job (1 m timeout, 4 retries)", source: `${HELM_WAIT}; cert-manager/cert-manager:deploy/charts/cert-manager/values.yaml@v1.21.1` },
    { type: "kubernetes:helm.sh/v3:Release kserve-crd", seconds: 10, kind: "estimate", basis: "CRDs only", source: HELM_WAIT },
    { type: "kubernetes:helm.sh/v3:Release kserve-resources", seconds: 90, kind: "estimate", basis: "the controller Deployment and its webhook, with a cert-manager certificate", source: HELM_WAIT },
    { type: "kubernetes:helm.sh/v3:Release kserve-runtime-configs", seconds: 10, kind: "estimate", basis: "ClusterServingRuntime objects, no pods", source: HELM_WAIT },
    { type: "kubernetes:helm.sh/v3:Release metrics-server", seconds: 45, kind: "estimate", basis: "one Deployment ready", source: HELM_WAIT },
    { type: "kubernetes:helm.sh/v3:Release cluster-autoscaler", seconds: 45, kind: "estimate", basis: "one Deployment ready", source: HELM_WAIT },
    { type: "kubernetes:helm.sh/v3:Release nvidia-device-plugin", seconds: 30, kind: "estimate", basis: "a DaemonSet on the GPU nodes (none yet in a group scaled to zero)", source: HELM_WAIT },
    { type: "kubernetes:apps/v1:Deployment", seconds: 45, kind: "estimate", basis: "the provider waits until the new pods are available (image pull and readiness)", source: `${PK8S}/await/deployment.go@v4.32.0` },
    { type: "kubernetes:apps/v1:DaemonSet", seconds: 45, kind: "estimate", basis: "the provider waits for the rollout on every node", source: `${PK8S}/await/daemonset.go@v4.32.0` },
    { type: "kubernetes:core/v1:Service", seconds: 12, kind: "estimate", basis: "the provider waits for endpoints, then 10 s for them to settle", source: `${PK8S}/await/service.go@v4.32.0` },
    ...["core/v1:Namespace", "core/v1:ConfigMap", "core/v1:ServiceAccount", "core/v1:Secret", "policy/v1:PodDisruptionBudget", "autoscaling/v2:HorizontalPodAutoscaler",
        "rbac.authorization.k8s.io/v1:Role", "rbac.authorization.k8s.io/v1:RoleBinding", "rbac.authorization.k8s.io/v1:ClusterRole", "rbac.authorization.k8s.io/v1:ClusterRoleBinding",
        "admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration", "apps/v1:DaemonSetPatch"].map((type) => noAwait(`kubernetes:${type}`)),
];

/**
 * A workload that requests GPUs: its pods wait for a GPU node (cluster-autoscaler scale-up from
 * zero, boot, driver and device plugin) and pull a multi-GB server image before they are ready.
 */
export const GPU_WORKLOAD: CreateDuration = {
    type: "a workload requesting nvidia.com/gpu",
    seconds: 480,
    kind: "estimate",
    basis: "a GPU node started (about 4 min, as a node group) and a multi-GB image pulled (several minutes) before the pods are available; mlmesh allows up to MODEL_ROLLOUT_MINUTES for the worst case",
    source: `${PK8S}/await/deployment.go@v4.32.0; components/serving/workloadPlacement.ts`,
};

/** Whether the resource makes pods whose containers request or limit GPUs (a Deployment's, or an InferenceService's components'). */
export function requestsGpus(resource: RecordedResource): boolean {
    if (!/^kubernetes:(apps\/v1:Deployment|serving\.kserve\.io\/v1beta1:InferenceService)$/.test(resource.type)) {
        return false;
    }
    // Every `resources` block under the spec (containers, a predictor's model), not tolerations or selectors.
    const asksForGpus = (node: unknown): boolean => node !== null && typeof node === "object"
        && (requestsGpu((node as { resources?: Parameters<typeof requestsGpu>[0] }).resources) || Object.values(node).some(asksForGpus));
    return asksForGpus(resource.inputs.spec);
}

const byType = new Map(CREATE_DURATIONS.map((d) => [d.type, d]));

/** Kubernetes custom resources (Istio, KServe, ...) have no await: done when the API server takes them. */
const CUSTOM_RESOURCE: CreateDuration = { ...noAwait("a custom resource"), source: `${PK8S}/metadata/overrides.go@v4.32.0` };

/** The row of this resource's type (a chart's release, an endpoint's kind); undefined for a type the table lacks. */
export function createDuration(resource: RecordedResource): CreateDuration | undefined {
    if (!resource.custom && resource.options.remote !== true) {
        return { type: resource.type, seconds: 0, kind: "estimate", basis: "a component: only its children are created", source: "" };
    }
    if (resource.type === "kubernetes:apps/v1:Deployment" && requestsGpus(resource)) {
        return GPU_WORKLOAD;
    }
    const chart = chartOf(resource);
    const key = chart !== undefined ? `${resource.type} ${chart}`
        : resource.type === "aws:ec2/vpcEndpoint:VpcEndpoint" ? `${resource.type} ${String(resource.inputs.vpcEndpointType ?? "Gateway")}`
            : resource.type;
    return byType.get(key) ?? (/^kubernetes:[a-z0-9-]+(\.[a-z0-9-]+)+\/[^:]+:/.test(resource.type) && !resource.type.startsWith("kubernetes:helm.sh/") ? CUSTOM_RESOURCE : undefined);
}
