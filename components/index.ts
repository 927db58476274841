export * from "./cluster";
export * from "./gateway";
export * from "./mesh";
export * from "./platform";
export * from "./serving";
export { PropertyErrors, describeProblem } from "./propertyErrors";
export type { PropertyProblem } from "./propertyErrors";
