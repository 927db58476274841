import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { parse } from "yaml";
import { GPU_TAINT, LABELS } from "../../components/cluster/gpuPlacement";
import { profileOf } from "../../components/platform/environment";
import { listOf, parsePolicyDocument, wildcardGrants } from "../../policy-pack/iamDocument";
import { policies } from "../../policy-pack/policies";
import { DEFAULT_OFFLINE_ACCOUNT, PlanMocks } from "../../offline/mockOutputs";
import { podTemplateOf } from "../../offline/manifests";
import { runPolicies } from "../../offline/policyRunner";
import { runProgram, type RecordedResource } from "../../offline/recorder";
import { parsePlatformConfig, PlatformConfigError } from "../../stacks/config";
import { buildPlatform } from "../../stacks/program";

/**
 * The whole platform, planned from generated stack configs: any valid config plans with zero
 * mandatory policy violations and keeps the platform's invariants; any invalid one fails before
 * anything is registered. A plan takes seconds, so `npm test` runs PLATFORM_RUNS of each
 * (MLMESH_FUZZ_RUNS, default 4); `npm run fuzz` runs 1,000.
 */
const PLATFORM_RUNS = Number(process.env.MLMESH_FUZZ_RUNS ?? 4);
const STACKS = path.join(__dirname, "..", "..", "stacks");
const PROJECT = path.join(__dirname, "..", "..");

type Raw = Record<string, any>;
type Stack = "dev" | "staging" | "prod";

/** A committed stack file's settings, decoded. */
function stackRaw(stack: Stack): Raw {
    return parse(readFileSync(path.join(STACKS, `Pulumi.${stack}.yaml`), "utf8")).config;
}

/** GPU instance families that share one GPU model each, with the AMIs of their architecture. */
// Every type has room for the committed stacks' largest GPU model (4 CPUs, 16 GiB and a sidecar):
// a model that fits no node of its group is refused, as it should be.
const X86_GROUPS: [string[], string[]][] = [
    [["g5.2xlarge", "g5.4xlarge"], ["AL2023_x86_64_NVIDIA", "BOTTLEROCKET_x86_64_NVIDIA"]],
    [["g6.2xlarge", "g6.4xlarge"], ["AL2023_x86_64_NVIDIA", "BOTTLEROCKET_x86_64_NVIDIA"]],
    [["g4dn.2xlarge"], ["AL2023_x86_64_NVIDIA"]],
    [["g6e.2xlarge"], ["AL2023_x86_64_NVIDIA", "BOTTLEROCKET_x86_64_NVIDIA"]],
];
const ARM_GROUP: [string[], string[]] = [["g5g.xlarge"], ["AL2023_ARM_64_NVIDIA", "BOTTLEROCKET_ARM_64_NVIDIA"]];

const gpuGroup = (name: string, families: [string[], string[]][]) => fc.record({
    family: fc.constantFrom(...families),
    ami: fc.nat(1),
    minSize: fc.integer({ min: 0, max: 2 }),
    room: fc.integer({ min: 1, max: 10 }),
    capacityType: fc.constantFrom("ON_DEMAND", "SPOT"),
    slices: fc.option(fc.integer({ min: 2, max: 4 }), { nil: undefined }),
}).map(({ family: [instanceTypes, amis], ami, minSize, room, capacityType, slices }) => ({
    name, instanceTypes, amiType: amis[ami % amis.length], minSize, maxSize: minSize + room, capacityType,
    ...(slices ? { timeSlicing: { replicas: slices } } : {}),
}));

/** `parts` positive whole weights adding up to 100. */
const weights = (parts: number) => fc.uniqueArray(fc.integer({ min: 1, max: 99 }), { minLength: parts - 1, maxLength: parts - 1 })
    .map((cuts) => [0, ...[...cuts].sort((a, b) => a - b), 100].map((cut, i, all) => (i === 0 ? undefined : cut - all[i - 1])).slice(1) as number[]);

interface Variation {
    readonly stack: Stack;
    readonly first: Raw;
    readonly extra: Raw[];
    /** Per model: its GPU count, group index among x86 groups, version count and weights. */
    readonly models: { gpus: number; group: number; weights: number[] }[];
    readonly splits: number[][];
    readonly gatewayReplicas: number;
    readonly sampling: number;
}

const variation: fc.Arbitrary<Variation> = fc.constantFrom<Stack>("dev", "staging", "prod").chain((stack) => fc.record({
    stack: fc.constant(stack),
    first: gpuGroup(stack === "prod" ? "a10g" : "a10g", X86_GROUPS),
    extra: fc.tuple(fc.option(gpuGroup("x86b", X86_GROUPS), { nil: undefined }), fc.option(gpuGroup("armc", [ARM_GROUP]), { nil: undefined }))
        .map((groups) => groups.filter((g): g is NonNullable<typeof g> => g !== undefined)),
    models: fc.array(fc.record({ gpus: fc.nat(1), group: fc.nat(3), weights: fc.integer({ min: 1, max: 3 }).chain(weights) }), { minLength: 8, maxLength: 8 }),
    splits: fc.array(weights(2), { minLength: 2, maxLength: 2 }),
    gatewayReplicas: fc.integer({ min: 2, max: 4 }),
    sampling: fc.integer({ min: 0, max: 100 }),
}));

/** The committed stack with the variation applied. */
function configOf(v: Variation): Raw {
    const raw = structuredClone(stackRaw(v.stack));
    const cluster = raw["mlmesh:cluster"];
    const groups = [v.first, ...v.extra];
    // The prod groups keep their names (the models name them); the others are replaced.
    cluster.gpuNodeGroups = v.stack === "prod" ? [v.first, ...cluster.gpuNodeGroups.slice(1), ...v.extra] : groups;
    const x86 = cluster.gpuNodeGroups.filter((g: Raw) => g.amiType.includes("x86")).map((g: Raw) => g.name);
    let split = 0;
    raw["mlmesh:models"].forEach((model: Raw, i: number) => {
        const m = v.models[i % v.models.length];
        if (model.backend === "tfserving") {
            model.versions = m.weights.map((weight, k) => ({ name: `v${k + 1}`, modelUri: `s3://models/${model.name}/v${k + 1}`, weight }));
            if (model.replicas) {
                // Each version keeps the tier's floor, so a set range must hold them all.
                const fewest = m.weights.length * profileOf(v.stack).minModelReplicas;
                model.replicas = { min: Math.max(model.replicas.min, fewest), max: Math.max(model.replicas.max, fewest) };
            }
            if (typeof model.image === "string" && model.image.startsWith("tensorflow/serving:")) {
                delete model.image; // the stock image follows the GPU count
            }
        }
        if ((model.backend === "tfserving" || (model.backend === "kserve" && model.modelFormat !== "huggingface")) && model.gpus !== undefined) {
            model.gpus = m.gpus;
        }
        if (model.gpus > 0) {
            model.gpuNodeGroup = x86[m.group % x86.length];
        } else {
            delete model.gpuNodeGroup;
        }
        if (model.backend === "split") {
            const w = v.splits[split++ % v.splits.length];
            model.routes = model.routes.slice(0, 2).map((route: Raw, k: number) => ({ ...route, weight: w[k] }));
        }
    });
    raw["mlmesh:mesh"].ingressGateway.replicas = v.gatewayReplicas;
    raw["mlmesh:mesh"].tracing = { ...raw["mlmesh:mesh"].tracing, sampling: v.sampling };
    return raw;
}

/** Pulumi's config: structured values as JSON text. */
const asPulumiConfig = (raw: Raw): Record<string, string> => Object.fromEntries(Object.entries(raw).map(([k, value]) => [k, typeof value === "string" ? value : JSON.stringify(value)]));

/** The offline engine, counting what the program registers. */
class CountingMocks extends PlanMocks {
    registered = 0;

    newResource(args: Parameters<PlanMocks["newResource"]>[0]) {
        // The stack itself is registered before the program runs.
        this.registered += args.type === "pulumi:pulumi:Stack" ? 0 : 1;
        return super.newResource(args);
    }
}

async function planRaw(raw: Raw, stack: string, mocks = new CountingMocks({ ...DEFAULT_OFFLINE_ACCOUNT, region: raw["aws:region"] })) {
    return runProgram({
        project: "mlmesh", stack, config: asPulumiConfig(raw),
        mocks,
        program: () => buildPlatform(parsePlatformConfig(raw, stack)),
    });
}

const policyConfig = (environment: string) => JSON.parse(readFileSync(path.join(PROJECT, "policy-pack", "config", `${environment}.json`), "utf8"));

type Toleration = { key?: string; effect?: string; value?: string };
interface PodView { where: string; gpus: number; tolerations: Toleration[]; nodeSelector: Record<string, string> }

/** Every pod the platform defines: workloads' templates and InferenceService predictors. */
function pods(resources: readonly RecordedResource[]): PodView[] {
    const views: PodView[] = [];
    const gpusOf = (containers: { resources?: { limits?: Record<string, string> } }[]) => containers.reduce((sum, c) => sum + Number(c.resources?.limits?.["nvidia.com/gpu"] ?? 0), 0);
    for (const r of resources) {
        const spec = podTemplateOf(r)?.spec as Raw | undefined;
        if (spec) {
            views.push({ where: r.name, gpus: gpusOf([...(spec.containers ?? []), ...(spec.initContainers ?? [])]), tolerations: spec.tolerations ?? [], nodeSelector: spec.nodeSelector ?? {} });
        }
        if (r.type === "kubernetes:serving.kserve.io/v1beta1:InferenceService") {
            const predictor = ((r.inputs.spec ?? {}) as Raw).predictor ?? {};
            views.push({ where: r.name, gpus: gpusOf([predictor.model ?? {}, ...(predictor.containers ?? [])]), tolerations: predictor.tolerations ?? [], nodeSelector: predictor.nodeSelector ?? {} });
        }
    }
    return views;
}

/** The invariants every valid plan keeps; each failure names where. */
function invariantProblems(resources: readonly RecordedResource[], mlNamespaces: readonly string[]): string[] {
    const problems: string[] = [];
    const of = (type: string) => resources.filter((r) => r.type === type);
    // GPU pods tolerate exactly the GPU taint and land on a GPU group; nothing else tolerates it.
    const gpuGroups = new Set(of("aws:eks/nodeGroup:NodeGroup")
        .filter((g) => ((g.inputs.taints ?? []) as Toleration[]).some((t) => t.key === GPU_TAINT.key && t.effect === "NO_SCHEDULE"))
        .map((g) => (g.inputs.labels as Record<string, string>)[LABELS.nodeGroup]));
    const toleratesGpu = (t: Toleration) => t.key === GPU_TAINT.key || t.key === undefined;
    for (const pod of pods(resources)) {
        if (pod.gpus > 0) {
            const exact = pod.tolerations.length === 1 && pod.tolerations[0].key === GPU_TAINT.key && pod.tolerations[0].effect === GPU_TAINT.effect && pod.tolerations[0].value === GPU_TAINT.value;
            if (!exact || !gpuGroups.has(pod.nodeSelector[LABELS.nodeGroup])) {
                problems.push(`${pod.where}: a GPU pod with tolerations ${JSON.stringify(pod.tolerations)} and nodeSelector ${JSON.stringify(pod.nodeSelector)}`);
            }
        } else if (pod.tolerations.some(toleratesGpu)) {
            problems.push(`${pod.where}: a pod without GPUs tolerates the GPU taint`);
        }
    }
    // Weighted routes add up to 100.
    for (const vs of of("kubernetes:networking.istio.io/v1:VirtualService")) {
        for (const route of (((vs.inputs.spec ?? {}) as Raw).http ?? []) as Raw[]) {
            const destinations = (route.route ?? []) as { weight?: number }[];
            const weighted = destinations.filter((d) => d.weight !== undefined);
            if ((destinations.length > 1 || weighted.length > 0) && (weighted.length !== destinations.length || weighted.reduce((s, d) => s + d.weight!, 0) !== 100)) {
                problems.push(`${vs.name}: weights ${JSON.stringify(destinations.map((d) => d.weight))} do not add up to 100`);
            }
        }
    }
    // STRICT mTLS mesh-wide, nothing weaker in a namespace, and a default deny in every ML namespace.
    const peerAuth = of("kubernetes:security.istio.io/v1:PeerAuthentication");
    if (!peerAuth.some((p) => (p.inputs.metadata as Raw).namespace === "istio-system" && (p.inputs.spec as Raw)?.mtls?.mode === "STRICT")) {
        problems.push("no mesh-wide STRICT PeerAuthentication");
    }
    problems.push(...peerAuth.filter((p) => ["PERMISSIVE", "DISABLE"].includes((p.inputs.spec as Raw)?.mtls?.mode)).map((p) => `${p.name}: mTLS ${(p.inputs.spec as Raw).mtls.mode}`));
    const denied = new Set(of("kubernetes:security.istio.io/v1:AuthorizationPolicy")
        .filter((p) => Object.keys((p.inputs.spec ?? {}) as Raw).length === 0).map((p) => (p.inputs.metadata as Raw).namespace));
    problems.push(...mlNamespaces.filter((ns) => !denied.has(ns)).map((ns) => `${ns}: no default-deny AuthorizationPolicy`));
    // Every IAM grant is scoped: no wildcard actions, and `*` resources only under a condition or
    // for reads AWS gives no resource scope (Describe, List, Get).
    for (const r of resources) {
        const documents = r.type === "aws:iam/policy:Policy" || r.type === "aws:iam/rolePolicy:RolePolicy" ? [r.inputs.policy]
            : r.type === "aws:iam/role:Role" ? ((r.inputs.inlinePolicies ?? []) as Raw[]).map((p) => p.policy) : [];
        for (const document of documents.filter((d) => d !== undefined && d !== "")) {
            const parsed = parsePolicyDocument(document);
            problems.push(...(parsed.error !== undefined ? [`${r.name}: ${parsed.error}`] : wildcardGrants(parsed.statements).map((g) => `${r.name}: grants ${g.grants}`)));
            for (const statement of parsed.statements ?? []) {
                const actions = listOf(statement.body.Action);
                if (statement.allows && listOf(statement.body.Resource).includes("*") && statement.body.Condition === undefined
                    && !actions.every((a) => /^[a-z0-9-]+:(Describe|List|Get)/.test(a))) {
                    problems.push(`${r.name}: ${JSON.stringify(actions)} on every resource, unconditioned`);
                }
            }
        }
    }
    return problems;
}

describe(`the whole platform over generated stack configs (${PLATFORM_RUNS} runs each; npm run fuzz: 1,000)`, function () {
    this.timeout(0);

    it("starts from the committed stacks, which keep every invariant", async () => {
        for (const stack of ["dev", "prod"] as const) {
            const raw = stackRaw(stack);
            const run = await planRaw(raw, stack);
            assert.deepEqual(invariantProblems(run.resources, raw["mlmesh:mesh"].namespaces), [], stack);
        }
    });

    it("finds a broken invariant, proving the check can fail", async () => {
        const raw = stackRaw("dev");
        const run = await planRaw(raw, "dev");
        const broken = run.resources.map((r) => (r.type === "kubernetes:security.istio.io/v1:AuthorizationPolicy" && Object.keys((r.inputs.spec ?? {}) as Raw).length === 0 && (r.inputs.metadata as Raw).namespace === "ml-tabular"
            ? { ...r, inputs: { ...r.inputs, spec: { action: "ALLOW", rules: [{}] } } } : r));
        assert.deepEqual(invariantProblems(broken, raw["mlmesh:mesh"].namespaces), ["ml-tabular: no default-deny AuthorizationPolicy"]);
    });

    it("plans any valid config with zero mandatory policy violations, keeping every invariant", async () => {
        await fc.assert(fc.asyncProperty(variation, async (v) => {
            const raw = configOf(v);
            const run = await planRaw(raw, v.stack);
            const { violations } = await runPolicies(policies, run.resources, policyConfig(v.stack));
            const mandatory = violations.filter((x) => x.level === "mandatory").map((x) => `${x.policy}: ${x.message}`);
            assert.deepEqual([mandatory, invariantProblems(run.resources, raw["mlmesh:mesh"].namespaces)], [[], []]);
        }), { numRuns: PLATFORM_RUNS, endOnFailure: true });
    });

    // [path in the raw config, a value of the wrong kind there]
    const BAD: [string, (raw: Raw) => void, string][] = [
        ["mlmesh:cluster.gpuNodeGroups[0].maxSize", (raw) => { raw["mlmesh:cluster"].gpuNodeGroups[0].maxSize = -1; }, "mlmesh:cluster.gpuNodeGroups[0].maxSize"],
        ["mlmesh:models[0].gpuNodeGroup", (raw) => { raw["mlmesh:models"][0].gpuNodeGroup = "no-such-group"; raw["mlmesh:models"][0].gpus = 1; }, "mlmesh:models[0].gpuNodeGroup"],
        ["mlmesh:mesh.servedVersions", (raw) => { raw["mlmesh:mesh"].servedVersions = ["1.29.0"]; }, "mlmesh:mesh.servedVersions"],
        ["mlmesh:mesh.ingressGateway.replicas", (raw) => { raw["mlmesh:mesh"].ingressGateway.replicas = 0; }, "mlmesh:mesh.ingressGateway.replicas"],
        ["mlmesh:network", (raw) => { raw["mlmesh:network"] = "10.0.0.0/8"; }, "mlmesh:network"],
    ];
    it("fails any config with one bad setting before anything is registered, naming the setting", async () => {
        await fc.assert(fc.asyncProperty(variation, fc.constantFrom(...BAD), async (v, [, breakIt, named]) => {
            const raw = configOf(v);
            breakIt(raw);
            const mocks = new CountingMocks({ ...DEFAULT_OFFLINE_ACCOUNT, region: raw["aws:region"] });
            await assert.rejects(planRaw(raw, v.stack, mocks), (error: unknown) => error instanceof PlatformConfigError && error.message.includes(named));
            assert.equal(mocks.registered, 0);
        }), { numRuns: Math.max(PLATFORM_RUNS, 20), endOnFailure: true });
    });
});
