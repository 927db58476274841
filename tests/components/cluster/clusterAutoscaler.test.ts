import * as k8s from "@pulumi/kubernetes";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import {
    CLUSTER_AUTOSCALER_CHART, CLUSTER_AUTOSCALER_IMAGE_TAGS, ClusterAutoscaler, clusterAutoscalerPolicy, clusterAutoscalerValues,
} from "../../../components/cluster/clusterAutoscaler";
import { SUPPORTED_KUBERNETES_VERSIONS } from "../../../components/cluster/eksAddons";
import type { RecordedRun } from "../../../offline/recorder";
import { leafPaths, walkAccepts } from "../../chartValues";
import { recordOffline } from "../../offline/fixtures/offlineRun";
import { cachedUnder, TEST_IMAGES } from "../fixtures/images";

const ISSUER = "oidc.eks.us-west-2.amazonaws.com/id/ABC";

describe("cluster autoscaler policy", () => {
    const policy = clusterAutoscalerPolicy("mlmesh-dev");
    const [discover, scale] = policy.Statement as { Action: string[]; Resource: string[]; Condition?: Record<string, Record<string, string>> }[];

    it("lets the autoscaler read groups, templates and managed node groups", () => {
        for (const action of ["autoscaling:DescribeAutoScalingGroups", "ec2:DescribeLaunchTemplateVersions", "ec2:DescribeInstanceTypes", "eks:DescribeNodegroup"]) {
            assert.ok(discover.Action.includes(action), action);
        }
        assert.ok(discover.Action.every((action) => /:(Describe|Get)/.test(action)), "the unconditioned statement only reads");
    });

    it("lets it resize only Auto Scaling groups EKS tagged as owned by this cluster", () => {
        assert.deepEqual(scale.Action, ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"]);
        assert.deepEqual(scale.Condition, { StringEquals: { "aws:ResourceTag/k8s.io/cluster-autoscaler/mlmesh-dev": "owned" } });
    });
});

describe("cluster autoscaler values", () => {
    for (const version of SUPPORTED_KUBERNETES_VERSIONS) {
        it(`runs an autoscaler of the cluster's minor version on Kubernetes ${version}`, () => {
            const values = clusterAutoscalerValues({ clusterName: "c", region: "us-west-2", kubernetesVersion: version, images: TEST_IMAGES }) as { image: { tag: string } };
            assert.equal(values.image.tag.split("@")[0], CLUSTER_AUTOSCALER_IMAGE_TAGS[version]);
            assert.match(values.image.tag, new RegExp(`^v${version.replace(".", "\\.")}\\.\\d+(@sha256:[0-9a-f]{64})?$`));
        });
    }

    for (const version of SUPPORTED_KUBERNETES_VERSIONS) {
        // ECR's cache cannot fill on a first pull by digest (aws/containers-roadmap#2837): by tag.
        it(`pulls the ${version} autoscaler through the cluster's cache by its tag`, () => {
            const values = clusterAutoscalerValues({ clusterName: "c", region: "us-west-2", kubernetesVersion: version, images: TEST_IMAGES }) as { image: { repository: string; tag: string } };
            assert.deepEqual(values.image, { repository: `${cachedUnder("k8s")}autoscaling/cluster-autoscaler`, tag: CLUSTER_AUTOSCALER_IMAGE_TAGS[version] });
        });
    }
    const pinned: [string, string][] = [
        ["1.32", "v1.32.0@sha256:656d21dacb015b8ccfdaec5047963499c10ad6e2598a29c450138c75d533010c"],
        ["1.33", "v1.33.0@sha256:6ef10d108e0e45ecd883e074682330bbd4a3403e767ad56804800f2f4ee816da"],
        // The promoter manifest readable here stops before v1.34.0: pinned by tag only.
        ["1.34", "v1.34.0"],
    ];
    for (const [version, tag] of pinned) {
        it(`pins the ${version} autoscaler as ${tag} where it is pulled straight from registry.k8s.io`, () => {
            const uncached = { ...TEST_IMAGES, cached: TEST_IMAGES.cached.filter((r) => r !== "registry.k8s.io") };
            const values = clusterAutoscalerValues({ clusterName: "c", region: "us-west-2", kubernetesVersion: version as "1.33", images: uncached }) as { image: { repository: string; tag: string } };
            assert.deepEqual(values.image, { repository: "registry.k8s.io/autoscaling/cluster-autoscaler", tag });
        });
    }

    it("sets only keys the pinned chart has (extraArgs entries become flags)", function () {
        const chartDir = path.join(__dirname, "../../../../shared/charts", `cluster-autoscaler-${CLUSTER_AUTOSCALER_CHART.version}`);
        if (!fs.existsSync(chartDir)) {
            console.warn(`      skipped: ${chartDir} is absent (it sits beside CI checkouts, not in a user's own clone)`);
            this.skip();
        }
        const chart = parse(fs.readFileSync(path.join(chartDir, "values.yaml"), "utf8")) as Record<string, unknown>;
        assert.equal((parse(fs.readFileSync(path.join(chartDir, "Chart.yaml"), "utf8")) as { version: string }).version, CLUSTER_AUTOSCALER_CHART.version);
        const values = clusterAutoscalerValues({ clusterName: "c", region: "us-west-2", kubernetesVersion: "1.33", images: TEST_IMAGES });
        const unknown = leafPaths(values)
            .filter((segments) => segments[0] !== "extraArgs" && !walkAccepts(chart, segments))
            .map((segments) => segments.join("."));
        assert.deepEqual(unknown, []);
        assert.equal(walkAccepts(chart, ["autoDiscovery", "clusterNme"]), false, "the check rejects a misspelt key");
        assert.ok(fs.readFileSync(path.join(chartDir, "template-value-refs.tsv"), "utf8").includes("\textraArgs\t"), "the chart reads extraArgs as a whole");
    });
});

describe("ClusterAutoscaler under the offline engine", () => {
    let run: RecordedRun;
    before(async () => {
        run = await recordOffline(() => {
            const provider = new k8s.Provider("k", { kubeconfig: "{}" });
            new ClusterAutoscaler("ca", {
                cluster: { provider, clusterName: "mlmesh-dev", oidcProviderArn: `arn:aws:iam::123456789012:oidc-provider/${ISSUER}`, oidcProviderUrl: `https://${ISSUER}` },
                clusterName: "mlmesh-dev",
                kubernetesVersion: "1.33",
                images: TEST_IMAGES,
            });
        });
    });
    const one = (type: string) => {
        const found = run.resources.filter((r) => r.type === type);
        assert.equal(found.length, 1, type);
        return found[0];
    };

    it("installs the pinned chart in kube-system after its IRSA identity exists", () => {
        const release = one("kubernetes:helm.sh/v3:Release");
        assert.deepEqual([release.inputs.chart, release.inputs.version, release.inputs.namespace], ["cluster-autoscaler", "9.59.0", "kube-system"]);
        const identity = run.resources.find((r) => r.type === "mlmesh:cluster:IrsaServiceAccount")!;
        assert.ok(release.options.dependsOn?.includes(identity.urn));
    });

    it("discovers the cluster's node groups by name, with mlmesh's service account", () => {
        const values = one("kubernetes:helm.sh/v3:Release").inputs.values as { autoDiscovery: { clusterName: string }; awsRegion: string; rbac: { serviceAccount: { create: boolean; name: string } } };
        assert.equal(values.autoDiscovery.clusterName, "mlmesh-dev");
        assert.equal(values.awsRegion, "us-west-2");
        assert.deepEqual(values.rbac.serviceAccount, { create: false, name: "cluster-autoscaler" });
        const account = one("kubernetes:core/v1:ServiceAccount").inputs.metadata as { name: string; namespace: string };
        assert.deepEqual([account.name, account.namespace], ["cluster-autoscaler", "kube-system"]);
    });

    it("trusts only the kube-system/cluster-autoscaler service account", () => {
        const trust = JSON.parse(String(one("aws:iam/role:Role").inputs.assumeRolePolicy)) as { Statement: { Condition: { StringEquals: Record<string, string> } }[] };
        assert.equal(trust.Statement[0].Condition.StringEquals[`${ISSUER}:sub`], "system:serviceaccount:kube-system:cluster-autoscaler");
    });
});
