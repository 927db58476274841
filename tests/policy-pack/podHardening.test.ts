import * as assert from "node:assert/strict";
import { k8sDropCapabilities, k8sNoHostAccess, podHardeningPolicies } from "../../policy-pack/podHardening";
import { runPolicies } from "../../offline/policyRunner";
import { environmentConfig, resource, violationsOf } from "./harness";
import { plannedStack } from "../offline/fixtures/plannedStack";

/** A hardened Deployment; each case changes one field. */
const deployment = (pod: Record<string, unknown> = {}, container: Record<string, unknown> = {}) => resource("kubernetes:apps/v1:Deployment", {
    metadata: { name: "web", namespace: "shop" },
    spec: { template: { spec: { containers: [{ name: "web", image: "x@sha256:0", securityContext: { capabilities: { drop: ["ALL"] } }, ...container }], ...pod } } },
});

describe("k8s-no-host-access", () => {
    it("passes a pod that stays out of the node", async () => assert.deepEqual(await violationsOf(k8sNoHostAccess, deployment()), []));
    const cases: [string, Record<string, unknown>, Record<string, unknown>, RegExp][] = [
        ["the host network", { hostNetwork: true }, {}, /`spec\.template\.spec\.hostNetwork` is true/],
        ["the host PID namespace", { hostPID: true }, {}, /hostPID` is true/],
        ["the host IPC namespace", { hostIPC: true }, {}, /hostIPC` is true/],
        ["a hostPath volume", { volumes: [{ name: "docker", hostPath: { path: "/var/run/docker.sock" } }] }, {}, /volumes\[0\]` \(docker\) mounts the node's \/var\/run\/docker\.sock/],
        ["a host port", {}, { ports: [{ containerPort: 80, hostPort: 80 }] }, /ports\[0\]\.hostPort` is 80/],
    ];
    for (const [what, pod, container, message] of cases) {
        it(`refuses ${what}`, async () => {
            const found = await violationsOf(k8sNoHostAccess, deployment(pod, container));
            assert.equal(found.length, 1);
            assert.match(found[0].message, message);
        });
    }
    it("lets a listed node agent through, and ignores objects without pods", async () => {
        assert.deepEqual(await violationsOf(k8sNoHostAccess, deployment({ hostNetwork: true }), { "k8s-no-host-access": { exemptions: ["shop/web"] } }), []);
        assert.deepEqual(await violationsOf(k8sNoHostAccess, resource("kubernetes:core/v1:ConfigMap", { metadata: { name: "c" }, data: {} })), []);
    });
});

describe("k8s-drop-capabilities", () => {
    it("passes a container that drops ALL, and one that adds back NET_BIND_SERVICE", async () => {
        assert.deepEqual(await violationsOf(k8sDropCapabilities, deployment()), []);
        assert.deepEqual(await violationsOf(k8sDropCapabilities, deployment({}, { securityContext: { capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] } } })), []);
    });
    it("refuses a container that drops nothing", async () => {
        assert.match((await violationsOf(k8sDropCapabilities, deployment({}, { securityContext: {} })))[0].message, /capabilities\.drop` does not include ALL/);
    });
    it("refuses an added capability, SYS_ADMIN or ALL", async () => {
        const found = await violationsOf(k8sDropCapabilities, deployment({}, { securityContext: { capabilities: { drop: ["ALL"], add: ["SYS_ADMIN", "ALL"] } } }));
        assert.equal(found.length, 1);
        assert.match(found[0].message, /adds SYS_ADMIN, ALL/);
    });
    it("compares names exactly, as Pod Security does: `all` and `cap_net_bind_service` are not ALL and NET_BIND_SERVICE", async () => {
        assert.equal((await violationsOf(k8sDropCapabilities, deployment({}, { securityContext: { capabilities: { drop: ["all"], add: ["cap_net_bind_service"] } } }))).length, 2);
    });
    it("checks init containers too", async () => {
        const found = await violationsOf(k8sDropCapabilities, deployment({ initContainers: [{ name: "init", image: "x@sha256:0" }] }));
        assert.match(found[0].message, /initContainers\[0\]\.securityContext\.capabilities\.drop/);
    });
});

describe("pod hardening on the committed stacks", () => {
    for (const stack of ["dev", "prod"] as const) {
        it(`finds nothing in ${stack}: mlmesh's pods stay out of the node and drop every capability`, async () => {
            const run = await runPolicies(podHardeningPolicies, (await plannedStack(stack)).resources, environmentConfig(stack, podHardeningPolicies));
            assert.deepEqual(run.violations, []);
        });
    }
});
