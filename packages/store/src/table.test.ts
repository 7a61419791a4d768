import { DescribeTableCommand, DescribeTimeToLiveCommand } from "@aws-sdk/client-dynamodb";
import { StoreUnavailableError } from "@leadloop/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestTable, localClientConfig, type TestTable } from "../../../test/engines";
import { createDocumentClient } from "./document-client";
import { DynamoLeadStore } from "./dynamo-lead-store";
import { StoreError } from "./errors";
import { ensureTable, TABLE_INDEXES, TTL_ATTRIBUTE, tableDefinition } from "./table";

let table: TestTable;

beforeAll(async () => {
  table = await createTestTable("table");
});

afterAll(async () => {
  await table?.drop();
});

describe("the leadloop table", () => {
  it("is created on demand with its indexes and TTL, and ensureTable can run again and concurrently", async () => {
    await Promise.all([ensureTable(table.client, table.tableName), ensureTable(table.client, table.tableName)]);
    const { Table } = await table.client.send(new DescribeTableCommand({ TableName: table.tableName }));
    expect(Table?.TableStatus).toBe("ACTIVE");
    expect(Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName).sort()).toEqual(TABLE_INDEXES.map((i) => i.indexName).sort());
    const ttl = await table.client.send(new DescribeTimeToLiveCommand({ TableName: table.tableName }));
    expect(ttl.TimeToLiveDescription).toMatchObject({ AttributeName: TTL_ATTRIBUTE, TimeToLiveStatus: "ENABLED" });
  });

  it("defines every key attribute it indexes, and nothing else", () => {
    const definition = tableDefinition("t");
    expect(definition.BillingMode).toBe("PAY_PER_REQUEST");
    expect(definition.AttributeDefinitions?.map((a) => a.AttributeName).sort()).toEqual(
      ["pk", "sk", ...TABLE_INDEXES.flatMap((i) => [i.partitionKey.name, i.sortKey.name])].sort(),
    );
    expect(definition.GlobalSecondaryIndexes?.every((i) => i.Projection?.ProjectionType === "ALL")).toBe(true);
  });
});

describe("errors at the store boundary", () => {
  it("reports an unreachable DynamoDB as StoreUnavailableError", async () => {
    const client = createDocumentClient({ endpoint: "http://127.0.0.1:9", ...localClientConfig, maxAttempts: 1 });
    const store = new DynamoLeadStore({ client, tableName: "whatever", leadIdKey: "table-test-lead-id-key-0123456789" });
    await expect(store.getLead("x")).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it("reports a missing table as a StoreError, not an SDK error", async () => {
    const store = new DynamoLeadStore({ client: table.client, tableName: "no-such-table", leadIdKey: "table-test-lead-id-key-0123456789" });
    const error = await store.getLead("x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect(String(error)).toContain("ResourceNotFoundException");
  });

});
