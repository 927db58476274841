import * as assert from "node:assert/strict";
import type { RecordedResource } from "../../offline/recorder";
import { displayType, renderTree, summarize } from "../../offline/tree";

const stack = "urn:pulumi:dev::mlmesh::pulumi:pulumi:Stack::mlmesh-dev";
function resource(name: string, type: string, parent?: string, options: RecordedResource["options"] = {}): RecordedResource {
    return { urn: `urn:${name}`, type, name, parent, custom: true, inputs: {}, outputs: {}, options, dependencies: [], inputDependencies: [] };
}

describe("plan tree", () => {
    const cases: [string, string][] = [
        ["aws:ec2/vpc:Vpc", "aws:ec2:Vpc"],
        ["kubernetes:apps/v1:Deployment", "kubernetes:apps:Deployment"],
        ["kubernetes:networking.istio.io/v1:VirtualService", "kubernetes:networking.istio.io:VirtualService"],
        ["mlmesh:cluster:ClusterVpc", "mlmesh:cluster:ClusterVpc"],
        ["pulumi:providers:kubernetes", "pulumi:providers:kubernetes"],
    ];
    for (const [type, shown] of cases) {
        it(`shows ${type} as ${shown}`, () => assert.equal(displayType(type), shown));
    }

    const resources = [
        { ...resource("mlmesh-dev", "pulumi:pulumi:Stack"), urn: stack },
        resource("net", "mlmesh:cluster:ClusterVpc", stack),
        resource("net-vpc", "aws:ec2/vpc:Vpc", "urn:net", { protect: true }),
        resource("net-subnet", "aws:ec2/subnet:Subnet", "urn:net-vpc"),
        resource("cluster", "eks:index:Cluster", stack, { remote: true, retainOnDelete: true }),
    ];

    it("nests children under their parents with branch marks", () => {
        const lines = renderTree(resources).split("\n").map((line) => line.trimEnd());
        assert.match(lines[0], /^\s+Type\s+Name$/);
        assert.match(lines[1], /^ \+ {3}pulumi:pulumi:Stack\s+mlmesh-dev$/);
        assert.match(lines[2], /^ \+ {3}├─ mlmesh:cluster:ClusterVpc\s+net$/);
        assert.match(lines[3], /^ \+ {3}│  └─ aws:ec2:Vpc\s+net-vpc {2}\[protect\]$/);
        assert.match(lines[4], /^ \+ {3}│     └─ aws:ec2:Subnet\s+net-subnet$/);
        assert.match(lines[5], /^ \+ {3}└─ eks:index:Cluster\s+cluster {2}\[retain, remote: children not visible offline\]$/);
    });

    it("counts resources by provider and by short type", () => {
        const summary = summarize(resources);
        assert.equal(summary.total, 5);
        assert.deepEqual(summary.byProvider, { aws: 2, eks: 1, mlmesh: 1, pulumi: 1 });
        assert.equal(summary.byType["aws:ec2:Subnet"], 1);
    });
});
