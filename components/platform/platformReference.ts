/**
 * How an app team's program reads a platform stack: a StackReference that returns the contract
 * typed, after checking that the platform speaks the contract's major version and publishes
 * every output the app needs.
 */
import * as pulumi from "@pulumi/pulumi";
import { CONTRACT_FIELDS, CONTRACT_VERSION, type ContractField, type PlatformContract } from "./contract";

/** The contract as a reader gets it: plain values, except the kubeconfig, which stays a secret Output. */
export type PlatformView = Omit<PlatformContract, "kubeconfig"> & { readonly kubeconfig: pulumi.Output<string> };

/** The platform stack cannot serve this app: wrong contract major version, or outputs missing. */
export class PlatformContractError extends pulumi.RunError {
    constructor(message: string) {
        super(message);
        this.name = "PlatformContractError";
    }
}

export interface PlatformReferenceArgs<K extends ContractField = ContractField> {
    /** The platform stack, as `pulumi stack ls` names it: `org/project/stack` (Pulumi Cloud) or `organization/project/stack`. */
    readonly stack: string;
    /** The outputs the app reads. @default every output of the contract this package was built with */
    readonly needs?: readonly K[];
}

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:[-+].*)?$/;

/** Whether a reader built against `reader` can read a platform publishing `published`; the reason when not. */
export function contractMismatch(published: unknown, reader: string = CONTRACT_VERSION): string | undefined {
    if (published === undefined) {
        return "publishes no `contractVersion`: it was deployed by an mlmesh older than the versioned contract; run `pulumi up` on it with a current mlmesh first";
    }
    const theirs = typeof published === "string" ? SEMVER.exec(published) : null;
    if (!theirs) {
        return `publishes \`contractVersion\` ${JSON.stringify(published)}, which is not a semantic version`;
    }
    const ours = SEMVER.exec(reader)!;
    if (theirs[1] !== ours[1]) {
        const newer = Number(theirs[1]) > Number(ours[1]);
        return `publishes contract ${published}, and this app reads contract ${ours[1]}.x (mlmesh's CONTRACT_VERSION ${reader}): ${newer
            ? "upgrade mlmesh in this app to a release that reads the platform's major version"
            : "the platform is older than this app; upgrade the platform stack, or use an mlmesh release that reads its major version"}`;
    }
    return undefined;
}

/**
 * A platform stack's outputs, typed and checked:
 *
 *     const platform = await new PlatformReference("platform", { stack: "acme/mlmesh/prod" }).read();
 *     const model = platform.models.find((m) => m.name === "churn");
 */
export class PlatformReference<K extends ContractField = ContractField> extends pulumi.StackReference {
    private readonly stackName: string;
    private readonly needs: readonly ContractField[];

    constructor(name: string, args: PlatformReferenceArgs<K>, opts?: pulumi.CustomResourceOptions) {
        super(name, { name: args.stack }, opts);
        this.stackName = args.stack;
        this.needs = args.needs ?? (Object.keys(CONTRACT_FIELDS) as ContractField[]);
    }

    /** Reads the contract (the outputs in `needs`); rejects with a PlatformContractError that says what is wrong and what to do. */
    async read(): Promise<Pick<PlatformView, K | "contractVersion">> {
        const version = await this.getOutputDetails("contractVersion");
        const mismatch = contractMismatch(version.value ?? version.secretValue);
        if (mismatch) {
            throw new PlatformContractError(`platform stack ${this.stackName} ${mismatch}`);
        }
        const fields = [...new Set<ContractField>(["contractVersion", ...this.needs])];
        const details = await Promise.all(fields.map(async (field) => [field, await this.getOutputDetails(field)] as const));
        const missing = details.filter(([field, d]) => d.value === undefined && d.secretValue === undefined && !CONTRACT_FIELDS[field].nullable).map(([field]) => field);
        if (missing.length > 0) {
            const list = missing.map((field) => `\`${field}\` (contract ${CONTRACT_FIELDS[field].since})`).join(", ");
            throw new PlatformContractError(`platform stack ${this.stackName} (contract ${version.value ?? version.secretValue}) does not publish ${list}, which this app reads; run \`pulumi up\` on the platform with an mlmesh release whose contract has them, or drop them from \`needs\``);
        }
        const values: Record<string, unknown> = {};
        for (const [field, d] of details) {
            values[field] = field === "kubeconfig" ? pulumi.secret(d.secretValue ?? d.value) : (d.value ?? d.secretValue ?? null);
        }
        return values as unknown as Pick<PlatformView, K | "contractVersion">;
    }
}

/**
 * A kubeconfig (JSON) for the platform's cluster that authenticates as `roleArn` (an app team's
 * own role, which the platform lists in `appTeams`), or as the ambient credentials without one;
 * not the platform's admin kubeconfig. `aws eks get-token` must be on the deploying machine.
 */
export function kubeconfigFor(platform: Pick<PlatformContract, "clusterName" | "clusterEndpoint" | "clusterCertificateAuthority" | "region">, roleArn?: string): string {
    const name = platform.clusterName;
    const args = ["eks", "get-token", "--cluster-name", name, "--region", platform.region, ...(roleArn ? ["--role-arn", roleArn] : [])];
    return JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name, cluster: { server: platform.clusterEndpoint, "certificate-authority-data": platform.clusterCertificateAuthority } }],
        contexts: [{ name, context: { cluster: name, user: name } }],
        "current-context": name,
        users: [{ name, user: { exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command: "aws", args, interactiveMode: "Never" } } }],
    });
}
