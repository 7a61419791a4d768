/**
 * The one leadloop table: its shape, shared by the infra stack, the local stack and the tests
 * so they cannot drift, and an idempotent `ensureTable` for local engines.
 */
import {
  type CreateTableCommandInput,
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { translateError } from "./errors";

/** Items carrying this attribute (epoch seconds) are deleted by DynamoDB after that time. */
export const TTL_ATTRIBUTE = "expiresAt";

export interface KeyAttribute {
  name: string;
  /** DynamoDB's type letter; CDK's `AttributeType.STRING` is the same "S". */
  type: "S";
}

export interface TableIndex {
  indexName: string;
  partitionKey: KeyAttribute;
  sortKey: KeyAttribute;
}

export const TABLE_KEY = {
  partitionKey: { name: "pk", type: "S" },
  sortKey: { name: "sk", type: "S" },
} as const satisfies { partitionKey: KeyAttribute; sortKey: KeyAttribute };

/**
 * Both indexes are sparse and project every attribute. `gsi1` is overloaded (unpublished leads,
 * messages by SES id, a rep's claims); `due` holds only enrollment steps waiting to be sent.
 */
export const TABLE_INDEXES: readonly TableIndex[] = [
  { indexName: "gsi1", partitionKey: { name: "gsi1pk", type: "S" }, sortKey: { name: "gsi1sk", type: "S" } },
  { indexName: "due", partitionKey: { name: "duePk", type: "S" }, sortKey: { name: "dueSk", type: "S" } },
];

export function tableDefinition(tableName: string): CreateTableCommandInput {
  const attributes = [TABLE_KEY.partitionKey, TABLE_KEY.sortKey, ...TABLE_INDEXES.flatMap((i) => [i.partitionKey, i.sortKey])];
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: attributes.map((a) => ({ AttributeName: a.name, AttributeType: a.type })),
    KeySchema: [
      { AttributeName: TABLE_KEY.partitionKey.name, KeyType: "HASH" },
      { AttributeName: TABLE_KEY.sortKey.name, KeyType: "RANGE" },
    ],
    GlobalSecondaryIndexes: TABLE_INDEXES.map((index) => ({
      IndexName: index.indexName,
      KeySchema: [
        { AttributeName: index.partitionKey.name, KeyType: "HASH" },
        { AttributeName: index.sortKey.name, KeyType: "RANGE" },
      ],
      Projection: { ProjectionType: "ALL" },
    })),
  };
}

/** Creates the table if it is missing, waits until it is active and turns TTL on. Safe to repeat
 * and to run from several processes at once. */
export async function ensureTable(documentOrBase: DynamoDBClient | DynamoDBDocumentClient, tableName: string): Promise<void> {
  // A document client sends base commands unchanged (it is the same client with marshalling
  // middleware), so one code path serves both; the cast only merges the two send() overloads.
  const client = documentOrBase as DynamoDBClient;
  try {
    try {
      await client.send(new DescribeTableCommand({ TableName: tableName }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
      try {
        await client.send(new CreateTableCommand(tableDefinition(tableName)));
      } catch (createError) {
        // Someone else created it first: fine, wait for it like for our own.
        if (!(createError instanceof ResourceInUseException)) throw createError;
      }
    }
    await waitUntilTableExists({ client, maxWaitTime: 120, minDelay: 1, maxDelay: 5 }, { TableName: tableName });
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
    if (status !== "ENABLED" && status !== "ENABLING") {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: tableName,
          TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
        }),
      );
    }
  } catch (error) {
    throw translateError(error, `ensuring table ${tableName}`);
  }
}
