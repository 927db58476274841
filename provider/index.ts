/**
 * mlmesh's component provider: Pulumi runs this (PulumiPlugin.yaml) when a program in another
 * language uses the package (`pulumi package add`). It serves the `Platform` component
 * (stacks/platformComponent.ts), whose schema Pulumi reads from the TypeScript types.
 */
import { componentProviderHost } from "@pulumi/pulumi/provider/experimental";
import { Platform } from "../stacks/platformComponent";

export { Platform };

void componentProviderHost({ components: [Platform], name: "mlmesh", dirname: __dirname });
