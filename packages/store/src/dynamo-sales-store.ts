/**
 * The SalesStore port on the one table. A team's queue is its own partition (`QUEUE#<team>`,
 * ordered by qualification time); a lead's pointer to its current hand-off sits in the lead's
 * partition; claim deadlines and owed notifications are sparse, sharded index entries that leave
 * the index the moment they are settled. Every state change is conditional, so racing reps,
 * redelivered events and overlapping SLA checkers each get one winner.
 */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type { ClaimResult, Closure, Handoff, NotificationPatch, PendingEvent, QueueItem, QueueRef, SalesStore } from "@leadloop/core";
import { attempt, conditionally, isConditionFailure, translateError } from "./errors";
import { queryShard } from "./due-query";
import { pendingEventPut } from "./pending-events";
import { NOTIFY_SHARDS, SLA_SHARDS, salesIndexKeys, salesKeys } from "./sales-keys";
import { reasonsFromItem, storedReasons } from "./stored-score";

export interface DynamoSalesStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
}

type Item = Record<string, unknown>;

const QUEUE_FIELDS = [
  "teamId",
  "qualifiedAt",
  "leadId",
  "segment",
  "country",
  "score",
  "threshold",
  "reasons",
  "rep",
  "repName",
  "assignedAt",
  "claimBy",
  "misses",
  "escalatedAt",
  "claimedBy",
  "claimedAt",
  "emailedAt",
  "chattedAt",
  "notifiedAt",
  "notifyAttempts",
  "notifyAfter",
  "announceClaimAt",
] as const;

function toQueueItem(item: Item): QueueItem {
  const out: Record<string, unknown> = {};
  for (const field of QUEUE_FIELDS) if (item[field] !== undefined) out[field] = item[field];
  out.reasons = reasonsFromItem(item.reasons);
  out.misses ??= 0;
  out.notifyAttempts ??= 0;
  return out as unknown as QueueItem;
}

function toRef(item: Item): QueueRef {
  return { teamId: String(item.teamId), qualifiedAt: String(item.qualifiedAt), leadId: String(item.leadId) };
}


export class DynamoSalesStore implements SalesStore {
  readonly slaShards = SLA_SHARDS;
  readonly notifyShards = NOTIFY_SHARDS;
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: DynamoSalesStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async nextTurn(teamId: string): Promise<number> {
    const out = await attempt("taking a team's turn", () =>
      this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: salesKeys.roundRobin(teamId),
          UpdateExpression: "SET entity = :entity ADD turn :one",
          ExpressionAttributeValues: { ":one": 1, ":entity": "round-robin" },
          ReturnValues: "UPDATED_NEW",
        }),
      ),
    );
    return Number(out.Attributes?.turn);
  }

  async getQueueItem(ref: QueueRef): Promise<QueueItem | undefined> {
    const out = await attempt("reading a queue item", () =>
      this.#client.send(
        new GetCommand({ TableName: this.#table, Key: salesKeys.queueItem(ref.teamId, ref.qualifiedAt, ref.leadId), ConsistentRead: true }),
      ),
    );
    return out.Item ? toQueueItem(out.Item) : undefined;
  }

  /**
   * Two conditional puts, not a transaction (which bills each item twice, its index entries
   * included): the item first, then the pointer that makes it visible to reps. A second delivery
   * of the same qualification is refused by the first put; a stop between the two is finished by
   * the redelivery (`pointToHandoff`); an older qualification than the pointer's takes its item back.
   */
  async createHandoff(item: QueueItem): Promise<boolean> {
    const { teamId, qualifiedAt, leadId } = item;
    const written = await conditionally("writing a queue item", () =>
      this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            ...salesKeys.queueItem(teamId, qualifiedAt, leadId),
            entity: "queue-item",
            ...item,
            // Compact, like the lead's score: the item stays under 1 KB, so each write of it
            // (and of its index entries) is one unit.
            reasons: storedReasons(item.reasons),
            ...salesIndexKeys.sla(teamId, qualifiedAt, leadId, item.claimBy),
            ...(item.notifyAfter ? salesIndexKeys.notify(teamId, qualifiedAt, leadId, item.notifyAfter) : {}),
          },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      ),
    );
    if (!written) return false;
    if (await this.#point(item)) return true;
    // The pointer is at this qualification already or a newer one: a late redelivery of an old
    // `lead.qualified` (its queue item since closed and removed) must not queue the lead again.
    const pointer = await attempt("reading a hand-off", () =>
      this.#client.send(new GetCommand({ TableName: this.#table, Key: salesKeys.handoff(leadId), ConsistentRead: true })),
    );
    if (pointer.Item?.qualifiedAt === qualifiedAt) return true;
    await attempt("taking back a stale queue item", () =>
      this.#client.send(new DeleteCommand({ TableName: this.#table, Key: salesKeys.queueItem(teamId, qualifiedAt, leadId) })),
    );
    return false;
  }

  async pointToHandoff(item: QueueItem): Promise<void> {
    await this.#point(item);
  }

  /** Only a newer qualification replaces the pointer (a closed one keeps its closure otherwise). */
  #point(item: QueueItem): Promise<boolean> {
    const pointer: Item = {
      ...salesKeys.handoff(item.leadId),
      entity: "handoff",
      teamId: item.teamId,
      qualifiedAt: item.qualifiedAt,
      leadId: item.leadId,
      segment: item.segment,
      country: item.country,
      score: item.score,
      threshold: item.threshold,
      reasons: storedReasons(item.reasons),
    };
    return conditionally("writing a hand-off", () =>
      this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: stripUndefined(pointer),
          ConditionExpression: "attribute_not_exists(pk) OR qualifiedAt < :q",
          ExpressionAttributeValues: { ":q": item.qualifiedAt },
        }),
      ),
    );
  }

  async getHandoff(leadId: string): Promise<Handoff | undefined> {
    const out = await attempt("reading a hand-off", () =>
      this.#client.send(new GetCommand({ TableName: this.#table, Key: salesKeys.handoff(leadId), ConsistentRead: true })),
    );
    const p = out.Item;
    if (!p) return undefined;
    const handoff: Handoff = {
      ...toRef(p),
      segment: String(p.segment),
      ...(typeof p.country === "string" ? { country: p.country } : {}),
      score: Number(p.score),
      threshold: Number(p.threshold),
      reasons: reasonsFromItem(p.reasons),
      ...(p.closed ? { closed: p.closed as Closure } : {}),
    };
    if (!handoff.closed) {
      const item = await this.getQueueItem(handoff);
      if (item) handoff.item = item;
    }
    return handoff;
  }

  async #queryAll(input: QueryCommandInput, limit: number, doing: string): Promise<Item[]> {
    const items: Item[] = [];
    let start: Record<string, unknown> | undefined;
    await attempt(doing, async () => {
      do {
        const out = await this.#client.send(
          new QueryCommand({ ...input, Limit: limit - items.length, ...(start ? { ExclusiveStartKey: start } : {}) }),
        );
        items.push(...(out.Items ?? []));
        start = out.LastEvaluatedKey;
      } while (start && items.length < limit);
    });
    return items;
  }

  async listTeamQueue(teamId: string, limit = 200): Promise<QueueItem[]> {
    const items = await this.#queryAll(
      {
        TableName: this.#table,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": salesKeys.teamQueue(teamId) },
        ConsistentRead: true,
      },
      limit,
      "listing a team's queue",
    );
    return items.map(toQueueItem);
  }

  async listRepClaims(rep: string): Promise<QueueItem[]> {
    const items = await this.#queryAll(
      {
        TableName: this.#table,
        IndexName: "gsi1",
        KeyConditionExpression: "gsi1pk = :pk",
        ExpressionAttributeValues: { ":pk": salesIndexKeys.repClaims(rep) },
      },
      200,
      "listing a rep's claims",
    );
    return items.map(toQueueItem);
  }

  /**
   * One update, no transaction with an outbox entry: with `announceBy` the claimed item keeps an
   * SLA-index entry due then (`announceClaimAt`), which the claim-SLA check reads as "announce
   * `lead.claimed`" until `claimAnnounced` removes it.
   */
  async claim(ref: QueueRef, rep: string, at: string, announceBy?: string): Promise<ClaimResult> {
    const reminder = announceBy ? salesIndexKeys.sla(ref.teamId, ref.qualifiedAt, ref.leadId, announceBy) : undefined;
    const update = {
      TableName: this.#table,
      Key: salesKeys.queueItem(ref.teamId, ref.qualifiedAt, ref.leadId),
      // A claimed lead leaves the notification index and joins the rep's claims; it leaves the SLA
      // index too, or stays there only as the reminder to announce the claim.
      UpdateExpression: reminder
        ? "SET claimedBy = :me, claimedAt = :at, gsi1pk = :gsi1pk, gsi1sk = :gsi1sk, announceClaimAt = :announceBy, duePk = :duePk, dueSk = :dueSk REMOVE notifyAfter"
        : "SET claimedBy = :me, claimedAt = :at, gsi1pk = :gsi1pk, gsi1sk = :gsi1sk REMOVE duePk, dueSk, notifyAfter",
      ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(claimedBy)",
      ExpressionAttributeValues: {
        ":me": rep,
        ":at": at,
        ...prefixed(salesIndexKeys.repClaim(rep, at, ref.leadId)),
        ...(reminder ? { ":announceBy": announceBy, ...prefixed(reminder) } : {}),
      },
      ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
    };
    try {
      const out = await this.#client.send(new UpdateCommand({ ...update, ReturnValues: "ALL_NEW" }));
      return { claimed: true, already: false, item: toQueueItem(out.Attributes ?? {}) };
    } catch (error) {
      if (!isConditionFailure(error)) throw translateError(error, "claiming a lead");
      const old = (error as { Item?: Record<string, unknown> }).Item;
      if (!old) return { claimed: false, missing: true };
      const item = toQueueItem(unmarshallLoose(old));
      if (item.claimedBy === rep) return { claimed: true, already: true, item };
      return { claimed: false, ...(item.claimedBy ? { holder: item.claimedBy } : {}) };
    }
  }

  async claimAnnounced(ref: QueueRef, claimedAt: string): Promise<void> {
    await conditionally("recording a claim's announcement", () =>
      this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: salesKeys.queueItem(ref.teamId, ref.qualifiedAt, ref.leadId),
          UpdateExpression: "REMOVE announceClaimAt, duePk, dueSk",
          ConditionExpression: "attribute_exists(announceClaimAt) AND claimedAt = :at",
          ExpressionAttributeValues: { ":at": claimedAt },
        }),
      ),
    );
  }

  async reassign(
    ref: QueueRef,
    from: { rep: string; claimBy: string },
    to: { rep: string; repName: string; claimBy: string; misses: number; assignedAt: string; notifyAfter: string },
    announce: PendingEvent[] = [],
  ): Promise<boolean> {
    const sla = salesIndexKeys.sla(ref.teamId, ref.qualifiedAt, ref.leadId, to.claimBy);
    const notify = salesIndexKeys.notify(ref.teamId, ref.qualifiedAt, ref.leadId, to.notifyAfter);
    return conditionally("reassigning a lead", () =>
      this.#client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
          TableName: this.#table,
          Key: salesKeys.queueItem(ref.teamId, ref.qualifiedAt, ref.leadId),
          UpdateExpression:
            "SET rep = :rep, repName = :repName, claimBy = :claimBy, misses = :misses, assignedAt = :assignedAt, notifyAfter = :notifyAfter, notifyAttempts = :zero, duePk = :duePk, dueSk = :dueSk, gsi1pk = :gsi1pk, gsi1sk = :gsi1sk REMOVE emailedAt, chattedAt, notifiedAt",
          ConditionExpression: "rep = :fromRep AND claimBy = :fromClaimBy AND attribute_not_exists(claimedBy) AND attribute_not_exists(escalatedAt)",
          ExpressionAttributeValues: {
            ":rep": to.rep,
            ":repName": to.repName,
            ":claimBy": to.claimBy,
            ":misses": to.misses,
            ":assignedAt": to.assignedAt,
            ":notifyAfter": to.notifyAfter,
            ":zero": 0,
            ":fromRep": from.rep,
            ":fromClaimBy": from.claimBy,
            ...prefixed(sla),
            ...prefixed(notify),
          },
              },
            },
            ...announce.map((p) => pendingEventPut(this.#table, p)),
          ],
        }),
      ),
    );
  }

  async escalate(ref: QueueRef, from: { rep: string; claimBy: string }, misses: number, at: string): Promise<boolean> {
    return conditionally("escalating a lead", () =>
      this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: salesKeys.queueItem(ref.teamId, ref.qualifiedAt, ref.leadId),
          UpdateExpression: "SET escalatedAt = :at, misses = :misses REMOVE duePk, dueSk",
          ConditionExpression: "rep = :fromRep AND claimBy = :fromClaimBy AND attribute_not_exists(claimedBy) AND attribute_not_exists(escalatedAt)",
          ExpressionAttributeValues: { ":at": at, ":misses": misses, ":fromRep": from.rep, ":fromClaimBy": from.claimBy },
        }),
      ),
    );
  }

  async listOverdue(shard: number, now: string, limit: number): Promise<QueueRef[]> {
    const items = await queryShard(this.#client, this.#table, {
      index: "due",
      partition: salesIndexKeys.slaShard(shard),
      upTo: salesIndexKeys.upTo(now),
      limit,
      doing: "listing overdue claims",
    });
    return items.map(toRef);
  }

  async listUnnotified(shard: number, now: string, limit: number): Promise<QueueRef[]> {
    const items = await queryShard(this.#client, this.#table, {
      index: "gsi1",
      partition: salesIndexKeys.notifyShard(shard),
      upTo: salesIndexKeys.upTo(now),
      limit,
      doing: "listing owed notifications",
    });
    return items.map(toRef);
  }

  async recordNotification(ref: QueueRef, rep: string, patch: NotificationPatch): Promise<void> {
    const set: string[] = [];
    const remove: string[] = [];
    const values: Item = { ":rep": rep };
    for (const field of ["emailedAt", "chattedAt", "notifiedAt", "notifyAttempts"] as const) {
      if (patch[field] === undefined) continue;
      set.push(`${field} = :${field}`);
      values[`:${field}`] = patch[field];
    }
    if (patch.notifiedAt) remove.push("notifyAfter", "gsi1pk", "gsi1sk");
    else if (patch.notifyAfter) {
      const notify = salesIndexKeys.notify(ref.teamId, ref.qualifiedAt, ref.leadId, patch.notifyAfter);
      set.push("notifyAfter = :notifyAfter", "gsi1pk = :gsi1pk", "gsi1sk = :gsi1sk");
      Object.assign(values, { ":notifyAfter": patch.notifyAfter, ...prefixed(notify) });
    }
    if (set.length === 0 && remove.length === 0) return;
    // Only while the item is still this rep's and unclaimed: a claim owns gsi1 from then on.
    await conditionally("recording a notification", () =>
      this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: salesKeys.queueItem(ref.teamId, ref.qualifiedAt, ref.leadId),
          UpdateExpression: `${set.length ? `SET ${set.join(", ")} ` : ""}${remove.length ? `REMOVE ${remove.join(", ")}` : ""}`,
          ConditionExpression: "rep = :rep AND attribute_not_exists(claimedBy)",
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  async close(ref: QueueRef, closure: Closure, claimedBy: string | undefined, announce: PendingEvent[] = []): Promise<boolean> {
    return conditionally("recording an outcome", () =>
      this.#client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Delete: {
                TableName: this.#table,
                Key: salesKeys.queueItem(ref.teamId, ref.qualifiedAt, ref.leadId),
                ConditionExpression: claimedBy ? "claimedBy = :me" : "attribute_exists(pk)",
                ...(claimedBy ? { ExpressionAttributeValues: { ":me": claimedBy } } : {}),
              },
            },
            {
              Update: {
                TableName: this.#table,
                Key: salesKeys.handoff(ref.leadId),
                UpdateExpression: "SET closed = :closure",
                ConditionExpression: "qualifiedAt = :q AND attribute_not_exists(closed)",
                ExpressionAttributeValues: { ":closure": stripUndefined(closure), ":q": ref.qualifiedAt },
              },
            },
            ...announce.map((p) => pendingEventPut(this.#table, p)),
          ],
        }),
      ),
    );
  }
}

/** `{gsi1pk, gsi1sk}` → `{":gsi1pk": …, ":gsi1sk": …}` for an expression's values. */
function prefixed(entries: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(entries).map(([k, v]) => [`:${k}`, v]));
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * The item a failed condition returns comes back in DynamoDB's wire format (the document client
 * does not unmarshall error payloads); only the plain attribute types a queue item uses occur.
 */
function unmarshallLoose(item: Record<string, unknown>): Item {
  const one = (v: unknown): unknown => {
    if (typeof v !== "object" || v === null) return v;
    const av = v as Record<string, unknown>;
    if ("S" in av) return av.S;
    if ("N" in av) return Number(av.N);
    if ("BOOL" in av) return av.BOOL;
    if ("NULL" in av) return null;
    if ("L" in av) return (av.L as unknown[]).map(one);
    if ("M" in av) return unmarshallLoose(av.M as Record<string, unknown>);
    return v;
  };
  return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, one(v)]));
}
