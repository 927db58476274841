import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { childOptions } from "../childOptions";
import { chartRelease, type PinnedChart } from "../helmRelease";
import { LABELS } from "./gpuPlacement";
import { cachedRegistry, type ImageRegistry } from "../images";

/**
 * cert-manager, which issues the certificates of KServe's admission webhooks (kserve-resources
 * renders cert-manager Certificate and Issuer objects) and can issue the ingress certificate.
 */
export const CERT_MANAGER_CHART: PinnedChart = {
    chart: "cert-manager",
    version: "v1.21.1",
    repo: "https://charts.jetstack.io",
};
export const CERT_MANAGER_NAMESPACE = "cert-manager";

/**
 * The chart installs its own CRDs (and keeps them on uninstall, so certificates survive a
 * reinstall); every cert-manager pod runs on the system nodes; the controller and webhook run
 * two replicas behind disruption budgets, because an unavailable webhook blocks every
 * Certificate write. The values are checked against the chart's closed values.schema.json.
 */
export function certManagerValues(images: ImageRegistry): Record<string, unknown> {
    const onSystemNodes = { nodeSelector: { [LABELS.nodeRole]: "system" } };
    const highlyAvailable = { replicaCount: 2, podDisruptionBudget: { enabled: true, minAvailable: 1 } };
    return {
        // Every cert-manager image (controller, webhook, cainjector, startupapicheck, ACME solver)
        // is `<imageRegistry>/<imageNamespace>/cert-manager-<name>` (jetstack/cert-manager:deploy/charts/cert-manager/templates/_helpers.tpl@v1.21.1).
        imageRegistry: cachedRegistry("quay.io", images),
        crds: { enabled: true, keep: true },
        ...onSystemNodes,
        ...highlyAvailable,
        webhook: { ...onSystemNodes, ...highlyAvailable },
        cainjector: onSystemNodes,
        startupapicheck: onSystemNodes,
    };
}

export interface CertManagerArgs {
    /** The cluster's Kubernetes provider. */
    provider: k8s.Provider;
    /** Where images are pulled from. */
    images: pulumi.Input<ImageRegistry>;
    /** What its pods need to run (a GpuCluster's system nodes and core add-ons): only the release waits for it. */
    readyForPods?: pulumi.Resource[];
}

/**
 * cert-manager in its own namespace (outside the mesh: the API server calls its webhook
 * directly), installed before anything that renders Certificate or Issuer objects.
 * @see https://cert-manager.io/docs/installation/helm/
 */
export class CertManager extends pulumi.ComponentResource {
    public readonly namespace: string;
    public readonly releaseName: pulumi.Output<string>;

    constructor(name: string, args: CertManagerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlmesh:cluster:CertManager", name, {}, opts);
        this.namespace = CERT_MANAGER_NAMESPACE;
        const ns = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name: CERT_MANAGER_NAMESPACE } }, childOptions(this, opts, { provider: args.provider }));
        const release = chartRelease(`${name}-release`, {
            chart: CERT_MANAGER_CHART,
            releaseName: "cert-manager",
            namespace: ns.metadata.name,
            values: pulumi.output(args.images).apply(certManagerValues),
        }, childOptions(this, opts, { provider: args.provider, dependsOn: [ns, ...(args.readyForPods ?? [])] }));
        this.releaseName = release.name;
        this.registerOutputs({ namespace: this.namespace, releaseName: this.releaseName });
    }
}
