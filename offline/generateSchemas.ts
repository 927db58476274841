/**
 * Regenerates offline/schemas/ from the upstream CRDs in ../shared/schemas: for each CRD kind
 * mlmesh renders, the openAPIV3Schema of every served version, with descriptions removed
 * (structure only). Run: `npm run schemas`. A test checks the committed files match.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";

/** The upstream CRD files (relative to the shared schemas folder) and the kinds taken from each. */
export const SCHEMA_SOURCES: Readonly<Record<string, readonly string[]>> = {
    "istio/crd-all.gen.yaml": [
        "AuthorizationPolicy", "DestinationRule", "Gateway", "PeerAuthentication", "RequestAuthentication",
        "ServiceEntry", "Sidecar", "Telemetry", "VirtualService",
    ],
    "kserve/serving.kserve.io_inferenceservices.yaml": ["InferenceService"],
    "kserve/serving.kserve.io_servingruntimes.yaml": ["ServingRuntime"],
    "kserve/serving.kserve.io_clusterservingruntimes.yaml": ["ClusterServingRuntime"],
    "gateway-api/gateway.networking.k8s.io_gateways.yaml": ["Gateway"],
    "gateway-api/gateway.networking.k8s.io_httproutes.yaml": ["HTTPRoute"],
    "gateway-api/gateway.networking.k8s.io_referencegrants.yaml": ["ReferenceGrant"],
    "inference-extension/inference.networking.k8s.io_inferencepools.yaml": ["InferencePool"],
    "ack-sagemaker/sagemaker.services.k8s.aws_endpoints.yaml": ["Endpoint"],
    "ack-sagemaker/sagemaker.services.k8s.aws_endpointconfigs.yaml": ["EndpointConfig"],
    "ack-sagemaker/sagemaker.services.k8s.aws_models.yaml": ["Model"],
};

export interface SchemaIndexEntry {
    readonly file: string;
    readonly scope: "Namespaced" | "Cluster";
}

/** Drops `description` (prose) everywhere, keeping every structural keyword. */
export function stripDescriptions(node: unknown): unknown {
    if (Array.isArray(node)) {
        return node.map(stripDescriptions);
    }
    if (node !== null && typeof node === "object") {
        return Object.fromEntries(
            Object.entries(node)
                .filter(([key, value]) => !(key === "description" && typeof value === "string"))
                .map(([key, value]) => [key, stripDescriptions(value)]),
        );
    }
    return node;
}

interface Crd {
    spec: {
        group: string;
        scope: "Namespaced" | "Cluster";
        names: { kind: string };
        versions: { name: string; served: boolean; schema?: { openAPIV3Schema: unknown } }[];
    };
}

/** Builds the schema files and index (`apiVersion/kind` → entry) from the shared CRDs. */
export function buildSchemas(sharedDir: string): { files: Record<string, string>; index: Record<string, SchemaIndexEntry> } {
    const files: Record<string, string> = {};
    const index: Record<string, SchemaIndexEntry> = {};
    for (const [source, kinds] of Object.entries(SCHEMA_SOURCES)) {
        const documents = parseAllDocuments(readFileSync(path.join(sharedDir, source), "utf8"));
        for (const document of documents) {
            const crd = document.toJS() as Crd;
            if (!kinds.includes(crd.spec.names.kind)) {
                continue;
            }
            for (const version of crd.spec.versions.filter((v) => v.served && v.schema)) {
                const apiVersion = `${crd.spec.group}/${version.name}`;
                const file = `${crd.spec.group}_${version.name}_${crd.spec.names.kind}.json`;
                files[file] = `${JSON.stringify(stripDescriptions(version.schema!.openAPIV3Schema))}\n`;
                index[`${apiVersion}/${crd.spec.names.kind}`] = { file, scope: crd.spec.scope };
            }
        }
    }
    return { files, index };
}

export const SCHEMA_OUT_DIR = path.join(__dirname, "schemas");

if (require.main === module) {
    const sharedDir = process.argv[2] ?? path.join(__dirname, "..", "..", "shared", "schemas");
    const { files, index } = buildSchemas(sharedDir);
    rmSync(SCHEMA_OUT_DIR, { recursive: true, force: true });
    mkdirSync(SCHEMA_OUT_DIR, { recursive: true });
    for (const [file, text] of Object.entries(files)) {
        writeFileSync(path.join(SCHEMA_OUT_DIR, file), text);
    }
    const sortedIndex = Object.fromEntries(Object.entries(index).sort(([a], [b]) => a.localeCompare(b)));
    writeFileSync(path.join(SCHEMA_OUT_DIR, "index.json"), `${JSON.stringify(sortedIndex, null, 2)}\n`);
    console.log(`wrote ${Object.keys(files).length} schemas to ${SCHEMA_OUT_DIR}`);
}
