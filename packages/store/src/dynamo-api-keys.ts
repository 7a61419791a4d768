/**
 * The ApiKeyStore port on the one table: one item per key (`APIKEY#<id>`), holding its SHA-256
 * hash, never the key; listed through gsi1's `APIKEYS` partition. Reads are strongly consistent,
 * so a revocation is seen by the next request in any container.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { ApiKeyRecord, type ApiKeyStore } from "@leadloop/core";
import { queryShard } from "./due-query";
import { attempt, conditionally } from "./errors";
import { indexKeys, keys } from "./keys";

/** More keys than this is not an integration list but a leak; the admin list stops there. */
const MAX_LISTED = 1000;

const recordOf = (item: Record<string, unknown>): ApiKeyRecord => ApiKeyRecord.parse(item);

export class DynamoApiKeys implements ApiKeyStore {
  constructor(private readonly options: { client: DynamoDBDocumentClient; tableName: string }) {}

  async putApiKey(record: ApiKeyRecord): Promise<void> {
    const stored = await conditionally("storing an API key", () =>
      this.options.client.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: { ...keys.apiKey(record.id), ...indexKeys.apiKeyList(record.id, record.createdAt), type: "api-key", ...record },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      ),
    );
    if (!stored) throw new Error(`API key id ${record.id} already exists; create the key again`);
  }

  async getApiKey(id: string): Promise<ApiKeyRecord | undefined> {
    const out = await attempt("reading an API key", () =>
      this.options.client.send(new GetCommand({ TableName: this.options.tableName, Key: keys.apiKey(id), ConsistentRead: true })),
    );
    return out.Item ? recordOf(out.Item) : undefined;
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    const items = await queryShard(this.options.client, this.options.tableName, {
      index: "gsi1",
      partition: "APIKEYS",
      limit: MAX_LISTED,
      doing: "listing API keys",
    });
    return items.map(recordOf);
  }

  revokeApiKey(id: string, at: string): Promise<boolean> {
    return conditionally("revoking an API key", () =>
      this.options.client.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: keys.apiKey(id),
          UpdateExpression: "SET revokedAt = if_not_exists(revokedAt, :at)",
          ConditionExpression: "attribute_exists(pk)",
          ExpressionAttributeValues: { ":at": at },
        }),
      ),
    );
  }

  async touchApiKey(id: string, at: string, notBefore: string): Promise<void> {
    await conditionally("recording an API key's last use", () =>
      this.options.client.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: keys.apiKey(id),
          UpdateExpression: "SET lastUsedAt = :at",
          ConditionExpression: "attribute_exists(pk) AND (attribute_not_exists(lastUsedAt) OR lastUsedAt < :notBefore)",
          ExpressionAttributeValues: { ":at": at, ":notBefore": notBefore },
        }),
      ),
    );
  }
}
