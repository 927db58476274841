import * as assert from "node:assert/strict";
import type { ClientTls } from "../../offline/routeDestinationRule";
import { connect, gatewayServers, serverMode } from "../../offline/routeGateway";
import type { IstioObject } from "../../offline/routeObjects";
import { evaluateRequest, finalLegs, type Backend, type RequestToken, type RouteOutcome, type RouteRequest } from "../../offline/routes";

const NS = "istio-ingress";
const GATEWAY_LABELS = { app: "istio-ingressgateway", istio: "ingressgateway" };
const GATEWAY_PRINCIPAL = "cluster.local/ns/istio-ingress/sa/istio-ingressgateway";
const CRM = "cluster.local/ns/crm/sa/scorer";
const STRANGER = "cluster.local/ns/ml-batch/sa/batch";
const PUBLIC_HOST = "inference.example.com";
const INTERNAL_HOST = "split.mlmesh.internal";
const SPLIT = "mlmesh-split.istio-ingress.svc.cluster.local";
const INFERENCE = "inference.istio-ingress.svc.cluster.local";
const BRIDGE = "sagemaker-bridge.mlmesh-sagemaker.svc.cluster.local";
const KSERVE = "churn-kserve-predictor.ml-tabular.svc.cluster.local";
const CHURN = "/v1/models/churn:predict";
const FRAUD = "/v1/models/fraud:predict";
const ISSUER = "https://login.example.com/";
const TOKEN: RequestToken = { iss: ISSUER, sub: "alice", aud: "mlmesh" };

function object(kind: string, name: string, spec: unknown, namespace = NS): IstioObject {
    const group = ["AuthorizationPolicy", "RequestAuthentication"].includes(kind) ? "security" : "networking";
    return { apiVersion: `${group}.istio.io/v1`, kind, metadata: { name, namespace }, spec };
}

const publicGateway = object("Gateway", "inference-gw", {
    selector: { istio: "ingressgateway" },
    servers: [
        { port: { number: 443, name: "https", protocol: "HTTPS" }, hosts: [`./${PUBLIC_HOST}`], tls: { mode: "SIMPLE", credentialName: "inference-tls" } },
        { port: { number: 80, name: "http", protocol: "HTTP" }, hosts: [`./${PUBLIC_HOST}`], tls: { httpsRedirect: true } },
    ],
});
const splitGateway = object("Gateway", "mlmesh-split", {
    selector: { istio: "ingressgateway" },
    servers: [{ port: { number: 9443, name: "https-split", protocol: "HTTPS" }, hosts: [`./${INTERNAL_HOST}`], tls: { mode: "ISTIO_MUTUAL" } }],
});
const splitTls = (tls: Record<string, unknown> = { mode: "ISTIO_MUTUAL", sni: INTERNAL_HOST }) => object("DestinationRule", "mlmesh-split", { host: SPLIT, trafficPolicy: { tls } });

const leg = (name: string, weight: number) => ({ destination: { host: SPLIT, port: { number: 9443 } }, weight, headers: { request: { set: { "x-mlmesh-leg": name } } } });
const churnSplit = {
    name: "churn",
    match: [{ uri: { exact: CHURN }, method: { exact: "POST" } }],
    rewrite: { authority: INTERNAL_HOST },
    route: [leg("churn-sm", 80), leg("churn-kserve", 20)],
    timeout: "30s",
    retries: { attempts: 2, perTryTimeout: "10s" },
};
const fraud = { name: "fraud", match: [{ uri: { exact: FRAUD } }], rewrite: { uri: "/endpoints/fraud-2025/invocations" }, route: [{ destination: { host: BRIDGE, subset: "ml-tabular-fraud-sm", port: { number: 80 } } }] };
const frontDoor = object("VirtualService", "mlmesh-front-door", { hosts: [PUBLIC_HOST], gateways: [`${NS}/inference-gw`], http: [churnSplit, fraud] });
const legRoute = (name: string, uri: string, destination: Record<string, unknown>) => ({
    name, match: [{ uri: { exact: CHURN }, headers: { "x-mlmesh-leg": { exact: name } } }], rewrite: { uri }, route: [{ destination }],
});
const splitLegs = (http: unknown[] = [
    legRoute("churn-sm", "/endpoints/churn-xgb-2024/invocations", { host: BRIDGE, subset: "ml-tabular-churn-sm", port: { number: 80 } }),
    legRoute("churn-kserve", "/v1/models/churn-kserve:predict", { host: KSERVE, port: { number: 80 } }),
]) => object("VirtualService", "mlmesh-split-legs", { hosts: [INTERNAL_HOST], gateways: [`${NS}/mlmesh-split`], http });
const inMesh = object("VirtualService", "mlmesh-inference", { hosts: [INFERENCE], gateways: ["mesh"], http: [churnSplit] });
const jwt = (forwardOriginalToken = false) => object("RequestAuthentication", "mlmesh-jwt", {
    selector: { matchLabels: { istio: "ingressgateway" } },
    jwtRules: [{ issuer: ISSUER, jwksUri: `${ISSUER}.well-known/jwks.json`, audiences: ["mlmesh"], forwardOriginalToken }],
});
const doorPolicy = object("AuthorizationPolicy", "mlmesh-front-door", {
    selector: { matchLabels: { istio: "ingressgateway" } },
    action: "ALLOW",
    rules: [
        { to: [{ operation: { ports: ["80"] } }] },
        { from: [{ source: { requestPrincipals: ["*"] } }], to: [{ operation: { ports: ["443"], methods: ["GET", "POST"], paths: [CHURN] } }] },
        { from: [{ source: { requestPrincipals: ["*"] } }], to: [{ operation: { ports: ["443"], methods: ["GET", "POST"], paths: [FRAUD] } }], when: [{ key: "request.auth.claims[groups]", values: ["fraud-analysts"] }] },
        { from: [{ source: { principals: [GATEWAY_PRINCIPAL, CRM] } }], to: [{ operation: { ports: ["9443"], paths: [CHURN] } }] },
    ],
});
const bridgeSubsets = object("DestinationRule", "sagemaker-bridge", {
    host: BRIDGE,
    subsets: [{ name: "ml-tabular-churn-sm", labels: { app: "sagemaker-bridge" } }, { name: "ml-tabular-fraud-sm", labels: { app: "sagemaker-bridge" } }],
}, "mlmesh-sagemaker");
const fromGateway = (namespace: string, name: string, paths: string[]) => object("AuthorizationPolicy", name, {
    action: "ALLOW", rules: [{ from: [{ source: { principals: [GATEWAY_PRINCIPAL] } }], to: [{ operation: { paths } }] }],
}, namespace);

const OBJECTS = [publicGateway, splitGateway, splitTls(), frontDoor, splitLegs(), inMesh, jwt(), doorPolicy, bridgeSubsets,
    fromGateway("mlmesh-sagemaker", "bridge", ["/endpoints/*"]), fromGateway("ml-tabular", "churn-kserve", ["/v1/models/churn-kserve:predict"])];
const gatewayPods = (principal?: string) => [{ labels: GATEWAY_LABELS, ...(principal ? { principal } : {}) }];
const BACKENDS: Backend[] = [
    { host: SPLIT, namespace: NS, ports: [9443], pods: gatewayPods() },
    { host: INFERENCE, namespace: NS, ports: [80], pods: [] },
    { host: BRIDGE, namespace: "mlmesh-sagemaker", ports: [80], pods: [{ labels: { app: "sagemaker-bridge" } }] },
    { host: KSERVE, namespace: "ml-tabular", ports: [80], pods: [{ labels: { app: "isvc.churn-kserve-predictor", component: "predictor" } }] },
];
/** BACKENDS with the gateway pods' principal, which a request from the mesh needs. */
const MESH_BACKENDS = BACKENDS.map((b) => (b.host === SPLIT ? { ...b, pods: gatewayPods(GATEWAY_PRINCIPAL) } : b));

/** OBJECTS with the object of the same kind and name replaced, or removed when `without`. */
function withObjects(changes: IstioObject[], without: IstioObject[] = []): IstioObject[] {
    const key = (o: IstioObject) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`;
    const replaced = OBJECTS.filter((o) => !without.includes(o)).map((o) => changes.find((c) => key(c) === key(o)) ?? o);
    return [...replaced, ...changes.filter((c) => !OBJECTS.some((o) => key(o) === key(c)))];
}
const door = (path: string, overrides: Partial<RouteRequest> = {}): RouteRequest => ({ via: "gateway", host: PUBLIC_HOST, path, method: "POST", sourcePrincipal: GATEWAY_PRINCIPAL, jwt: TOKEN, ...overrides });
const mesh = (from: string, overrides: Partial<RouteRequest> = {}): RouteRequest => ({ via: "mesh", host: INFERENCE, port: 80, path: CHURN, method: "POST", sourcePrincipal: from, ...overrides });
const evaluate = (request: RouteRequest, objects = OBJECTS, backends = BACKENDS) => evaluateRequest(objects, backends, request);
function routed(outcome: RouteOutcome): Extract<RouteOutcome, { kind: "routed" }> {
    assert.equal(outcome.kind, "routed", JSON.stringify(outcome));
    return outcome as Extract<RouteOutcome, { kind: "routed" }>;
}
/** `<host> <path> <weight> <authorized>` per final leg. */
const legs = (outcome: RouteOutcome) => finalLegs(outcome).map((l) => `${l.host.split(".")[0]} ${l.path} ${l.weight} ${l.authorized}`);
const SPLIT_LEGS = ["sagemaker-bridge /endpoints/churn-xgb-2024/invocations 80 true", "churn-kserve-predictor /v1/models/churn-kserve:predict 20 true"];

describe("a split through the front door and the internal gateway listener", () => {
    it("sends each leg to its server's path, 80/20, through two hops", () => {
        const [sm, kserve] = finalLegs(evaluate(door(CHURN)));
        assert.deepEqual([sm.host, sm.subset, sm.port, sm.path, sm.weight, sm.authorized], [BRIDGE, "ml-tabular-churn-sm", 80, "/endpoints/churn-xgb-2024/invocations", 80, true]);
        assert.deepEqual([kserve.host, kserve.path, kserve.weight, kserve.authorized], [KSERVE, "/v1/models/churn-kserve:predict", 20, true]);
        assert.deepEqual(sm.hops, [{ virtualService: `${NS}/mlmesh-front-door`, route: "churn" }, { virtualService: `${NS}/mlmesh-split-legs`, route: "churn-sm" }]);
    });

    it("overwrites a leg header the client sends, so a client cannot pick its leg", () => {
        assert.deepEqual(legs(evaluate(door(CHURN, { headers: { "X-Mlmesh-Leg": "churn-kserve" } }))), SPLIT_LEGS);
    });

    it("enters the internal listener over Istio mTLS as the gateway itself, admitted by the split's rule", () => {
        const outcome = routed(evaluate(door(CHURN)));
        assert.deepEqual([outcome.route, outcome.timeout], ["churn", "30s"]);
        const [first] = outcome.destinations;
        assert.deepEqual([first.host, first.port, first.weight, first.pods, first.path], [SPLIT, 9443, 80, [GATEWAY_LABELS], CHURN]);
        assert.equal(first.reason, `enters Gateway ${NS}/mlmesh-split \`spec.servers[0]\` on port 9443 over Istio mTLS as ${GATEWAY_PRINCIPAL}: allowed by ${NS}/mlmesh-front-door (rules[3])`);
        assert.equal(routed(first.next!).virtualService, `${NS}/mlmesh-split-legs`);
    });

    const refusals: [string, Partial<RouteRequest>, RegExp][] = [
        ["no token", { jwt: undefined }, /^403 at the ingress gateway: denied: no ALLOW policy matches/],
        ["a token from an unknown issuer", { jwt: { ...TOKEN, iss: "https://evil.example.com/" } }, /^401 at the ingress gateway: Jwt issuer is not configured: https:\/\/evil\.example\.com\/ /],
        ["a token for another audience", { jwt: { ...TOKEN, aud: ["billing"] } }, /^401 at the ingress gateway: Audiences in Jwt are not allowed: billing/],
        ["a token without an audience", { jwt: { iss: ISSUER, sub: "alice" } }, /^401 at the ingress gateway: Audiences in Jwt are not allowed: none/],
    ];
    for (const [what, overrides, reason] of refusals) {
        it(`refuses a request with ${what} at the door, on every leg`, () => {
            const outcome = routed(evaluate(door(CHURN, overrides)));
            assert.ok(outcome.destinations.every((d) => reason.test(d.reason) && d.next === undefined), JSON.stringify(outcome.destinations));
            assert.deepEqual(finalLegs(outcome).map((l) => l.authorized), [false, false]);
        });
    }

    it("requires the fraud model's group claim: 403 without it, allowed with it (a list claim matches on any element)", () => {
        const [without] = routed(evaluate(door(FRAUD, { jwt: { ...TOKEN, claims: { groups: ["churn-analysts"] } } }))).destinations;
        assert.match(without.reason, /^403 at the ingress gateway: denied: no ALLOW policy matches/);
        const [withGroup] = routed(evaluate(door(FRAUD, { jwt: { ...TOKEN, claims: { groups: ["churn-analysts", "fraud-analysts"] } } }))).destinations;
        assert.deepEqual([withGroup.path, withGroup.authorized, withGroup.reason], ["/endpoints/fraud-2025/invocations", true, `allowed by mlmesh-sagemaker/bridge (rules[0])`]);
    });

    it("gives a client outside the mesh no route to the ISTIO_MUTUAL listener", () => {
        const reason = (evaluate(door(CHURN, { host: INTERNAL_HOST, port: 9443 })) as { reason: string }).reason;
        assert.match(reason, /^Gateway istio-ingress\/mlmesh-split `spec\.servers\[0\]` on port 9443 has tls\.mode ISTIO_MUTUAL: .*a client outside the mesh does not have$/);
    });

    it("cannot reach the internal listener without a DestinationRule setting ISTIO_MUTUAL: the client sends plaintext", () => {
        const outcome = routed(evaluate(door(CHURN), OBJECTS.filter((o) => o.metadata.name !== "mlmesh-split" || o.kind !== "DestinationRule")));
        assert.ok(outcome.destinations.every((d) => !d.authorized && d.next === undefined));
        assert.match(outcome.destinations[0].reason, /^the client sends plaintext to Gateway istio-ingress\/mlmesh-split `spec\.servers\[0\]` \(tls\.mode ISTIO_MUTUAL\): gateway pods carry no security\.istio\.io\/tlsMode label, so auto mTLS does not apply; a DestinationRule for mlmesh-split\.istio-ingress\.svc\.cluster\.local with tls\.mode ISTIO_MUTUAL is needed$/);
    });

    it("cannot reach the internal listener when the DestinationRule sends the default SNI, which its filter chain does not accept", () => {
        const [first] = routed(evaluate(door(CHURN), withObjects([splitTls({ mode: "ISTIO_MUTUAL" })]))).destinations;
        assert.equal(first.authorized, false);
        assert.match(first.reason, /accepts SNI outbound_\.9443_\._\.mlmesh-split\.istio-ingress\.svc\.cluster\.local \(server hosts split\.mlmesh\.internal\): set `tls\.sni` in DestinationRule istio-ingress\/mlmesh-split/);
    });

    it("reports a route that sends the request back into the same listener as a loop", () => {
        const loop = splitLegs([{ name: "again", rewrite: { authority: INTERNAL_HOST }, route: [{ destination: { host: SPLIT, port: { number: 9443 } } }] }]);
        assert.throws(() => evaluate(door(CHURN), withObjects([loop])), /^Error: route loop: istio-ingress\/mlmesh-front-door route churn → mlmesh-split\.istio-ingress\.svc\.cluster\.local:9443, then istio-ingress\/mlmesh-split-legs route again → .*stopped after 4 hops$/);
    });

    it("removes the token at the door unless forwardOriginalToken, so a leg that refuses end-user tokens sees none", () => {
        const bridgeJwt = object("RequestAuthentication", "bridge-jwt", { jwtRules: [{ issuer: ISSUER }] }, "mlmesh-sagemaker");
        const noUsers = object("AuthorizationPolicy", "no-user-tokens", { action: "DENY", rules: [{ from: [{ source: { requestPrincipals: ["*"] } }] }] }, "mlmesh-sagemaker");
        assert.deepEqual(legs(evaluate(door(CHURN), withObjects([bridgeJwt, noUsers]))), SPLIT_LEGS);
        const forwarded = finalLegs(evaluate(door(CHURN), withObjects([bridgeJwt, noUsers, jwt(true)])));
        assert.deepEqual(forwarded.map((l) => [l.host, l.authorized]), [[BRIDGE, false], [KSERVE, true]]);
        assert.equal(forwarded[0].reason, "denied by DENY policy mlmesh-sagemaker/no-user-tokens (rules[0])");
    });
});

describe("a split from inside the mesh", () => {
    it("reaches the legs of an allowed caller through the inference host and the internal listener", () => {
        const outcome = routed(evaluate(mesh(CRM), OBJECTS, MESH_BACKENDS));
        assert.equal(outcome.virtualService, `${NS}/mlmesh-inference`);
        assert.match(outcome.destinations[0].reason, /over Istio mTLS as cluster\.local\/ns\/crm\/sa\/scorer: allowed by istio-ingress\/mlmesh-front-door \(rules\[3\]\)$/);
        assert.deepEqual(legs(outcome), SPLIT_LEGS);
    });

    it("refuses a stranger at the internal listener", () => {
        const outcome = routed(evaluate(mesh(STRANGER), OBJECTS, MESH_BACKENDS));
        assert.ok(outcome.destinations.every((d) => !d.authorized && /^403 at the ingress gateway: denied: no ALLOW policy matches/.test(d.reason)));
        assert.deepEqual(finalLegs(outcome).map((l) => l.authorized), [false, false]);
    });

    it("needs the gateway pods' principal to authorize what they send on for a mesh caller", () => {
        assert.throws(() => evaluate(mesh(CRM)), /Backend mlmesh-split\.istio-ingress\.svc\.cluster\.local: its gateway pods \{app=istio-ingressgateway, istio=ingressgateway\} send the request on; give their `principal`/);
    });
});

describe("gateway listeners", () => {
    const [https, http] = gatewayServers([publicGateway]);
    const [mutual] = gatewayServers([splitGateway]);
    const modes: [string, unknown, string][] = [["SIMPLE HTTPS", https, "SIMPLE"], ["redirecting HTTP", http, "HTTPS_REDIRECT"], ["ISTIO_MUTUAL HTTPS", mutual, "ISTIO_MUTUAL"]];
    for (const [what, server, mode] of modes) {
        it(`reads a ${what} server's mode`, () => assert.equal(serverMode(server as typeof https), mode));
    }

    const TLS: ClientTls = { mode: "ISTIO_MUTUAL", source: "DestinationRule istio-ingress/mlmesh-split `spec.trafficPolicy.tls`" };
    const target = { host: SPLIT };
    const connections: [string, Parameters<typeof connect>, string][] = [
        ["connects mTLS with the SNI the DestinationRule sets", [[mutual], 9443, { ...TLS, sni: INTERNAL_HOST }, target], "connected"],
        ["connects mTLS with an SNI under a wildcard server host", [gatewayServers([{ ...splitGateway, spec: { ...splitGateway.spec, servers: [{ ...splitGateway.spec.servers[0], hosts: ["*.mlmesh.internal"] }] } }]), 9443, { ...TLS, sni: INTERNAL_HOST }, target], "connected"],
        ["refuses mTLS with the default SNI", [[mutual], 9443, TLS, target], "refused"],
        ["refuses plaintext to an ISTIO_MUTUAL server", [[mutual], 9443, undefined, target], "refused"],
        ["refuses mTLS to a plaintext HTTP port", [[http], 80, TLS, target], "refused"],
        ["connects plaintext to a plaintext HTTP port, with no peer principal", [[http], 80, undefined, target], "connected"],
        ["refuses a port no server listens on", [[mutual], 8443, TLS, target], "refused"],
    ];
    for (const [behaviour, args, kind] of connections) {
        it(behaviour, () => assert.equal(connect(...args).kind, kind));
    }

    it("reports the default SNI, with the subset, that Istio sends", () => {
        const refused = connect([mutual], 9443, TLS, { host: SPLIT, subset: "a" });
        assert.match((refused as { reason: string }).reason, /SNI outbound_\.9443_\.a_\.mlmesh-split\.istio-ingress\.svc\.cluster\.local /);
    });
});
