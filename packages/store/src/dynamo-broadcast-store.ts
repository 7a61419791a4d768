/**
 * The broadcast port on the one table: the run state beside per-shard tallies under
 * `BROADCAST#<id>`, each recipient in its lead's partition with a due-index entry in the
 * `BCAST#<shard>` partitions. A settle and its tally increment are one transaction, so a
 * recipient is counted exactly once however its claim ends.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, ScanCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { BroadcastState, BroadcastStore, BroadcastTally, Lead, Recipient, RecipientOutcome, RecipientRef } from "@leadloop/core";
import type { DueIndex } from "@leadloop/core/due-index";
import { queryShard } from "./due-query";
import { toLead } from "./dynamo-lead-store";
import { attempt, conditionally, isConditionFailure, translateError } from "./errors";
import { BROADCAST_SHARDS, broadcastKeys, shardOf } from "./keys";

type Item = Record<string, unknown>;

/** Puts in flight at once while queueing a page (DynamoDB Local serves about one at a time anyway). */
const PUT_CONCURRENCY = 8;

export class DynamoBroadcastStore implements BroadcastStore {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;
  readonly recipients: DueIndex<RecipientRef>;

  constructor(options: { client: DynamoDBDocumentClient; tableName: string }) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.recipients = {
      shards: BROADCAST_SHARDS,
      listDue: async (shard, upTo, limit) => {
        const items = await queryShard(this.#client, this.#table, {
          index: "due",
          partition: broadcastKeys.recipientShard(shard),
          upTo: `${upTo}$`,
          limit,
          doing: "listing due broadcast recipients",
        });
        return items.map((item) => ({ broadcastId: String(item.broadcastId), leadId: String(item.leadId), dueAt: String(item.dueAt) }));
      },
    };
  }

  async getState(broadcastId: string): Promise<BroadcastState | undefined> {
    const out = await attempt("reading a broadcast's state", () =>
      this.#client.send(new GetCommand({ TableName: this.#table, Key: broadcastKeys.state(broadcastId), ConsistentRead: true })),
    );
    return out.Item ? toState(out.Item) : undefined;
  }

  createState(state: BroadcastState): Promise<boolean> {
    return conditionally("creating a broadcast's state", () =>
      this.#client.send(
        new PutCommand({ TableName: this.#table, Item: stateItem(state), ConditionExpression: "attribute_not_exists(pk)" }),
      ),
    );
  }

  saveState(state: BroadcastState, expectedVersion: number): Promise<boolean> {
    return conditionally("saving a broadcast's state", () =>
      this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: stateItem(state),
          ConditionExpression: "#version = :expected",
          ExpressionAttributeNames: { "#version": "version" },
          ExpressionAttributeValues: { ":expected": expectedVersion },
        }),
      ),
    );
  }

  async scanLeads(cursor: string | undefined, limit: number): Promise<{ leads: Lead[]; cursor?: string }> {
    const leads: Lead[] = [];
    let start: Record<string, unknown> | undefined = cursor ? (JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as Item) : undefined;
    // A page ends at `limit` items read (leads or not), so its time is bounded whatever the table holds.
    const out = await attempt("reading a page of leads", () =>
      this.#client.send(
        new ScanCommand({
          TableName: this.#table,
          FilterExpression: "sk = :lead",
          ExpressionAttributeValues: { ":lead": "LEAD" },
          Limit: limit,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      ),
    );
    for (const item of out.Items ?? []) leads.push(toLead(item));
    start = out.LastEvaluatedKey;
    return { leads, ...(start ? { cursor: Buffer.from(JSON.stringify(start), "utf8").toString("base64url") } : {}) };
  }

  async addRecipients(recipients: Omit<Recipient, "status" | "attempts">[]): Promise<number> {
    let added = 0;
    let next = 0;
    const lane = async () => {
      for (let i = next++; i < recipients.length; i = next++) {
        const r = recipients[i] as Omit<Recipient, "status" | "attempts">;
        // Conditional: a page queued again after a crash must not reset a recipient already sent.
        const put = await conditionally("queueing a broadcast recipient", () =>
          this.#client.send(
            new PutCommand({
              TableName: this.#table,
              Item: {
                ...broadcastKeys.recipient(r.leadId, r.broadcastId),
                ...broadcastKeys.recipientDue(r.leadId, r.broadcastId, r.dueAt),
                entity: "broadcast-recipient",
                broadcastId: r.broadcastId,
                leadId: r.leadId,
                dueAt: r.dueAt,
                status: "pending",
                attempts: 0,
              },
              ConditionExpression: "attribute_not_exists(pk)",
            }),
          ),
        );
        if (put) added++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(PUT_CONCURRENCY, recipients.length) }, lane));
    return added;
  }

  async claimRecipient(ref: RecipientRef, claim: { token: string; until: string }, now: string): Promise<Recipient | undefined> {
    // The claimed entry stays in the due index at the claim's expiry, so a sender that dies
    // holding it is found again then, and only then.
    try {
      const out = await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: broadcastKeys.recipient(ref.leadId, ref.broadcastId),
          UpdateExpression: "SET #status = :sending, claim = :claim, dueAt = :until, dueSk = :dueSk",
          ConditionExpression: "dueAt = :due AND (#status = :pending OR (#status = :sending AND claim.#until <= :now))",
          ExpressionAttributeNames: { "#status": "status", "#until": "until" },
          ExpressionAttributeValues: {
            ":sending": "sending",
            ":pending": "pending",
            ":claim": claim,
            ":until": claim.until,
            ":dueSk": broadcastKeys.recipientDue(ref.leadId, ref.broadcastId, claim.until).dueSk,
            ":due": ref.dueAt,
            ":now": now,
          },
          ReturnValues: "ALL_OLD",
        }),
      );
      return out.Attributes ? toRecipient(out.Attributes) : undefined;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw translateError(error, "claiming a broadcast recipient");
    }
  }

  async settleRecipient(ref: RecipientRef, token: string, outcome: RecipientOutcome): Promise<boolean> {
    const key = broadcastKeys.recipient(ref.leadId, ref.broadcastId);
    const guard = {
      ConditionExpression: "#status = :sending AND claim.#token = :token",
      ExpressionAttributeNames: { "#status": "status", "#token": "token" } as Record<string, string>,
    };
    if ("retryAt" in outcome) {
      return conditionally("settling a broadcast recipient", () =>
        this.#client.send(
          new UpdateCommand({
            TableName: this.#table,
            Key: key,
            UpdateExpression: "SET #status = :pending, dueAt = :at, dueSk = :dueSk, attempts = :attempts REMOVE claim",
            ...guard,
            ExpressionAttributeValues: {
              ":pending": "pending",
              ":sending": "sending",
              ":token": token,
              ":at": outcome.retryAt,
              ":dueSk": broadcastKeys.recipientDue(ref.leadId, ref.broadcastId, outcome.retryAt).dueSk,
              ":attempts": outcome.attempts,
            },
          }),
        ),
      );
    }
    const detail = outcome.status === "sent" ? { messageId: outcome.messageId } : { reason: outcome.reason };
    return conditionally("settling a broadcast recipient", () =>
      this.#client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.#table,
                Key: key,
                // Leaving the due index: a settled recipient is never swept again.
                UpdateExpression: `SET #status = :final, ${"messageId" in detail ? "messageId" : "reason"} = :detail REMOVE claim, duePk, dueSk`,
                ...guard,
                ExpressionAttributeValues: {
                  ":final": outcome.status,
                  ":sending": "sending",
                  ":token": token,
                  ":detail": "messageId" in detail ? detail.messageId : detail.reason,
                },
              },
            },
            {
              Update: {
                TableName: this.#table,
                Key: broadcastKeys.tally(ref.broadcastId, shardOf(ref.leadId, BROADCAST_SHARDS)),
                UpdateExpression: "ADD #counter :one",
                ExpressionAttributeNames: { "#counter": outcome.status },
                ExpressionAttributeValues: { ":one": 1 },
              },
            },
          ],
        }),
      ),
    );
  }

  async tally(broadcastId: string): Promise<BroadcastTally> {
    const out = await attempt("reading a broadcast's tally", () =>
      this.#client.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
          ExpressionAttributeValues: { ":pk": broadcastKeys.state(broadcastId).pk, ":prefix": broadcastKeys.tallyPrefix },
          ConsistentRead: true,
        }),
      ),
    );
    const sum: BroadcastTally = { sent: 0, skipped: 0, uncertain: 0 };
    for (const item of out.Items ?? []) for (const k of ["sent", "skipped", "uncertain"] as const) sum[k] += Number(item[k] ?? 0);
    return sum;
  }
}

function stateItem(state: BroadcastState): Item {
  return {
    ...broadcastKeys.state(state.broadcastId),
    // While it waits for its start or is being queued, the state is in the due index: the local
    // clock stops at its start, and nothing else reads this entry.
    ...(state.status === "scheduled" || state.status === "queueing" ? broadcastKeys.stateDue(state.broadcastId, state.startAt) : {}),
    entity: "broadcast",
    ...state,
  };
}

function toState(item: Item): BroadcastState {
  return {
    broadcastId: String(item.broadcastId),
    status: item.status as BroadcastState["status"],
    startAt: String(item.startAt),
    ...(typeof item.cursor === "string" ? { cursor: item.cursor } : {}),
    queued: Number(item.queued ?? 0),
    scanned: Number(item.scanned ?? 0),
    version: Number(item.version),
  };
}

function toRecipient(item: Item): Recipient {
  return {
    broadcastId: String(item.broadcastId),
    leadId: String(item.leadId),
    dueAt: String(item.dueAt),
    status: item.status as Recipient["status"],
    attempts: Number(item.attempts ?? 0),
    ...(item.claim ? { claim: item.claim as Recipient["claim"] } : {}),
    ...(typeof item.reason === "string" ? { reason: item.reason } : {}),
  };
}
