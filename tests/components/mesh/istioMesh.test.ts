import * as assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { IstioMesh, type IngressGatewaySpec, type IstioMeshArgs } from "../../../components/mesh/istioMesh";
import type { SidecarResourcesSpec } from "../../../components/mesh/sidecarResources";
import { imageReport } from "../../../offline/imageCheck";
import { renderManifests } from "../../../offline/manifests";
import { validateManifest } from "../../../offline/manifestSchemas";
import type { RecordedResource, RecordedRun } from "../../../offline/recorder";
import { recordOffline } from "../../offline/fixtures/offlineRun";
import { cachedUnder, TEST_IMAGES } from "../fixtures/images";

const T = {
    release: "kubernetes:helm.sh/v3:Release", namespace: "kubernetes:core/v1:Namespace", k8sProvider: "pulumi:providers:kubernetes",
    peerAuthentication: "kubernetes:security.istio.io/v1:PeerAuthentication", authorizationPolicy: "kubernetes:security.istio.io/v1:AuthorizationPolicy",
    telemetry: "kubernetes:telemetry.istio.io/v1:Telemetry", gateway: "kubernetes:networking.istio.io/v1:Gateway",
    sgRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
} as const;

const ISTIO_REPO = "https://istio-release.storage.googleapis.com/charts";
const SECURITY_GROUP = "sg-0123456789abcdef0";
const HOSTS = ["inference.example.com"];
const NAMESPACES = ["ml-serving", "ml-batch"];
const ANNOTATION = (key: string) => `service.beta.kubernetes.io/aws-load-balancer-${key}`;

type MeshArgs = Omit<IstioMeshArgs, "cluster">;
const BASE_ARGS: MeshArgs = {
    ingressGateway: { hosts: HOSTS, replicas: 3 },
    tracingSampling: 10,
    defaultSidecar: { cpu: "200m", memory: "256Mi", cpuLimit: "1", memoryLimit: "512Mi", concurrency: 4 },
    namespaces: NAMESPACES,
};
/** Overrides of the test gateway or sidecar, keeping the rest of BASE_ARGS' spec. */
const gateway = (spec: Partial<IngressGatewaySpec>): MeshArgs => ({ ingressGateway: { ...BASE_ARGS.ingressGateway, ...spec } });
const sidecar = (spec: Partial<SidecarResourcesSpec>): MeshArgs => ({ defaultSidecar: { ...BASE_ARGS.defaultSidecar, ...spec } });

const newMesh = (args: MeshArgs) => new IstioMesh("mesh", { cluster: { provider: new k8s.Provider("k", { kubeconfig: "{}" }), nodeSecurityGroupId: SECURITY_GROUP, images: TEST_IMAGES }, ...args });
/** A program that installs the mesh `mesh` through the provider `k` and exports its outputs. */
const meshProgram = (args: MeshArgs) => () => {
    const mesh = newMesh(args);
    return { revision: mesh.revision, gatewayServiceHost: mesh.gatewayServiceHost, gatewayName: mesh.gatewayName, namespaces: mesh.namespaces };
};

/** The value at `keys` inside nested objects. */
const at = (value: unknown, ...keys: string[]): unknown => keys.reduce<unknown>((inner, key) => (inner as Record<string, unknown> | undefined)?.[key], value);

interface Plan {
    readonly run: RecordedRun;
    of(type: string): RecordedResource[];
    /** The one resource of `type`. */
    one(type: string): RecordedResource;
    /** The one Helm release whose release name (inputs.name) is `name`. */
    release(name: string): RecordedResource;
    /** The value at `keys` in the Helm values of release `name`. */
    value(name: string, ...keys: string[]): unknown;
}

async function planMesh(overrides: MeshArgs = {}): Promise<Plan> {
    const run = await recordOffline(meshProgram({ ...BASE_ARGS, ...overrides }));
    const of = (type: string) => run.resources.filter((r) => r.type === type);
    const only = (found: RecordedResource[], what: string) => {
        assert.equal(found.length, 1, `expected one ${what}; found ${found.map((r) => r.name).join(", ") || "none"}`);
        return found[0];
    };
    const release = (name: string) => only(of(T.release).filter((r) => r.inputs.name === name), `release ${name}`);
    return { run, of, one: (type) => only(of(type), type), release, value: (name, ...keys) => at(release(name).inputs.values, ...keys) };
}

const ISTIOD = "istiod-1-30-3";
const GATEWAY = "istio-ingressgateway";
const dependsOn = (resource: RecordedResource) => resource.options.dependsOn ?? [];

describe("IstioMesh with hosts, 10% tracing, a sized sidecar and two ML namespaces", () => {
    let plan: Plan;
    before(async () => {
        plan = await planMesh();
    });

    describe("Helm releases", () => {
        const RELEASES = [
            { name: "istio-base", chart: "base", namespace: "istio-system", after: undefined },
            { name: ISTIOD, chart: "istiod", namespace: "istio-system", after: "istio-base" },
            { name: "istio-cni", chart: "cni", namespace: "istio-system", after: "istio-base" },
            { name: GATEWAY, chart: "gateway", namespace: "istio-ingress", after: ISTIOD },
        ];
        it("installs exactly the istio-base, istiod-1-30-3, istio-cni and istio-ingressgateway releases", () => {
            assert.deepEqual(plan.of(T.release).map((r) => r.inputs.name).sort(), RELEASES.map((r) => r.name).sort());
        });
        it("pulls every Istio image (pilot, proxyv2, install-cni) through the cluster's Docker Hub cache", () => {
            assert.deepEqual([plan.value(ISTIOD, "global", "hub"), plan.value("istio-cni", "global", "hub")], [`${cachedUnder("docker-hub")}istio`, `${cachedUnder("docker-hub")}istio`]);
        });
        for (const { name, chart, namespace, after } of RELEASES) {
            it(`installs ${name} from the ${chart} chart 1.30.3 of the Istio chart repository`, () => {
                const { inputs } = plan.release(name);
                assert.deepEqual([inputs.chart, inputs.version, at(inputs, "repositoryOpts", "repo")], [chart, "1.30.3", ISTIO_REPO]);
            });
            it(`installs ${name} into ${namespace}`, () => assert.equal(plan.release(name).inputs.namespace, namespace));
            it(`installs ${name} through the cluster's Kubernetes provider`, () => {
                assert.equal(plan.release(name).options.provider, plan.one(T.k8sProvider).urn);
            });
            if (after) {
                it(`installs ${name} only after ${after}`, () => {
                    const release = plan.release(name);
                    assert.ok(dependsOn(release).includes(plan.release(after).urn), `dependsOn ${dependsOn(release)}`);
                });
            }
        }
    });

    describe("istiod values", () => {
        const CASES: [string, string[], unknown][] = [
            ["name the revision 1-30-3", ["revision"], "1-30-3"],
            ["trace 10% of requests", ["traceSampling"], 10],
            ["leave the Gateway API inference extension off by default", ["env", "ENABLE_GATEWAY_API_INFERENCE_EXTENSION"], "false"],
            ["size the default sidecar with its requests and limits", ["global", "proxy", "resources"], { requests: { cpu: "200m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } }],
            ["give the default sidecar 4 Envoy workers", ["meshConfig", "defaultConfig", "concurrency"], 4],
            ["hold applications until their proxy has started, in the mesh's proxy defaults", ["meshConfig", "defaultConfig", "holdApplicationUntilProxyStarts"], true],
            ["hold applications until their proxy has started, in the injector's global proxy values", ["global", "proxy", "holdApplicationUntilProxyStarts"], true],
            ["write access logs to /dev/stdout", ["meshConfig", "accessLogFile"], "/dev/stdout"],
            ["turn the CNI on by default, so pods need no istio-init with NET_ADMIN", ["cni", "enabled"], true],
            ["refuse calls to hosts the mesh does not know", ["meshConfig", "outboundTrafficPolicy", "mode"], "REGISTRY_ONLY"],
            ["give injected containers the runtime's seccomp profile", ["global", "proxy", "seccompProfile"], { type: "RuntimeDefault" }],
        ];
        for (const [what, keys, expected] of CASES) {
            it(what, () => assert.deepEqual(plan.value(ISTIOD, ...keys), expected));
        }
    });

    describe("istiod ports on the node security group", () => {
        it("opens exactly two ports", () => assert.equal(plan.of(T.sgRule).length, 2));
        for (const port of [15017, 15012]) {
            it(`admits TCP ${port} from the node security group to itself`, () => {
                const rule = plan.of(T.sgRule).find((r) => r.inputs.fromPort === port) ?? assert.fail(`no rule for ${port}`);
                const { type, protocol, fromPort, toPort, securityGroupId, self } = rule.inputs;
                assert.deepEqual({ type, protocol, fromPort, toPort, securityGroupId, self }, { type: "ingress", protocol: "tcp", fromPort: port, toPort: port, securityGroupId: SECURITY_GROUP, self: true });
            });
        }
    });

    describe("mutual TLS", () => {
        const peerAuthentication = () => plan.one(T.peerAuthentication);
        it("declares the mesh-wide PeerAuthentication default in istio-system", () => {
            assert.deepEqual(peerAuthentication().inputs.metadata, { name: "default", namespace: "istio-system" });
        });
        it("makes mTLS STRICT by default", () => assert.equal(at(peerAuthentication().inputs, "spec", "mtls", "mode"), "STRICT"));
        it("applies the PeerAuthentication only after istiod", () => {
            assert.ok(dependsOn(peerAuthentication()).includes(plan.release(ISTIOD).urn), `dependsOn ${dependsOn(peerAuthentication())}`);
        });
    });

    describe("validation of Istio objects", () => {
        const validator = () => plan.of("kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration")[0] ?? assert.fail("no ValidatingWebhookConfiguration");
        it("keeps the base chart from rendering its validator, which would point at a Service istiod that does not exist", () => {
            assert.equal(plan.value("istio-base", "defaultRevision"), "");
        });
        it("owns istiod-default-validator, calling the revision's istiod at /validate", () => {
            const { metadata, webhooks } = validator().inputs as { metadata: { name: string; labels: Record<string, string> }; webhooks: { clientConfig: unknown; failurePolicy: string }[] };
            assert.equal(metadata.name, "istiod-default-validator");
            assert.deepEqual(webhooks.map((w) => w.clientConfig), [{ service: { name: "istiod-1-30-3", namespace: "istio-system", path: "/validate" } }]);
        });
        it("labels the validator with the revision, so that istiod fills in its CA and fails closed once ready", () => {
            assert.equal((at(validator().inputs, "metadata", "labels") as Record<string, string>)["istio.io/rev"], "1-30-3");
        });
        it("creates the validator only after the revision's istiod is installed", () => {
            assert.ok(dependsOn(validator()).includes(plan.release(ISTIOD).urn), `dependsOn ${dependsOn(validator())}`);
        });
        it("writes mesh policies only after the validator exists", () => {
            assert.ok(dependsOn(plan.one(T.peerAuthentication)).includes(validator().urn));
        });
    });

    describe("ML namespaces", () => {
        it("labels the ML namespaces for the revision only after its sidecar injector (istiod) is installed", () => {
            for (const ns of plan.of(T.namespace).filter((n) => NAMESPACES.includes(String(at(n.inputs, "metadata", "name"))))) {
                assert.ok(dependsOn(ns).includes(plan.release(ISTIOD).urn), ns.name);
            }
        });
        const policies = () => plan.of(T.authorizationPolicy);
        it("creates one AuthorizationPolicy per ML namespace", () => {
            assert.deepEqual(policies().map((p) => at(p.inputs, "metadata", "namespace")).sort(), [...NAMESPACES].sort());
        });
        for (const namespace of NAMESPACES) {
            it(`denies every request in ${namespace} by default with an empty AuthorizationPolicy`, () => {
                const policy = policies().find((p) => at(p.inputs, "metadata", "namespace") === namespace) ?? assert.fail(`no policy in ${namespace}`);
                assert.deepEqual(policy.inputs.spec, {});
            });
            it(`creates ${namespace} labelled istio.io/rev=1-30-3 and enforcing Pod Security restricted`, () => {
                const ns = plan.of(T.namespace).find((n) => at(n.inputs, "metadata", "name") === namespace) ?? assert.fail(`no namespace ${namespace}`);
                assert.deepEqual(at(ns.inputs, "metadata", "labels"), {
                    "istio.io/rev": "1-30-3",
                    "pod-security.kubernetes.io/enforce": "restricted",
                    "pod-security.kubernetes.io/enforce-version": "latest",
                    "pod-security.kubernetes.io/warn": "restricted",
                    "pod-security.kubernetes.io/audit": "restricted",
                });
            });
            it(`labels ${namespace} only after the CNI agent is installed`, () => {
                const ns = plan.of(T.namespace).find((n) => at(n.inputs, "metadata", "name") === namespace) ?? assert.fail(`no namespace ${namespace}`);
                assert.ok(dependsOn(ns).includes(plan.release("istio-cni").urn), `dependsOn ${dependsOn(ns)}`);
            });
        }
    });

    describe("ingress", () => {
        const gatewayInputs = () => plan.one(T.gateway).inputs;
        const servers = () => at(gatewayInputs(), "spec", "servers") as { hosts: string[]; port: { protocol: string }; tls?: { credentialName?: string } }[];
        it("declares a networking.istio.io/v1 Gateway in istio-ingress", () => {
            assert.deepEqual([gatewayInputs().apiVersion, at(gatewayInputs(), "metadata", "namespace")], ["networking.istio.io/v1", "istio-ingress"]);
        });
        it("serves exactly inference.example.com on every server", () => {
            assert.ok(servers().length > 0);
            assert.deepEqual(servers().map((s) => s.hosts), servers().map(() => HOSTS));
        });
        it("terminates HTTPS with the mlmesh-ingress-tls secret by default", () => {
            const https = servers().find((s) => s.port.protocol === "HTTPS") ?? assert.fail("no HTTPS server");
            assert.equal(https.tls?.credentialName, "mlmesh-ingress-tls");
        });
        it("has no * host anywhere in the Gateway", () => assert.doesNotMatch(JSON.stringify(gatewayInputs()), /\*/));
        const GATEWAY_VALUES: [string, string[], unknown][] = [
            ["runs 3 gateway replicas", ["replicaCount"], 3],
            ["autoscales from 3 replicas", ["autoscaling", "minReplicas"], 3],
            ["autoscales up to 9 replicas, three times the replicas", ["autoscaling", "maxReplicas"], 9],
            ["fronts the gateway with an NLB", ["service", "annotations", ANNOTATION("type")], "nlb"],
            ["makes the NLB internal by default", ["service", "annotations", ANNOTATION("scheme")], "internal"],
            ["marks the NLB internal for the in-tree cloud provider by default", ["service", "annotations", ANNOTATION("internal")], "true"],
        ];
        for (const [what, keys, expected] of GATEWAY_VALUES) {
            it(what, () => assert.deepEqual(plan.value(GATEWAY, ...keys), expected));
        }
    });

    describe("telemetry", () => {
        it("declares a telemetry.istio.io/v1 Telemetry in istio-system", () => {
            const { inputs } = plan.one(T.telemetry);
            assert.deepEqual([inputs.apiVersion, at(inputs, "metadata", "namespace")], ["telemetry.istio.io/v1", "istio-system"]);
        });
        it("samples 10% of requests for tracing", () => {
            const tracing = at(plan.one(T.telemetry).inputs, "spec", "tracing") as { randomSamplingPercentage: number }[];
            assert.deepEqual(tracing.map((t) => t.randomSamplingPercentage), [10]);
        });
    });

    describe("outputs", () => {
        const CASES: [string, unknown][] = [
            ["revision", "1-30-3"],
            ["gatewayServiceHost", "istio-ingressgateway.istio-ingress.svc.cluster.local"],
            ["gatewayName", "istio-ingress/mesh-gateway"],
            ["namespaces", NAMESPACES],
        ];
        for (const [output, expected] of CASES) {
            it(`export ${output} ${JSON.stringify(expected)}`, () => assert.deepEqual(plan.run.outputs[output], expected));
        }
    });

    describe("Kubernetes manifests", () => {
        it("render the four namespaces, the two default-deny policies, the PeerAuthentication, the AWS ServiceEntry, the Telemetry and the Gateway", () => {
            assert.deepEqual(renderManifests(plan.run.resources).map((m) => m.fileName), [
                "authorizationpolicy-ml-batch-default-deny.yaml", "authorizationpolicy-ml-serving-default-deny.yaml", "gateway-istio-ingress-mesh-gateway.yaml",
                "namespace-cluster-istio-ingress.yaml", "namespace-cluster-istio-system.yaml", "namespace-cluster-ml-batch.yaml", "namespace-cluster-ml-serving.yaml",
                "peerauthentication-istio-system-default.yaml", "serviceentry-istio-system-mlmesh-aws-apis.yaml", "telemetry-istio-system-mesh-default.yaml",
                "validatingwebhookconfiguration-cluster-istiod-default-validator.yaml",
            ]);
        });
        it("validate against their schemas", () => {
            const failures = renderManifests(plan.run.resources)
                .map((m) => ({ file: m.fileName, check: validateManifest(m.object) }))
                .filter(({ check }) => check.status !== "valid");
            assert.deepEqual(failures, []);
        });
    });
});

describe("IstioMesh with the inference extension, PERMISSIVE mTLS, the CNI and a public gateway", () => {
    let plan: Plan;
    before(async () => {
        plan = await planMesh({ inferenceExtension: true, mtls: "PERMISSIVE", cni: true, ...gateway({ scheme: "internet-facing", tlsCredentialName: "inference-tls" }) });
    });
    it("turns on istiod's Gateway API inference extension", () => {
        assert.equal(plan.value(ISTIOD, "env", "ENABLE_GATEWAY_API_INFERENCE_EXTENSION"), "true");
    });
    it("makes mTLS PERMISSIVE", () => assert.equal(at(plan.one(T.peerAuthentication).inputs, "spec", "mtls", "mode"), "PERMISSIVE"));
    it("installs one istio-cni release from the cni chart", () => assert.equal(plan.release("istio-cni").inputs.chart, "cni"));
    it("installs istio-cni only after istio-base", () => {
        assert.ok(dependsOn(plan.release("istio-cni")).includes(plan.release("istio-base").urn), `dependsOn ${dependsOn(plan.release("istio-cni"))}`);
    });
    it("installs the ingress gateway only after istio-cni", () => {
        assert.ok(dependsOn(plan.release(GATEWAY)).includes(plan.release("istio-cni").urn), `dependsOn ${dependsOn(plan.release(GATEWAY))}`);
    });
    it("tells istiod the CNI is enabled", () => assert.equal(plan.value(ISTIOD, "cni", "enabled"), true));
    it("terminates HTTPS with the given TLS secret", () => {
        const servers = at(plan.one(T.gateway).inputs, "spec", "servers") as { port: { protocol: string }; tls?: { credentialName?: string } }[];
        assert.equal(servers.find((s) => s.port.protocol === "HTTPS")?.tls?.credentialName, "inference-tls");
    });
    it("makes the NLB internet-facing", () => assert.equal(plan.value(GATEWAY, "service", "annotations", ANNOTATION("scheme")), "internet-facing"));
    it("drops the internal NLB annotation", () => {
        const annotations = plan.value(GATEWAY, "service", "annotations") as Record<string, string>;
        assert.equal(ANNOTATION("internal") in annotations, false);
    });
});

describe("IstioMesh with egress allowed to a host for one namespace, and the CNI off under privileged Pod Security", () => {
    let plan: Plan;
    before(async () => {
        plan = await planMesh({ cni: false, podSecurity: "privileged", egress: { allow: [{ namespace: "ml-batch", hosts: ["api.example.com"] }] } });
    });
    it("declares the allowance as a ServiceEntry in that namespace only", () => {
        const entries = plan.of("kubernetes:networking.istio.io/v1:ServiceEntry").map((e) => [at(e.inputs, "metadata", "namespace"), at(e.inputs, "spec", "hosts"), at(e.inputs, "spec", "exportTo")]);
        assert.deepEqual(entries.filter(([namespace]) => namespace === "ml-batch"), [["ml-batch", ["api.example.com"], ["."]]]);
    });
    it("installs no CNI agent and enforces the privileged level the stack chose", () => {
        assert.equal(plan.of(T.release).some((r) => r.inputs.name === "istio-cni"), false);
        const ns = plan.of(T.namespace).find((n) => at(n.inputs, "metadata", "name") === "ml-batch");
        assert.equal(at(ns?.inputs, "metadata", "labels", "pod-security.kubernetes.io/enforce"), "privileged");
    });
});

describe("IstioMesh with an internal gateway and no hosts", () => {
    it("declares no Istio Gateway", async () => {
        const plan = await planMesh({ ingressGateway: { replicas: 3 } });
        assert.deepEqual(plan.of(T.gateway).map((g) => g.name), []);
        assert.equal(plan.run.outputs.gatewayName, undefined, "no gateway name points at a Gateway that does not exist");
    });
});

describe("IstioMesh argument validation", () => {
    const bad: [string, string, MeshArgs][] = [
        ["a wildcard host", "ingressGateway.hosts[0]", gateway({ hosts: ["*.example.com"] })],
        ["an internet-facing gateway with no hosts", "ingressGateway.hosts", { ingressGateway: { scheme: "internet-facing" } }],
        ["a sidecar CPU request above its limit", "defaultSidecar.cpu", sidecar({ cpu: "2" })],
        ["a sidecar memory that is not a quantity", "defaultSidecar.memory", sidecar({ memory: "256MB" })],
        ["a tracing sampling of 150%", "tracingSampling", { tracingSampling: 150 }],
        ["the kube-system namespace", "namespaces[0]", { namespaces: ["kube-system"] }],
        // The SageMaker bridge's namespace: a second Namespace object of it would collide, and app teams would get edit there.
        ["the SageMaker bridge's mlmesh-sagemaker namespace", "namespaces[0]", { namespaces: ["mlmesh-sagemaker"] }],
        ["the CNI off under Pod Security restricted", "cni", { cni: false }],
        ["an unknown Pod Security level", "podSecurity", { podSecurity: "strict" as IstioMeshArgs["podSecurity"] }],
        ["an egress allowance for a namespace outside the mesh", "egress.allow[0].namespace", { egress: { allow: [{ namespace: "payments", hosts: ["api.example.com"] }] } }],
        ["Istio version 1.29.0", "version", { version: "1.29.0" }],
        ["a maxReplicas below replicas", "ingressGateway.maxReplicas", gateway({ maxReplicas: 2 })],
        ["served versions without the one in use", "servedVersions", { version: "1.30.3", servedVersions: ["1.30.2"] }],
        ["an unsupported served version", "servedVersions", { servedVersions: ["1.29.0", "1.30.3"] }],
    ];
    const pathsOf = (error: unknown): string[] => {
        assert.ok(pulumi.InputPropertiesError.isInstance(error), `not an InputPropertiesError: ${error}`);
        return error.errors.map((e) => e.propertyPath);
    };

    for (const [what, path, overrides] of bad) {
        it(`rejects ${what} with an InputPropertiesError at ${path}`, async () => {
            await assert.rejects(recordOffline(meshProgram({ ...BASE_ARGS, ...overrides })), (error) => {
                assert.ok(pathsOf(error).includes(path), `paths ${pathsOf(error)}`);
                return true;
            });
        });
        it(`registers no Kubernetes or AWS resource when given ${what}`, async () => {
            let caught: unknown;
            const run = await recordOffline(() => {
                try {
                    newMesh({ ...BASE_ARGS, ...overrides });
                } catch (error) {
                    caught = error;
                }
            });
            assert.ok(pathsOf(caught).includes(path), `paths ${pathsOf(caught)}`);
            assert.deepEqual(run.resources.filter((r) => r.type.startsWith("kubernetes:") || r.type.startsWith("aws:")).map((r) => r.name), []);
        });
    }

    it("reports every bad argument in one error", async () => {
        const allBad: MeshArgs = { version: "1.29.0", tracingSampling: 150, namespaces: ["kube-system"], ...gateway({ hosts: ["*.example.com"] }), ...sidecar({ cpu: "2" }) };
        await assert.rejects(recordOffline(meshProgram({ ...BASE_ARGS, ...allBad })), (error) => {
            assert.deepEqual(pathsOf(error).sort(), ["defaultSidecar.cpu", "ingressGateway.hosts[0]", "namespaces[0]", "tracingSampling", "version"]);
            return true;
        });
    });
});

describe("IstioMesh serving two control planes (finding 5: the old one stays until a later pulumi up)", () => {
    const releases = (plan: Plan) => plan.of(T.release).map((r) => `${r.inputs.name}@${(r.inputs.chart as string)}:${r.inputs.version}`).sort();

    it("runs the canary beside the one in use, which the namespaces, gateway and validator keep", async () => {
        const plan = await planMesh({ version: "1.30.2", servedVersions: ["1.30.3", "1.30.2"] });
        assert.deepEqual(releases(plan), ["istio-base@base:1.30.3", "istio-cni@cni:1.30.2", "istio-ingressgateway@gateway:1.30.2", "istiod-1-30-2@istiod:1.30.2", "istiod-1-30-3@istiod:1.30.3"]);
        assert.deepEqual([plan.value("istiod-1-30-2", "revision"), plan.value("istiod-1-30-3", "revision")], ["1-30-2", "1-30-3"]);
        assert.deepEqual(plan.of(T.namespace).filter((ns) => NAMESPACES.includes(at(ns.inputs, "metadata", "name") as string)).map((ns) => at(ns.inputs, "metadata", "labels", "istio.io/rev")), ["1-30-2", "1-30-2"]);
        assert.equal(plan.value(GATEWAY, "revision"), "1-30-2");
        // Only the control plane in use gates the namespaces and the gateway.
        const canary = plan.release("istiod-1-30-3").urn;
        assert.ok(plan.run.resources.every((r) => !dependsOn(r).includes(canary)), "something waits on the canary");
    });

    it("moves everything to the new one and keeps the old one installed while it is still served", async () => {
        const plan = await planMesh({ version: "1.30.3", servedVersions: ["1.30.2", "1.30.3"] });
        assert.deepEqual(releases(plan), ["istio-base@base:1.30.3", "istio-cni@cni:1.30.3", "istio-ingressgateway@gateway:1.30.3", "istiod-1-30-2@istiod:1.30.2", "istiod-1-30-3@istiod:1.30.3"]);
        assert.equal(plan.value(GATEWAY, "revision"), "1-30-3");
    });

    it("pulls each control plane's images at its own version", async () => {
        const plan = await planMesh({ version: "1.30.3", servedVersions: ["1.30.2", "1.30.3"] });
        const pilots = imageReport(plan.run.resources).uses.map((i) => i.image).filter((image) => /\/pilot:/.test(image)).sort();
        assert.deepEqual(pilots.map((image) => image.split(":").pop()), ["1.30.2", "1.30.3"]);
    });
});
