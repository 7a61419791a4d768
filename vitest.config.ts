import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "test/**/*.test.ts"],
    // DynamoDB Local and the SES emulator are started once for the whole run; see test/global-setup.ts.
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: more workers only queue behind the one DynamoDB Local process.
    maxWorkers: 2,
  },
});
