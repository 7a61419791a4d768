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

/**
 * Packages replaced in every bundle, by the module that stands in for them (paths from the repo
 * root, where SST and the bench run esbuild). The SDK's default credential chain becomes the
 * environment alone, which is where Lambda puts the role's credentials (functions/lib/lambda-credentials.ts).
 */
export const BUNDLE_ALIAS: Record<string, string> = {
  "@aws-sdk/credential-provider-node": "./functions/lib/lambda-credentials.ts",
};

/**
 * esbuild's options for one function as SST v2 builds it (runtime/handlers/node.js, ESM branch),
 * for the bench and tests that build the bundles the stacks ship, with SST's own esbuild.
 */
export function sstBuildOptions(entry: string, outfile: string) {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node" as const,
    format: "esm" as const,
    target: BUNDLE_TARGET,
    mainFields: ["module", "main"],
    minify: true,
    keepNames: true,
    metafile: true as const,
    external: BUNDLE_EXTERNAL,
    alias: BUNDLE_ALIAS,
    logLevel: "error" as const,
    banner: {
      js: [
        `import { createRequire as topLevelCreateRequire } from 'module';`,
        "const require = topLevelCreateRequire(import.meta.url);",
        `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
        `const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))`,
      ].join("\n"),
    },
  };
}
