import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as assert from "node:assert/strict";
import { replaceWhere, SECRET_PLACEHOLDER, type RecordedResource, type RecordedRun } from "../../offline/recorder";
import { recordOffline } from "./fixtures/offlineRun";
import { workloadProgram } from "./fixtures/workloads";

describe("offline recorder", () => {
    let run: RecordedRun;
    const find = (name: string): RecordedResource => {
        const resource = run.resources.find((r) => r.name === name);
        assert.ok(resource, `no resource named ${name}; recorded: ${run.resources.map((r) => r.name).join(", ")}`);
        return resource;
    };

    before(async () => {
        run = await recordOffline(workloadProgram);
    });

    it("records the stack, the component and every child once, with their type tokens", () => {
        const types = run.resources.map((r) => `${r.type} ${r.name}`).sort();
        assert.deepEqual(types, [
            "aws:kms/key:Key key",
            "kubernetes:networking.istio.io/v1:VirtualService app-route",
            "kubernetes:apps/v1:Deployment app-server",
            "kubernetes:core/v1:Namespace app-ns",
            "kubernetes:core/v1:Secret app-token",
            "kubernetes:helm.sh/v3:Release app-chart",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole app-reader",
            "pulumi:providers:kubernetes app-k8s",
            "pulumi:pulumi:Stack mlmesh-test",
            "test:fixtures:Workload app",
        ].sort());
    });

    it("links each child to its parent's URN", () => {
        const workload = find("app");
        assert.equal(workload.parent, find("mlmesh-test").urn);
        for (const child of ["app-ns", "app-server", "app-route", "app-chart", "app-k8s"]) {
            assert.equal(find(child).parent, workload.urn, child);
        }
        assert.equal(find("key").parent, find("mlmesh-test").urn);
    });

    it("captures protect and retainOnDelete", () => {
        assert.equal(find("app-ns").options.protect, true);
        assert.equal(find("key").options.retainOnDelete, true);
        assert.equal(find("app-server").options.protect, undefined);
    });

    it("captures explicit dependsOn without the dependencies that come from inputs", () => {
        assert.deepEqual(find("app-server").options.dependsOn, [find("app-ns").urn]);
        assert.equal(find("app-route").options.dependsOn, undefined, "the route only depends on the namespace through an input");
    });

    it("records every dependency the engine waits for: explicit ones and those that come from inputs", () => {
        assert.ok(find("app-server").dependencies.includes(find("app-ns").urn));
        assert.ok(find("app-route").dependencies.includes(find("app-ns").urn), "the route's namespace is an output of the namespace");
        assert.ok(!find("app-reader").dependencies.includes(find("app-ns").urn), "the cluster role takes nothing from the namespace");
    });

    it("captures the explicit provider, ignoreChanges and deleteBeforeReplace", () => {
        const server = find("app-server");
        assert.equal(server.options.provider, find("app-k8s").urn);
        assert.deepEqual(server.options.ignoreChanges, ["spec.replicas"]);
        assert.equal(server.options.deleteBeforeReplace, true);
        assert.equal(find("key").options.provider, undefined);
    });

    it("records resolved inputs, so values from other resources appear as their mock outputs", () => {
        const server = find("app-server");
        assert.equal((server.inputs.metadata as { namespace: string }).namespace, "ml-serving");
        assert.equal(find("key").inputs.enableKeyRotation, true);
    });

    it("writes secrets as the placeholder in inputs and stack outputs", () => {
        assert.deepEqual(find("app-token").inputs.stringData, SECRET_PLACEHOLDER);
        assert.equal(run.outputs.password, SECRET_PLACEHOLDER);
        assert.equal(run.outputs.namespace, "ml-serving");
    });

    it("gives AWS resources plausible ARNs that downstream outputs resolve to", () => {
        assert.match(String(run.outputs.keyArn), /^arn:aws:kms:us-west-2:123456789012:key\/.+/);
    });

    it("produces identical recordings for two runs of one program", async () => {
        const again = await recordOffline(workloadProgram);
        assert.deepEqual(again.resources.map((r) => r.urn).sort(), run.resources.map((r) => r.urn).sort());
        assert.deepEqual(again.outputs, run.outputs);
    });
});

describe("offline recorder failures", () => {
    it("rethrows the program's own error once, after the runtime settles", async () => {
        const unhandled: unknown[] = [];
        const onUnhandled = (reason: unknown) => unhandled.push(reason);
        process.on("unhandledRejection", onUnhandled);
        try {
            await assert.rejects(recordOffline(() => {
                throw new pulumi.InputPropertiesError({ message: "bad args", errors: [{ propertyPath: "x", reason: "bad" }] });
            }), (error: unknown) => pulumi.InputPropertiesError.isInstance(error));
            await new Promise((resolve) => setImmediate(resolve));
            assert.deepEqual(unhandled, []);
        } finally {
            process.off("unhandledRejection", onUnhandled);
        }
    });

    it("fails on a provider call it has no offline answer for, naming the token", async () => {
        await assert.rejects(
            recordOffline(() => aws.ec2.getVpcOutput({ default: true }).id),
            /no offline answer for the provider call aws:ec2\/getVpc:getVpc/,
        );
    });

    it("passes stack config to the program", async () => {
        const run = await recordOffline(() => ({ env: new pulumi.Config("mlmesh").require("environment") }), { "mlmesh:environment": "staging" });
        assert.equal(run.outputs.env, "staging");
    });
});

describe("offline recorder, errors raised inside apply callbacks", () => {
    it("fails the run as pulumi up would, instead of returning a partial recording", async () => {
        await assert.rejects(
            recordOffline(() => {
                const zone = pulumi.output("us-west-2a").apply((): string => {
                    throw new Error("the region has too few zones");
                });
                new aws.ec2.Subnet("subnet", { vpcId: "vpc-1", cidrBlock: "10.0.0.0/24", availabilityZone: zone });
            }),
            /the region has too few zones/,
        );
    });

    it("refuses a second resource with the same URN, as the engine does", async () => {
        await assert.rejects(recordOffline(() => {
            new aws.s3.Bucket("twice");
            new aws.s3.Bucket("twice");
        }), /Duplicate resource URN 'urn:pulumi:test::mlmesh::pulumi:pulumi:Stack\$aws:s3\/bucket:Bucket::twice'; try giving it a unique name/);
    });
});

describe("replaceWhere", () => {
    const isX = (v: unknown) => v === "x";
    const toY = () => "y";
    const cases: [string, unknown, unknown][] = [
        ["a scalar that matches", "x", "y"],
        ["a scalar that does not", 3, 3],
        ["a nested match", { a: { b: ["x", 1] }, c: 2 }, { a: { b: ["y", 1] }, c: 2 }],
        ["null", null, null],
    ];
    for (const [name, value, expected] of cases) {
        it(`replaces ${name}`, () => {
            assert.deepEqual(replaceWhere(value, isX, toY), expected);
        });
    }

    it("copies only the path to a replaced part, shares the rest, and leaves the original as it was", () => {
        const untouched = { deep: [1, 2, 3] };
        const value = { keep: untouched, change: { list: ["x"] } };
        const result = replaceWhere(value, isX, toY) as typeof value;
        assert.equal(result.keep, untouched);
        assert.notEqual(result.change, value.change);
        assert.deepEqual(value.change.list, ["x"]);
        assert.equal(replaceWhere(untouched, isX, toY), untouched, "nothing to replace: the same object");
    });
});
