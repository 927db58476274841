/**
 * The images each pinned chart renders from the values it is given, worked out the way its
 * templates build them, so the plan can list every image a Helm release will pull without
 * running Helm. Defaults are the pinned charts' own (their values.yaml at the pinned tag).
 */
import { ISTIO_VERSION } from "../components/mesh/istioCharts";
import { KSERVE_RUNTIME_IMAGES } from "../components/serving/kserve";
import { valueAt } from "./manifests";

type Values = Record<string, unknown>;

const text = (values: unknown, path: string, fallback: string): string => {
    const value = valueAt(values, path);
    return typeof value === "string" && value !== "" ? value : fallback;
};

/** What one chart renders from its values (and the release's chart version, where a tag defaults to it). */
type ChartImages = (values: Values, version?: string) => string[];

/**
 * An Istio image: `image` verbatim when it holds a `/`, else `<hub>/<image>:<tag>`
 * (istio/istio:manifests/charts/istio-control/istio-discovery/templates/deployment.yaml@1.30.3;
 * istio/istio:pkg/kube/inject/inject.go@1.30.3 for the proxy). The published 1.30.3 charts
 * default the hub to registry.istio.io/release and the tag to the release itself
 * (istio/release-builder:release/build.sh@1.30.3).
 */
function istioImage(values: Values, image: string, defaultName: string, version: string = ISTIO_VERSION): string {
    const name = text(values, image, defaultName);
    if (name.includes("/")) {
        return name;
    }
    const hub = text(values, "hub", text(values, "global.hub", "registry.istio.io/release"));
    return `${hub}/${name}:${text(values, "tag", text(values, "global.tag", version))}`;
}

/** cert-manager: `<imageRegistry>/<imageNamespace>/cert-manager-<name>:<tag>[@digest]` unless a repository is given (_helpers.tpl@v1.21.1). */
function certManagerImage(values: Values, component: string, name: string): string {
    const prefix = component === "" ? "image" : `${component}.image`;
    const repository = text(values, `${prefix}.repository`, `${text(values, "imageRegistry", "quay.io")}/${text(values, "imageNamespace", "jetstack")}/cert-manager-${name}`);
    const digest = valueAt(values, `${prefix}.digest`);
    return `${repository}:${text(values, `${prefix}.tag`, "v1.21.1")}${typeof digest === "string" && digest ? `@${digest}` : ""}`;
}

/** The default tags of KServe's runtimes where the chart pins one; the others take the KServe version (charts/kserve-runtime-configs/values.yaml@v0.20.0). */
const KSERVE_RUNTIME_TAGS: Readonly<Record<string, string>> = {
    tensorflow: "2.6.2", mlserver: "1.5.0", tritonserver: "23.05-py3", torchserve: "0.9.0", vllmserver: "latest",
};

const KSERVE_VERSION = "v0.20.0";

export const CHART_IMAGES: Readonly<Record<string, ChartImages>> = {
    base: () => [],
    // The gateway's pods get their image from istiod's injection template, so the istiod release lists it.
    gateway: () => [],
    istiod: (values, version) => [
        istioImage(values, "image", "pilot", version),
        istioImage(values, "global.proxy.image", "proxyv2", version),
        istioImage(values, "global.proxy_init.image", "proxyv2", version),
    ],
    cni: (values, version) => [istioImage(values, "image", "install-cni", version)],
    "cert-manager": (values) => [
        certManagerImage(values, "", "controller"),
        certManagerImage(values, "webhook", "webhook"),
        certManagerImage(values, "cainjector", "cainjector"),
        certManagerImage(values, "startupapicheck", "startupapicheck"),
        certManagerImage(values, "acmesolver", "acmesolver"),
    ],
    "metrics-server": (values) => [`${text(values, "image.repository", "registry.k8s.io/metrics-server/metrics-server")}:${text(values, "image.tag", "v0.8.1")}`],
    "cluster-autoscaler": (values) => [`${text(values, "image.repository", "registry.k8s.io/autoscaling/cluster-autoscaler")}:${text(values, "image.tag", "v1.35.0")}`],
    "nvidia-device-plugin": (values) => [`${text(values, "image.repository", "nvcr.io/nvidia/k8s-device-plugin")}:${text(values, "image.tag", "v0.18.2")}`],
    "kserve-crd": () => [],
    "kserve-resources": (values) => {
        const tagged = (path: string, fallback: string) => `${text(values, `kserve.${path}.image`, fallback)}:${text(values, `kserve.${path}.tag`, KSERVE_VERSION)}`;
        return [
            tagged("controller", "kserve/kserve-controller"),
            text(values, "kserve.controller.rbacProxyImage", "quay.io/brancz/kube-rbac-proxy:v0.18.0"),
            tagged("storage", "kserve/storage-initializer"),
            tagged("agent", "kserve/agent"),
            tagged("router", "kserve/router"),
            `${text(values, "kserve.servingruntime.art.image", "kserve/art-explainer")}:${text(values, "kserve.servingruntime.art.defaultVersion", KSERVE_VERSION)}`,
            `${text(values, "kserve.localmodel.defaultJobImage", "kserve/storage-initializer")}:${text(values, "kserve.localmodel.defaultJobTag", KSERVE_VERSION)}`,
        ];
    },
    // A disabled runtime is never selected, so its image is never pulled.
    "kserve-runtime-configs": (values) => Object.entries(KSERVE_RUNTIME_IMAGES)
        .filter(([runtime]) => valueAt(values, `kserve.servingruntime.${runtime}.disabled`) !== true)
        .map(([runtime, image]) => `${text(values, `kserve.servingruntime.${runtime}.image`, image)}:${text(values, `kserve.servingruntime.${runtime}.tag`, KSERVE_RUNTIME_TAGS[runtime] ?? KSERVE_VERSION)}`),
};

/** The images a release of `chart` (a name, or an OCI reference ending in it) renders; undefined for a chart mlmesh does not know. */
export function chartImages(chart: string, values: Values, version?: string): string[] | undefined {
    const images = CHART_IMAGES[chart.split("/").pop() ?? chart];
    return images ? images(values, version) : undefined;
}
