import * as assert from "node:assert/strict";
import { namespaceServiceEntry, platformEgressHosts, platformServiceEntry, validateEgress, type EgressSpec } from "../../../components/mesh/egress";
import { podSecurityLabels } from "../../../components/mesh/podSecurity";

describe("platformEgressHosts", () => {
    const cases: [string, string, string[]][] = [
        ["us-west-2", "amazonaws.com", ["s3.us-west-2.amazonaws.com", "*.s3.us-west-2.amazonaws.com", "sts.us-west-2.amazonaws.com"]],
        // boto3 uses the legacy global S3 host in us-east-1 (botocore/args.py _should_force_s3_global).
        ["us-east-1", "amazonaws.com", ["s3.us-east-1.amazonaws.com", "*.s3.us-east-1.amazonaws.com", "s3.amazonaws.com", "*.s3.amazonaws.com", "sts.us-east-1.amazonaws.com"]],
        ["cn-north-1", "amazonaws.com.cn", ["s3.cn-north-1.amazonaws.com.cn", "*.s3.cn-north-1.amazonaws.com.cn", "sts.cn-north-1.amazonaws.com.cn"]],
    ];
    for (const [region, dnsSuffix, hosts] of cases) {
        it(`lets mesh workloads in ${region} reach regional S3 and STS only`, () => assert.deepEqual(platformEgressHosts({ region, dnsSuffix }), hosts));
    }
});

describe("egress ServiceEntries", () => {
    it("publish the AWS hosts mesh-wide from the root namespace, as TLS passed through to the address the client resolved", () => {
        const entry = platformServiceEntry({ region: "us-west-2", dnsSuffix: "amazonaws.com" });
        assert.deepEqual({ namespace: entry.metadata.namespace, ...entry.spec }, {
            namespace: "istio-system",
            hosts: platformEgressHosts({ region: "us-west-2", dnsSuffix: "amazonaws.com" }),
            location: "MESH_EXTERNAL",
            resolution: "NONE",
            ports: [{ number: 443, name: "tls-443", protocol: "TLS" }],
            exportTo: ["*"],
        });
    });
    it("keep a namespace's allowance to that namespace", () => {
        const entry = namespaceServiceEntry({ namespace: "ml-serving", hosts: ["api.example.com"], port: 8443 });
        assert.deepEqual([entry.metadata.namespace, entry.spec.exportTo, entry.spec.ports], ["ml-serving", ["."], [{ number: 8443, name: "tls-8443", protocol: "TLS" }]]);
    });
    it("are named by their hosts and port, so reordering the list changes nothing", () => {
        const a = namespaceServiceEntry({ namespace: "ml-serving", hosts: ["a.example.com", "b.example.com"] });
        const b = namespaceServiceEntry({ namespace: "ml-serving", hosts: ["b.example.com", "a.example.com"] });
        assert.equal(a.metadata.name, b.metadata.name);
        assert.notEqual(a.metadata.name, namespaceServiceEntry({ namespace: "ml-serving", hosts: ["a.example.com"] }).metadata.name);
    });
});

describe("validateEgress", () => {
    const cases: [string, EgressSpec, string[]][] = [
        ["the defaults", {}, []],
        ["ALLOW_ANY (an explicit opt-out)", { mode: "ALLOW_ANY" }, []],
        ["an allowance for a mesh namespace", { allow: [{ namespace: "ml-serving", hosts: ["api.example.com", "*.blob.example.com"] }] }, []],
        ["an unknown mode", { mode: "DENY_ALL" as EgressSpec["mode"] }, ["mode"]],
        ["a namespace outside the mesh", { allow: [{ namespace: "payments", hosts: ["api.example.com"] }] }, ["allow[0].namespace"]],
        ["no hosts", { allow: [{ namespace: "ml-serving", hosts: [] }] }, ["allow[0].hosts"]],
        ["a bare wildcard", { allow: [{ namespace: "ml-serving", hosts: ["*"] }] }, ["allow[0].hosts[0]"]],
        ["a URL instead of a host", { allow: [{ namespace: "ml-serving", hosts: ["https://api.example.com"] }] }, ["allow[0].hosts[0]"]],
        ["a host listed twice", { allow: [{ namespace: "ml-serving", hosts: ["api.example.com", "api.example.com"] }] }, ["allow[0].hosts[1]"]],
        ["port 0", { allow: [{ namespace: "ml-serving", hosts: ["api.example.com"], port: 0 }] }, ["allow[0].port"]],
        ["buckets of another region", { s3Regions: ["eu-west-1"] }, []],
        ["an s3Regions entry that is not a region", { s3Regions: ["europe"] }, ["s3Regions[0]"]],
    ];
    for (const [what, spec, paths] of cases) {
        it(`${paths.length ? "refuses" : "accepts"} ${what}`, () => assert.deepEqual(validateEgress(spec, ["ml-serving"]).list.map((p) => p.path), paths));
    }
});

describe("podSecurityLabels", () => {
    it("enforces, warns and audits at the level, against the latest standard", () => {
        assert.deepEqual(podSecurityLabels("restricted"), {
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "restricted",
        });
    });
});
