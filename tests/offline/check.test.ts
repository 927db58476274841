import * as assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { main } from "../../offline/cli";
import { readObjects, typeToken } from "../../offline/check";
import { EXIT } from "../../offline/plan";

const FIXTURES = path.join(__dirname, "fixtures", "manifests");

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(args, { out: (t) => out.push(t), err: (t) => err.push(t), cwd: FIXTURES });
    return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}

describe("mlmesh check", () => {
    it("passes a folder of good manifests: a hardened Deployment with its budget, STRICT mTLS and a TLS Gateway (a List)", async () => {
        const run = await cli(["check", "good"]);
        assert.equal(run.code, EXIT.ok, run.stdout + run.stderr);
        assert.match(run.stdout, /Checked 4 object\(s\) in 2 file\(s\)/);
        assert.match(run.stdout, /Policies: 0 mandatory, 0 advisory/);
    });

    it("reports exactly the bad ones, by file, document and object, and exits 1", async () => {
        const run = await cli(["check", "good", "bad", "--json"]);
        assert.equal(run.code, EXIT.unsafe);
        const { violations } = JSON.parse(run.stdout) as { violations: { policy: string; level: string; where: string }[] };
        const found = [...new Set(violations.filter((v) => v.level === "mandatory").map((v) => `${path.relative(FIXTURES, v.where.split(":")[0])} ${v.policy}`))].sort();
        assert.deepEqual(found, [
            "bad/latest-privileged.yaml#0 image-from-cache-or-digest", "bad/latest-privileged.yaml#0 k8s-drop-capabilities", "bad/latest-privileged.yaml#0 k8s-image-pinned",
            "bad/latest-privileged.yaml#0 k8s-no-host-access", "bad/latest-privileged.yaml#0 k8s-no-privilege-escalation",
            "bad/latest-privileged.yaml#0 k8s-no-privileged", "bad/latest-privileged.yaml#0 k8s-non-root", "bad/latest-privileged.yaml#0 k8s-probes",
            "bad/latest-privileged.yaml#0 k8s-readonly-rootfs", "bad/latest-privileged.yaml#0 k8s-requests-limits",
            "bad/mesh.yaml#0 istio-mtls-strict", "bad/mesh.yaml#1 istio-gateway-no-wildcard-host", "bad/mesh.yaml#1 istio-gateway-tls", "bad/mesh.yaml#2 k8s-no-public-loadbalancer",
        ]);
        assert.ok(violations.every((v) => !v.where.includes(`${path.sep}good${path.sep}`)), "nothing in good/");
        assert.ok(violations.some((v) => / DaemonSet ops\/agent$/.test(v.where)));
    });

    it("gives each object the type token the Kubernetes provider registers it under", () => {
        assert.deepEqual([typeToken("v1", "Service"), typeToken("apps/v1", "Deployment"), typeToken("networking.istio.io/v1", "Gateway")],
            ["kubernetes:core/v1:Service", "kubernetes:apps/v1:Deployment", "kubernetes:networking.istio.io/v1:Gateway"]);
        assert.deepEqual(readObjects(path.join(FIXTURES, "good", "mesh.yaml")).map((o) => [o.document, o.item, o.resource.type]), [
            [0, 0, "kubernetes:security.istio.io/v1:PeerAuthentication"], [0, 1, "kubernetes:networking.istio.io/v1:Gateway"],
        ]);
    });

    describe("bad input exits 2 with the file and document, never a stack trace", () => {
        let dir: string;
        before(() => {
            dir = mkdtempSync(path.join(tmpdir(), "mlmesh-check-"));
        });
        after(() => rmSync(dir, { recursive: true, force: true }));
        const cases: [string, string, RegExp][] = [
            ["a document that is not YAML", "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\n---\nnot: [valid\n", /#1: is not valid YAML/],
            ["a document that is not a Kubernetes object", "name: just-data\n", /#0: is not a Kubernetes object \(it needs apiVersion and kind\)/],
        ];
        for (const [what, text, message] of cases) {
            it(what, async () => {
                const file = path.join(dir, `${what.replace(/\W+/g, "-")}.yaml`);
                writeFileSync(file, text);
                const run = await cli(["check", file]);
                assert.equal(run.code, EXIT.badInput);
                assert.match(run.stderr, message);
                assert.ok(run.stderr.includes(file));
                assert.doesNotMatch(run.stderr, /\n\s+at /);
            });
        }
        it("a path that does not exist, and an environment the pack has no config for", async () => {
            assert.match((await cli(["check", "nope"])).stderr, /nope: no such file or folder/);
            assert.match((await cli(["check", "good", "--environment", "qa"])).stderr, /--environment qa: the pack has no config for it/);
        });
    });

    it("uses an environment's config: dev's relaxed availability rules, never its security rules", async () => {
        const run = await cli(["check", "bad", "--environment", "dev", "--json"]);
        assert.equal(run.code, EXIT.unsafe);
        assert.ok((JSON.parse(run.stdout) as { violations: { policy: string; level: string }[] }).violations.some((v) => v.policy === "k8s-no-privileged" && v.level === "mandatory"));
    });
});
