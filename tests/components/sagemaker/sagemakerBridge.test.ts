import * as assert from "node:assert/strict";
import { bridgeDeployment, BRIDGE_HOST, bridgeSidecar, runtimeServiceEntry, type BridgedModel } from "../../../components/sagemaker/bridgeManifests";
import { bridgeInvokePolicy, regionalDnsName, runtimeEndpointPolicy, runtimeEndpointService, SageMakerBridge } from "../../../components/sagemaker/sagemakerBridge";
import { endpointArn } from "../../../components/sagemaker/sagemakerSpec";
import { injectedContainers, restrictedViolations, type Pod } from "../../../offline/podSecurityCheck";
import type { RecordedResource, RecordedRun } from "../../../offline/recorder";
import { ACCOUNT_ID, decide, decideFor, type AwsCall } from "../../iamSimulation";
import { recordOffline } from "../../offline/fixtures/offlineRun";
import { servingContext } from "../serving/fixtures/servingContext";
import { DEFAULT_OTEL_COLLECTOR } from "../../../components/mesh/istioMesh";

const FRAUD = endpointArn("aws", "us-west-2", ACCOUNT_ID, "ml-tabular-fraud-1a2b3c4d");
const CHURN = endpointArn("aws", "us-west-2", ACCOUNT_ID, "churn-xgb-2024");
const BRIDGE_ROLE = `arn:aws:iam::${ACCOUNT_ID}:role/mlmesh-dev-sagemaker-signer-149537c9`;
const invoke = (resource: string, action = "sagemaker:InvokeEndpoint"): AwsCall => ({
    api: action.replace("sagemaker:", ""), action, resource, source: "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html",
});

describe("the bridge's IAM, judged by the IAM evaluator", () => {
    const role = bridgeInvokePolicy([FRAUD, CHURN]);
    it("lets the bridge invoke exactly the bridged endpoints", async () => {
        assert.deepEqual([await decide(role, invoke(FRAUD)), await decide(role, invoke(CHURN))], ["Allowed", "Allowed"]);
        assert.equal(await decide(role, invoke(endpointArn("aws", "us-west-2", ACCOUNT_ID, "payroll-model"))), "ImplicitlyDenied");
    });
    it("grants no wildcard action or resource", () => {
        assert.ok(!JSON.stringify(role).includes("*"), JSON.stringify(role));
    });
    const endpoint = runtimeEndpointPolicy([FRAUD, CHURN], BRIDGE_ROLE);
    const ALL_SAGEMAKER = { Version: "2012-10-17" as const, Statement: [{ Effect: "Allow", Action: "sagemaker:*", Resource: "*" }] };
    it("lets only the bridge's role through the VPC endpoint, and only to the bridged endpoints", async () => {
        assert.equal(await decideFor(BRIDGE_ROLE, role, { ...invoke(FRAUD), endpointPolicy: endpoint }), "Allowed");
        assert.equal(await decideFor(`arn:aws:iam::${ACCOUNT_ID}:role/data-science`, ALL_SAGEMAKER, { ...invoke(FRAUD), endpointPolicy: endpoint }), "ImplicitlyDenied");
        assert.equal(await decideFor(BRIDGE_ROLE, ALL_SAGEMAKER, { ...invoke(endpointArn("aws", "us-west-2", ACCOUNT_ID, "payroll-model")), endpointPolicy: endpoint }), "ImplicitlyDenied");
    });
    const cases: [string, string, string][] = [
        ["aws", "us-west-2", "com.amazonaws.us-west-2.sagemaker.runtime"],
        ["aws", "eu-central-1", "com.amazonaws.eu-central-1.sagemaker.runtime"],
        // China's endpoint services carry a cn. prefix; mlmesh refuses cn-* regions anyway (no ECR pull-through cache there).
        ["aws-cn", "cn-north-1", "cn.com.amazonaws.cn-north-1.sagemaker.runtime"],
    ];
    for (const [partition, region, service] of cases) {
        it(`uses the SageMaker Runtime endpoint service ${service} in ${region}`, () => assert.equal(runtimeEndpointService(region, partition), service));
    }
    it("finds the trace collector's namespace in its Service name, or looks for it in any namespace", () => {
        const hosts = (collector: string) => (bridgeSidecar("vpce", "sts", collector).spec as { egress: { hosts: string[] }[] }).egress[0].hosts.slice(2);
        assert.deepEqual([hosts("otel.observability.svc.cluster.local:4317"), hosts("otel.example.com:4317")], [["observability/otel.observability.svc.cluster.local"], ["*/otel.example.com"]]);
    });
    it("picks the endpoint's regional DNS name, not a zone's", () => {
        assert.equal(regionalDnsName([
            { dnsName: "vpce-0abc-1def-us-west-2a.runtime.sagemaker.us-west-2.vpce.amazonaws.com" },
            { dnsName: "vpce-0abc-1def.runtime.sagemaker.us-west-2.vpce.amazonaws.com" },
        ]), "vpce-0abc-1def.runtime.sagemaker.us-west-2.vpce.amazonaws.com");
        assert.throws(() => regionalDnsName([]), /no regional DNS name/);
    });
    it("lets the signer reach the endpoint's DNS name of its region", () => {
        assert.deepEqual(runtimeServiceEntry("vpce-1.runtime.sagemaker.eu-central-1.vpce.amazonaws.com").spec.hosts, ["vpce-1.runtime.sagemaker.eu-central-1.vpce.amazonaws.com"]);
    });
});

describe("the signing proxy's pod", () => {
    const deployment = bridgeDeployment({ region: "us-west-2", endpointHost: "vpce-1.runtime.sagemaker.us-west-2.vpce.amazonaws.com", image: "proxy:1", serviceAccountName: "sagemaker-bridge", replicas: { min: 2, max: 6 }, annotations: {} }) as {
        spec: { template: { spec: Pod & { containers: { args: string[]; readinessProbe: unknown; resources: unknown }[] } } };
    };
    const pod = deployment.spec.template.spec;
    it("passes Pod Security restricted with Istio's containers injected, running as a numeric non-root user", () => {
        assert.deepEqual(restrictedViolations({ ...pod, initContainers: injectedContainers({ cni: true }) }), []);
    });
    it("signs for service sagemaker in the region (both flags, or the proxy guesses the service from the host)", () => {
        assert.deepEqual(pod.containers[0].args.slice(0, 4), ["--name", "sagemaker", "--region", "us-west-2"]);
    });
    it("is probed over TCP (the proxy has no health path) and sized", () => {
        assert.deepEqual(pod.containers[0].readinessProbe, { tcpSocket: { port: 8080 }, periodSeconds: 5, failureThreshold: 3 });
        assert.deepEqual(pod.containers[0].resources, { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } });
    });
});

describe("SageMakerBridge under the offline engine", () => {
    const MODELS: BridgedModel[] = [
        { name: "fraud", namespace: "ml-serving", endpointName: "ml-tabular-fraud-1a2b3c4d", principals: ["cluster.local/ns/payments/sa/scorer"], timeout: "30s", retries: { attempts: 3, perTryTimeout: "10s", retryOn: "5xx" } },
        { name: "churn", namespace: "ml-serving", endpointName: "churn-xgb-2024", principals: [], timeout: "20s", retries: { attempts: 0, perTryTimeout: "10s", retryOn: "5xx" } },
    ];
    let run: RecordedRun;
    const of = (type: string) => run.resources.filter((r) => r.type === type);
    const NODE_SG = "sg-0123456789abcdef0";
    const program = (environment: "dev" | "prod") => () => {
        const { cluster, mesh } = servingContext();
        new SageMakerBridge("b", {
            cluster: { ...cluster, nodeSecurityGroupId: NODE_SG }, mesh: { ...mesh, otelCollector: DEFAULT_OTEL_COLLECTOR }, environment,
            network: { vpcId: "vpc-0123456789abcdef0", privateSubnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"] },
            models: MODELS, endpointArns: [FRAUD, CHURN],
        });
    };
    before(async () => {
        run = await recordOffline(program("prod"));
    });

    it("opens an Interface endpoint for SageMaker Runtime in the private subnets, without private DNS, which would take SageMaker Runtime over for the whole VPC", () => {
        const [endpoint] = of("aws:ec2/vpcEndpoint:VpcEndpoint");
        assert.deepEqual([endpoint.inputs.serviceName, endpoint.inputs.vpcEndpointType, endpoint.inputs.privateDnsEnabled, endpoint.inputs.subnetIds],
            ["com.amazonaws.us-west-2.sagemaker.runtime", "Interface", false, ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]]);
    });
    it("sends the signer to the endpoint's regional DNS name, and signs for it, as the SDKs do with an endpoint URL", () => {
        const entries = of("aws:ec2/vpcEndpoint:VpcEndpoint")[0].outputs.dnsEntries as { dnsName: string }[];
        const vpce = entries.map((e) => e.dnsName).find((name) => !/-[a-z]{2}-[a-z]+-\d[a-z]\./.test(name))!;
        const deployment = of("kubernetes:apps/v1:Deployment")[0].inputs.spec as { template: { spec: { containers: { args: string[] }[] } } };
        const args = deployment.template.spec.containers[0].args;
        assert.deepEqual([args[args.indexOf("--host") + 1], args.includes("--sign-host")], [vpce, false]);
        const entry = of("kubernetes:networking.istio.io/v1:ServiceEntry")[0];
        assert.deepEqual((entry.inputs.spec as { hosts: string[] }).hosts, [vpce]);
    });
    it("strips the routing headers a caller could use to pick another variant, model or component, and the client certificate header", () => {
        const deployment = of("kubernetes:apps/v1:Deployment")[0].inputs.spec as { template: { spec: { containers: { args: string[] }[] } } };
        const args = deployment.template.spec.containers[0].args;
        const stripped = args.flatMap((arg, i) => (arg === "-s" ? [args[i + 1]] : []));
        assert.deepEqual(stripped, ["X-Amzn-SageMaker-Target-Variant", "X-Amzn-SageMaker-Target-Model", "X-Amzn-SageMaker-Target-Container-Hostname", "X-Amzn-SageMaker-Inference-Component", "X-Forwarded-Client-Cert"]);
    });
    it("admits only HTTPS from the nodes' security group to the endpoint", () => {
        const [sg] = of("aws:ec2/securityGroup:SecurityGroup");
        assert.deepEqual((sg.inputs.ingress as Record<string, unknown>[]).map(({ protocol, fromPort, toPort, securityGroups, cidrBlocks }) => ({ protocol, fromPort, toPort, securityGroups, cidrBlocks })),
            [{ protocol: "tcp", fromPort: 443, toPort: 443, securityGroups: [NODE_SG], cidrBlocks: undefined }]);
    });
    it("gives the endpoint a policy naming the bridge's role and the bridged endpoints", () => {
        const [endpoint] = of("aws:ec2/vpcEndpoint:VpcEndpoint");
        const role = of("aws:iam/role:Role")[0];
        assert.deepEqual(JSON.parse(String(endpoint.inputs.policy)), runtimeEndpointPolicy([FRAUD, CHURN], String(role.outputs.arn)));
    });
    it("lets the bridge's sidecar reach the SageMaker Runtime endpoint, STS and the trace collector only", () => {
        const vpce = String((of("aws:ec2/vpcEndpoint:VpcEndpoint")[0].outputs.dnsEntries as { dnsName: string }[])[0].dnsName);
        assert.doesNotMatch(vpce, /-us-west-2[a-z]\./, "the regional name, not a zonal one");
        const sidecar = of("kubernetes:networking.istio.io/v1:Sidecar")[0];
        assert.deepEqual((sidecar.inputs.spec as { egress: unknown }).egress, [{
            hosts: [`./${vpce}`, "istio-system/sts.us-west-2.amazonaws.com", "observability/opentelemetry-collector.observability.svc.cluster.local"],
        }]);
    });
    it("runs two proxies at least in prod, with a disruption budget and an autoscaler", () => {
        const hpa = of("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")[0].inputs.spec as { minReplicas: number; maxReplicas: number };
        assert.deepEqual([hpa.minReplicas, hpa.maxReplicas, of("kubernetes:policy/v1:PodDisruptionBudget").length], [2, 6, 1]);
    });
    it("gives each model a Service of its own, with no pods, in its namespace", () => {
        const services = of("kubernetes:core/v1:Service").map((s) => s.inputs.metadata as { name: string; namespace: string }).filter((m) => m.namespace === "ml-serving");
        assert.deepEqual(services.map((m) => m.name).sort(), ["churn", "fraud"]);
    });
    it("turns each model's :predict into its endpoint's invocations, with its own timeout and retries", () => {
        const routes = (name: string) => (of("kubernetes:networking.istio.io/v1:VirtualService").find((v) => (v.inputs.metadata as { name: string }).name === name) as RecordedResource).inputs.spec as { http: Record<string, unknown>[] };
        const [churn] = routes("churn").http;
        assert.deepEqual([churn.rewrite, churn.timeout, churn.retries, (churn.route as { destination: unknown }[])[0].destination], [
            { uri: "/endpoints/churn-xgb-2024/invocations" }, "20s", { attempts: 0 }, { host: BRIDGE_HOST, subset: "ml-serving-churn", port: { number: 80 } },
        ]);
    });
    it("runs one proxy at least outside prod", async () => {
        const dev = await recordOffline(program("dev"));
        const hpa = dev.resources.find((r) => r.type === "kubernetes:autoscaling/v2:HorizontalPodAutoscaler")!.inputs.spec as { minReplicas: number };
        assert.equal(hpa.minReplicas, 1);
    });
});
