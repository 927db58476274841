import * as assert from "node:assert/strict";
import { defaultDenyPolicy, ingressGateway, meshPeerAuthentication, meshTelemetry, MTLS_MODES, type IstioManifest } from "../../../components/mesh/meshPolicies";
import { validateManifest } from "../../../offline/manifestSchemas";

/** Manifests read loosely: the tests check their shape. */
type Loose = Record<string, any>;

const HOSTS = ["api.ml.example.com", "models.ml.example.com"];

describe("meshPeerAuthentication", () => {
    for (const mode of MTLS_MODES) {
        it(`is the mesh-wide ${mode} PeerAuthentication named default in istio-system`, () => {
            assert.deepEqual(meshPeerAuthentication(mode), {
                apiVersion: "security.istio.io/v1",
                kind: "PeerAuthentication",
                metadata: { name: "default", namespace: "istio-system" },
                spec: { mtls: { mode } },
            });
        });
    }
});

describe("defaultDenyPolicy", () => {
    for (const namespace of ["ml-serving", "ml-batch"]) {
        it(`is an AuthorizationPolicy with an empty spec (ALLOW nothing, so deny all) in ${namespace}`, () => {
            const policy = defaultDenyPolicy(namespace);
            assert.equal(policy.apiVersion, "security.istio.io/v1");
            assert.equal(policy.kind, "AuthorizationPolicy");
            assert.equal(policy.metadata.namespace, namespace);
            assert.deepEqual(policy.spec, {});
        });
    }
});

describe("meshTelemetry", () => {
    for (const sampling of [0, 10, 100]) {
        it(`exports Prometheus metrics, otel traces at ${sampling}% and Envoy access logs mesh-wide`, () => {
            const telemetry = meshTelemetry(sampling);
            assert.equal(telemetry.apiVersion, "telemetry.istio.io/v1");
            assert.equal(telemetry.kind, "Telemetry");
            assert.equal(telemetry.metadata.namespace, "istio-system");
            assert.deepEqual(telemetry.spec, {
                metrics: [{ providers: [{ name: "prometheus" }] }],
                tracing: [{ providers: [{ name: "otel" }], randomSamplingPercentage: sampling }],
                accessLogging: [{ providers: [{ name: "envoy" }] }],
            });
        });
    }
});

describe("ingressGateway", () => {
    const gateway = ingressGateway("mlmesh-gateway", HOSTS, "ml-tls") as Loose;
    const servers: Loose[] = gateway.spec.servers;
    const https = servers.find((s) => s.port.number === 443)!;
    const http = servers.find((s) => s.port.number === 80)!;

    it("is a networking.istio.io/v1 Gateway in istio-ingress selecting the ingress gateway pods", () => {
        assert.equal(gateway.apiVersion, "networking.istio.io/v1");
        assert.equal(gateway.kind, "Gateway");
        assert.deepEqual(gateway.metadata, { name: "mlmesh-gateway", namespace: "istio-ingress" });
        assert.deepEqual(gateway.spec.selector, { istio: "ingressgateway" });
        assert.equal(servers.length, 2);
    });

    it("serves HTTPS on 443 for exactly the hosts with SIMPLE TLS of at least 1.2 from the credential", () => {
        assert.deepEqual(https.port, { number: 443, name: "https", protocol: "HTTPS" });
        assert.deepEqual(https.hosts, HOSTS);
        assert.deepEqual(https.tls, { mode: "SIMPLE", credentialName: "ml-tls", minProtocolVersion: "TLSV1_2" });
    });

    it("redirects plain HTTP on 80 to HTTPS for the same hosts", () => {
        assert.deepEqual(http.port, { number: 80, name: "http", protocol: "HTTP" });
        assert.deepEqual(http.hosts, HOSTS);
        assert.equal(http.tls.httpsRedirect, true);
    });

    it("never serves the wildcard host", () => {
        assert.ok(!JSON.stringify(gateway).includes('"*"'));
    });

    it("copies the hosts so that later changes to the caller's list do not leak in", () => {
        const hosts = ["a.example.com"];
        const copy = ingressGateway("g", hosts, "c") as Loose;
        hosts.push("b.example.com");
        for (const server of copy.spec.servers) {
            assert.deepEqual(server.hosts, ["a.example.com"]);
        }
    });
});

describe("mesh manifests against the shipped CRD schemas", () => {
    const manifests: [string, IstioManifest][] = [
        ["the STRICT PeerAuthentication", meshPeerAuthentication("STRICT")],
        ["the PERMISSIVE PeerAuthentication", meshPeerAuthentication("PERMISSIVE")],
        ["the default-deny AuthorizationPolicy", defaultDenyPolicy("ml-serving")],
        ["the mesh Telemetry", meshTelemetry(10)],
        ["the ingress Gateway", ingressGateway("mlmesh-gateway", HOSTS, "ml-tls")],
    ];
    for (const [what, manifest] of manifests) {
        it(`validates ${what}`, () => {
            const check = validateManifest(manifest as unknown as Record<string, unknown>);
            assert.equal(check.status, "valid", check.errors.join("\n"));
        });
    }

    it("rejects a Gateway with a misspelt TLS field, proving the schema check can fail", () => {
        const gateway = ingressGateway("g", HOSTS, "c") as Loose;
        gateway.spec.servers[0].tls = { mode: "SIMPLE", credentialNam: "c" };
        assert.equal(validateManifest(gateway).status, "invalid");
    });
});
