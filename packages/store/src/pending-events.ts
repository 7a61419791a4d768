/**
 * The outbox on the one table: an event a consumer needs is written as an item in the lead's
 * partition, in the same transaction as the state change it announces, carrying due-index
 * attributes under `OUTBOX#<shard>`. The producer deletes it once the bus took the event; the
 * republisher finds whatever is left when it falls due. Writing the same key twice keeps one item.
 */
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { BusEvent, PendingEvent } from "@leadloop/core";
import { queryShard } from "./due-query";
import { conditionally, attempt } from "./errors";
import { indexKeys, keys, OUTBOX_SHARDS } from "./keys";

type Item = Record<string, unknown>;

/** The Put that writes an outbox entry; stores add it to the transaction of their state change. */
export function pendingEventPut(tableName: string, pending: PendingEvent) {
  return {
    Put: {
      TableName: tableName,
      Item: {
        ...keys.pendingEvent(pending.leadId, pending.key),
        entity: "pending-event",
        leadId: pending.leadId,
        key: pending.key,
        event: stripUndefined(pending.event),
        dueAt: pending.dueAt,
        ...indexKeys.pendingEvent(pending.leadId, pending.key, pending.dueAt),
      },
    },
  };
}

function toPending(item: Item): PendingEvent {
  return { leadId: String(item.leadId), key: String(item.key), event: item.event as BusEvent, dueAt: String(item.dueAt) };
}

/** The outbox primitives DynamoLeadStore exposes on the LeadStore port. */
export class DynamoPendingEvents {
  readonly shards = OUTBOX_SHARDS;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async listDue(shard: number, upTo: string, limit: number): Promise<PendingEvent[]> {
    const items = await queryShard(this.client, this.tableName, {
      index: "due",
      partition: indexKeys.pendingEventShard(shard),
      upTo: indexKeys.dueUpTo(upTo),
      limit,
      doing: "listing events waiting for the bus",
    });
    return items.map(toPending);
  }

  /** Moves the entry's due time to `until`, only if nobody moved it since it was listed. */
  claim(pending: PendingEvent, until: string): Promise<boolean> {
    return conditionally("claiming an event waiting for the bus", () =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.pendingEvent(pending.leadId, pending.key),
          UpdateExpression: "SET dueAt = :until, dueSk = :dueSk",
          ConditionExpression: "dueAt = :was",
          ExpressionAttributeValues: { ":until": until, ":was": pending.dueAt, ":dueSk": indexKeys.pendingEvent(pending.leadId, pending.key, until).dueSk },
        }),
      ),
    );
  }

  /** Stores entries with plain puts (no state change beside them): the same key twice is one entry. */
  async put(pending: PendingEvent[]): Promise<void> {
    await attempt("keeping events the bus refused in the outbox", () =>
      Promise.all(pending.map((p) => this.client.send(new PutCommand(pendingEventPut(this.tableName, p).Put)))),
    );
  }

  async remove(pending: Pick<PendingEvent, "leadId" | "key">[]): Promise<void> {
    await attempt("removing announced events from the outbox", () =>
      Promise.all(pending.map((p) => this.client.send(new DeleteCommand({ TableName: this.tableName, Key: keys.pendingEvent(p.leadId, p.key) })))),
    );
  }
}

function stripUndefined<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
