/**
 * The schema of the `mlmesh:*` stack settings. Each top-level key has its own schema so that
 * every key is checked even when another is broken; defaults are resolved here and nowhere else.
 */
import { z } from "zod";
import { didYouMean } from "../components/suggest";
import { NAT_GATEWAY_MODES } from "../components/cluster/clusterVpc";
import { AZ_COUNT_RANGE, parseCidr, vpcCidrProblem } from "../components/cluster/cidr";
import { scalingProblems, type NodeScaling } from "../components/cluster/nodeScaling";
import { DEFAULT_KUBERNETES_VERSION, SUPPORTED_KUBERNETES_VERSIONS } from "../components/cluster/eksAddons";
import { GPU_AMI_TYPES, instanceTypeProblems } from "../components/cluster/gpuInstances";
import { DEFAULT_GPU_DISK_GIB, DISK_GIB_RANGE, TIME_SLICING_REPLICAS_RANGE } from "../components/cluster/gpuNodeGroup";
import { CAPACITY_TYPES } from "../components/cluster/managedNodeGroup";
import { endpointAccessProblem } from "../components/cluster/gpuCluster";
import { validateClusterAccess } from "../components/cluster/clusterAccess";
import { DEFAULT_OTEL_COLLECTOR, DEFAULT_SIDECAR, RESERVED_NAMESPACE_PREFIXES } from "../components/mesh/istioMesh";
import { ISTIO_VERSION, servedVersionsProblem, SUPPORTED_ISTIO_VERSIONS } from "../components/mesh/istioCharts";
import { MTLS_MODES } from "../components/mesh/meshPolicies";
import { SIDECAR_CONCURRENCY_RANGE } from "../components/mesh/sidecarResources";
import { KSERVE_DEPLOYMENT_MODES, KSERVE_MODEL_FORMATS, MODEL_BACKENDS } from "../components/serving/modelSpec";
import { parseQuantity, requestAboveLimit, type QuantityKind } from "../components/mesh/quantity";
import { ENVIRONMENTS, type Environment } from "../components/platform/environment";
import { CLUSTER_NAME, HOST_NAME, SHORT_NAME } from "../components/names";
import { imageCacheProblems } from "../components/images";
import type { PropertyProblem } from "../components/propertyErrors";
import { OUTBOUND_MODES, validateEgress } from "../components/mesh/egress";
import { POD_SECURITY_LEVELS } from "../components/mesh/podSecurity";
import { validateJwtIssuers } from "../components/gateway/jwtIssuers";
import { PropertyErrors } from "../components/propertyErrors";

export { ENVIRONMENTS, type Environment };



export const GATEWAY_SCHEMES = ["internal", "internet-facing"] as const;

/** A strict object whose unknown keys are reported with the keys that are allowed. */
function closed<T extends z.ZodRawShape>(shape: T) {
    const known = Object.keys(shape);
    return z.strictObject(shape, {
        error: (issue) => issue.code === "unrecognized_keys"
            ? `is not a known setting${issue.keys.length === 1 ? didYouMean(issue.keys[0], known) : ""}; use one of: ${known.join(", ")}`
            : undefined,
    });
}

/** Reports a component check's problems (paths like `allow[0].hosts[1]`) on the schema's fields, under `prefix`. */
function addProblems(ctx: z.RefinementCtx, problems: readonly PropertyProblem[], prefix: (string | number)[] = []): void {
    for (const problem of problems) {
        const path = problem.path.replace(/\]/g, "").split(/[.[]/).map((part) => (/^\d+$/.test(part) ? Number(part) : part));
        ctx.addIssue({ code: "custom", path: [...prefix, ...path], input: problem.value, message: problem.reason });
    }
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
    return z.enum(values, {
        error: (issue) => typeof issue.input === "number" && values.some((v) => /^\d+(\.\d+)*$/.test(v))
            // YAML reads `1.30` as the number 1.3: the version must be quoted.
            ? `is a number, not a version: YAML reads an unquoted version as a number (1.30 becomes 1.3); quote it, e.g. "${values[values.length - 1]}" (one of ${values.join(", ")})`
            : `must be one of ${values.join(", ")}${didYouMean(issue.input, values)}`,
    });
}

/** A duration such as `30s` or `500ms`; the serving components check its value. */
const duration = z.string({ error: (issue) => (typeof issue.input === "number" ? "must be a duration with its unit, e.g. 30s (a bare number has none)" : "must be a duration such as 30s") });

function count(min: number, max = 1000) {
    return z.number({ error: "must be a whole number" }).int({ error: "must be a whole number" })
        .min(min, { error: `must be at least ${min}` }).max(max, { error: `must be at most ${max}` });
}

function quantity(kind: QuantityKind) {
    return z.union([z.string(), z.number()], { error: "must be a Kubernetes quantity string" })
        .transform((value) => String(value))
        .superRefine((value, ctx) => {
            const parsed = parseQuantity(value, kind);
            if (typeof parsed === "string") {
                ctx.addIssue({ code: "custom", message: parsed, input: value });
            }
        });
}

const text = z.string({ error: "must be a string" });
const integer = z.number({ error: "must be a whole number" }).int({ error: "must be a whole number" });

const dnsLabel = z.string({ error: "must be a string" })
    .regex(SHORT_NAME, { error: "must be a DNS-1123 label of at most 40 characters: lowercase letters, digits and '-', starting with a letter" });

const cidr = z.string({ error: "must be a CIDR string" }).superRefine((value, ctx) => {
    const parsed = parseCidr(value);
    if (typeof parsed === "string") {
        ctx.addIssue({ code: "custom", message: parsed, input: value });
    }
});

/** The VPC block when the stack sets none; change it where VPCs are peered. */
export const DEFAULT_VPC_CIDR = "10.40.0.0/16";

export const createdNetworkSchema = closed({
    vpcCidr: z.string({ error: "must be a CIDR string such as 10.40.0.0/16" }).superRefine((value, ctx) => {
        const problem = vpcCidrProblem(value);
        if (problem) {
            ctx.addIssue({ code: "custom", message: problem, input: value });
        }
    }).default(DEFAULT_VPC_CIDR),
    availabilityZones: count(AZ_COUNT_RANGE.min, AZ_COUNT_RANGE.max).optional(),
    availabilityZoneIds: z.array(z.string({ error: "must be a zone ID such as usw2-az1" }), { error: "must be a list of zone IDs" }).optional(),
    natGateways: oneOf(NAT_GATEWAY_MODES).optional(),
    s3Accounts: z.array(z.string({ error: "must be an account id" }).regex(/^\d{12}$/, { error: "must be a 12-digit AWS account id" }), { error: "must be a list of account ids" })
        .refine((ids) => new Set(ids).size === ids.length, { error: "lists an account more than once" })
        .default([]),
});

export const existingNetworkSchema = closed({
    vpcId: z.string({ error: "must be a VPC id" }).regex(/^vpc-[0-9a-f]{8,17}$/, { error: "is not a VPC id; it looks like vpc-0123456789abcdef0" }),
    privateSubnetIds: z.array(
        z.string({ error: "must be a subnet id" }).regex(/^subnet-[0-9a-f]{8,17}$/, { error: "is not a subnet id; it looks like subnet-0123456789abcdef0" }),
        { error: "must be a list of subnet ids" },
    ).min(2, { error: "must list private subnets in at least two availability zones (EKS requires two)" })
        .refine((ids) => new Set(ids).size === ids.length, { error: "lists a subnet more than once" }),
});

const nodeScaling = {
    minSize: count(0).default(0),
    maxSize: count(1),
    desiredSize: count(0).optional(),
};

/** The node-group size rules, reported on the field to change. */
function checkScaling(group: NodeScaling, ctx: z.RefinementCtx): void {
    for (const problem of scalingProblems(group)) {
        ctx.addIssue({ code: "custom", path: [problem.field], input: problem.value, message: problem.reason });
    }
}

const instanceType = z.string({ error: "must be an EC2 instance type" })
    .regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, { error: "is not an EC2 instance type; it looks like g5.2xlarge" });

export const gpuNodeGroupSchema = closed({
    name: dnsLabel,
    instanceTypes: z.array(instanceType, { error: "must be a list of instance types" }).min(1, { error: "must name at least one instance type" }),
    amiType: oneOf(GPU_AMI_TYPES).default("AL2023_x86_64_NVIDIA"),
    capacityType: oneOf(CAPACITY_TYPES).default("ON_DEMAND"),
    ...nodeScaling,
    diskSizeGiB: count(DISK_GIB_RANGE.min, DISK_GIB_RANGE.max).default(DEFAULT_GPU_DISK_GIB),
    timeSlicing: closed({ replicas: count(TIME_SLICING_REPLICAS_RANGE.min, TIME_SLICING_REPLICAS_RANGE.max) }).optional(),
}).superRefine((group, ctx) => {
    checkScaling(group, ctx);
    for (const problem of instanceTypeProblems(group.instanceTypes, group.amiType)) {
        ctx.addIssue({ code: "custom", path: ["instanceTypes", problem.index], input: problem.instanceType, message: problem.reason });
    }
});

export const clusterSchema = closed({
    name: z.string({ error: "must be a string" }).regex(CLUSTER_NAME, { error: "must start with a letter and hold only letters, digits and '-' (at most 100)" }).optional(),
    kubernetesVersion: oneOf(SUPPORTED_KUBERNETES_VERSIONS).default(DEFAULT_KUBERNETES_VERSION),
    endpointPublicAccess: z.boolean({ error: "must be true or false" }).default(false),
    publicAccessCidrs: z.array(cidr, { error: "must be a list of CIDR blocks" }).default([]),
    systemNodes: closed({
        instanceType: instanceType.default("m6i.large"),
        ...nodeScaling,
        minSize: count(1).default(2),
        maxSize: count(1).default(4),
        diskSizeGiB: count(DISK_GIB_RANGE.min, DISK_GIB_RANGE.max).default(50),
    }).superRefine(checkScaling).default({ instanceType: "m6i.large", minSize: 2, maxSize: 4, diskSizeGiB: 50 }),
    access: closed({
        deployerRoleArn: z.string({ error: "must be an IAM role ARN" }).optional(),
        clusterAdmins: z.array(z.string({ error: "must be an IAM role ARN" }), { error: "must be a list of IAM role ARNs" }).default([]),
        appTeams: z.array(closed({
            name: text,
            roleArn: z.string({ error: "must be an IAM role ARN" }),
            namespaces: z.array(text, { error: "must be a list of mesh namespaces" }),
            imageRepositories: z.array(text, { error: "must be a list of private ECR repositories" }).default([]),
        }), { error: "must be a list of { name, roleArn, namespaces, imageRepositories }" }).default([]),
    }).superRefine((access, ctx) => addProblems(ctx, validateClusterAccess(access).list)).default({ clusterAdmins: [], appTeams: [] }),
    imageCache: closed({
        dockerHubSecretArn: z.string({ error: "must be a Secrets Manager secret ARN" }).optional(),
        githubSecretArn: z.string({ error: "must be a Secrets Manager secret ARN" }).optional(),
        mirrors: z.record(z.string(), z.string({ error: "must be a private ECR repository" }), { error: "must map upstream repositories to private ECR repositories" }).default({}),
    }).superRefine((cache, ctx) => {
        for (const problem of imageCacheProblems(cache)) {
            const path = problem.field.startsWith("mirrors[") ? ["mirrors", problem.field.slice(9, -2)] : [problem.field];
            ctx.addIssue({ code: "custom", path, input: problem.value, message: problem.reason });
        }
    }).default({ mirrors: {} }),
    kserve: z.boolean({ error: "must be true or false" }).default(false),
    gpuNodeGroups: z.array(gpuNodeGroupSchema, { error: "must be a list of node groups" }).default([]).superRefine((groups, ctx) => {
        const seen = new Set<string>();
        groups.forEach((group, index) => {
            if (seen.has(group.name)) {
                ctx.addIssue({ code: "custom", path: [index, "name"], input: group.name, message: "is used by an earlier group; give every GPU node group its own name" });
            }
            seen.add(group.name);
        });
    }),
}).superRefine((cluster, ctx) => {
    const problem = endpointAccessProblem(cluster.endpointPublicAccess, cluster.publicAccessCidrs);
    if (problem) {
        ctx.addIssue({ code: "custom", path: ["publicAccessCidrs"], input: cluster.publicAccessCidrs, message: problem });
    }
});

const sidecarSchema = closed({
    cpu: quantity("cpu").default(DEFAULT_SIDECAR.cpu),
    memory: quantity("memory").default(DEFAULT_SIDECAR.memory),
    cpuLimit: quantity("cpu").default(DEFAULT_SIDECAR.cpuLimit),
    memoryLimit: quantity("memory").default(DEFAULT_SIDECAR.memoryLimit),
    concurrency: count(SIDECAR_CONCURRENCY_RANGE.min, SIDECAR_CONCURRENCY_RANGE.max).default(DEFAULT_SIDECAR.concurrency),
}).superRefine((sidecar, ctx) => {
    const pairs = [["cpu", "cpuLimit", "cpu"], ["memory", "memoryLimit", "memory"]] as const;
    for (const [request, limit, kind] of pairs) {
        const problem = requestAboveLimit(sidecar[request], sidecar[limit], kind, limit);
        if (problem) {
            ctx.addIssue({ code: "custom", path: [request], input: sidecar[request], message: problem });
        }
    }
});

const hostname = z.string({ error: "must be a host name" })
    .regex(HOST_NAME, { error: "must be a fully qualified host name without wildcards, e.g. inference.example.com" });

export const meshSchema = closed({
    istioVersion: oneOf(SUPPORTED_ISTIO_VERSIONS).default(ISTIO_VERSION),
    servedVersions: z.array(text, { error: "must be a list of Istio versions" }).optional(),
    mtls: oneOf(MTLS_MODES).default("STRICT"),
    ingressGateway: closed({
        scheme: oneOf(GATEWAY_SCHEMES).default("internal"),
        replicas: count(1, 50).default(2),
        maxReplicas: count(1, 100).optional(),
        hosts: z.array(hostname, { error: "must be a list of host names" }).default([]),
        tlsCredentialName: z.string({ error: "must be a Secret name" }).regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, { error: "must be a Kubernetes Secret name" }).optional(),
        jwt: z.array(closed({
            issuer: z.string({ error: "must be the issuer's URL" }),
            jwksUri: z.string({ error: "must be the URL of the issuer's keys" }),
            audiences: z.array(z.string({ error: "must be a string" }), { error: "must be a list of audiences" }),
        }), { error: "must be a list of { issuer, jwksUri, audiences }" }).default([]),
    }).superRefine((gateway, ctx) => {
        const errors = new PropertyErrors();
        validateJwtIssuers(gateway.jwt, errors, "jwt");
        addProblems(ctx, errors.list);
        if (gateway.scheme === "internet-facing" && gateway.hosts.length === 0) {
            ctx.addIssue({ code: "custom", path: ["hosts"], input: gateway.hosts, message: "must list the public host names when `scheme` is internet-facing; an open gateway with no hosts is refused" });
        }
        if (gateway.maxReplicas !== undefined && gateway.maxReplicas < gateway.replicas) {
            ctx.addIssue({ code: "custom", path: ["maxReplicas"], input: gateway.maxReplicas, message: `is below \`replicas\` (${gateway.replicas}); raise maxReplicas or lower replicas` });
        }
    }).default({ scheme: "internal", replicas: 2, hosts: [], jwt: [] }),
    tracing: closed({
        sampling: z.number({ error: "must be a percentage" }).min(0, { error: "must be a percentage from 0 to 100" }).max(100, { error: "must be a percentage from 0 to 100" }).default(1),
        otelCollector: z.string({ error: "must be host:port" }).regex(/^[a-z0-9.-]+:\d{1,5}$/, { error: "must be host:port, e.g. opentelemetry-collector.observability.svc.cluster.local:4317" }).default(DEFAULT_OTEL_COLLECTOR),
    }).default({ sampling: 1, otelCollector: DEFAULT_OTEL_COLLECTOR }),
    defaultSidecar: sidecarSchema.default(DEFAULT_SIDECAR),
    namespaces: z.array(dnsLabel.refine((ns) => !RESERVED_NAMESPACE_PREFIXES.some((reserved) => ns.startsWith(reserved)), { error: `is a namespace of the system or of mlmesh itself (${RESERVED_NAMESPACE_PREFIXES.join(", ")}); pick a namespace of your own` }), { error: "must be a list of namespaces" })
        .default(["ml-serving"])
        .refine((list) => new Set(list).size === list.length, { error: "lists a namespace more than once" }),
    inferenceExtension: z.boolean({ error: "must be true or false" }).default(false),
    cni: z.boolean({ error: "must be true or false" }).default(true),
    podSecurity: oneOf(POD_SECURITY_LEVELS).default("restricted"),
    egress: closed({
        mode: oneOf(OUTBOUND_MODES).default("REGISTRY_ONLY"),
        allow: z.array(closed({
            namespace: text,
            hosts: z.array(text, { error: "must be a list of host names" }),
            port: integer.optional(),
        }), { error: "must be a list of { namespace, hosts, port }" }).default([]),
        s3Regions: z.array(text, { error: "must be a list of region names" }).default([]),
    }).default({ mode: "REGISTRY_ONLY", allow: [], s3Regions: [] }),
}).superRefine((mesh, ctx) => {
    const served = mesh.servedVersions && servedVersionsProblem(mesh.istioVersion, mesh.servedVersions);
    if (served) {
        ctx.addIssue({ code: "custom", path: ["servedVersions"], input: mesh.servedVersions, message: served });
    }
    if (!mesh.cni && mesh.podSecurity !== "privileged") {
        ctx.addIssue({ code: "custom", path: ["cni"], input: mesh.cni, message: `cannot be false while podSecurity is ${mesh.podSecurity}: without the CNI every pod carries istio-init with NET_ADMIN and NET_RAW, which Pod Security refuses; keep cni: true, or set podSecurity: privileged (not in prod)` });
    }
    addProblems(ctx, validateEgress(mesh.egress, mesh.namespaces).list, ["egress"]);
});


const retriesShape = closed({ attempts: integer.optional(), perTryTimeout: duration.optional(), retryOn: text.optional() });
const claimsShape = z.record(z.string(), z.array(text, { error: "must be a list of the values that admit" }), { error: "must map claim names to lists of values, e.g. { groups: [fraud-analysts] }" });

/** Shapes only; the serving components' own checks (weights, durations, quantities, placement) run after. */
const commonModelShape = {
    name: text,
    namespace: text.default("ml-serving"),
    gpus: integer.default(0),
    gpuNodeGroup: text.optional(),
    resources: closed({ cpu: quantity("cpu").optional(), memory: quantity("memory").optional() }).optional(),
    sidecar: closed({
        cpu: quantity("cpu").optional(),
        memory: quantity("memory").optional(),
        cpuLimit: quantity("cpu").optional(),
        memoryLimit: quantity("memory").optional(),
        concurrency: integer.optional(),
    }).optional(),
    replicas: closed({ min: integer, max: integer }).optional(),
    timeout: duration.optional(),
    retries: retriesShape.optional(),
    circuitBreaker: closed({
        consecutive5xxErrors: integer.optional(),
        interval: duration.optional(),
        baseEjectionTime: duration.optional(),
        maxEjectionPercent: integer.optional(),
        maxConnections: integer.optional(),
        http2MaxRequests: integer.optional(),
    }).optional(),
    allowedPrincipals: z.array(text, { error: "must be a list of principals" }).optional(),
    modelKmsKeyArn: text.optional(),
    paths: z.array(closed({ prefix: text, timeout: duration.optional(), retries: retriesShape.optional() }), { error: "must be a list of { prefix, timeout, retries }" }).optional(),
    requireClaims: claimsShape.optional(),
};

/** A split names other models; the front door checks its legs, weights and protocols. */
const splitModelSchema = closed({
    name: text,
    namespace: text.default("ml-serving"),
    backend: z.literal("split"),
    routes: z.array(closed({ model: text, weight: integer }), { error: "must be a list of { model, weight }" }),
    allowedPrincipals: z.array(text, { error: "must be a list of principals" }).optional(),
    requireClaims: claimsShape.optional(),
    timeout: duration.optional(),
    retries: retriesShape.optional(),
});

const tfServingModelSchema = closed({
    ...commonModelShape,
    backend: z.literal("tfserving"),
    versions: z.array(closed({ name: text, modelUri: text, weight: integer }), { error: "must be a list of versions" }),
    image: text.optional(),
});

const kserveModelSchema = closed({
    ...commonModelShape,
    backend: z.literal("kserve"),
    modelFormat: oneOf(KSERVE_MODEL_FORMATS),
    storageUri: text,
    runtimeVersion: text.optional(),
    canaryTrafficPercent: integer.optional(),
    canaryStorageUri: text.optional(),
    deploymentMode: oneOf(KSERVE_DEPLOYMENT_MODES).default("Standard"),
});

/** A SageMaker model: no GPU default (SageMaker sizes its own instances; the model checks refuse GPU settings). */
const sagemakerModelSchema = closed({
    ...commonModelShape,
    gpus: integer.optional(),
    backend: z.literal("sagemaker"),
    endpointName: text.optional(),
    model: closed({
        image: text,
        modelDataUrl: text,
        instanceType: text,
        initialInstanceCount: integer,
        autoscaling: closed({ min: integer, max: integer, invocationsPerInstance: integer }).optional(),
        dataCapture: closed({ samplingPercent: integer, destination: text }).optional(),
    }).optional(),
});

export const modelsSchema = z.array(
    z.discriminatedUnion("backend", [tfServingModelSchema, kserveModelSchema, sagemakerModelSchema, splitModelSchema], { error: `must name its \`backend\`: one of ${MODEL_BACKENDS.join(", ")}` }),
    { error: "must be a list of models" },
).default([]);

export const environmentSchema = oneOf(ENVIRONMENTS);

export const regionSchema = z.string({ error: "must be set to the AWS region to deploy to" })
    .regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$/, { error: "is not an AWS region name; it looks like us-west-2" });

export type CreatedNetworkConfig = z.output<typeof createdNetworkSchema>;
export type ExistingNetworkConfig = z.output<typeof existingNetworkSchema>;
export type ClusterConfig = z.output<typeof clusterSchema>;
export type GpuNodeGroupConfig = z.output<typeof gpuNodeGroupSchema>;
export type MeshConfig = z.output<typeof meshSchema>;
