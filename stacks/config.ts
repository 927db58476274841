/**
 * The only reader of Pulumi config. Parses and validates every `mlmesh:*` setting (and
 * `aws:region`), reports every problem at once with its path, bad value and fix, and returns
 * a typed PlatformConfig with all defaults resolved.
 */
import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import type { NatGatewayMode } from "../components/cluster/clusterVpc";
import { describeProblem, PropertyErrors, type PropertyProblem } from "../components/propertyErrors";
import { didYouMean } from "../components/suggest";
import { placementOf } from "../components/cluster/gpuNodeGroup";
import { SidecarResources } from "../components/mesh/sidecarResources";
import { gpuNodeCapacities } from "../components/serving/modelFit";
import { isServed, validateModels, type ModelEntry } from "../components/serving/modelSpec";
import { validateFrontDoor } from "../components/gateway/doorSpec";
import { platformImageReport } from "../components/platform/imageSources";
import { eksImageRegionProblem } from "../components/cluster/imageCache";
import { imageCacheRegionProblem, secretRegionProblems } from "../components/images";
import { profileOf } from "../components/platform/environment";
import { environmentProblems, kserveProblem, zonePinProblem } from "../components/platform/environmentRules";
import { validateVpcLayout } from "../components/cluster/clusterVpc";
import {
    clusterSchema, createdNetworkSchema, environmentSchema, existingNetworkSchema, meshSchema, modelsSchema, regionSchema,
    type ClusterConfig, type Environment, type ExistingNetworkConfig, type MeshConfig,
} from "./configSchema";

export const CONFIG_NAMESPACE = "mlmesh";

/** The network the platform runs in: created by mlmesh, or an existing VPC. */
export type NetworkConfig =
    | { readonly mode: "create"; readonly vpcCidr: string; readonly availabilityZones: number; readonly availabilityZoneIds?: readonly string[]; readonly natGateways: NatGatewayMode; readonly s3Accounts: readonly string[] }
    | ({ readonly mode: "existing" } & ExistingNetworkConfig);

export interface PlatformConfig {
    readonly stack: string;
    readonly region: string;
    readonly environment: Environment;
    readonly network: NetworkConfig;
    readonly cluster: ClusterConfig & { readonly name: string };
    readonly mesh: MeshConfig;
    readonly models: readonly ModelEntry[];
}

/** Every bad setting of a stack, thrown before any resource is created. */
export class PlatformConfigError extends pulumi.RunError {
    constructor(public readonly problems: readonly PropertyProblem[]) {
        super(`stack config has ${problems.length} problem(s):\n${problems.map((p) => `  - ${describeProblem(p)}`).join("\n")}`);
        this.name = "PlatformConfigError";
    }
}

const KNOWN_KEYS = ["environment", "network", "cluster", "mesh", "models"] as const;

/** How a type mismatch reads in an error message. */
const TYPE_NAMES: Readonly<Record<string, string>> = {
    array: "a list",
    object: "a mapping of settings",
    string: "a string",
    number: "a number",
    boolean: "true or false",
};

/** `a.b[0].c` from zod's path segments; a map key that is not a plain name reads `["nvcr.io/nvidia/x"]`. */
function formatPath(key: string, path: readonly PropertyKey[]): string {
    return path.reduce<string>((text, segment) => typeof segment === "number" ? `${text}[${segment}]`
        : /^[A-Za-z_$][\w$]*$/.test(String(segment)) ? `${text}.${String(segment)}` : `${text}["${String(segment)}"]`, key);
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
    return path.reduce<unknown>((node, segment) => (node !== null && typeof node === "object" ? (node as Record<PropertyKey, unknown>)[segment] : undefined), root);
}

/** Turns zod's issues into problems: one per unknown key, plain words for type mismatches. */
function problemsOf(key: string, raw: unknown, error: z.ZodError): PropertyProblem[] {
    return error.issues.flatMap((issue): PropertyProblem[] => {
        if (issue.code === "unrecognized_keys") {
            return issue.keys.map((unknownKey) => ({
                path: formatPath(key, [...issue.path, unknownKey]),
                value: valueAt(raw, [...issue.path, unknownKey]),
                reason: issue.message,
            }));
        }
        // A discriminator mismatch carries the whole object as input; report the field itself.
        const value = "input" in issue && issue.code !== "invalid_union" ? issue.input : valueAt(raw, issue.path);
        const reason = issue.code === "invalid_type" && issue.message.startsWith("Invalid input")
            ? `must be ${TYPE_NAMES[issue.expected] ?? `of type ${issue.expected}`}`
            : issue.message;
        return [{ path: formatPath(key, issue.path), value, reason }];
    });
}

function parseKey<S extends z.ZodType>(schema: S, key: string, raw: unknown, problems: PropertyProblem[]): z.output<S> | undefined {
    const result = schema.safeParse(raw, { reportInput: true });
    if (result.success) {
        return result.data;
    }
    problems.push(...problemsOf(key, raw, result.error));
    return undefined;
}

function parseNetwork(raw: unknown, environment: Environment | undefined, problems: PropertyProblem[]): NetworkConfig | undefined {
    const key = `${CONFIG_NAMESPACE}:network`;
    const isExisting = raw !== null && typeof raw === "object" && ("vpcId" in raw || "privateSubnetIds" in raw);
    if (isExisting) {
        const existing = parseKey(existingNetworkSchema, key, raw, problems);
        return existing && { mode: "existing", ...existing };
    }
    const created = parseKey(createdNetworkSchema, key, raw ?? {}, problems);
    if (created) {
        const layout = validateVpcLayout({ cidrBlock: created.vpcCidr, availabilityZoneCount: created.availabilityZones, availabilityZoneIds: created.availabilityZoneIds }, new PropertyErrors(), `${key}.`).list;
        problems.push(...layout.filter((p) => !p.path.endsWith(".cidrBlock")).map((p) => ({ ...p, path: p.path.replace(".availabilityZoneCount", ".availabilityZones") })));
        const pin = zonePinProblem(environment, created.availabilityZoneIds);
        if (pin) {
            problems.push({ path: `${key}.availabilityZoneIds`, value: undefined, reason: pin });
        }
    }
    return created && {
        mode: "create",
        vpcCidr: created.vpcCidr,
        availabilityZones: created.availabilityZoneIds?.length ?? created.availabilityZones ?? 3,
        ...(created.availabilityZoneIds ? { availabilityZoneIds: created.availabilityZoneIds } : {}),
        natGateways: created.natGateways ?? profileOf(environment).natGateways,
        s3Accounts: created.s3Accounts,
    };
}

/**
 * Parses raw settings (keys as written in the stack file, e.g. `mlmesh:cluster`, values already
 * decoded from YAML/JSON). Throws PlatformConfigError listing every problem.
 */
export function parsePlatformConfig(raw: Readonly<Record<string, unknown>>, stack: string): PlatformConfig {
    const problems: PropertyProblem[] = [];
    for (const key of Object.keys(raw)) {
        const separator = key.indexOf(":");
        const namespace = key.slice(0, separator);
        if (namespace === CONFIG_NAMESPACE && !(KNOWN_KEYS as readonly string[]).includes(key.slice(separator + 1))) {
            const known = KNOWN_KEYS.map((k) => `${CONFIG_NAMESPACE}:${k}`);
            problems.push({ path: key, value: raw[key], reason: `is not a known setting${didYouMean(key, known)}; use one of: ${known.join(", ")}` });
        }
    }
    const setting = (name: (typeof KNOWN_KEYS)[number]) => raw[`${CONFIG_NAMESPACE}:${name}`];

    const region = parseKey(regionSchema, "aws:region", raw["aws:region"], problems);
    const regionProblem = region && (imageCacheRegionProblem(region) ?? eksImageRegionProblem(region));
    if (region && regionProblem) {
        problems.push({ path: "aws:region", value: region, reason: regionProblem });
    }
    const environment = parseKey(environmentSchema, `${CONFIG_NAMESPACE}:environment`, setting("environment"), problems);
    const network = parseNetwork(setting("network"), environment, problems);
    const cluster = parseKey(clusterSchema, `${CONFIG_NAMESPACE}:cluster`, setting("cluster") ?? {}, problems);
    const mesh = parseKey(meshSchema, `${CONFIG_NAMESPACE}:mesh`, setting("mesh") ?? {}, problems);
    if (environment && cluster && mesh) {
        problems.push(...environmentProblems(environment, { cluster, mesh }, `${CONFIG_NAMESPACE}:`));
    }
    const models = parseKey(modelsSchema, `${CONFIG_NAMESPACE}:models`, setting("models"), problems);
    if (cluster && mesh && models) {
        problems.push(...modelProblems(models, { ...cluster, name: cluster.name ?? `mlmesh-${stack}` }, mesh, environment));
        if (region) {
            problems.push(...secretRegionProblems(cluster.imageCache, region)
                .map((p) => ({ path: `${CONFIG_NAMESPACE}:cluster.imageCache.${p.field}`, value: p.value, reason: p.reason })));
        }
        if (environment) {
            problems.push(...platformImageReport(
                { environment, imageCache: cluster.imageCache, gpuNodeGroups: cluster.gpuNodeGroups.map(placementOf), models: (models as readonly ModelEntry[]).filter(isServed) },
                { cluster: `${CONFIG_NAMESPACE}:cluster.`, models: `${CONFIG_NAMESPACE}:models` },
            ).problems);
        }
    }
    if (problems.length > 0 || !region || !environment || !network || !cluster || !mesh || !models) {
        throw new PlatformConfigError(problems);
    }
    return {
        stack,
        region,
        environment,
        network,
        cluster: { ...cluster, name: cluster.name ?? `mlmesh-${stack}` },
        mesh,
        models,
    };
}

/** The serving components' checks, run against the cluster's GPU groups and the mesh's namespaces. */
function modelProblems(models: readonly ModelEntry[], cluster: ClusterConfig & { name: string }, mesh: MeshConfig, environment: Environment | undefined): PropertyProblem[] {
    const errors = new PropertyErrors();
    validateModels(models, {
        gpuNodeGroups: cluster.gpuNodeGroups.map(placementOf),
        namespaces: mesh.namespaces,
        defaultSidecar: SidecarResources.of(mesh.defaultSidecar, `${CONFIG_NAMESPACE}:mesh.defaultSidecar`),
        environment,
        gpuNodeCapacity: gpuNodeCapacities(cluster.gpuNodeGroups),
    }, errors, `${CONFIG_NAMESPACE}:models`);
    models.forEach((model, i) => errors.check(`${CONFIG_NAMESPACE}:models[${i}].backend`, model.backend, kserveProblem(model.backend, cluster.kserve)));
    validateFrontDoor(models, { jwt: mesh.ingressGateway.jwt, hosts: mesh.ingressGateway.hosts, clusterName: cluster.name }, errors, `${CONFIG_NAMESPACE}:models`);
    return [...errors.list];
}

/** Pulumi keeps structured values as JSON text; scalars stay strings. */
function decodeConfigValue(text: string): unknown {
    const trimmed = text.trim();
    if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
        try {
            return JSON.parse(trimmed);
        } catch {
            return text;
        }
    }
    return text;
}

/** Parses config as Pulumi holds it (structured values as JSON text), e.g. a stack file's. */
export function parseStackConfig(config: Readonly<Record<string, string>>, stack: string): PlatformConfig {
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(config)) {
        if (key.startsWith(`${CONFIG_NAMESPACE}:`) || key === "aws:region") {
            raw[key] = decodeConfigValue(value);
        }
    }
    return parsePlatformConfig(raw, stack);
}

/** Reads and validates the current stack's config from the Pulumi runtime. */
export function loadPlatformConfig(): PlatformConfig {
    return parseStackConfig(pulumi.runtime.allConfig(), pulumi.getStack());
}
