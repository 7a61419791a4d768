/** Helpers for tests that talk to the run's local engines (started in test/global-setup.ts). */
import { randomUUID } from "node:crypto";
import { DeleteTableCommand } from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createDocumentClient, ensureTable } from "@leadloop/store";
import { inject } from "vitest";

/** Local engines accept any credentials; fixed ones keep the SDK from looking for real ones. */
export const localClientConfig = {
  region: "us-east-1",
  credentials: { accessKeyId: "local", secretAccessKey: "local" },
} as const;

export function dynamoEndpoint(): string {
  return inject("dynamoEndpoint");
}

export function sesEndpoint(): string {
  return inject("sesEndpoint");
}

export function localDocumentClient(): DynamoDBDocumentClient {
  return createDocumentClient({ endpoint: dynamoEndpoint(), ...localClientConfig });
}

export interface TestTable {
  tableName: string;
  client: DynamoDBDocumentClient;
  drop(): Promise<void>;
}

/** A table of the leadloop shape, named uniquely so test files running at once never share data. */
export async function createTestTable(prefix = "test"): Promise<TestTable> {
  const tableName = `${prefix}-${randomUUID()}`;
  const client = localDocumentClient();
  await ensureTable(client, tableName);
  return {
    tableName,
    client,
    async drop() {
      await client.send(new DeleteTableCommand({ TableName: tableName }));
      client.destroy();
    },
  };
}
