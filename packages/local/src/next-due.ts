/**
 * When is the next thing due? The clock's advance asks this to jump from one due moment to the
 * next instead of stepping through every minute. Every sparse index of due work (nurture steps,
 * recycle dates, claim deadlines, unannounced qualifications, and whatever a later job adds) lives
 * in the table's `due` index with a sort key that starts with its due time, so one scan of that
 * sparse index answers for all of them, including jobs added after this was written. Owed rep
 * notifications wait in `gsi1`'s NOTIFY shards instead, queried on their own.
 */
import { NOTIFY_SHARDS, salesIndexKeys } from "@leadloop/store";
import { type DynamoDBDocumentClient, QueryCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";

/** The earliest due time strictly after `after` in any due index, if there is one. */
export async function nextDueAt(client: DynamoDBDocumentClient, tableName: string, after: Date): Promise<Date | undefined> {
  // Anything due at `after` or before sorts at or below `<after>$`; the jobs just ran for those.
  const bound = `${after.toISOString()}$`;
  let earliest: string | undefined;
  const consider = (sortKey: unknown) => {
    if (typeof sortKey !== "string") return;
    const at = sortKey.split("#")[0] ?? "";
    if (at > after.toISOString() && (earliest === undefined || at < earliest)) earliest = at;
  };
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: tableName,
        IndexName: "due",
        ProjectionExpression: "dueSk",
        FilterExpression: "dueSk > :bound",
        ExpressionAttributeValues: { ":bound": bound },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of page.Items ?? []) consider(item.dueSk);
    start = page.LastEvaluatedKey;
  } while (start);
  const notify = await Promise.all(
    Array.from({ length: NOTIFY_SHARDS }, (_, shard) =>
      client.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: "gsi1",
          KeyConditionExpression: "gsi1pk = :pk AND gsi1sk > :bound",
          ExpressionAttributeValues: { ":pk": salesIndexKeys.notifyShard(shard), ":bound": bound },
          ProjectionExpression: "gsi1sk",
          Limit: 1,
        }),
      ),
    ),
  );
  for (const page of notify) consider(page.Items?.[0]?.gsi1sk);
  if (earliest === undefined) return undefined;
  const at = new Date(earliest);
  return Number.isFinite(at.getTime()) ? at : undefined;
}
