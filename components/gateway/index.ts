export { InferenceGateway, validateInferenceGatewayArgs, type InferenceGatewayArgs } from "./inferenceGateway";
export { validateFrontDoor } from "./doorSpec";
export { validateJwtIssuers, type JwtIssuer } from "./jwtIssuers";
export { doorTable, INFERENCE_SERVICE, LEG_HEADER, SPLIT_LISTENER, type DoorSplit, type DoorTable } from "./doorRoutes";
export type { DoorFamily, DoorTarget } from "./doorTargets";
