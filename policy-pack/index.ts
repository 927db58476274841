/**
 * The CrossGuard pack: `pulumi preview --policy-pack policy-pack`. Building the pack starts its
 * gRPC server, so this file does nothing else; the policies live in ./policies.
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("mlmesh", { policies: [...policies] });
