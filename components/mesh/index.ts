export { parseQuantity, requestAboveLimit } from "./quantity";
export type { QuantityKind } from "./quantity";
