import * as pulumi from "@pulumi/pulumi";
import * as assert from "node:assert/strict";
import { CONTRACT_VERSION, type ContractField, type PlatformContract } from "../../../components/platform/contract";
import { contractMismatch, kubeconfigFor, PlatformContractError, PlatformReference, type PlatformReferenceArgs } from "../../../components/platform/platformReference";

const STACK = "acme/mlmesh/dev";
const MESH_HOST = "inference.istio-ingress.svc.cluster.local";
const CA = Buffer.from("-----BEGIN CERTIFICATE-----\nMIIC/jCCAeagAwIBAgIBADANBgkqhkiG9w0BAQsFADAV\n-----END CERTIFICATE-----\n").toString("base64");
const TEAM_ROLE = "arn:aws:iam::123456789012:role/crm-deployer";
const KUBECONFIG = JSON.stringify({ apiVersion: "v1", kind: "Config", clusters: [{ name: "mlmesh-dev", cluster: { server: "https://0DD9.gr7.us-west-2.eks.amazonaws.com" } }] });

/** A dev platform's outputs, as contract 1.0.0 publishes them. */
const platform: PlatformContract = {
    contractVersion: "1.0.0",
    environment: "dev",
    region: "us-west-2",
    clusterName: "mlmesh-dev",
    clusterEndpoint: "https://0DD9.gr7.us-west-2.eks.amazonaws.com",
    clusterCertificateAuthority: CA,
    oidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/25CE",
    oidcProviderUrl: "https://oidc.eks.us-west-2.amazonaws.com/id/25CE",
    kubeconfig: KUBECONFIG,
    vpcId: "vpc-717ebab121f433340",
    privateSubnetIds: ["subnet-59613d826422aa1bc", "subnet-bb1d2c331da80212c"],
    gatewayHost: "inference.dev.example.com",
    gatewayName: "istio-ingress/mlmesh-dev-mesh-gateway",
    meshHost: MESH_HOST,
    meshNamespaces: ["ml-serving", "ml-tabular"],
    meshRevision: "1-30-3",
    gpuNodeGroups: [{
        name: "a10g", amiType: "AL2023_x86_64_NVIDIA", accelerator: "nvidia-a10g", timeSlicingReplicas: 1, gpusPerNode: 1,
        labels: { "mlmesh.io/gpu": "true", "mlmesh.io/node-group": "a10g" },
        taints: [{ key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" }],
    }],
    models: [
        {
            name: "resnet", namespace: "ml-serving", backend: "tfserving",
            url: `http://${MESH_HOST}/v1/models/resnet:predict`, publicUrl: "https://inference.dev.example.com/v1/models/resnet:predict",
            serviceHost: "resnet.ml-serving.svc.cluster.local",
            versions: [{ name: "v1", weight: 90 }, { name: "v2", weight: 10 }],
            access: { namespace: "ml-serving", selector: { app: "resnet" }, operations: [{ methods: ["GET", "POST"], paths: ["/v1/models/resnet:*"] }, { methods: ["POST"], paths: ["/tensorflow.serving.PredictionService/*"] }] },
        },
        {
            name: "churn-sm", namespace: "ml-tabular", backend: "sagemaker",
            url: `http://${MESH_HOST}/v1/models/churn-sm:predict`, publicUrl: "https://inference.dev.example.com/v1/models/churn-sm:predict",
            serviceHost: "churn-sm.ml-tabular.svc.cluster.local",
            versions: [{ name: "churn-xgb-2024", weight: 100 }],
            access: { namespace: "mlmesh-sagemaker", selector: { app: "sagemaker-bridge" }, operations: [{ methods: ["POST"], paths: ["/endpoints/churn-xgb-2024/invocations"] }] },
            endpointName: "churn-xgb-2024",
            endpointArn: "arn:aws:sagemaker:us-west-2:123456789012:endpoint/churn-xgb-2024",
        },
    ],
    sagemakerVpcEndpointDns: "vpce-1773e08594c748251-2ada7c22.runtime.sagemaker.us-west-2.vpce.amazonaws.com",
    appTeams: [{
        name: "crm", roleArn: TEAM_ROLE, group: "mlmesh-app-crm", namespaces: ["ml-tabular"],
        imageRepositories: ["123456789012.dkr.ecr.us-west-2.amazonaws.com/crm/*"],
    }],
};

/**
 * Mocks the stack `STACK` publishing `outputs`, `secretOutputNames` marked secret as the engine
 * marks them; any other stack publishes nothing. Each call starts a fresh mock runtime.
 */
async function publish(outputs: object, secretOutputNames: readonly string[] = ["kubeconfig"]): Promise<void> {
    await pulumi.runtime.setMocks({
        newResource: (args) => args.type === "pulumi:pulumi:StackReference"
            ? { id: args.inputs.name, state: { name: args.inputs.name, outputs: args.inputs.name === STACK ? outputs : {}, secretOutputNames } }
            : { id: `${args.name}-id`, state: args.inputs },
        call: (args) => args.inputs,
    }, "app", "test", false);
}

function read(args: Partial<PlatformReferenceArgs> = {}) {
    return new PlatformReference("platform", { stack: STACK, ...args }).read();
}

function without(...fields: string[]): Record<string, unknown> {
    const outputs: Record<string, unknown> = { ...platform };
    for (const field of fields) {
        delete outputs[field];
    }
    return outputs;
}

function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply((value) => {
        resolve(value);
        return value;
    }));
}

/** Asserts `read` rejects with a PlatformContractError whose message matches every pattern. */
async function rejectsWith(reading: Promise<unknown>, patterns: readonly (RegExp | string)[]): Promise<void> {
    await assert.rejects(reading, (error: unknown) => {
        assert.ok(error instanceof PlatformContractError, `a PlatformContractError, not ${String(error)}`);
        assert.equal(error.name, "PlatformContractError");
        for (const pattern of patterns) {
            if (typeof pattern === "string") {
                assert.ok(error.message.includes(pattern), `${JSON.stringify(pattern)} in: ${error.message}`);
            } else {
                assert.match(error.message, pattern);
            }
        }
        return true;
    });
}

describe("PlatformReference", () => {
    it("reads a compatible platform's outputs as the contract's typed values", async () => {
        await publish(platform);
        const { kubeconfig, ...view } = await read();
        const { kubeconfig: _published, ...expected } = platform;
        assert.deepEqual(view, expected);
        assert.equal(await valueOf(kubeconfig), KUBECONFIG);
    });

    it("returns the kubeconfig as a secret Output", async () => {
        await publish(platform);
        const { kubeconfig } = await read();
        assert.ok(pulumi.Output.isInstance(kubeconfig));
        assert.equal(await pulumi.isSecret(kubeconfig), true);
    });

    it("keeps the kubeconfig secret even when the platform did not mark it so", async () => {
        await publish(platform, []);
        const { kubeconfig } = await read();
        assert.equal(await pulumi.isSecret(kubeconfig), true);
        assert.equal(await valueOf(kubeconfig), KUBECONFIG);
    });

    it("accepts a platform of the same major version and a newer minor, with outputs the app does not know", async () => {
        await publish({ ...platform, contractVersion: "1.4.0", gpuQuotas: { a10g: 8 } });
        const view = await read();
        assert.equal(view.contractVersion, "1.4.0");
        assert.equal(view.clusterName, "mlmesh-dev");
    });

    const majors: [string, string, RegExp][] = [
        ["a newer major version", "2.0.0", /upgrade mlmesh in this app/],
        ["an older major version", "0.9.0", /upgrade the platform stack/],
    ];
    for (const [what, version, fix] of majors) {
        it(`rejects a platform of ${what}, naming the stack, both versions and the fix`, async () => {
            await publish({ ...platform, contractVersion: version });
            await rejectsWith(read(), [STACK, `contract ${version}`, CONTRACT_VERSION, fix]);
        });
    }

    it("rejects a platform deployed before the contract was versioned, saying so", async () => {
        await publish(without("contractVersion"));
        await rejectsWith(read(), [STACK, "publishes no `contractVersion`", /pulumi up/]);
    });

    it("checks the version even when the app needs a single output", async () => {
        await publish({ contractVersion: "2.0.0", clusterName: "mlmesh-dev" });
        await rejectsWith(read({ needs: ["clusterName"] }), [STACK, "contract 2.0.0"]);
    });

    it("rejects a platform that lacks an output the app reads, naming it and only it", async () => {
        await publish(without("meshHost"));
        await rejectsWith(read(), [STACK, "`meshHost` (contract 1.0.0)", /drop them from `needs`/]);
        await assert.rejects(read(), (error: Error) => !/`vpcId`|`clusterName`|`models`/.test(error.message));
    });

    it("names every missing output at once", async () => {
        await publish(without("meshHost", "vpcId"));
        await rejectsWith(read(), ["`vpcId`", "`meshHost`"]);
    });

    it("reads a nullable output the platform does not publish as null", async () => {
        await publish(without("gatewayHost"));
        const view = await read();
        assert.equal(view.gatewayHost, null);
        assert.equal(view.meshHost, MESH_HOST);
    });

    it("reads a nullable output published as null as null", async () => {
        await publish({ ...platform, gatewayHost: null, gatewayName: null, sagemakerVpcEndpointDns: null });
        const view = await read();
        assert.deepEqual([view.gatewayHost, view.gatewayName, view.sagemakerVpcEndpointDns], [null, null, null]);
    });

    it("reads only what `needs` lists, whatever else the platform lacks", async () => {
        await publish({ contractVersion: "1.0.0", clusterName: "mlmesh-dev" });
        const view = await read({ needs: ["clusterName"] });
        assert.deepEqual({ ...view }, { contractVersion: "1.0.0", clusterName: "mlmesh-dev" });
    });

    it("reads the stack it names, not another", async () => {
        await publish(platform);
        await rejectsWith(read({ stack: "acme/mlmesh/prod" }), ["acme/mlmesh/prod", "publishes no `contractVersion`"]);
    });

    it("needs every contract field by default", async () => {
        for (const field of ["oidcProviderUrl", "gpuNodeGroups", "kubeconfig", "clusterCertificateAuthority", "appTeams"] as ContractField[]) {
            await publish(without(field));
            await rejectsWith(read(), [`\`${field}\``]);
        }
    });
});

describe("contract version compatibility", () => {
    const cases: [string, unknown, string, RegExp | undefined][] = [
        ["the same version", "1.0.0", "1.0.0", undefined],
        ["a newer minor and patch of the platform", "1.4.2", "1.0.0", undefined],
        ["an older minor of the platform", "1.0.0", "1.4.0", undefined],
        ["a prerelease of the same major", "1.1.0-rc.1", "1.0.0", undefined],
        ["build metadata", "1.0.0+abc123", "1.0.0", undefined],
        ["a newer platform major", "2.0.0", "1.0.0", /publishes contract 2\.0\.0, and this app reads contract 1\.x \(mlmesh's CONTRACT_VERSION 1\.0\.0\): upgrade mlmesh in this app/],
        ["an older platform major", "0.9.0", "1.0.0", /publishes contract 0\.9\.0, .*1\.0\.0.*the platform is older than this app/],
        ["majors compared as numbers, not text", "10.0.0", "9.0.0", /upgrade mlmesh in this app/],
        ["no version at all", undefined, "1.0.0", /publishes no `contractVersion`.*run `pulumi up` on it/],
        ["a version missing its patch", "1.0", "1.0.0", /`contractVersion` "1\.0", which is not a semantic version/],
        ["a major with a leading zero", "01.0.0", "1.0.0", /`contractVersion` "01\.0\.0", which is not a semantic version/],
        ["a number", 1, "1.0.0", /`contractVersion` 1, which is not a semantic version/],
        ["null", null, "1.0.0", /`contractVersion` null, which is not a semantic version/],
    ];
    for (const [what, published, reader, reason] of cases) {
        it(`${reason ? "refuses" : "accepts"} ${what} (${String(published)} read by ${reader})`, () => {
            const mismatch = contractMismatch(published, reader);
            if (reason) {
                assert.match(mismatch ?? "(accepted)", reason);
            } else {
                assert.equal(mismatch, undefined);
            }
        });
    }

    it("reads as this package's CONTRACT_VERSION by default", () => {
        assert.equal(contractMismatch(CONTRACT_VERSION), undefined);
        const nextMajor = `${Number(CONTRACT_VERSION.split(".")[0]) + 1}.0.0`;
        assert.match(contractMismatch(nextMajor) ?? "(accepted)", new RegExp(`CONTRACT_VERSION ${CONTRACT_VERSION.replace(/\./g, "\\.")}`));
    });
});

describe("kubeconfigFor", () => {
    type Kubeconfig = {
        apiVersion: string; kind: string; "current-context": string;
        clusters: { name: string; cluster: Record<string, string> }[];
        contexts: { name: string; context: { cluster: string; user: string } }[];
        users: { name: string; user: { exec: { apiVersion: string; command: string; args: string[]; interactiveMode: string } } }[];
    };
    const parsed = (roleArn?: string): Kubeconfig => JSON.parse(kubeconfigFor(platform, roleArn)) as Kubeconfig;
    /** The cluster and user the current context points at, as kubectl resolves them. */
    const current = (kubeconfig: Kubeconfig) => {
        const context = kubeconfig.contexts.find((c) => c.name === kubeconfig["current-context"]) ?? assert.fail("current-context names no context");
        return {
            cluster: kubeconfig.clusters.find((c) => c.name === context.context.cluster)?.cluster ?? assert.fail("the context names no cluster"),
            user: kubeconfig.users.find((u) => u.name === context.context.user)?.user ?? assert.fail("the context names no user"),
        };
    };

    it("is a kubeconfig whose current context reaches the platform's endpoint, trusting its certificate authority", () => {
        const kubeconfig = parsed(TEAM_ROLE);
        assert.deepEqual([kubeconfig.apiVersion, kubeconfig.kind], ["v1", "Config"]);
        assert.deepEqual(current(kubeconfig).cluster, { server: platform.clusterEndpoint, "certificate-authority-data": CA });
    });

    const tokens: [string, string | undefined, string[]][] = [
        ["as the given role", TEAM_ROLE, ["eks", "get-token", "--cluster-name", "mlmesh-dev", "--region", "us-west-2", "--role-arn", TEAM_ROLE]],
        ["as the ambient credentials without a role", undefined, ["eks", "get-token", "--cluster-name", "mlmesh-dev", "--region", "us-west-2"]],
    ];
    for (const [what, roleArn, args] of tokens) {
        it(`gets its token from \`aws eks get-token\` for the platform's cluster and region, ${what}`, () => {
            assert.deepEqual(current(parsed(roleArn)).user.exec, { apiVersion: "client.authentication.k8s.io/v1beta1", command: "aws", args, interactiveMode: "Never" });
        });
    }

    it("is not the platform's admin kubeconfig, and names no role but the one given", () => {
        const text = kubeconfigFor(platform, TEAM_ROLE);
        assert.notEqual(text, platform.kubeconfig);
        assert.deepEqual(text.match(/arn:aws:iam::\d{12}:role\/[\w+=,.@/-]+/g), [TEAM_ROLE]);
    });

    it("builds from what an app team reads of the platform, the admin kubeconfig not among it", async () => {
        await publish(without("kubeconfig"));
        const view = await read({ needs: ["clusterName", "clusterEndpoint", "clusterCertificateAuthority", "region", "appTeams"] });
        assert.equal(kubeconfigFor(view, view.appTeams[0].roleArn), kubeconfigFor(platform, TEAM_ROLE));
    });

    it("is refused by PlatformReference when the platform publishes no certificate authority, naming it", async () => {
        await publish(without("clusterCertificateAuthority"));
        await rejectsWith(read({ needs: ["clusterName", "clusterEndpoint", "clusterCertificateAuthority", "region"] }), ["`clusterCertificateAuthority`"]);
    });
});
