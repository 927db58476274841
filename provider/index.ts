/**
 * The provider's component, as Pulumi's component analyzer reads it to write the schema (it maps
 * package.json's `main`, index.js, to this file). index.js is what runs.
 */
export { Platform } from "../stacks/platformComponent";
