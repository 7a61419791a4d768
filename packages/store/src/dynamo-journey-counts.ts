/**
 * Leads per sequence step for the journey view, read from the due index: every active
 * enrollment has one entry in the `DUE#<shard>` partitions naming the step it waits for.
 * Read-only, and only the two attributes the count needs are returned; the read is proportional
 * to active enrollments, paid when someone looks, never on the send path.
 */
import { type DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { JourneyCountStore, StepCount } from "@leadloop/core";
import { translateError } from "./errors";
import { DUE_SHARDS, indexKeys } from "./keys";

export class DynamoJourneyCounts implements JourneyCountStore {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: { client: DynamoDBDocumentClient; tableName: string }) {
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async countWaitingByStep(): Promise<StepCount[]> {
    const counts = new Map<string, StepCount>();
    const perShard = await Promise.all(Array.from({ length: DUE_SHARDS }, (_, shard) => this.#readShard(shard)));
    for (const items of perShard) {
      for (const item of items) {
        const sequenceId = String(item.sequenceId);
        const stepId = String(item.nextStepId);
        const key = `${sequenceId}\u0000${stepId}`;
        const entry = counts.get(key) ?? { sequenceId, stepId, leads: 0 };
        entry.leads++;
        counts.set(key, entry);
      }
    }
    return [...counts.values()];
  }

  async #readShard(shard: number): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    try {
      do {
        const out = await this.#client.send(
          new QueryCommand({
            TableName: this.#table,
            IndexName: "due",
            KeyConditionExpression: "duePk = :pk",
            ExpressionAttributeValues: { ":pk": indexKeys.dueShard(shard) },
            ProjectionExpression: "sequenceId, nextStepId",
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        items.push(...(out.Items ?? []));
        start = out.LastEvaluatedKey;
      } while (start);
    } catch (error) {
      throw translateError(error, "counting leads per sequence step");
    }
    return items;
  }
}
