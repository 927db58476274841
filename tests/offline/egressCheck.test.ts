import * as assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import { IstioMesh, type IstioMeshArgs } from "../../components/mesh/istioMesh";
import { egressDecision, outboundMode, serviceEntryHostMatches } from "../../offline/egressCheck";
import { renderManifests } from "../../offline/manifests";
import type { RecordedRun } from "../../offline/recorder";
import type { IstioObject } from "../../offline/routeObjects";
import { TEST_IMAGES } from "../components/fixtures/images";
import { recordOffline } from "./fixtures/offlineRun";

/** The rendered Istio objects and outbound mode of a mesh in us-west-2 with namespaces ml-serving and ml-batch. */
async function renderedMesh(egress: IstioMeshArgs["egress"]): Promise<{ objects: IstioObject[]; mode: string }> {
    const run: RecordedRun = await recordOffline(() => {
        new IstioMesh("mesh", {
            cluster: { provider: new k8s.Provider("k", { kubeconfig: "{}" }), nodeSecurityGroupId: "sg-0123456789abcdef0", images: TEST_IMAGES },
            namespaces: ["ml-serving", "ml-batch"],
            egress,
        });
    });
    const istiod = run.resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.inputs.chart === "istiod");
    return { objects: renderManifests(run.resources).map((m) => m.object as unknown as IstioObject), mode: outboundMode(istiod?.inputs.values as Record<string, unknown>) };
}

describe("egress from the mesh, judged as a sidecar would", () => {
    let mesh: { objects: IstioObject[]; mode: string };
    before(async () => {
        mesh = await renderedMesh({ allow: [{ namespace: "ml-serving", hosts: ["api.example.com", "*.blob.example.com"] }] });
    });
    const cases: [string, string, string, number, boolean][] = [
        ["a model download from a bucket (virtual-hosted S3)", "ml-serving", "models.s3.us-west-2.amazonaws.com", 443, true],
        ["a model download by path-style S3", "ml-batch", "s3.us-west-2.amazonaws.com", 443, true],
        ["IRSA's AssumeRoleWithWebIdentity", "ml-serving", "sts.us-west-2.amazonaws.com", 443, true],
        ["an allowed host of the namespace", "ml-serving", "api.example.com", 443, true],
        ["a subdomain of an allowed wildcard", "ml-serving", "acct.blob.example.com", 443, true],
        ["the wildcard's own apex, which it does not name", "ml-serving", "blob.example.com", 443, false],
        ["another namespace's allowed host", "ml-batch", "api.example.com", 443, false],
        ["an allowed host on another port", "ml-serving", "api.example.com", 8443, false],
        ["a bucket in another region (outside the VPC's S3 endpoint)", "ml-serving", "exfil.s3.eu-west-1.amazonaws.com", 443, false],
        ["S3's global host, outside us-east-1", "ml-serving", "exfil.s3.amazonaws.com", 443, false],
        ["an arbitrary internet host", "ml-serving", "attacker.example.net", 443, false],
    ];
    for (const [what, namespace, host, port, allowed] of cases) {
        it(`${allowed ? "lets out" : "refuses"} ${what} from ${namespace}`, () => {
            assert.equal(mesh.mode, "REGISTRY_ONLY");
            const decision = egressDecision(mesh.objects, mesh.mode, { namespace, host, port });
            assert.equal(decision.allowed, allowed, JSON.stringify(decision));
        });
    }

    it("lets model downloads reach buckets of the regions the stack names in s3Regions, and no others", async () => {
        const withEu = await renderedMesh({ s3Regions: ["eu-west-1"] });
        const reach = (host: string) => egressDecision(withEu.objects, withEu.mode, { namespace: "ml-serving", host, port: 443 }).allowed;
        assert.deepEqual([reach("models-eu.s3.eu-west-1.amazonaws.com"), reach("s3.eu-west-1.amazonaws.com"), reach("x.s3.ap-south-1.amazonaws.com")], [true, true, false]);
    });

    it("lets everything out under the ALLOW_ANY opt-out", async () => {
        const open = await renderedMesh({ mode: "ALLOW_ANY" });
        assert.deepEqual(egressDecision(open.objects, open.mode, { namespace: "ml-serving", host: "attacker.example.net", port: 443 }), { allowed: true, via: "outboundTrafficPolicy ALLOW_ANY" });
    });
});

describe("serviceEntryHostMatches", () => {
    const cases: [string, string, boolean][] = [
        ["*.s3.us-west-2.amazonaws.com", "models.s3.us-west-2.amazonaws.com", true],
        ["*.s3.us-west-2.amazonaws.com", "a.b.s3.us-west-2.amazonaws.com", true],
        ["*.s3.us-west-2.amazonaws.com", "s3.us-west-2.amazonaws.com", false],
        ["*.s3.us-west-2.amazonaws.com", "evils3.us-west-2.amazonaws.com", false],
        ["sts.us-west-2.amazonaws.com", "STS.us-west-2.amazonaws.com", true],
    ];
    for (const [pattern, host, matches] of cases) {
        it(`${matches ? "matches" : "does not match"} ${host} with ${pattern}`, () => assert.equal(serviceEntryHostMatches(pattern, host), matches));
    }
});
