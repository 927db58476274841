export * from "./cluster";
export * from "./mesh";
export * from "./platform";
export { PropertyErrors, describeProblem } from "./propertyErrors";
export type { PropertyProblem } from "./propertyErrors";
