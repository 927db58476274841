import * as assert from "node:assert/strict";
import { authzPattern } from "../../offline/routeAuthz";
import { hostIntersection, hostMatches, normalizePath, rewritePath } from "../../offline/routeMatch";
import { evaluateRequest, type Backend, type IstioObject, type RouteOutcome, type RouteRequest } from "../../offline/routes";

const GATEWAY_PRINCIPAL = "cluster.local/ns/istio-ingress/sa/istio-ingressgateway";
const FRONTEND = "cluster.local/ns/ml-frontend/sa/frontend-sa";
const HOST = "inference.example.com";
const RESNET = "resnet.ml-serving.svc.cluster.local";
const BERT = "bert.ml-serving.svc.cluster.local";
const V1 = { app: "resnet", version: "v1" };
const V2 = { app: "resnet", version: "v2" };
const MODEL_URIS = [{ exact: "/v1/models/resnet" }, { prefix: "/v1/models/resnet/" }, { prefix: "/v1/models/resnet:" }];

function object(kind: string, namespace: string, name: string, spec: unknown): IstioObject {
    const group = kind.endsWith("Policy") || kind.endsWith("Authentication") ? "security" : "networking";
    return { apiVersion: `${group}.istio.io/v1`, kind, metadata: { name, namespace }, spec };
}

function gateway(hosts: string[] = [HOST]): IstioObject {
    return object("Gateway", "istio-ingress", "mlmesh", {
        selector: { istio: "ingressgateway" },
        servers: [
            { port: { number: 443, name: "https", protocol: "HTTPS" }, hosts, tls: { mode: "SIMPLE", credentialName: "mlmesh-ingress-tls" } },
            { port: { number: 80, name: "http", protocol: "HTTP" }, hosts, tls: { httpsRedirect: true } },
        ],
    });
}

const split = [{ destination: { host: "resnet", subset: "v1" }, weight: 90 }, { destination: { host: "resnet", subset: "v2" }, weight: 10 }];
function ingressRoutes(spec: Record<string, unknown> = {}, name = "resnet-ingress"): IstioObject {
    return object("VirtualService", "ml-serving", name, {
        hosts: [HOST],
        gateways: ["istio-ingress/mlmesh"],
        http: [
            { name: "pin-v2", match: MODEL_URIS.map((uri) => ({ uri, headers: { "x-model-version": { exact: "v2" } } })), route: [{ destination: { host: "resnet", subset: "v2" } }] },
            { name: "weighted", match: MODEL_URIS.map((uri) => ({ uri })), route: split, timeout: "30s", retries: { attempts: 2, perTryTimeout: "10s" } },
        ],
        ...spec,
    });
}
function meshRoutes(name = "resnet", http: unknown[] = [
    { name: "pin-v2", match: [{ headers: { "x-model-version": { exact: "v2" } } }], route: [{ destination: { host: "resnet", subset: "v2" } }] },
    { name: "weighted", route: split },
]): IstioObject {
    return object("VirtualService", "ml-serving", name, { hosts: ["resnet"], gateways: ["mesh"], http });
}
const subsets = object("DestinationRule", "ml-serving", "resnet", {
    host: "resnet",
    trafficPolicy: { loadBalancer: { simple: "LEAST_REQUEST" } },
    subsets: [{ name: "v1", labels: { version: "v1" } }, { name: "v2", labels: { version: "v2" } }],
});
const defaultDeny = object("AuthorizationPolicy", "ml-serving", "default-deny", {});
function resnetAccess(rule: Record<string, unknown> = {}): IstioObject {
    return object("AuthorizationPolicy", "ml-serving", "resnet-access", {
        selector: { matchLabels: { app: "resnet" } },
        action: "ALLOW",
        rules: [{
            from: [{ source: { principals: [GATEWAY_PRINCIPAL, FRONTEND] } }],
            to: [{ operation: { methods: ["GET", "POST"], paths: ["/v1/models/resnet", "/v1/models/resnet/*", "/v1/models/resnet:*"] } }],
            ...rule,
        }],
    });
}

const OBJECTS = [gateway(), ingressRoutes(), meshRoutes(), subsets, defaultDeny, resnetAccess()];
const BACKENDS: Backend[] = [
    { host: RESNET, namespace: "ml-serving", pods: [{ labels: V1 }, { labels: V2 }] },
    { host: BERT, namespace: "ml-serving", pods: [{ labels: { app: "bert" } }] },
];

/** OBJECTS with the object of the same kind and name replaced, or `extra` appended. */
function withObjects(...extra: IstioObject[]): IstioObject[] {
    const key = (o: IstioObject) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`;
    const replaced = OBJECTS.map((o) => extra.find((e) => key(e) === key(o)) ?? o);
    return [...replaced, ...extra.filter((e) => !OBJECTS.some((o) => key(o) === key(e)))];
}
function viaGateway(path: string, overrides: Partial<RouteRequest> = {}): RouteRequest {
    return { via: "gateway", host: HOST, path, method: "POST", sourcePrincipal: GATEWAY_PRINCIPAL, ...overrides };
}
function viaMesh(host: string, path: string, overrides: Partial<RouteRequest> = {}): RouteRequest {
    return { via: "mesh", host, path, method: "POST", sourcePrincipal: FRONTEND, ...overrides };
}
function routed(outcome: RouteOutcome): Extract<RouteOutcome, { kind: "routed" }> {
    assert.equal(outcome.kind, "routed", JSON.stringify(outcome));
    return outcome as Extract<RouteOutcome, { kind: "routed" }>;
}
function noRouteReason(outcome: RouteOutcome): string {
    assert.equal(outcome.kind, "no-route", JSON.stringify(outcome));
    return (outcome as Extract<RouteOutcome, { kind: "no-route" }>).reason;
}
/** `<subset or host> <weight> <authorized>` per destination. */
function shares(outcome: RouteOutcome): string[] {
    return routed(outcome).destinations.map((d) => `${d.subset ?? d.host} ${d.weight} ${d.authorized}`);
}
const evaluate = (request: RouteRequest, objects = OBJECTS, backends = BACKENDS) => evaluateRequest(objects, backends, request);

describe("routes through the ingress gateway", () => {
    it("splits a predict call 90/10 between v1 and v2 pods, authorized at both", () => {
        const outcome = routed(evaluate(viaGateway("/v1/models/resnet:predict")));
        assert.equal(outcome.virtualService, "ml-serving/resnet-ingress");
        assert.equal(outcome.route, "weighted");
        const reason = "allowed by ml-serving/resnet-access (rules[0])";
        assert.deepEqual(outcome.destinations, [
            // No destination port: Envoy asks for the listener's, the Gateway server's 443.
            { host: RESNET, subset: "v1", port: 443, weight: 90, pods: [V1], path: "/v1/models/resnet:predict", authorized: true, reason },
            { host: RESNET, subset: "v2", port: 443, weight: 10, pods: [V2], path: "/v1/models/resnet:predict", authorized: true, reason },
        ]);
    });

    it("cannot reach a several-port Service through the gateway when the route names no port", () => {
        const ported = BACKENDS.map((b) => (b.host === RESNET ? { ...b, ports: [8500, 8501] } : b));
        const outcome = routed(evaluate(viaGateway("/v1/models/resnet:predict"), OBJECTS, ported));
        assert.ok(outcome.destinations.every((d) => !d.authorized && /no port 443/.test(d.reason)), JSON.stringify(outcome.destinations));
    });

    it("carries the matched route's timeout and retries", () => {
        const outcome = routed(evaluate(viaGateway("/v1/models/resnet")));
        assert.equal(outcome.timeout, "30s");
        assert.deepEqual(outcome.retries, { attempts: 2, perTryTimeout: "10s" });
    });

    it("sends a request pinned with x-model-version to v2 only", () => {
        assert.deepEqual(shares(evaluate(viaGateway("/v1/models/resnet/metadata", { method: "GET", headers: { "X-Model-Version": "v2" } }))), ["v2 100 true"]);
    });

    const unrouted: [string, RouteRequest, RegExp][] = [
        ["a model whose name only starts with the routed one", viaGateway("/v1/models/resnet50:predict"), /^404 NR: no http route of ml-serving\/resnet-ingress matches POST/],
        ["a path that climbs out of the routed prefix", viaGateway("/v1/models/resnet/../resnet50:predict"), /^404 NR: .*\/v1\/models\/resnet50:predict$/],
        ["a host no Gateway server lists", viaGateway("/v1/models/resnet", { host: "api.example.com" }), /^no Gateway server on port 443 serves host api\.example\.com$/],
        ["a port no Gateway server listens on", viaGateway("/v1/models/resnet", { port: 8443 }), /^no Gateway server on port 8443/],
        ["plain HTTP on port 80", viaGateway("/v1/models/resnet", { port: 80 }), /^redirect to https$/],
    ];
    for (const [what, request, reason] of unrouted) {
        it(`gives no route to ${what}`, () => assert.match(noRouteReason(evaluate(request)), reason));
    }

    it("ignores the query string when matching and authorizing, and forwards it", () => {
        const outcome = routed(evaluate(viaGateway("/v1/models/resnet:predict?verbose=1")));
        assert.deepEqual(outcome.destinations.map((d) => [d.path, d.authorized]), [["/v1/models/resnet:predict?verbose=1", true], ["/v1/models/resnet:predict?verbose=1", true]]);
    });

    it("rewrites the matched prefix and authorizes the rewritten path", () => {
        const rewriting = ingressRoutes({ http: [{ match: [{ uri: { prefix: "/resnet/" } }], rewrite: { uri: "/v1/models/resnet/" }, route: [{ destination: { host: "resnet", subset: "v1" } }] }] });
        const [destination] = routed(evaluate(viaGateway("/resnet/metadata"), withObjects(rewriting))).destinations;
        assert.equal(destination.path, "/v1/models/resnet/metadata");
        assert.equal(destination.authorized, true, destination.reason);
    });

    it("reports a destination whose subset the DestinationRule lacks, next to the healthy one", () => {
        const canary = ingressRoutes({ http: [{ route: [split[0], { destination: { host: "resnet", subset: "v3" }, weight: 10 }] }] });
        const [, broken] = routed(evaluate(viaGateway("/v1/models/resnet"), withObjects(canary))).destinations;
        assert.deepEqual(broken.pods, []);
        assert.equal(broken.authorized, false);
        assert.equal(broken.reason, `no subset v3 in DestinationRule ml-serving/resnet for host ${RESNET}`);
    });

    it("reports a subset as missing when no DestinationRule covers the host", () => {
        const outcome = evaluate(viaGateway("/v1/models/resnet"), OBJECTS.filter((o) => o !== subsets));
        assert.deepEqual(routed(outcome).destinations.map((d) => d.reason), [`no subset v1 in any DestinationRule for host ${RESNET}`, `no subset v2 in any DestinationRule for host ${RESNET}`]);
    });

    it("serves every subdomain under a wildcard Gateway host, and not the parent domain", () => {
        const objects = withObjects(gateway(["*.example.com"]), ingressRoutes({ hosts: ["*.example.com"] }));
        assert.deepEqual(shares(evaluate(viaGateway("/v1/models/resnet", { host: "eu.inference.example.com" }), objects)), ["v1 90 true", "v2 10 true"]);
        assert.match(noRouteReason(evaluate(viaGateway("/v1/models/resnet", { host: "example.com" }), objects)), /^no Gateway server/);
    });

    it("binds only VirtualServices of the namespace a `ns/host` Gateway host names", () => {
        const elsewhere = evaluate(viaGateway("/v1/models/resnet"), withObjects(gateway([`ml-other/${HOST}`])));
        assert.match(noRouteReason(elsewhere), /^404 NR: no VirtualService bound to Gateway istio-ingress\/mlmesh serves host inference\.example\.com$/);
        assert.equal(evaluate(viaGateway("/v1/models/resnet"), withObjects(gateway([`ml-serving/${HOST}`]))).kind, "routed");
    });

    it("merges the http routes of VirtualServices sharing a gateway host, in object order", () => {
        const bert = object("VirtualService", "ml-serving", "bert-ingress", { hosts: [HOST], gateways: ["istio-ingress/mlmesh"], http: [{ name: "bert", match: [{ uri: { prefix: "/v1/models/bert" } }], route: [{ destination: { host: "bert" } }] }] });
        const outcome = routed(evaluate(viaGateway("/v1/models/bert:predict"), withObjects(bert)));
        assert.deepEqual([outcome.virtualService, outcome.route, shares(outcome)], ["ml-serving/bert-ingress", "bert", [`${BERT} 100 false`]]);
    });

    it("ignores a VirtualService that is not exported to the gateway's namespace", () => {
        assert.match(noRouteReason(evaluate(viaGateway("/v1/models/resnet"), withObjects(ingressRoutes({ exportTo: ["."] })))), /^404 NR/);
    });

    it("denies at the ingress gateway what a mesh-wide DENY policy matches", () => {
        const denyExplain = object("AuthorizationPolicy", "istio-system", "deny-explain", { action: "DENY", rules: [{ to: [{ operation: { paths: ["*:explain"] } }] }] });
        const outcome = routed(evaluate(viaGateway("/v1/models/resnet:explain"), withObjects(denyExplain)));
        assert.deepEqual(outcome.destinations.map((d) => d.reason), Array(2).fill("403 at the ingress gateway: denied by DENY policy istio-system/deny-explain (rules[0])"));
        assert.deepEqual(shares(evaluate(viaGateway("/v1/models/resnet:predict"), withObjects(denyExplain))), ["v1 90 true", "v2 10 true"]);
    });

    it("refuses to guess whether a policy selects gateway pods by a label the Gateway's selector does not show", () => {
        const gatewayPolicy = object("AuthorizationPolicy", "istio-ingress", "gw", { selector: { matchLabels: { app: "istio-ingressgateway" } }, rules: [{}] });
        assert.throws(() => evaluate(viaGateway("/v1/models/resnet"), withObjects(gatewayPolicy)), /AuthorizationPolicy istio-ingress\/gw: cannot tell whether `spec\.selector\.matchLabels\.app`/);
    });
});

describe("routes in the mesh", () => {
    it("splits a call from the frontend by the mesh VirtualService and authorizes it", () => {
        const outcome = routed(evaluate(viaMesh("resnet.ml-serving", "/v1/models/resnet:predict")));
        assert.deepEqual([outcome.virtualService, outcome.route, shares(outcome)], ["ml-serving/resnet", "weighted", ["v1 90 true", "v2 10 true"]]);
    });

    it("resolves a bare short name in the caller's namespace", () => {
        const sameNamespace = evaluate(viaMesh("resnet", "/v1/models/resnet", { sourcePrincipal: "cluster.local/ns/ml-serving/sa/bert" }));
        assert.deepEqual(routed(sameNamespace).destinations.map((d) => d.host), [RESNET, RESNET]);
        assert.match(noRouteReason(evaluate(viaMesh("resnet", "/v1/models/resnet"))), /^no Backend or VirtualService for host resnet\.ml-frontend\.svc\.cluster\.local$/);
    });

    const calls: [string, Partial<RouteRequest>, string, boolean, RegExp][] = [
        ["allows the frontend to GET a model's status", { method: "GET" }, "/v1/models/resnet", true, /^allowed by ml-serving\/resnet-access/],
        ["denies an unlisted principal through the default-deny policy", { sourcePrincipal: "cluster.local/ns/ml-batch/sa/batch" }, "/v1/models/resnet:predict", false, /ml-serving\/default-deny allows nothing; ml-serving\/resnet-access has no matching rule/],
        ["denies a path outside the allowed set", {}, "/metrics", false, /^denied: no ALLOW policy matches/],
        ["denies a model whose name only starts with the allowed one", {}, "/v1/models/resnet50:predict", false, /^denied: no ALLOW policy matches/],
        ["denies a method outside the allowed set", { method: "DELETE" }, "/v1/models/resnet", false, /^denied: no ALLOW policy matches/],
    ];
    for (const [behaviour, overrides, path, authorized, reason] of calls) {
        it(behaviour, () => {
            for (const destination of routed(evaluate(viaMesh(RESNET, path, overrides))).destinations) {
                assert.equal(destination.authorized, authorized, destination.reason);
                assert.match(destination.reason, reason);
            }
        });
    }

    it("applies DENY policies before ALLOW policies", () => {
        const noExplain = object("AuthorizationPolicy", "ml-serving", "no-explain", { action: "DENY", rules: [{ from: [{ source: { namespaces: ["ml-frontend"] } }], to: [{ operation: { paths: ["*:explain"] } }] }] });
        const [destination] = routed(evaluate(viaMesh(RESNET, "/v1/models/resnet:explain"), withObjects(noExplain))).destinations;
        assert.deepEqual([destination.authorized, destination.reason], [false, "denied by DENY policy ml-serving/no-explain (rules[0])"]);
    });

    it("applies a root-namespace policy with a selector to matching pods in every namespace", () => {
        const rootDeny = object("AuthorizationPolicy", "istio-system", "no-resnet-delete", { selector: { matchLabels: { app: "resnet" } }, action: "DENY", rules: [{ to: [{ operation: { paths: ["/v1/models/resnet"] } }] }] });
        assert.deepEqual(shares(evaluate(viaMesh(RESNET, "/v1/models/resnet"), withObjects(rootDeny))), ["v1 90 false", "v2 10 false"]);
    });

    it("ignores a dry-run policy", () => {
        const dryRun = { ...object("AuthorizationPolicy", "ml-serving", "deny-all", { action: "DENY", rules: [{}] }), metadata: { name: "deny-all", namespace: "ml-serving", annotations: { "istio.io/dry-run": "true" } } };
        assert.deepEqual(shares(evaluate(viaMesh(RESNET, "/v1/models/resnet"), withObjects(dryRun))), ["v1 90 true", "v2 10 true"]);
    });

    it("takes subsets from a DestinationRule in the caller's namespace before the service's", () => {
        const callerRule = object("DestinationRule", "ml-frontend", "resnet-client", { host: RESNET, subsets: [{ name: "v1", labels: { version: "v1" } }] });
        const [, v2] = routed(evaluate(viaMesh(RESNET, "/v1/models/resnet"), withObjects(callerRule))).destinations;
        assert.equal(v2.reason, `no subset v2 in DestinationRule ml-frontend/resnet-client for host ${RESNET}`);
    });

    it("routes a host without a VirtualService straight to its pods", () => {
        const outcome = routed(evaluate(viaMesh(BERT, "/v1/models/bert:predict")));
        assert.equal(outcome.virtualService, undefined);
        assert.deepEqual(outcome.destinations, [{
            host: BERT, weight: 100, pods: [{ app: "bert" }], path: "/v1/models/bert:predict", authorized: false,
            reason: "denied: no ALLOW policy matches (ml-serving/default-deny allows nothing)",
        }]);
    });

    it("authorizes a destination only if every pod label set it reaches is allowed", () => {
        const mixed = { host: "mixed.ml-serving.svc.cluster.local", namespace: "ml-serving", pods: [{ labels: V1 }, { labels: { app: "other" } }] };
        const [destination] = routed(evaluate(viaMesh(mixed.host, "/v1/models/resnet"), OBJECTS, [...BACKENDS, mixed])).destinations;
        assert.equal(destination.authorized, false);
        assert.match(destination.reason, /^pods \{app=other\}: denied/);
    });

    it("uses the first of two VirtualServices for one mesh host and notes the other", () => {
        const shadow = meshRoutes("resnet-shadow", [{ route: [{ destination: { host: "resnet", subset: "v2" } }] }]);
        const outcome = routed(evaluate(viaMesh(RESNET, "/v1/models/resnet"), withObjects(shadow)));
        assert.equal(outcome.virtualService, "ml-serving/resnet");
        assert.deepEqual(outcome.notes?.map((n) => n.split(" ")[0]), ["ml-serving/resnet-shadow"]);
    });

    it("reports a subset whose labels select no pods", () => {
        const outcome = evaluate(viaMesh(RESNET, "/v1/models/resnet"), OBJECTS, [{ host: RESNET, namespace: "ml-serving", pods: [{ labels: V1 }] }]);
        assert.deepEqual(routed(outcome).destinations.map((d) => d.reason.startsWith("no pods")), [false, true]);
    });
});

describe("header operations and tokens at the pods reached", () => {
    it("sends a destination's header set to its pods only, where a policy condition reads it", () => {
        const tagged = ingressRoutes({ http: [{ route: [{ ...split[0], headers: { request: { set: { "x-leg": "v1" } } } }, split[1]] }] });
        const objects = withObjects(tagged, resnetAccess({ when: [{ key: "request.headers[x-leg]", values: ["v1"] }] }));
        assert.deepEqual(shares(evaluate(viaGateway("/v1/models/resnet"), objects)), ["v1 90 true", "v2 10 false"]);
    });

    it("rewrites the host a route's headers set, which the pods' policy sees", () => {
        const onlyInternal = resnetAccess({ to: [{ operation: { hosts: ["resnet.internal"] } }] });
        const rewriting = ingressRoutes({ http: [{ headers: { request: { set: { Host: "resnet.internal" } } }, route: split }] });
        assert.deepEqual(shares(evaluate(viaGateway("/v1/models/resnet"), withObjects(rewriting, onlyInternal))), ["v1 90 true", "v2 10 true"]);
        assert.deepEqual(shares(evaluate(viaGateway("/v1/models/resnet"), withObjects(onlyInternal))), ["v1 90 false", "v2 10 false"]);
    });

    const ISSUER = "https://login.example.com/";
    const podJwt = object("RequestAuthentication", "ml-serving", "resnet-jwt", { selector: { matchLabels: { app: "resnet" } }, jwtRules: [{ issuer: ISSUER, audiences: ["resnet"] }] });
    const needsToken = resnetAccess({ from: [{ source: { principals: [FRONTEND], requestPrincipals: [`${ISSUER}/*`] } }] });
    const tokens: [string, IstioObject[], RouteRequest["jwt"], RegExp][] = [
        ["allows a caller with a token the pods' RequestAuthentication verifies", [podJwt, needsToken], { iss: ISSUER, sub: "svc", aud: "resnet" }, /^allowed by ml-serving\/resnet-access/],
        ["answers 401 for a token of another issuer", [podJwt, needsToken], { iss: "https://other/", sub: "svc" }, /^401 Jwt issuer is not configured: https:\/\/other\/ /],
        ["refuses a caller without a token where one is required", [podJwt, needsToken], undefined, /^denied: no ALLOW policy matches/],
        ["gives no request principal where no RequestAuthentication selects the pods", [needsToken], { iss: ISSUER, sub: "svc", aud: "resnet" }, /^denied: no ALLOW policy matches/],
    ];
    for (const [behaviour, changed, jwt, reason] of tokens) {
        it(behaviour, () => {
            for (const destination of routed(evaluate(viaMesh(RESNET, "/v1/models/resnet", { jwt }), withObjects(...changed))).destinations) {
                assert.match(destination.reason, reason);
            }
        });
    }

    it("wants a bearer token as `jwt`, not as a header", () => {
        assert.throws(() => evaluate(viaMesh(RESNET, "/v1/models/resnet", { headers: { Authorization: "Bearer x" } })), /give a bearer token as `jwt`/);
    });
});

describe("configuration the route evaluator does not model", () => {
    const withRoute = (extra: Record<string, unknown>) => ingressRoutes({ http: [{ route: split, ...extra }] });
    const cases: [string, IstioObject, RegExp, RouteRequest?][] = [
        ["a condition on an unmodelled attribute", resnetAccess({ when: [{ key: "source.ip", values: ["10.0.0.0/8"] }] }), /AuthorizationPolicy ml-serving\/resnet-access: `spec\.rules\[0\]\.when\[0\]\.key` source\.ip is not modelled/],
        ["a source IP block", resnetAccess({ from: [{ source: { ipBlocks: ["10.0.0.0/8"] } }] }), /`spec\.rules\[0\]\.from\[0\]\.source\.ipBlocks` is not modelled/],
        ["a CUSTOM action", object("AuthorizationPolicy", "ml-serving", "ext", { action: "CUSTOM", provider: { name: "oauth" }, rules: [{}] }), /AuthorizationPolicy ml-serving\/ext: `spec\.provider`/],
        ["policy targetRefs", object("AuthorizationPolicy", "ml-serving", "svc", { targetRefs: [{ kind: "Service", name: "resnet" }] }), /`spec\.targetRefs` is not modelled/],
        ["a port rule with no port to check", resnetAccess({ to: [{ operation: { ports: ["8501"] } }] }), /needs the destination port/, viaMesh(RESNET, "/v1/models/resnet")],
        ["a delegating route", ingressRoutes({ http: [{ delegate: { name: "resnet-routes" } }] }), /VirtualService ml-serving\/resnet-ingress: `spec\.http\[0\]\.delegate` is not modelled/],
        ["fault injection", withRoute({ fault: { abort: { httpStatus: 503 } } }), /`spec\.http\[0\]\.fault` is not modelled/],
        ["mirroring", withRoute({ mirror: { host: "resnet" } }), /`spec\.http\[0\]\.mirror` is not modelled/],
        ["TCP routes", ingressRoutes({ tcp: [{ route: split }] }), /`spec\.tcp` is not modelled/],
        ["a source-label match", withRoute({ match: [{ sourceLabels: { app: "x" } }] }), /`spec\.http\[0\]\.match\[0\]\.sourceLabels` is not modelled/],
        ["a regex rewrite", withRoute({ rewrite: { uriRegexRewrite: { match: "^/x", rewrite: "/" } } }), /`spec\.http\[0\]\.rewrite\.uriRegexRewrite`/],
        ["a DestinationRule workload selector", { ...subsets, spec: { ...subsets.spec, workloadSelector: { matchLabels: { app: "x" } } } }, /DestinationRule ml-serving\/resnet: `spec\.workloadSelector`/],
        ["TLS passthrough at the gateway", { ...gateway(), spec: { ...gateway().spec, servers: [{ port: { number: 443, name: "tls", protocol: "HTTPS" }, hosts: [HOST], tls: { mode: "PASSTHROUGH" } }] } }, /Gateway istio-ingress\/mlmesh: `spec\.servers\[0\]\.tls\.mode` PASSTHROUGH/],
        ["a ServiceEntry inside the mesh", object("ServiceEntry", "ml-serving", "s3", { hosts: ["s3.amazonaws.com"], location: "MESH_INTERNAL" }), /ServiceEntry ml-serving\/s3: `spec\.hosts` names a host inside the mesh/],
        ["a namespace-wide Sidecar", object("Sidecar", "ml-serving", "scope", { egress: [{ hosts: ["./*"] }] }), /Sidecar ml-serving\/scope: `spec\.workloadSelector` is not modelled/],
        ["a ServiceEntry that shadows a model's Service", object("ServiceEntry", "ml-serving", "shadow", { hosts: ["*.ml-serving.svc.cluster.local"], location: "MESH_EXTERNAL" }), /ServiceEntry ml-serving\/shadow: `spec\.hosts` names \*\.ml-serving\.svc\.cluster\.local inside the mesh/],
    ];
    for (const [what, changed, error, request] of cases) {
        it(`throws on ${what}, naming the object and field`, () => {
            assert.throws(() => evaluate(request ?? viaGateway("/v1/models/resnet"), withObjects(changed)), error);
        });
    }
});

describe("route matching rules", () => {
    const hosts: [string, string, boolean][] = [
        ["inference.example.com", "INFERENCE.example.com", true],
        ["*.example.com", "a.b.example.com", true],
        ["*.example.com", "example.com", false],
        ["*", "anything.internal", true],
        ["api.example.com", "inference.example.com", false],
    ];
    for (const [pattern, host, matches] of hosts) {
        it(`${matches ? "matches" : "does not match"} host ${host} with ${pattern}`, () => assert.equal(hostMatches(pattern, host), matches));
    }

    const intersections: [string, string, string | undefined][] = [
        ["*", HOST, HOST],
        ["*.example.com", HOST, HOST],
        ["*.example.com", "*.com", "*.example.com"],
        ["api.example.com", HOST, undefined],
    ];
    for (const [a, b, both] of intersections) {
        it(`intersects ${a} and ${b} to ${both}`, () => assert.equal(hostIntersection(a, b), both));
    }

    const patterns: [string, string | undefined, boolean][] = [
        ["/v1/models/resnet:*", "/v1/models/resnet:predict", true],
        ["/v1/models/resnet:*", "/v1/models/resnet50:predict", false],
        ["*/sa/frontend-sa", FRONTEND, true],
        ["*", "", false],
        ["*", undefined, false],
        ["/v1/models/resnet", "/v1/models/resnet/", false],
    ];
    for (const [pattern, value, matches] of patterns) {
        it(`${matches ? "matches" : "does not match"} ${JSON.stringify(value)} with the policy pattern ${pattern}`, () => assert.equal(authzPattern(pattern, value), matches));
    }

    const rewrites: [string, string, string | undefined, string][] = [
        ["/resnet/metadata?x=1", "/v1/models/resnet/", "/resnet/", "/v1/models/resnet/metadata?x=1"],
        ["/predict?x=1", "/v1/models/resnet:predict", undefined, "/v1/models/resnet:predict?x=1"],
        ["/predict", "/api/", "/", "/api/predict"],
    ];
    for (const [path, uri, prefix, result] of rewrites) {
        it(`rewrites ${path} to ${result} after a ${prefix === undefined ? "exact" : `prefix ${prefix}`} match`, () => assert.equal(rewritePath(path, uri, { uriPrefix: prefix }), result));
    }

    const paths: [string, string][] = [["/a/./b/../c?x=/../", "/a/c?x=/../"], ["/a/..", "/"], ["/a/b/.", "/a/b/"]];
    for (const [raw, normalized] of paths) {
        it(`normalizes ${raw} to ${normalized}`, () => {
            const { path, query } = normalizePath(raw);
            assert.equal(path + query, normalized);
        });
    }
});
