/**
 * Which input changes make `pulumi up` replace a resource instead of updating it, for every type
 * mlmesh's plans contain. `mlmesh plan --compare` (offline/compare.ts) marks a change "replace"
 * when a changed input path is, is inside, or holds one of these fields.
 *
 * Where the answers come from:
 * - AWS: @pulumi/aws 7.48.0 bridges terraform-provider-aws v6 (v6.46.0 or later: the last upgrade
 *   found is pulumi/pulumi-aws#6392, 2026-05-22). The bridge replaces a resource when a changed
 *   attribute is `ForceNew` in the upstream schema or its CustomizeDiff calls ForceNew. No clone of
 *   the upstream repository fits here, so each rule cites the stored copy of the resource file at
 *   the commit it was read at; the tag bundled by 7.48.0 could not be resolved offline.
 * - Kubernetes: @pulumi/kubernetes 4.34.2 is newer than the newest tag in the mirror; the rules cite
 *   v4.32.0, and diff.go is unchanged from there to the mirror's head (2026-07).
 * - Engine: components never reach a provider's Diff, and a replaced provider replaces everything it
 *   manages (step_generator.go, pulumi 3.259.0; 3.270.0 is installed and not in the mirror).
 *
 * Fields are Pulumi camelCase input paths; a `MaxItems: 1` block is an object (`launchTemplate.id`),
 * a list is named whole (`productionVariants`). A name that Pulumi autonames keeps its old value on
 * update (pulumi/pulumi-terraform-bridge:pkg/tfbridge/info/autonaming.go@v3.130.0, the bridge of
 * pulumi/pulumi-aws#6392), so only an explicit change to it replaces.
 */

export interface ReplaceRule {
    /** Input paths (Pulumi camelCase, dotted for nested) whose change forces replacement. */
    readonly fields: readonly string[];
    /** repo:path@tag where the rule comes from. */
    readonly source: string;
    /** Conditions or caveats, e.g. "ForceNew only when ..."; optional. */
    readonly note?: string;
}

const tf = (file: string, commit: string): string => `hashicorp/terraform-provider-aws:internal/service/${file}@${commit}`;
const K8S_DIFF = "pulumi/pulumi-kubernetes:provider/pkg/provider/diff.go@v4.32.0";
const K8S_PROVIDER = "pulumi/pulumi-kubernetes:provider/pkg/provider/provider.go@v4.32.0";
const ENGINE = "pulumi/pulumi:pkg/resource/deploy/step_generator.go@v3.259.0";
const IDENTITY = ["metadata.name", "metadata.namespace"] as const;
const SELECTOR = "`spec.selector` covers `matchLabels` and `matchExpressions`";

/** Any Kubernetes kind the provider's table has no entry for, CustomResources (Istio, KServe) included. */
export const KUBERNETES_GENERIC_RULE: ReplaceRule = {
    fields: IDENTITY,
    source: K8S_DIFF,
    note: "forceNewProperties always starts from metadataForceNewProperties; a group missing from its table (every CustomResource group) adds nothing. "
        + "An object with an explicit, unchanged name and namespace is deleted before its replacement is created (provider.go Diff), so a replacement is an outage",
};

/** mlmesh components and the stack: never replaced themselves, only their children are. */
export const COMPONENT_RULE: ReplaceRule = {
    fields: [],
    source: ENGINE,
    note: "component",
};

const k8s = (fields: readonly string[], note?: string, source = K8S_DIFF): ReplaceRule => ({ fields: [...IDENTITY, ...fields], source, ...(note ? { note } : {}) });
const CLUSTER_SCOPED = "cluster-scoped: Diff clears `metadata.namespace` on both sides (provider.go), so only the name counts";
const clusterScoped = (fields: readonly string[], note = CLUSTER_SCOPED): ReplaceRule => ({ fields: ["metadata.name", ...fields], source: K8S_DIFF, note });

export const REPLACE_FIELDS: Readonly<Record<string, ReplaceRule>> = {
    // --- AWS (terraform-provider-aws schema, ForceNew) ---
    "aws:appautoscaling/policy:Policy": {
        fields: ["name", "resourceId", "scalableDimension", "serviceNamespace"],
        source: tf("appautoscaling/policy.go", "048320e88399"),
        note: "Not set by mlmesh: `name` (autonamed). `resourceId` embeds the SageMaker endpoint and variant names, so renaming either replaces the policy",
    },
    "aws:appautoscaling/target:Target": {
        fields: ["resourceId", "scalableDimension", "serviceNamespace"],
        source: tf("appautoscaling/target.go", "0105d2191ae7"),
        note: "`minCapacity`/`maxCapacity` update in place (RegisterScalableTarget)",
    },
    "aws:autoscaling/tag:Tag": {
        fields: ["autoscalingGroupName", "tag.key"],
        source: tf("autoscaling/group_tag.go", "050ac11163ca"),
        note: "`tag.value` and `tag.propagateAtLaunch` update in place. The group name comes from the node group, so a replaced node group replaces its tags",
    },
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": {
        fields: ["vpcId"],
        source: tf("ec2/vpc_default_security_group.go", "01f431114674"),
    },
    "aws:ec2/eip:Eip": {
        fields: ["address", "domain", "ipamPoolId", "networkBorderGroup", "publicIpv4Pool"],
        source: tf("ec2/ec2_eip.go", "01606926a0c0"),
        note: "Not set by mlmesh: `address`, `ipamPoolId`, `networkBorderGroup`, `publicIpv4Pool`",
    },
    "aws:ec2/internetGateway:InternetGateway": {
        fields: [],
        source: tf("ec2/vpc_internet_gateway.go", "08923b68b5ad"),
        note: "nothing is ForceNew: a `vpcId` change detaches and attaches the gateway in place",
    },
    "aws:ec2/launchTemplate:LaunchTemplate": {
        fields: ["name", "namePrefix"],
        source: tf("ec2/ec2_launch_template.go", "025e4f81cab8"),
        note: "Not set by mlmesh: `namePrefix`. Every other change adds a template version. A new template has a new id, and `launchTemplate.id` replaces the node group that uses it",
    },
    "aws:ec2/natGateway:NatGateway": {
        fields: ["allocationId", "connectivityType", "privateIp", "secondaryPrivateIpAddressCount", "subnetId"],
        source: tf("ec2/vpc_nat_gateway.go", "04088eaa5494"),
        note: "Not set by mlmesh: `connectivityType`, `privateIp`, `secondaryPrivateIpAddressCount`. The 2026 upstream copy also makes `availabilityMode` and `vpcId` ForceNew (regional NAT gateways)",
    },
    "aws:ec2/route:Route": {
        fields: ["routeTableId", "destinationCidrBlock", "destinationIpv6CidrBlock", "destinationPrefixListId"],
        source: tf("ec2/vpc_route.go", "0128541e0711"),
        note: "Not set by mlmesh: `destinationIpv6CidrBlock`, `destinationPrefixListId`. Targets (`gatewayId`, `natGatewayId`) change in place through ReplaceRoute",
    },
    "aws:ec2/routeTable:RouteTable": {
        fields: ["vpcId"],
        source: tf("ec2/vpc_route_table.go", "022092419b7c"),
    },
    "aws:ec2/routeTableAssociation:RouteTableAssociation": {
        fields: ["gatewayId", "subnetId"],
        source: tf("ec2/vpc_route_table_association.go", "0be71beb458a"),
        note: "Not set by mlmesh: `gatewayId`. `routeTableId` changes in place (ReplaceRouteTableAssociation)",
    },
    "aws:ec2/securityGroup:SecurityGroup": {
        fields: ["description", "name", "namePrefix", "vpcId"],
        source: tf("ec2/vpc_security_group.go", "01606926a0c0"),
        note: "Not set by mlmesh: `name`, `namePrefix` (autonamed). Editing `description` replaces the group; inline `ingress`/`egress` update in place",
    },
    "aws:ec2/securityGroupRule:SecurityGroupRule": {
        fields: ["cidrBlocks", "fromPort", "ipv6CidrBlocks", "prefixListIds", "protocol", "securityGroupId", "self", "sourceSecurityGroupId", "toPort", "type"],
        source: tf("ec2/vpc_security_group_rule.go", "0d90774d0fdd"),
        note: "Not set by mlmesh: `cidrBlocks`, `ipv6CidrBlocks`, `prefixListIds`, `sourceSecurityGroupId`. Only `description` updates in place",
    },
    "aws:ec2/subnet:Subnet": {
        fields: ["availabilityZone", "availabilityZoneId", "cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength", "ipv6IpamPoolId", "ipv6Native", "ipv6NetmaskLength", "outpostArn", "vpcId"],
        source: tf("ec2/vpc_subnet.go", "00cda125a19d"),
        note: "mlmesh sets `availabilityZoneId` when the zones are pinned by ID (prod), `availabilityZone` otherwise. Not set by mlmesh: `ipv4IpamPoolId`, `ipv4NetmaskLength`, `ipv6IpamPoolId`, `ipv6Native`, `ipv6NetmaskLength`, `outpostArn`. "
            + "CustomizeDiff also forces a new subnet when `ipv6CidrBlock` changes on a subnet created with `assignIpv6AddressOnCreation`",
    },
    "aws:ec2/vpc:Vpc": {
        fields: ["cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength"],
        source: tf("ec2/vpc_.go", "00081ce41cc6"),
        note: "Not set by mlmesh: `ipv4IpamPoolId`, `ipv4NetmaskLength`",
    },
    "aws:ec2/vpcEndpoint:VpcEndpoint": {
        fields: ["serviceName", "vpcEndpointType", "vpcId", "resourceConfigurationArn", "serviceNetworkArn", "serviceRegion", "dnsOptions.privateDnsPreference", "dnsOptions.privateDnsSpecifiedDomains"],
        source: tf("ec2/vpc_endpoint.go", "008db85aad5e"),
        note: "Not set by mlmesh: `resourceConfigurationArn`, `serviceNetworkArn`, `serviceRegion`, `dnsOptions.privateDnsPreference`, `dnsOptions.privateDnsSpecifiedDomains`. "
            + "CustomizeDiff forces a new endpoint when `privateDnsEnabled` changes on a non-Interface endpoint (mlmesh sets it only on Interface ones, where it updates in place)",
    },
    "aws:ecr/pullThroughCacheRule:PullThroughCacheRule": {
        fields: ["ecrRepositoryPrefix", "upstreamRegistryUrl", "upstreamRepositoryPrefix"],
        source: tf("ecr/pull_through_cache_rule.go", "0509e60e8e89"),
        note: "Not set by mlmesh: `upstreamRepositoryPrefix`. `credentialArn` updates in place",
    },
    "aws:eks/addon:Addon": {
        fields: ["addonName", "clusterName"],
        source: tf("eks/addon.go", "00a35305dc1b"),
        note: "`addonVersion`, `serviceAccountRoleArn` and `configurationValues` update in place (UpdateAddon)",
    },
    "aws:eks/nodeGroup:NodeGroup": {
        fields: ["amiType", "capacityType", "clusterName", "diskSize", "instanceTypes", "launchTemplate.id", "launchTemplate.name", "nodeGroupName", "nodeGroupNamePrefix", "nodeRoleArn", "remoteAccess", "subnetIds"],
        source: tf("eks/node_group.go", "012e0a32f068"),
        note: "Not set by mlmesh: `diskSize`, `launchTemplate.name`, `nodeGroupNamePrefix`, `remoteAccess`. "
            + "`launchTemplate.version`, `scalingConfig`, `labels`, `taints`, `updateConfig`, `version` and `releaseVersion` update in place",
    },
    "aws:iam/role:Role": {
        fields: ["name", "namePrefix", "path"],
        source: tf("iam/role.go", "0040ea6911af"),
        note: "Not set by mlmesh: `namePrefix`, `path`. `assumeRolePolicy` and `description` update in place; a new role has a new ARN, which replaces an EKS cluster or SageMaker model that uses it",
    },
    "aws:iam/rolePolicy:RolePolicy": {
        fields: ["name", "namePrefix", "role"],
        source: tf("iam/role_policy.go", "02f97af85f89"),
        note: "Not set by mlmesh: `namePrefix`",
    },
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": {
        fields: ["policyArn", "role"],
        source: tf("iam/role_policy_attachment.go", "04c79849dbe7"),
        note: "the resource has no update at all",
    },
    "aws:kms/alias:Alias": {
        fields: ["name", "namePrefix"],
        source: tf("kms/alias.go", "01c08000ddb1"),
        note: "Not set by mlmesh: `namePrefix`. `targetKeyId` updates in place (UpdateAlias)",
    },
    "aws:kms/key:Key": {
        fields: ["customKeyStoreId", "customerMasterKeySpec", "keyUsage", "multiRegion", "xksKeyId"],
        source: tf("kms/key.go", "00a35305dc1b"),
        note: "Not set by mlmesh: `customKeyStoreId`, `customerMasterKeySpec`, `keyUsage`, `multiRegion`, `xksKeyId`; everything mlmesh sets (policy, rotation, description) updates in place",
    },
    "aws:sagemaker/endpoint:Endpoint": {
        fields: ["name", "deploymentConfig.autoRollbackConfiguration"],
        source: tf("sagemaker/endpoint.go", "033616433b62"),
        note: "Not set by mlmesh: `deploymentConfig.autoRollbackConfiguration`. `endpointConfigName` updates in place (UpdateEndpoint), which is how a new model reaches the endpoint",
    },
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": {
        fields: ["name", "namePrefix", "productionVariants", "shadowProductionVariants", "kmsKeyArn", "dataCaptureConfig", "asyncInferenceConfig"],
        source: tf("sagemaker/endpoint_configuration.go", "050ac11163ca"),
        note: "Not set by mlmesh: `name`, `shadowProductionVariants`, `asyncInferenceConfig`. Every leaf of `productionVariants` is ForceNew and only tags update, "
            + "so any change (model, instance type or count) makes a new configuration; mlmesh's `namePrefix` lets it be created before the old one is deleted",
    },
    "aws:sagemaker/model:Model": {
        fields: ["name", "executionRoleArn", "enableNetworkIsolation", "primaryContainer", "container", "vpcConfig", "inferenceExecutionConfig"],
        source: tf("sagemaker/model.go", "0cafd6b50f8e"),
        note: "Not set by mlmesh: `name` (autonamed), `container`, `inferenceExecutionConfig`. Every leaf of `primaryContainer` (`image`, `modelDataUrl`, `environment`, ...) is ForceNew: a new image or artifact is a new model",
    },
    // --- pulumi-eks remote component: inputs that reach a ForceNew field of its aws:eks/cluster:Cluster ---
    "eks:index:Cluster": {
        fields: ["name", "serviceRole", "kubernetesServiceIpAddressRange", "ipFamily", "encryptionConfigKeyArn", "autoMode.computeConfig.nodeRoleArn"],
        source: "pulumi/pulumi-eks:nodejs/eks/cluster/cluster.ts@v4.3.0",
        note: "cluster.ts passes `name` → name, `serviceRole` → roleArn, `kubernetesServiceIpAddressRange`/`ipFamily` → kubernetesNetworkConfig; all ForceNew in eks/cluster.go@00555dc5b38f. "
            + "`encryptionConfigKeyArn` replaces only when removed (CustomizeDiff ForceNewIfChange); changing the ARN plans an update that upstream never applies, since EKS cannot switch keys. "
            + "`autoMode.computeConfig.nodeRoleArn` replaces when an existing role changes. Not set by mlmesh: `kubernetesServiceIpAddressRange`, `ipFamily`, `autoMode.computeConfig.nodeRoleArn`. "
            + "Subnets (`privateSubnetIds`, `publicSubnetIds`, `subnetIds`) reach vpcConfig.subnetIds, which has no ForceNew there and updates in place (UpdateClusterConfig; terraform-provider-aws 5.25.0 and later); `vpcId` only feeds the default security groups mlmesh skips; "
            + "`bootstrapSelfManagedAddons` is ForceNew upstream but cluster.ts ignores its changes; `version`, `authenticationMode`, `upgradePolicy`, logging and endpoint access update in place. "
            + "`accessEntries` become separate aws:eks/accessEntry children (authenticationMode.ts), so they never replace the cluster",
    },
    // --- Kubernetes (pulumi-kubernetes Diff) ---
    "kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration": clusterScoped([]),
    "kubernetes:apps/v1:DaemonSetPatch": k8s([], "patch resources keep only the identity fields (kinds.IsPatchResource); everything else is patched in place", K8S_PROVIDER),
    "kubernetes:apps/v1:DaemonSet": k8s(["spec.selector"], SELECTOR),
    "kubernetes:apps/v1:Deployment": k8s(["spec.selector"], SELECTOR),
    "kubernetes:apps/v1:StatefulSet": k8s(["spec.podManagementPolicy", "spec.revisionHistoryLimit", "spec.selector", "spec.serviceName", "spec.volumeClaimTemplates"]),
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": k8s([]),
    "kubernetes:batch/v1:Job": k8s(["spec.completions", "spec.parallelism", "spec.selector", "spec.template"]),
    "kubernetes:core/v1:ConfigMap": k8s(["data", "binaryData"],
        "Not set by mlmesh: `binaryData`. `data` and `binaryData` replace unless the provider sets enableConfigMapMutable (mlmesh's does not) and the ConfigMap is not `immutable`"),
    "kubernetes:core/v1:Namespace": clusterScoped([]),
    "kubernetes:core/v1:PersistentVolume": clusterScoped(["awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder", "csi", "fc", "flexVolume", "flocker", "gcePersistentDisk", "glusterfs",
        "hostPath", "iscsi", "local", "nfs", "photonPersistentDisk", "portworxVolume", "quobyte", "rbd", "scaleIO", "storageos", "vsphereVolume"].map((source) => `spec.${source}`)),
    "kubernetes:core/v1:PersistentVolumeClaim": k8s(["spec.accessModes", "spec.selector", "spec.storageClassName", "spec.volumeName"]),
    "kubernetes:core/v1:Pod": k8s(["spec"], "the provider lists almost every pod and container field as ForceNew; `spec` approximates it"),
    "kubernetes:core/v1:ResourceQuota": k8s(["spec.scopes"]),
    "kubernetes:core/v1:Secret": k8s(["type", "data", "stringData"], "`data`/`stringData` replace unless the provider sets enableSecretMutable and the Secret is not `immutable`"),
    "kubernetes:core/v1:Service": k8s(["spec.clusterIP"], "Not set by mlmesh: `spec.clusterIP`. `spec.type`, `spec.ports` and `spec.selector` update in place"),
    "kubernetes:core/v1:ServiceAccount": k8s([]),
    "kubernetes:helm.sh/v3:Release": {
        fields: ["name", "namespace"],
        source: "pulumi/pulumi-kubernetes:provider/pkg/provider/helm_release.go@v4.32.0",
        note: "`chart`, `version`, `values` and `repositoryOpts` are a `helm upgrade` in place; Diff never asks for delete-before-replace",
    },
    "kubernetes:policy/v1:PodDisruptionBudget": k8s([], "only policy/v1beta1 lists `spec`; a policy/v1 PDB updates `spec` in place"),
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding": clusterScoped(["roleRef"]),
    "kubernetes:rbac.authorization.k8s.io/v1:Role": k8s([]),
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": k8s(["roleRef"]),
    "kubernetes:storage.k8s.io/v1:StorageClass": clusterScoped(["parameters", "provisioner"]),
    "pulumi:providers:kubernetes": {
        fields: ["kubeconfig", "context", "cluster", "clusterIdentifier", "renderYamlToDirectory"],
        source: K8S_PROVIDER,
        note: "DiffConfig replaces on `kubeconfig`/`context`/`cluster` only when the active cluster changes or the value is unknown at preview (as when the EKS cluster is being replaced); "
            + "on `clusterIdentifier` only when it changes from one value to another, and an unchanged `clusterIdentifier` cancels every other replacement. "
            + "Not set by mlmesh: `context`, `cluster`, `clusterIdentifier`, `renderYamlToDirectory`. A replaced provider replaces every resource it manages (" + ENGINE + ", providerChanged)",
    },
};

const KUBERNETES_TYPE = /^kubernetes:[^:/]+\/[^:/]+:[A-Za-z0-9]+$/;

/** The rule for a type; Kubernetes CustomResource kinds and components fall back to documented defaults. */
export function replaceRuleOf(type: string): ReplaceRule | undefined {
    if (Object.prototype.hasOwnProperty.call(REPLACE_FIELDS, type)) {
        return REPLACE_FIELDS[type];
    }
    if (type.startsWith("mlmesh:") || type === "pulumi:pulumi:Stack") {
        return COMPONENT_RULE;
    }
    return KUBERNETES_TYPE.test(type) ? KUBERNETES_GENERIC_RULE : undefined;
}

const cell = (text: string): string => text.replace(/\s+/g, " ").replace(/\|/g, "\\|").trim();

/** The README's table: one row per type, notes numbered below it. */
export function renderReplaceTable(): string {
    const rows: [string, ReplaceRule][] = [
        ...Object.entries(REPLACE_FIELDS).sort(([a], [b]) => a.localeCompare(b)),
        ["kubernetes:<group>/<version>:<Kind> not listed (CustomResources: Istio, KServe, Telemetry)", KUBERNETES_GENERIC_RULE],
        ["mlmesh:* components, pulumi:pulumi:Stack", { ...COMPONENT_RULE, note: "components are never replaced themselves: the engine has no provider to diff them with, so a changed input is an update and only children are replaced" }],
    ];
    const notes: string[] = [];
    const lines = rows.map(([type, rule]) => {
        const fields = rule.fields.length > 0 ? rule.fields.map((f) => `\`${f}\``).join(", ") : "none";
        const ref = rule.note ? ` (note ${notes.push(cell(rule.note))})` : "";
        return `| \`${cell(type)}\` | ${fields}${ref} | \`${rule.source}\` |`;
    });
    return [
        "| type | fields that replace | source |",
        "|---|---|---|",
        ...lines,
        "",
        "Notes:",
        "",
        ...notes.map((note, i) => `${i + 1}. ${note}`),
    ].join("\n");
}
