import * as assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { waitsFor } from "../../../offline/installOrder";
import { chartOf } from "../../../offline/manifests";
import { plan } from "../../../offline/plan";
import type { RecordedResource } from "../../../offline/recorder";

/**
 * MlPlatform's composition order, read from the offline engine's plan of the committed stacks:
 * what each resource waits for (its inputs' resources, its `dependsOn`, its provider), transitively.
 */

const K8S_PROVIDER = "pulumi:providers:kubernetes";
const EKS_CLUSTER = "eks:index:Cluster";
const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const INFERENCE_SERVICE = "kubernetes:serving.kserve.io/v1beta1:InferenceService";
const VIRTUAL_SERVICE = "kubernetes:networking.istio.io/v1:VirtualService";
const DESTINATION_RULE = "kubernetes:networking.istio.io/v1:DestinationRule";
const AUTHORIZATION_POLICY = "kubernetes:security.istio.io/v1:AuthorizationPolicy";
const PEER_AUTHENTICATION = "kubernetes:security.istio.io/v1:PeerAuthentication";
const REQUEST_AUTHENTICATION = "kubernetes:security.istio.io/v1:RequestAuthentication";
const NAMESPACE = "kubernetes:core/v1:Namespace";
const SAGEMAKER_ENDPOINT = "aws:sagemaker/endpoint:Endpoint";
const MODEL_COMPONENTS = ["mlmesh:serving:TfServingModel", "mlmesh:serving:KServeModel"];
const BRIDGE = "mlmesh:sagemaker:SageMakerBridge";
const FRONT_DOOR = "mlmesh:gateway:InferenceGateway";
/** The front door's VirtualServices in istio-ingress: public hosts, the in-mesh host, a split's legs. */
const DOOR_ROUTES = ["mlmesh-front-door", "inference", "mlmesh-split-legs"];
const ISTIO_CHARTS = ["base", "istiod", "cni", "gateway"];
/** What a SageMaker endpoint may wait for: its IAM role, its KMS key, its model and config, the VPC. */
const SAGEMAKER_MAY_WAIT_FOR = /^aws:(iam|kms|sagemaker|ec2)\//;

interface ModelConfig {
    name: string;
    namespace: string;
    backend: string;
    model?: unknown;
}

/** Fails with one line per problem, under a heading, when there is any. */
function assertNone(problems: readonly string[], heading: string): void {
    if (problems.length > 0) {
        assert.fail(`${heading}:\n  ${problems.join("\n  ")}`);
    }
}

/** One stack's plan, indexed by URN, with each resource's transitive wait set. */
class Planned {
    readonly byUrn: Map<string, RecordedResource>;
    readonly waits: Map<string, Set<string>>;

    constructor(readonly resources: readonly RecordedResource[], readonly models: readonly ModelConfig[]) {
        this.byUrn = new Map(resources.map((r) => [r.urn, r]));
        this.waits = waitsFor(resources);
    }

    /** A resource's name and type, short enough for a failure message. */
    label(urn: string): string {
        const r = this.byUrn.get(urn);
        const kind = r?.type.startsWith("pulumi:providers:") ? `${r.type.split(":").pop()} provider` : r?.type.split(":").pop();
        return r ? `${r.name} (${kind})` : `<not in plan: ${urn}>`;
    }

    ofType(type: string): RecordedResource[] {
        return this.resources.filter((r) => r.type === type);
    }

    one(description: string, found: RecordedResource[]): RecordedResource {
        assert.equal(found.length, 1, `expected one ${description} in the plan, found ${found.map((r) => this.label(r.urn)).join(", ") || "none"}`);
        return found[0];
    }

    /** Custom resources under `urn`, at any depth. */
    descendants(urn: string): RecordedResource[] {
        const children = this.resources.filter((r) => r.parent === urn);
        return children.flatMap((child) => [...(child.custom ? [child] : []), ...this.descendants(child.urn)]);
    }

    namespaceOf(r: RecordedResource): string | undefined {
        return (r.inputs.metadata as { namespace?: string } | undefined)?.namespace;
    }

    objectName(r: RecordedResource): string | undefined {
        return (r.inputs.metadata as { name?: string } | undefined)?.name;
    }

    /** The direct edges the engine orders by: input dependencies and the explicit provider. */
    edges(r: RecordedResource): string[] {
        return [...r.dependencies, ...(r.options.provider ? [r.options.provider] : [])];
    }

    /** The shortest chain of waits from one resource to another, as labels, or undefined. */
    chain(from: string, to: string): string[] | undefined {
        const previous = new Map<string, string>([[from, ""]]);
        const queue = [from];
        while (queue.length > 0) {
            const urn = queue.shift()!;
            if (urn === to) {
                const labels: string[] = [];
                for (let at = urn; at !== ""; at = previous.get(at)!) {
                    labels.unshift(this.label(at));
                }
                return labels;
            }
            for (const next of this.edges(this.byUrn.get(urn) ?? { dependencies: [], options: {} } as unknown as RecordedResource)) {
                if (!previous.has(next)) {
                    previous.set(next, urn);
                    queue.push(next);
                }
            }
        }
        return undefined;
    }

    /** Fails naming every (waiter, prerequisite) pair where the waiter does not wait for the prerequisite. */
    assertWaits(waiters: readonly RecordedResource[], prerequisitesOf: (waiter: RecordedResource) => readonly RecordedResource[], why: string): void {
        assert.ok(waiters.length > 0, `nothing in the plan to check: ${why}`);
        const missing = waiters.flatMap((waiter) => {
            const prerequisites = prerequisitesOf(waiter);
            assert.ok(prerequisites.length > 0, `${this.label(waiter.urn)}: found nothing it should wait for (${why})`);
            return prerequisites.filter((p) => !this.waits.get(waiter.urn)!.has(p.urn))
                .map((p) => `${this.label(waiter.urn)} does not wait for ${this.label(p.urn)}`);
        });
        assertNone(missing, `missing edges (${why})`);
    }
}

/** Plans a stack with the engine's runtime warnings kept off the test output. */
async function planQuietly(stack: string, outDir: string): Promise<Planned> {
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
        if (!String(args[0]).startsWith("warning: [runtime]")) {
            warn(...args);
        }
    };
    try {
        const result = await plan({ stack, outDir });
        const config = (parse(readFileSync(result.configFile, "utf8")) as { config: Record<string, unknown> }).config;
        return new Planned(result.resources, (config["mlmesh:models"] ?? []) as ModelConfig[]);
    } finally {
        console.warn = warn;
    }
}

for (const stack of ["dev", "prod"]) {
    describe(`MlPlatform composition order (${stack} stack)`, function () {
        let p: Planned;
        let outDir: string;

        before(async function () {
            outDir = mkdtempSync(path.join(tmpdir(), `mlmesh-composition-${stack}-`));
            p = await planQuietly(stack, outDir);
        });

        after(() => rmSync(outDir, { recursive: true, force: true }));

        const modelComponents = () => p.resources.filter((r) => MODEL_COMPONENTS.includes(r.type));
        const workloadsOf = (component: RecordedResource) => p.resources.filter((r) => r.parent === component.urn && (r.type === DEPLOYMENT || r.type === INFERENCE_SERVICE));
        const modelWorkloads = () => modelComponents().flatMap(workloadsOf);
        const release = (chart: string) => p.one(`${chart} release`, p.resources.filter((r) => chartOf(r) === chart));
        const k8sProvider = () => p.one("Kubernetes provider", p.ofType(K8S_PROVIDER));
        const eksCluster = () => p.one("EKS cluster", p.ofType(EKS_CLUSTER));

        it("plans a component for every in-cluster model of the stack config, and an endpoint for every created SageMaker model", () => {
            const names = modelComponents().map((r) => r.name);
            const absent = p.models.filter((m) => m.backend === "tfserving" || m.backend === "kserve")
                .filter((m) => !names.some((name) => name.endsWith(`-${m.namespace}-${m.name}`)))
                .map((m) => `${m.namespace}/${m.name} (${m.backend})`);
            assertNone(absent, "models of the stack config with no component in the plan");
            assert.equal(p.ofType(SAGEMAKER_ENDPOINT).length, p.models.filter((m) => m.backend === "sagemaker" && m.model !== undefined).length);
        });

        it("refers only to resources of the plan in dependencies, dependsOn, providers and parents", () => {
            const dangling = p.resources.flatMap((r) => [...r.dependencies, ...(r.options.dependsOn ?? []), ...(r.options.provider ? [r.options.provider] : []), ...(r.parent ? [r.parent] : [])]
                .filter((urn) => !p.byUrn.has(urn)).map((urn) => `${p.label(r.urn)} -> ${urn}`));
            assertNone(dangling, "URNs that are not resources of the plan");
        });

        it("has no dependency cycle: no resource waits for itself", () => {
            const state = new Map<string, "open" | "done">();
            const cycles: string[] = [];
            const visit = (urn: string, trail: string[]): void => {
                state.set(urn, "open");
                const r = p.byUrn.get(urn)!;
                for (const next of new Set([...p.edges(r), ...(r.options.dependsOn ?? [])].filter((u) => p.byUrn.has(u)))) {
                    if (state.get(next) === "open") {
                        cycles.push([...trail.slice(trail.indexOf(next)), next].map((u) => p.label(u)).join(" -> "));
                    } else if (!state.has(next)) {
                        visit(next, [...trail, next]);
                    }
                }
                state.set(urn, "done");
            };
            p.resources.filter((r) => !state.has(r.urn)).forEach((r) => visit(r.urn, [r.urn]));
            assertNone(cycles, "dependency cycles");
        });

        it("creates the EKS cluster after its VPC's private subnets, which it takes as inputs", () => {
            const cluster = eksCluster();
            const subnets = p.ofType("aws:ec2/subnet:Subnet").filter((s) => /-private-\d+$/.test(s.name));
            assert.ok(subnets.length > 0, "no private subnet in the plan");
            assert.equal((cluster.inputs.privateSubnetIds as unknown[] | undefined)?.length, subnets.length, "the cluster's privateSubnetIds input");
            const notInputs = subnets.filter((s) => !cluster.dependencies.includes(s.urn) || (cluster.options.dependsOn ?? []).includes(s.urn));
            assertNone(notInputs.map((s) => p.label(s.urn)), `${p.label(cluster.urn)} should take these subnets as inputs`);
        });

        it("creates every node group after the cluster, which it references directly", () => {
            const cluster = eksCluster();
            const groups = p.ofType(NODE_GROUP);
            assert.ok(groups.some((g) => (g.inputs.labels as Record<string, string> | undefined)?.["mlmesh.io/node-role"] === "system"), "no system node group");
            const missing = groups.filter((g) => !g.dependencies.includes(cluster.urn)).map((g) => `${p.label(g.urn)} does not wait for ${p.label(cluster.urn)}`);
            assertNone(missing, "node groups created before the cluster");
        });

        it("creates every Kubernetes object through the cluster's provider, which waits for the cluster", () => {
            const provider = k8sProvider();
            assert.ok(provider.dependencies.includes(eksCluster().urn), `${p.label(provider.urn)} does not wait for the EKS cluster`);
            const objects = p.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
            assert.ok(objects.length > 0);
            const astray = objects.filter((r) => r.options.provider !== provider.urn).map((r) => `${p.label(r.urn)} goes through ${r.options.provider ?? "the default provider"}`);
            assertNone(astray, "Kubernetes objects not created through the cluster's provider");
        });

        it("installs every Istio chart that runs pods on running system nodes with pod networking and DNS (base, CRDs only, does not wait)", () => {
            const runsPods = [
                p.one("system node group", p.ofType(NODE_GROUP).filter((g) => (g.inputs.labels as Record<string, string> | undefined)?.["mlmesh.io/node-role"] === "system")),
                ...["vpc-cni", "coredns"].map((addon) => p.one(`${addon} add-on`, p.ofType("aws:eks/addon:Addon").filter((a) => a.inputs.addonName === addon))),
            ];
            const charts = p.resources.filter((r) => ISTIO_CHARTS.includes(chartOf(r) ?? ""));
            const absent = ["base", "istiod", "gateway"].filter((chart) => !charts.some((r) => chartOf(r) === chart));
            assertNone(absent, "Istio charts the plan does not install");
            p.assertWaits(charts.filter((r) => chartOf(r) !== "base"), () => runsPods, "an atomic release waits for its pods");
        });

        it("installs istiod after the Istio CRDs (base), and the ingress gateway after istiod's injector", () => {
            p.assertWaits([release("istiod")], () => [release("base")], "istiod needs the CRDs");
            p.assertWaits([release("gateway")], () => [release("istiod")], "the gateway's pods get their proxy from istiod");
        });

        it("starts every model workload after istiod, its namespace's injection label, mTLS and default deny", () => {
            const istiod = release("istiod");
            const root = String(istiod.inputs.namespace);
            const strict = p.ofType(PEER_AUTHENTICATION).filter((r) => (r.inputs.spec as { mtls?: { mode?: string } } | undefined)?.mtls?.mode === "STRICT");
            const defaultDeny = p.ofType(AUTHORIZATION_POLICY).filter((r) => Object.keys((r.inputs.spec as object | undefined) ?? {}).length === 0);
            assert.ok(strict.some((r) => p.namespaceOf(r) === root), `no mesh-wide STRICT PeerAuthentication in ${root}`);
            p.assertWaits(modelWorkloads(), (workload) => {
                const namespace = p.namespaceOf(workload)!;
                const ns = p.one(`Namespace ${namespace}`, p.ofType(NAMESPACE).filter((r) => p.objectName(r) === namespace));
                const labels = (ns.inputs.metadata as { labels?: Record<string, string> }).labels ?? {};
                assert.ok(labels["istio.io/rev"] !== undefined || labels["istio-injection"] === "enabled", `${p.label(ns.urn)} has no sidecar injection label`);
                const deny = defaultDeny.filter((r) => p.namespaceOf(r) === namespace);
                assert.ok(deny.length > 0, `no default-deny AuthorizationPolicy in ${namespace}`);
                return [istiod, ns, ...deny, ...strict.filter((r) => p.namespaceOf(r) === root || p.namespaceOf(r) === namespace)];
            }, "a pod started before them runs without a proxy or unprotected");
        });

        it("creates InferenceServices after KServe's controller and runtimes, and those after cert-manager", () => {
            const isvcs = p.ofType(INFERENCE_SERVICE);
            if (!p.models.some((m) => m.backend === "kserve")) {
                assertNone(isvcs.map((r) => p.label(r.urn)), "InferenceServices without a KServe model in the stack config");
                return;
            }
            const controller = release("kserve-resources");
            const runtimes = release("kserve-runtime-configs");
            p.assertWaits(isvcs, () => [controller, runtimes], "KServe's webhooks admit it and its runtime serves it");
            p.assertWaits([controller, runtimes], () => [release("cert-manager")], "KServe's webhook certificates come from cert-manager");
        });

        it("creates each model's VirtualServices, DestinationRules and AuthorizationPolicy after its workloads", () => {
            const routing = modelComponents().flatMap((component) => p.resources.filter((r) => r.parent === component.urn && [VIRTUAL_SERVICE, DESTINATION_RULE, AUTHORIZATION_POLICY].includes(r.type)));
            p.assertWaits(routing, (r) => workloadsOf(p.byUrn.get(r.parent!)!), "a route to a subset or pod that is not there yet fails");
            for (const component of modelComponents()) {
                const kinds = new Set(p.resources.filter((r) => r.parent === component.urn).map((r) => r.type));
                assert.ok([VIRTUAL_SERVICE, DESTINATION_RULE, AUTHORIZATION_POLICY].every((t) => kinds.has(t)), `${p.label(component.urn)} lacks a VirtualService, DestinationRule or AuthorizationPolicy`);
            }
        });

        for (const doorRoute of DOOR_ROUTES) {
            it(`opens the front door's ${doorRoute} VirtualService only after every model's routes and the SageMaker bridge`, () => {
                const door = p.one("front door", p.ofType(FRONT_DOOR));
                const vs = p.one(`${doorRoute} VirtualService`, p.ofType(VIRTUAL_SERVICE).filter((r) => r.parent === door.urn && p.namespaceOf(r) === "istio-ingress" && p.objectName(r) === doorRoute));
                const modelRoutes = modelComponents().flatMap((c) => p.resources.filter((r) => r.parent === c.urn && [VIRTUAL_SERVICE, DESTINATION_RULE, AUTHORIZATION_POLICY].includes(r.type)));
                const bridges = p.ofType(BRIDGE);
                assert.equal(bridges.length, p.models.some((m) => m.backend === "sagemaker") ? 1 : 0, "SageMaker bridges");
                const bridge = bridges.flatMap((b) => p.descendants(b.urn)).filter((r) => r.type === DEPLOYMENT || /^kubernetes:(networking|security)\.istio\.io\//.test(r.type));
                p.assertWaits([vs], () => [...modelRoutes, ...bridge], "a door route must not send traffic to a backend or subset that does not exist yet");
            });
        }

        it("validates tokens at the front door before it authorizes them", () => {
            const door = p.one("front door", p.ofType(FRONT_DOOR));
            const jwt = p.one("front door RequestAuthentication", p.ofType(REQUEST_AUTHENTICATION).filter((r) => r.parent === door.urn));
            const access = p.one("front door AuthorizationPolicy", p.ofType(AUTHORIZATION_POLICY).filter((r) => r.parent === door.urn));
            p.assertWaits([access], () => [jwt], "an AuthorizationPolicy requiring claims before the tokens are validated refuses every caller");
        });

        it("creates SageMaker endpoints without waiting for the cluster or any Kubernetes object", () => {
            const endpoints = p.ofType(SAGEMAKER_ENDPOINT);
            assert.equal(endpoints.length > 0, p.models.some((m) => m.backend === "sagemaker" && m.model !== undefined), "SageMaker endpoints in the plan");
            const serialising = endpoints.flatMap((endpoint) => [...p.waits.get(endpoint.urn)!]
                .filter((urn) => !SAGEMAKER_MAY_WAIT_FOR.test(p.byUrn.get(urn)?.type ?? ""))
                .map((urn) => `${p.label(endpoint.urn)} waits for ${p.label(urn)}: ${(p.chain(endpoint.urn, urn) ?? []).join(" -> ")}`));
            assertNone(serialising, "a SageMaker endpoint needs only IAM, KMS, its model and the VPC");
            for (const endpoint of endpoints) {
                const waits = [...p.waits.get(endpoint.urn)!].map((urn) => p.byUrn.get(urn)?.type);
                assert.ok(waits.includes("aws:sagemaker/model:Model") && waits.includes("aws:kms/key:Key") && waits.includes("aws:iam/role:Role"), `${p.label(endpoint.urn)} should wait for its model, key and role`);
            }
        });
    });
}
