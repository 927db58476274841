import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { childOptions } from "../childOptions";
import type { IstioManifest } from "../mesh/meshPolicies";
import { PropertyErrors } from "../propertyErrors";
import type { ModelEntry } from "../serving/modelSpec";
import type { IngressRoutes } from "../serving/trafficPolicy";
import {
    chunkAllowPolicy, frontDoorAuthorization, frontDoorVirtualService, inferenceService, inferenceVirtualService, requestAuthentication,
    splitDestinationRule, splitGateway, splitLegsVirtualService, splitService,
} from "./doorManifests";
import { doorHttpRoutes, doorTable, INFERENCE_SERVICE } from "./doorRoutes";
import { validateFrontDoor } from "./doorSpec";
import { validateJwtIssuers, type JwtIssuer } from "./jwtIssuers";

export interface InferenceGatewayArgs {
    /** The cluster's Kubernetes provider. */
    cluster: { readonly provider: k8s.Provider };
    /** The mesh whose ingress gateway is the door; without public hosts only in-mesh callers have one. */
    mesh: { readonly ingress?: IngressRoutes };
    /** Every model and split of the platform; each model's own workload and routes exist already. */
    models: readonly ModelEntry[];
    /** The cluster's name, which created SageMaker endpoints are named from. */
    clusterName: string;
    /**
     * What the door's routes wait for: the models' own routing (their Ready versions and subsets),
     * so a new weight never lands on a subset that does not exist yet. Token validation and
     * admission do not wait. @default []
     */
    routesAfter?: pulumi.Resource[];
    /**
     * OIDC issuers whose tokens the gateway accepts; with any, every model path at the public door
     * needs a valid token. @default [] (no token needed: in prod an internet-facing gateway refuses that)
     * @see https://istio.io/latest/docs/tasks/security/authentication/jwt-route/
     */
    jwt?: JwtIssuer[];
}

/** Checks the door's arguments: issuers, splits, per-path overrides, required claims. */
export function validateInferenceGatewayArgs(args: Pick<InferenceGatewayArgs, "models" | "clusterName" | "jwt" | "mesh">): PropertyErrors {
    const errors = new PropertyErrors();
    validateJwtIssuers(args.jwt ?? [], errors, "jwt");
    validateFrontDoor(args.models, { jwt: args.jwt ?? [], hosts: args.mesh.ingress?.hosts ?? [], clusterName: args.clusterName }, errors, "models");
    return errors;
}

/**
 * One front door for every model, whatever serves it: one route table on the ingress Gateway's
 * hosts and on the in-mesh host `inference.istio-ingress`, splits across backends through an
 * internal listener on the gateway pods, JWT validation, and an authorization policy that admits
 * only the table's paths.
 */
export class InferenceGateway extends pulumi.ComponentResource {
    /** The host in-mesh callers address every model by. */
    public readonly meshHost: string;
    /** The public hosts; empty when the gateway has none. */
    public readonly publicHosts: readonly string[];
    /** Issuers whose tokens the door accepts. */
    public readonly jwtIssuers: readonly string[];

    constructor(name: string, args: InferenceGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlmesh:gateway:InferenceGateway", name, {}, opts);
        validateInferenceGatewayArgs(args).throwIfAny(`InferenceGateway ${name}`);
        const k8sOpts = (extra: pulumi.CustomResourceOptions = {}) => childOptions(this, opts, { provider: args.cluster.provider, ...extra });
        const custom = (role: string, manifest: IstioManifest, dependsOn: pulumi.Resource[] = []) =>
            new k8s.apiextensions.CustomResource(`${name}-${role}`, { ...manifest }, k8sOpts({ dependsOn }));
        const table = doorTable(args.models, args.clusterName);
        const jwt = args.jwt ?? [];

        const service = new k8s.core.v1.Service(`${name}-inference-service`, inferenceService() as k8s.core.v1.ServiceArgs, k8sOpts());
        const listener: pulumi.Resource[] = [];
        if (table.splits.length > 0) {
            listener.push(
                new k8s.core.v1.Service(`${name}-split-service`, splitService() as k8s.core.v1.ServiceArgs, k8sOpts()),
                custom("split-gateway", splitGateway()),
                custom("split-tls", splitDestinationRule()),
            );
            // The legs' routes name the models' hosts and the bridge's subsets: they wait for them too.
            listener.push(custom("split-routes", splitLegsVirtualService(table), [...listener, ...(args.routesAfter ?? [])]));
        }
        // Token validation, then admission, then the routes that open paths to it (a split's first hop after its listener).
        const validation = jwt.length > 0 ? [custom("jwt", requestAuthentication(jwt))] : [];
        const access = chunkAllowPolicy(frontDoorAuthorization(table, jwt.length > 0)).map((policy, i) => custom(i === 0 ? "access" : `access-${i + 1}`, policy, validation));
        // Istio's webhook refuses a VirtualService without routes (pkg/config/validation/validation.go@1.30.3).
        if (doorHttpRoutes(table).length > 0) {
            const after = args.routesAfter ?? [];
            custom("mesh-routes", inferenceVirtualService(table), [service, ...access, ...listener, ...after]);
            if (args.mesh.ingress) {
                custom("routes", frontDoorVirtualService(table, args.mesh.ingress), [...access, ...listener, ...after]);
            }
        }

        this.meshHost = INFERENCE_SERVICE.host;
        this.publicHosts = args.mesh.ingress?.hosts ?? [];
        this.jwtIssuers = jwt.map((rule) => rule.issuer);
        this.registerOutputs({ meshHost: this.meshHost, publicHosts: this.publicHosts, jwtIssuers: this.jwtIssuers });
    }
}
