/**
 * The FeedbackStore port on the one table. A closure lives on its lead (`outcome`), moved with the
 * lead's optimistic `version` in one transaction with its activity and its recycle schedule, so a
 * redelivered `lead.closed` finds its own `closedAt` and writes nothing. The schedule is one item
 * per lead (`LEAD#<id>` / `RECYCLE`) carrying due-index attributes under `RECYCLE#<shard>`
 * partitions: sparse, sharded, and read only when due.
 */
import { createHash } from "node:crypto";
import { type DynamoDBDocumentClient, DeleteCommand, GetCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import type { FeedbackStore, NewActivity, OutcomeRecord, RecordOutcomeResult, RecycleInput, RecycleRef, RecycleResult, Stage } from "@leadloop/core";
import { translateError } from "./errors";
import { queryShard } from "./due-query";
import { indexKeys, keys, RECYCLE_SHARDS } from "./keys";
import { scoreFromItem, storedScore } from "./stored-score";

export interface DynamoFeedbackStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
}

type Item = Record<string, unknown>;

/** Version races with concurrent captures are short; this many re-reads is plenty. */
const MAX_ATTEMPTS = 20;

/**
 * A stable activity id for a write that may be retried: the time (fixed width, so it sorts like
 * every other activity id) and a hash of what makes it unique instead of random hex.
 */
export function stableActivityId(at: string, ...parts: string[]): string {
  const hash = createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, 12);
  return `${new Date(at).toISOString()}-${hash}`;
}

function errorName(error: unknown): string | undefined {
  return (error as { name?: string } | undefined)?.name;
}

/** Which items of a cancelled transaction failed their condition. */
function failedConditions(error: unknown): boolean[] | undefined {
  if (errorName(error) !== "TransactionCanceledException") return undefined;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons.map((r) => r.Code === "ConditionalCheckFailed");
}

const isConflict = (error: unknown) =>
  errorName(error) === "TransactionConflictException" ||
  (failedConditions(error)?.every((f) => !f) ?? false);

export class DynamoFeedbackStore implements FeedbackStore {
  readonly recycleShards = RECYCLE_SHARDS;
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: DynamoFeedbackStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async #lead(leadId: string): Promise<Item | undefined> {
    try {
      const out = await this.#client.send(new GetCommand({ TableName: this.#table, Key: keys.lead(leadId), ConsistentRead: true }));
      return out.Item;
    } catch (error) {
      throw translateError(error, "reading a lead for its outcome");
    }
  }

  #activityPut(leadId: string, activity: NewActivity, id: string) {
    return {
      Put: {
        TableName: this.#table,
        Item: { ...keys.activity(leadId, id), entity: "activity", leadId, id, ...activity },
      },
    };
  }

  async recordOutcome(leadId: string, record: OutcomeRecord): Promise<RecordOutcomeResult> {
    const closedAt = record.outcome.closedAt;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const lead = await this.#lead(leadId);
      if (!lead) return "missing";
      const recorded = (lead.outcome as { closedAt?: string } | undefined)?.closedAt;
      if (recorded === closedAt) return "duplicate";
      if (recorded !== undefined && recorded > closedAt) return "superseded";

      const version = Number(lead.version ?? 0);
      const names: Record<string, string> = { "#outcome": "outcome", "#updatedAt": "updatedAt", "#version": "version" };
      // The lead keeps what ordering closures needs; the whole closure (rep, reason and its label,
      // amount) is its deal.closed activity, so the lead item stays under 1 KB.
      const kept = { outcome: record.outcome.outcome, closedAt };
      const values: Record<string, unknown> = { ":outcome": kept, ":at": closedAt, ":version": version, ":next": version + 1 };
      const sets = ["#outcome = :outcome", "#updatedAt = :at", "#version = :next"];
      for (const field of ["stage", "segment"] as const) {
        if (record[field] === undefined) continue;
        names[`#${field}`] = field;
        values[`:${field}`] = record[field];
        sets.push(`#${field} = :${field}`);
      }
      const recycleAt = record.outcome.outcome === "not-now" ? record.outcome.recycleAt : undefined;
      const schedule = recycleAt
        ? {
            Put: {
              TableName: this.#table,
              Item: {
                ...keys.recycle(leadId),
                entity: "recycle",
                leadId,
                recycleAt,
                closedAt,
                state: "scheduled",
                ...indexKeys.recycleDue(leadId, recycleAt),
              },
            },
          }
        : // Any other outcome supersedes a recycle still waiting (a not-now lead that came back and won).
          { Delete: { TableName: this.#table, Key: keys.recycle(leadId) } };
      try {
        await this.#client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: this.#table,
                  Key: keys.lead(leadId),
                  UpdateExpression: `SET ${sets.join(", ")}`,
                  ConditionExpression: "#version = :version",
                  ExpressionAttributeNames: names,
                  ExpressionAttributeValues: values,
                },
              },
              this.#activityPut(leadId, record.activity, stableActivityId(closedAt, leadId, "closed", closedAt)),
              schedule,
            ],
          }),
        );
        return "recorded";
      } catch (error) {
        if (failedConditions(error)?.[0] || isConflict(error)) continue;
        throw translateError(error, "recording a closed deal");
      }
    }
    throw translateError(Object.assign(new Error("the lead kept changing"), { name: "TransactionConflictException" }), "recording a closed deal");
  }

  async listRecycleDue(shard: number, now: string, limit: number): Promise<RecycleRef[]> {
    const items = await queryShard(this.#client, this.#table, {
      index: "due",
      partition: indexKeys.recycleShard(shard),
      upTo: indexKeys.dueUpTo(now),
      limit,
      doing: "listing leads due to recycle",
    });
    return items.map((item) => ({
      leadId: String(item.leadId),
      recycleAt: String(item.recycleAt),
      closedAt: String(item.closedAt),
      state: item.state === "recycled" ? "recycled" : "scheduled",
      ...(typeof item.segment === "string" ? { segment: item.segment } : {}),
    }));
  }

  async recycleLead(ref: RecycleRef, input: RecycleInput): Promise<RecycleResult> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const lead = await this.#lead(ref.leadId);
      const latest = (lead?.outcome as { closedAt?: string } | undefined)?.closedAt;
      // The lifecycle's stages are checked here and again in the write: never out of a sales queue.
      if (!lead || latest !== ref.closedAt || !input.fromStages.includes(lead.stage as Stage)) {
        await this.finishRecycle(ref);
        return { kind: "stale" };
      }
      const version = Number(lead.version ?? 0);
      const names: Record<string, string> = { "#stage": "stage", "#segment": "segment", "#updatedAt": "updatedAt", "#version": "version" };
      const values: Record<string, unknown> = {
        ":stage": input.stage,
        ":segment": input.segment,
        ":at": input.at,
        ":version": version,
        ":next": version + 1,
      };
      const sets = ["#stage = :stage", "#segment = :segment", "#updatedAt = :at", "#version = :next"];
      const from = input.fromStages.map((stage, i) => {
        values[`:from${i}`] = stage;
        return `:from${i}`;
      });
      const score = scoreFromItem(lead.score);
      let before: number | undefined;
      let after: number | undefined;
      if (score && typeof score.engagement === "number") {
        const rescored = input.rescore(score);
        before = score.engagement;
        after = rescored.engagement;
        names["#score"] = "score";
        values[":score"] = storedScore(rescored);
        sets.push("#score = :score");
      }
      try {
        await this.#client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: this.#table,
                  Key: keys.lead(ref.leadId),
                  UpdateExpression: `SET ${sets.join(", ")}`,
                  ConditionExpression: `#version = :version AND #stage IN (${from.join(", ")})`,
                  ExpressionAttributeNames: names,
                  ExpressionAttributeValues: values,
                },
              },
              {
                Update: {
                  TableName: this.#table,
                  Key: keys.recycle(ref.leadId),
                  UpdateExpression: "SET #state = :recycled, #segment = :segment, recycledAt = :at",
                  ConditionExpression: "#state = :scheduled AND recycleAt = :recycleAt",
                  ExpressionAttributeNames: { "#state": "state", "#segment": "segment" },
                  ExpressionAttributeValues: {
                    ":recycled": "recycled",
                    ":scheduled": "scheduled",
                    ":segment": input.segment,
                    ":at": input.at,
                    ":recycleAt": ref.recycleAt,
                  },
                },
              },
              this.#activityPut(
                ref.leadId,
                {
                  type: "lead.recycled",
                  at: input.at,
                  data: {
                    segment: input.segment,
                    recycleOn: ref.recycleAt,
                    closedAt: ref.closedAt,
                    engagement: input.engagement,
                    ...(before !== undefined ? { engagementBefore: before, engagementAfter: after } : {}),
                  },
                },
                stableActivityId(input.at, ref.leadId, "recycled", ref.closedAt),
              ),
            ],
          }),
        );
        return { kind: "recycled", ...(before !== undefined && after !== undefined ? { engagementBefore: before, engagementAfter: after } : {}) };
      } catch (error) {
        const failed = failedConditions(error);
        if (failed?.[1]) return { kind: "taken" };
        if (failed?.[0] || isConflict(error)) continue;
        throw translateError(error, "recycling a lead");
      }
    }
    return { kind: "taken" };
  }

  async finishRecycle(ref: RecycleRef): Promise<void> {
    try {
      await this.#client.send(
        new DeleteCommand({
          TableName: this.#table,
          Key: keys.recycle(ref.leadId),
          // A newer closure may have scheduled another date meanwhile: that one stays.
          ConditionExpression: "recycleAt = :recycleAt AND closedAt = :closedAt",
          ExpressionAttributeValues: { ":recycleAt": ref.recycleAt, ":closedAt": ref.closedAt },
        }),
      );
    } catch (error) {
      if (errorName(error) === "ConditionalCheckFailedException") return;
      throw translateError(error, "finishing a recycle");
    }
  }
}
