import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "test/**/*.test.ts"],
    // DynamoDB Local and the SES emulator are started once for the whole run; see test/global-setup.ts.
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    // The local engines run on Node 20 here; the SDK's advice to move to Node 22 is noise in test output.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    hookTimeout: 60_000,
    // Two cores: more workers only queue behind the one DynamoDB Local process.
    maxWorkers: 2,
  },
});
