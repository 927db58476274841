/**
 * The Services and pods a plan puts behind each in-cluster host, for the route simulator: what
 * mlmesh creates itself (Deployments and Services), what KServe's controller creates for each
 * InferenceService, and the ingress gateway's pods, which its chart creates. Pure.
 */
import { INGRESS_GATEWAY_RELEASE, INGRESS_GATEWAY_SELECTOR, ISTIO_INGRESS_NAMESPACE } from "../components/mesh/istioCharts";
import { INGRESS_GATEWAY_PRINCIPAL } from "../components/serving/trafficPolicy";
import { KSERVE_CANARY_NAME, KSERVE_ISVC_LABEL, KSERVE_PREDICTOR_PORT, kservePredictorHost } from "../components/serving/kserveModel";
import { chartOf, podTemplateOf } from "./manifests";
import type { RecordedResource } from "./recorder";
import type { Backend } from "./routes";

type Labels = Record<string, string>;

interface Workload {
    readonly namespace: string;
    readonly labels: Labels;
    /** The pods' identity, where the simulator needs it: gateway pods send on what they receive. */
    readonly principal?: string;
}

const kindOf = (resource: RecordedResource): string => resource.type.split(":").pop() ?? "";
const metadataOf = (resource: RecordedResource) => (resource.inputs.metadata ?? {}) as { name?: string; namespace?: string };

/** Pods of mlmesh's own workloads, by their template labels. */
function workloads(resources: readonly RecordedResource[]): Workload[] {
    return resources.flatMap((resource) => {
        const template = podTemplateOf(resource) as { metadata?: { labels?: Labels } } | undefined;
        const labels = template?.metadata?.labels;
        return labels ? [{ namespace: metadataOf(resource).namespace ?? "default", labels }] : [];
    });
}

/**
 * The gateway chart's pods: it labels them `app: <release>` and `istio: <release without istio->`
 * (istio/istio:manifests/charts/gateway/templates/_helpers.tpl@1.30.3).
 */
function gatewayPods(resources: readonly RecordedResource[]): Workload[] {
    return resources.some((r) => chartOf(r) === "gateway" && r.inputs.name === INGRESS_GATEWAY_RELEASE)
        ? [{ namespace: ISTIO_INGRESS_NAMESPACE, labels: { app: INGRESS_GATEWAY_RELEASE, ...INGRESS_GATEWAY_SELECTOR }, principal: INGRESS_GATEWAY_PRINCIPAL }]
        : [];
}

/**
 * The predictor Services KServe's controller creates in Standard mode, one per predictor
 * (stable, and the canary), with pods labelled with the InferenceService, the component and
 * `app: isvc.<service>` (kserve/kserve:pkg/controller/v1beta1/inferenceservice/reconcilers/raw@v0.20.0).
 */
function kserveBackends(resources: readonly RecordedResource[]): Backend[] {
    return resources.filter((r) => r.type.endsWith(":serving.kserve.io/v1beta1:InferenceService")).flatMap((isvc) => {
        const { name = "", namespace = "default" } = metadataOf(isvc);
        const canaries = ((isvc.inputs.spec as { canary?: { predictor?: { name?: string } }[] } | undefined)?.canary ?? []).map((c) => c.predictor?.name ?? KSERVE_CANARY_NAME);
        return [undefined, ...canaries].map((predictor) => {
            const host = kservePredictorHost(name, namespace, predictor);
            return { host, namespace, ports: [KSERVE_PREDICTOR_PORT], pods: [{ labels: { [KSERVE_ISVC_LABEL]: name, component: "predictor", app: `isvc.${host.split(".")[0]}` } }] };
        });
    });
}

/** Every in-cluster host of the plan and the pods behind it; a Service without a selector has none. */
export function planBackends(resources: readonly RecordedResource[]): Backend[] {
    const pods = [...workloads(resources), ...gatewayPods(resources)];
    const services = resources.filter((r) => kindOf(r) === "Service" && r.type.startsWith("kubernetes:core/v1")).map((service): Backend => {
        const { name = "", namespace = "default" } = metadataOf(service);
        const spec = (service.inputs.spec ?? {}) as { selector?: Labels; ports?: { port: number }[] };
        const selected = spec.selector
            ? pods.filter((pod) => pod.namespace === namespace && Object.entries(spec.selector!).every(([k, v]) => pod.labels[k] === v))
            : [];
        const distinct = [...new Map(selected.map((pod) => [JSON.stringify(pod.labels), pod])).values()];
        return {
            host: `${name}.${namespace}.svc.cluster.local`, namespace, ports: (spec.ports ?? []).map((p) => p.port),
            pods: distinct.map((pod) => ({ labels: pod.labels, ...(pod.principal ? { principal: pod.principal } : {}) })),
        };
    });
    return [...services, ...kserveBackends(resources)];
}
