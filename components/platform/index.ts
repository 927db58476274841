export { MlPlatform } from "./mlPlatform";
export type { MlPlatformArgs, PlatformNetworkArgs } from "./mlPlatform";
export { ENVIRONMENTS } from "./environment";
export type { Environment } from "./environment";
