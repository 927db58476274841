/**
 * The Pulumi program: `pulumi up -s <env>` and `mlmesh plan --stack <env>` both run this.
 * Pulumi calls the exported function and publishes what it returns as stack outputs.
 */
import { loadPlatformConfig } from "./config";
import { buildPlatform } from "./program";

export = async () => buildPlatform(loadPlatformConfig());
