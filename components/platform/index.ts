export { MlPlatform, validateMlPlatformArgs } from "./mlPlatform";
export type { MlPlatformArgs, PlatformNetworkArgs, ServedModel } from "./mlPlatform";
export { ENVIRONMENTS } from "./environment";
export type { Environment } from "./environment";
