import * as assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import { Platform } from "../../stacks/platformComponent";
import { PlatformConfigError } from "../../stacks/config";
import { recordOffline } from "../offline/fixtures/offlineRun";

const PROVIDER_DIR = path.join(__dirname, "..", "..", "provider");

/** The settings of the committed dev stack, as another language's program passes them. */
const DEV = {
    region: "us-west-2",
    environment: "dev",
    network: { vpcCidr: "10.40.0.0/16", availabilityZones: 3 },
    cluster: {
        kubernetesVersion: "1.33",
        access: { deployerRoleArn: "arn:aws:iam::123456789012:role/platform-deployer" },
        imageCache: { dockerHubSecretArn: "arn:aws:secretsmanager:us-west-2:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf" },
        gpuNodeGroups: [{ name: "a10g", instanceTypes: ["g5.2xlarge"], amiType: "BOTTLEROCKET_x86_64_NVIDIA", maxSize: 4 }],
    },
    models: [{ name: "resnet", namespace: "ml-serving", backend: "tfserving", versions: [{ name: "v1", modelUri: "s3://models/resnet/v1", weight: 100 }], gpus: 1 }],
};

describe("the component provider (mlmesh for Python, Go, .NET and YAML programs)", function () {
    this.timeout(180_000);
    let schema: { name: string; resources: Record<string, { inputProperties: Record<string, { type?: string; plain?: boolean }>; requiredInputs: string[]; properties: Record<string, unknown>; isComponent?: boolean }> };
    before(async () => {
        const provider = new ComponentProvider({ components: [Platform], name: "mlmesh", dirname: PROVIDER_DIR });
        schema = JSON.parse(await provider.getSchema());
    });

    it("describes the Platform component under the package name, with the stack config's sections as inputs", () => {
        assert.equal(schema.name, "mlmesh");
        assert.deepEqual(Object.keys(schema.resources), ["mlmesh:index:Platform"]);
        const platform = schema.resources["mlmesh:index:Platform"];
        assert.equal(platform.isComponent, true);
        assert.deepEqual(Object.keys(platform.inputProperties).sort(), ["cluster", "environment", "mesh", "models", "network", "region"]);
        assert.deepEqual([...platform.requiredInputs].sort(), ["environment", "region"]);
        assert.deepEqual(Object.keys(platform.properties).sort(), ["clusterName", "contract", "kubeconfig", "meshHost", "vpcId"]);
    });

    it("builds the platform from those settings, as the dev stack file would", async () => {
        const run = await recordOffline(() => {
            const platform = new Platform("dev", DEV);
            return { clusterName: platform.clusterName };
        });
        assert.equal(run.outputs.clusterName, "mlmesh-dev");
        const platform = run.resources.find((r) => r.type === "mlmesh:index:Platform")!;
        const mlPlatform = run.resources.find((r) => r.type === "mlmesh:platform:MlPlatform")!;
        assert.equal(mlPlatform.parent, platform.urn);
        assert.ok(run.resources.some((r) => r.type === "kubernetes:apps/v1:Deployment" && (r.inputs.metadata as { name?: string }).name === "resnet-v1"));
    });

    it("builds every AWS resource in its region input, and keeps the kubeconfig out of the contract output", async () => {
        const run = await recordOffline(() => {
            const imageCache = { dockerHubSecretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf" };
            const platform = new Platform("dev", { ...DEV, region: "eu-west-1", cluster: { ...DEV.cluster, imageCache } });
            return { contract: platform.contract };
        });
        const provider = run.resources.find((r) => r.type === "pulumi:providers:aws")!;
        assert.equal(provider.inputs.region, "eu-west-1");
        const vpc = run.resources.find((r) => r.type === "aws:ec2/vpc:Vpc")!;
        assert.equal(vpc.options.provider, provider.urn);
        const contract = run.outputs.contract as Record<string, unknown>;
        assert.equal(contract.region, "eu-west-1");
        assert.ok(!("kubeconfig" in contract) && "clusterName" in contract);
    });

    it("refuses a setting that is still an Output, naming it, since it cannot be checked before anything is created", async () => {
        let caught: unknown;
        await recordOffline(() => {
            try {
                new Platform("dev", { ...DEV, network: { vpcId: pulumi.output("vpc-0123456789abcdef0"), privateSubnetIds: ["subnet-1", "subnet-2"] } });
            } catch (error) {
                caught = error;
            }
        });
        assert.ok(pulumi.RunError.isInstance(caught as Error));
        assert.match((caught as Error).message, /^mlmesh:network\.vpcId is an Output; Platform takes plain values/);
    });

    it("checks its settings as a stack file's, before any cloud resource is registered", async () => {
        let caught: unknown;
        const run = await recordOffline(() => {
            try {
                new Platform("dev", { ...DEV, environment: "production", cluster: { ...DEV.cluster, kubernetesVersion: 1.3 } });
            } catch (error) {
                caught = error;
            }
        });
        assert.ok(caught instanceof PlatformConfigError, String(caught));
        assert.match(caught.message, /`mlmesh:environment` \("production"\) must be one of dev, staging, prod \(did you mean `prod`\?\)/);
        assert.match(caught.message, /`mlmesh:cluster\.kubernetesVersion` \(1\.3\) is a number, not a version/);
        assert.deepEqual(run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack" && r.type !== "mlmesh:index:Platform").map((r) => r.name), []);
    });

    it("starts as Pulumi starts a plugin: from the consumer's folder, with none of mlmesh's TypeScript settings, and serves on a port", async () => {
        const root = path.join(PROVIDER_DIR, "..");
        if (!existsSync(path.join(root, "dist", "stacks", "platformComponent.js"))) {
            execFileSync("npm", ["run", "build"], { cwd: root, stdio: "ignore" });
        }
        const consumer = mkdtempSync(path.join(tmpdir(), "mlmesh-python-project-"));
        const host = spawn(process.execPath, [require.resolve("@pulumi/pulumi/cmd/run-plugin"), PROVIDER_DIR], { cwd: consumer });
        try {
            const firstLine = await new Promise<string>((resolve, reject) => {
                let out = "";
                let err = "";
                host.stdout.on("data", (chunk: Buffer) => {
                    out += chunk.toString();
                    if (out.includes("\n")) {
                        resolve(out.split("\n")[0]);
                    }
                });
                host.stderr.on("data", (chunk: Buffer) => { err += chunk.toString(); });
                host.on("exit", (code) => reject(new Error(`the provider exited (${code}) before serving: ${err}`)));
            });
            // The plugin protocol: the first line on stdout is the gRPC port.
            assert.match(firstLine, /^\d{2,5}$/);
        } finally {
            host.kill();
            rmSync(consumer, { recursive: true, force: true });
        }
    });
});
