export { parseQuantity, requestAboveLimit } from "./quantity";
export type { QuantityKind } from "./quantity";
export { SidecarResources, SIDECAR_ANNOTATIONS, SIDECAR_CONCURRENCY_RANGE } from "./sidecarResources";
export type { SidecarResourcesSpec } from "./sidecarResources";
export { IstioMesh, ISTIOD_PORTS, DEFAULT_SIDECAR, validateIstioMeshArgs } from "./istioMesh";
export type { IngressGatewaySpec, IstioMeshArgs } from "./istioMesh";
export {
    ISTIO_VERSION, ISTIO_CHART_REPO, ISTIO_ROOT_NAMESPACE, ISTIO_INGRESS_NAMESPACE, INGRESS_GATEWAY_RELEASE,
    istioRevision, istiodValues, gatewayValues, baseValues, cniValues,
} from "./istioCharts";
export { MTLS_MODES, DEFAULT_VALIDATOR_NAME, defaultDenyPolicy, defaultValidator, ingressGateway, meshPeerAuthentication, meshTelemetry } from "./meshPolicies";
export type { IstioManifest, MtlsMode } from "./meshPolicies";
