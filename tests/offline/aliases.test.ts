import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as assert from "node:assert/strict";
import { previousUrns } from "../../offline/aliases";
import { recordOffline } from "./fixtures/offlineRun";

const STACK = "urn:pulumi:test::mlmesh::pulumi:pulumi:Stack";

class Box extends pulumi.ComponentResource {
    constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
        super("mlmesh:test:Box", name, {}, opts);
        new aws.s3.Bucket(`${name}-data`, {}, { parent: this });
    }
}

describe("previousUrns: the old URNs a resource answers to, as the engine resolves aliases", () => {
    it("resolves a renamed resource's alias by name against its own type and parent", async () => {
        const run = await recordOffline(() => { new aws.s3.Bucket("logs-v2", {}, { aliases: [{ name: "logs" }] }); });
        const [bucket] = run.resources.filter((r) => r.type === "aws:s3/bucket:Bucket");
        const urns = previousUrns(run.resources).get(bucket.urn)!;
        assert.deepEqual([urns.has(bucket.urn), urns.has(`${STACK}$aws:s3/bucket:Bucket::logs`), urns.has(`${STACK}$aws:s3/bucket:Bucket::logs-v1`)], [true, true, false]);
    });

    it("gives the children of a renamed component their old URNs too, with the old name in their prefix", async () => {
        const run = await recordOffline(() => { new Box("store-v2", { aliases: [{ name: "store" }] }); });
        const child = run.resources.find((r) => r.type === "aws:s3/bucket:Bucket")!;
        assert.ok(previousUrns(run.resources).get(child.urn)!.has(`${STACK}$mlmesh:test:Box$aws:s3/bucket:Bucket::store-data`), [...previousUrns(run.resources).get(child.urn)!].join("\n"));
    });

    it("takes an alias given as a URN as it is, and one with `parent: undefined` (no parent at all)", async () => {
        const run = await recordOffline(() => {
            new aws.s3.Bucket("a", {}, { aliases: ["urn:pulumi:test::mlmesh::aws:s3/bucket:Bucket::old-a"] });
            const box = new Box("b");
            new aws.s3.Bucket("moved", {}, { parent: box, aliases: [{ parent: undefined }] });
        });
        const urns = previousUrns(run.resources);
        const find = (name: string) => run.resources.find((r) => r.name === name)!.urn;
        assert.ok(urns.get(find("a"))!.has("urn:pulumi:test::mlmesh::aws:s3/bucket:Bucket::old-a"));
        assert.ok(urns.get(find("moved"))!.has("urn:pulumi:test::mlmesh::aws:s3/bucket:Bucket::moved"), [...urns.get(find("moved"))!].join("\n"));
    });
});
