export { MlPlatform, validateMlPlatformArgs } from "./mlPlatform";
export type { MlPlatformArgs, PlatformNetworkArgs, PlatformOutputs, ServedModel } from "./mlPlatform";
export { ENVIRONMENT_PROFILES, ENVIRONMENTS, profileOf } from "./environment";
export type { Environment, EnvironmentProfile } from "./environment";
export { environmentProblems } from "./environmentRules";
export { CONTRACT_FIELDS, CONTRACT_VERSION, DEPRECATED_OUTPUTS } from "./contract";
export type { AppTeam, ContractField, ContractModel, ModelAccess, PlatformContract } from "./contract";
export { contractMismatch, kubeconfigFor, PlatformContractError, PlatformReference } from "./platformReference";
export type { PlatformReferenceArgs, PlatformView } from "./platformReference";
