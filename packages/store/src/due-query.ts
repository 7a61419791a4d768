/**
 * Reading a sparse, sharded index: every due-index partition (`<KIND>#<shard>`, sorted by due
 * time) is read the same way, so each store lists a shard with this one query instead of its own.
 * Core's due-index.ts drives the sweep over the shards; a store only answers "what is due in this
 * shard".
 */
import { type DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { translateError } from "./errors";

type Item = Record<string, unknown>;

export interface DueQuery {
  /** `due` (duePk/dueSk) or `gsi1` (gsi1pk/gsi1sk), the two sparse indexes of the table. */
  index: "due" | "gsi1";
  /** The shard's partition, e.g. `DUE#3`. */
  partition: string;
  /** Entries sorting at or below this (`<time>$` for "due at or before time"); omit for all. */
  upTo?: string;
  limit: number;
  /** What the caller was doing, for the error a failure becomes. */
  doing: string;
}

/** Entries of one shard, oldest first, up to `limit`, following pages as needed. */
export async function queryShard(client: DynamoDBDocumentClient, tableName: string, query: DueQuery): Promise<Item[]> {
  if (query.limit <= 0) return [];
  const [pk, sk] = query.index === "due" ? ["duePk", "dueSk"] : ["gsi1pk", "gsi1sk"];
  const items: Item[] = [];
  let start: Record<string, unknown> | undefined;
  try {
    do {
      const out = await client.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: query.index,
          KeyConditionExpression: query.upTo !== undefined ? `${pk} = :pk AND ${sk} <= :upTo` : `${pk} = :pk`,
          ExpressionAttributeValues: { ":pk": query.partition, ...(query.upTo !== undefined ? { ":upTo": query.upTo } : {}) },
          Limit: query.limit - items.length,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start && items.length < query.limit);
  } catch (error) {
    throw translateError(error, query.doing);
  }
  return items;
}

/**
 * The oldest `limit` entries over every shard of one index: each shard read at once, merged in
 * due order. For jobs whose port lists the whole index at once (the republishers).
 */
export async function queryShards(
  client: DynamoDBDocumentClient,
  tableName: string,
  shards: number,
  query: Omit<DueQuery, "partition"> & { partition: (shard: number) => string },
): Promise<Item[]> {
  const sortKey = query.index === "due" ? "dueSk" : "gsi1sk";
  const perShard = await Promise.all(
    Array.from({ length: shards }, (_, shard) => queryShard(client, tableName, { ...query, partition: query.partition(shard) })),
  );
  return perShard
    .flat()
    .sort((a, b) => String(a[sortKey]).localeCompare(String(b[sortKey])))
    .slice(0, query.limit);
}
