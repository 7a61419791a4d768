/**
 * Rate-limit windows on the one table: one UpdateItem per client key and request, an ADD guarded
 * by `hits < limit`, so the counter stops at the limit (a refused hit writes nothing) and the
 * item expires by TTL a minute after its window. The limit's rules are core's (client-limits.ts).
 */
import { type DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { RateWindowStore, WindowLimit } from "@leadloop/core";
import { conditionally } from "./errors";
import { keys } from "./keys";
import { TTL_ATTRIBUTE } from "./table";

/** DynamoDB's TTL deletes within days, not at once: the window's start in the key keeps a stale item from counting. */
const EXPIRY_SLACK_SECONDS = 60;

export class DynamoRateWindows implements RateWindowStore {
  constructor(private readonly options: { client: DynamoDBDocumentClient; tableName: string }) {}

  hit(key: string, windowStartMs: number, limit: WindowLimit): Promise<boolean> {
    const expiresAt = Math.ceil(windowStartMs / 1000) + limit.windowSeconds + EXPIRY_SLACK_SECONDS;
    return conditionally("counting a rate-limit hit", () =>
      this.options.client.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: keys.rateWindow(key, windowStartMs),
          UpdateExpression: "ADD hits :one SET #ttl = if_not_exists(#ttl, :ttl)",
          ConditionExpression: "attribute_not_exists(hits) OR hits < :limit",
          ExpressionAttributeNames: { "#ttl": TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ":one": 1, ":limit": limit.limit, ":ttl": expiresAt },
        }),
      ),
    );
  }
}
