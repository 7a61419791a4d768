/**
 * Rate-limit windows on the one table: one UpdateItem per client key and lease (core's
 * client-limits.ts leases a block of requests to a busy key), an ADD guarded by `hits < limit`,
 * so a full window takes nothing (a refused hit writes nothing) and a lease that reaches past the
 * limit is granted only what was left. The item expires by TTL a minute after its window.
 */
import { type DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { RateWindowStore, WindowLimit } from "@leadloop/core";
import { conditionally } from "./errors";
import { keys } from "./keys";
import { TTL_ATTRIBUTE } from "./table";

/** DynamoDB's TTL deletes within days, not at once: the window's start in the key keeps a stale item from counting. */
const EXPIRY_SLACK_SECONDS = 60;

/** The conditional count of `count` hits in a window, alone or as an item of a transaction. */
export function windowUpdate(tableName: string, key: string, windowStartMs: number, limit: WindowLimit, count: number) {
  const expiresAt = Math.ceil(windowStartMs / 1000) + limit.windowSeconds + EXPIRY_SLACK_SECONDS;
  return {
    TableName: tableName,
    Key: keys.rateWindow(key, windowStartMs),
    UpdateExpression: "ADD hits :n SET #ttl = if_not_exists(#ttl, :ttl)",
    ConditionExpression: "attribute_not_exists(hits) OR hits < :limit",
    ExpressionAttributeNames: { "#ttl": TTL_ATTRIBUTE },
    ExpressionAttributeValues: { ":n": count, ":limit": limit.limit, ":ttl": expiresAt },
  };
}

export class DynamoRateWindows implements RateWindowStore {
  constructor(private readonly options: { client: DynamoDBDocumentClient; tableName: string }) {}

  async hit(key: string, windowStartMs: number, limit: WindowLimit, count: number): Promise<number> {
    let hits = Number.NaN;
    const counted = await conditionally("counting a rate-limit hit", async () => {
      const out = await this.options.client.send(
        new UpdateCommand({ ...windowUpdate(this.options.tableName, key, windowStartMs, limit, count), ReturnValues: "UPDATED_NEW" }),
      );
      hits = Number(out.Attributes?.hits);
    });
    if (!counted) return 0;
    // The window held fewer than the limit before this call: at least one of the block is granted.
    return Number.isFinite(hits) ? Math.max(1, count - Math.max(0, hits - limit.limit)) : 1;
  }
}
