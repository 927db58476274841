import * as pulumi from "@pulumi/pulumi";

/**
 * Options for a component's child: parented to the component, and waiting for whatever the
 * component itself was told to wait for. Pulumi does not pass a component's `dependsOn` on to
 * its children (pulumi/pulumi#8721), so without this `new Mesh(..., { dependsOn: [cluster] })`
 * would start installing before the cluster's nodes exist.
 */
export function childOptions(parent: pulumi.Resource, opts: pulumi.ResourceOptions | undefined, extra: pulumi.CustomResourceOptions = {}): pulumi.CustomResourceOptions {
    return pulumi.mergeOptions({ parent, dependsOn: opts?.dependsOn }, extra);
}
