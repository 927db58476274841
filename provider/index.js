// What Pulumi runs for the provider (package.json `main`): JavaScript from mlmesh's build (dist/,
// `npm run build`), so starting it compiles and type-checks nothing. Pulumi starts a plugin in the
// consumer's folder with that folder's TypeScript settings, which need not fit mlmesh's sources.
// Its schema comes from index.ts, which Pulumi's component analyzer reads.
"use strict";
const { componentProviderHost } = require("@pulumi/pulumi/provider/experimental");
const { Platform } = require("../dist/stacks/platformComponent");

componentProviderHost({ components: [Platform], name: "mlmesh", dirname: __dirname });
