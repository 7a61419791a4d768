/**
 * Starts the local engines the adapter and end-to-end tests talk to: one DynamoDB Local (in
 * memory) and one SES v2 emulator for the whole run. Test files share them and keep apart by
 * table name (see test/engines.ts).
 */
import { startDynamoDbLocal, startSesLocal } from "@leadloop/local/engines/index";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    sesEndpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [dynamo, ses] = await Promise.allSettled([startDynamoDbLocal(), startSesLocal()]);
  if (dynamo.status === "rejected" || ses.status === "rejected") {
    await Promise.all([dynamo, ses].map((s) => (s.status === "fulfilled" ? s.value.stop() : undefined)));
    throw dynamo.status === "rejected" ? dynamo.reason : (ses as PromiseRejectedResult).reason;
  }
  project.provide("dynamoEndpoint", dynamo.value.endpoint);
  project.provide("sesEndpoint", ses.value.endpoint);
  return async () => {
    await Promise.all([dynamo.value.stop(), ses.value.stop()]);
  };
}
