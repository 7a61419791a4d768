/**
 * How every leadloop Lambda is bundled, in one place: the stacks hand it to SST
 * (infra/leadloop-function.ts) and `npm run bench:coldstart` builds the same bundles with it, so the
 * bench measures what ships. No imports: the bench reads it without loading the CDK.
 */

/** The Lambda runtime the functions run on, and esbuild's target for it. */
export const LAMBDA_RUNTIME = "nodejs22.x";
export const BUNDLE_TARGET = "node22";

/**
 * Packages left out of the bundle, loaded from the runtime's own copy instead: none. The AWS SDK
 * v3 clients are bundled (ESM, `module,main` resolution, minified, tree-shaken): resolving and
 * loading the runtime's copy file by file costs more at cold start than the bytes they add, and
 * the bundle then runs the SDK version the tests ran.
 */
export const BUNDLE_EXTERNAL: string[] = [];
