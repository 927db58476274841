export * from "./cluster";
export * from "./gateway";
export * from "./mesh";
export * from "./platform";
export * from "./serving";
export { PropertyErrors, describeProblem } from "./propertyErrors";
export type { PropertyProblem } from "./propertyErrors";

// The config-driven program: what `mlmesh new` scaffolds and mlmesh's own stacks run.
export { buildPlatform } from "../stacks/program";
export { Platform, type PlatformArgs } from "../stacks/platformComponent";
export { loadPlatformConfig, parsePlatformConfig, parseStackConfig, PlatformConfigError, type PlatformConfig } from "../stacks/config";
