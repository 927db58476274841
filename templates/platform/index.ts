/**
 * The platform, from this stack's `mlmesh:*` settings (Pulumi.<stack>.yaml). Check a change offline
 * with `npx mlmesh plan -s dev`, then `pulumi up -s dev`. For more control, build it from the
 * components instead (`new MlPlatform(...)`, `new TfServingModel(...)`; see the mlmesh README).
 */
import { buildPlatform, loadPlatformConfig } from "mlmesh";

export = async () => buildPlatform(loadPlatformConfig());
