/**
 * The NurtureStore port on the one table: enrollments live in their lead's partition, and only
 * an enrollment with a step waiting carries the due-index attributes (sparse, sharded), so a
 * sweep reads due work and nothing else. Claims and settlements are conditional writes: two
 * sweepers can never both own a step.
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type {
  AbDecision,
  DueRef,
  Enrollment,
  LeadNurtureState,
  MessageRecord,
  NurtureStore,
  StartEnrollmentOptions,
  StepWrite,
  SweepLease,
  SweepLeaseChange,
  VariantFigures,
} from "@leadloop/core";
import { newActivityId } from "./activity-id";
import { activityItem, toLead } from "./dynamo-lead-store";
import { attempt, conditionally, isConditionFailure, translateError } from "./errors";
import { queryShard } from "./due-query";
import { readSweepBatch, writeStepBatch } from "./dynamo-sweep-batch";
import { takeSweepLease, updateSweepLease } from "./dynamo-sweep-lease";
import { messageItem, toEnrollment, toMessage } from "./nurture-items";
import { DUE_SHARDS, indexKeys, keys, REPORT_SHARDS } from "./keys";
import { guardedKeys } from "./suppression-guard";

export interface DynamoNurtureStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
}

type Item = Record<string, unknown>;

export class DynamoNurtureStore implements NurtureStore {
  readonly shards = DUE_SHARDS;
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: DynamoNurtureStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async getEnrollment(leadId: string, sequenceId: string): Promise<Enrollment | undefined> {
    const out = await attempt("reading an enrollment", () =>
      this.#client.send(new GetCommand({ TableName: this.#table, Key: keys.enrollment(leadId, sequenceId), ConsistentRead: true })),
    );
    return out.Item ? toEnrollment(out.Item) : undefined;
  }

  /**
   * One strongly consistent Query of the lead's partition from `ENR#` to the end of `MSG#`: its
   * enrollments, hand-off pointer, the lead item and its messages, of which the filter keeps only
   * the recent nurture sends and those of the sequence asked for (activities, outside the range,
   * are never read).
   */
  async readNurtureState(leadId: string, options: { sentSince?: string; sequenceId?: string } = {}): Promise<LeadNurtureState> {
    const wanted: string[] = [];
    const values: Item = { ":pk": keys.lead(leadId).pk, ":from": "ENR#", ":to": "MSG#\uffff", ":message": "message", ":nurture": "nurture" };
    if (options.sentSince !== undefined) {
      wanted.push("sentAt >= :since");
      values[":since"] = options.sentSince;
    }
    if (options.sequenceId !== undefined) {
      wanted.push("sequenceId = :sequence");
      values[":sequence"] = options.sequenceId;
    }
    const filters = ["attribute_not_exists(#type)", "#type <> :message"];
    if (wanted.length > 0) filters.push(`(kind = :nurture AND (${wanted.join(" OR ")}))`);
    else delete values[":nurture"];
    const state: LeadNurtureState = { lead: undefined, enrollments: [], messages: [] };
    let start: Item | undefined;
    do {
      const out: QueryCommandOutput = await attempt("reading a lead's nurture state", () =>
        this.#client.send(
          new QueryCommand({
            TableName: this.#table,
            KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :to",
            FilterExpression: filters.join(" OR "),
            ExpressionAttributeNames: { "#type": "type" },
            ExpressionAttributeValues: values,
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        ),
      );
      for (const item of out.Items ?? []) {
        const sk = String(item.sk);
        if (sk === "LEAD") state.lead = toLead(item);
        else if (sk.startsWith("ENR#")) state.enrollments.push(toEnrollment(item));
        else if (sk.startsWith("MSG#")) state.messages.push(toMessage(item));
      }
      start = out.LastEvaluatedKey;
    } while (start);
    state.messages.sort((a, b) => (a.sentAt < b.sentAt ? -1 : a.sentAt > b.sentAt ? 1 : 0));
    return state;
  }

  async listEnrollments(leadId: string): Promise<Enrollment[]> {
    const out = await attempt("listing enrollments", () =>
      this.#client.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :enr)",
          ExpressionAttributeValues: { ":pk": keys.lead(leadId).pk, ":enr": "ENR#" },
          ConsistentRead: true,
        }),
      ),
    );
    return (out.Items ?? []).map(toEnrollment);
  }

  async startEnrollment(enrollment: Enrollment, previous?: Enrollment, options: StartEnrollmentOptions = {}): Promise<boolean | "suppressed"> {
    const item: Item = {
      ...keys.enrollment(enrollment.leadId, enrollment.sequenceId),
      type: "enrollment",
      // A restart keeps the sends of the run before it: the frequency cap still counts them.
      ...(previous?.recentSends && !enrollment.recentSends ? { recentSends: previous.recentSends } : {}),
      ...enrollment,
      ...(enrollment.status === "active" && enrollment.dueAt
        ? indexKeys.due(enrollment.leadId, enrollment.sequenceId, enrollment.dueAt)
        : {}),
    };
    const put = {
      TableName: this.#table,
      Item: item,
      ...(previous
        ? {
            // A restart replaces the ended run it read, and only that one.
            ConditionExpression: "#status = :ended AND runs = :runs",
            ExpressionAttributeNames: { "#status": "status" },
            ExpressionAttributeValues: { ":ended": "ended", ":runs": previous.runs },
          }
        : { ConditionExpression: "attribute_not_exists(pk)" }),
    };
    const stages = options.unlessStageIn ?? [];
    const suppressions = options.unlessSuppressed ? guardedKeys(options.unlessSuppressed) : [];
    if (!options.activity && stages.length === 0 && suppressions.length === 0) {
      return conditionally("starting an enrollment", () => this.#client.send(new PutCommand(put)));
    }
    // The start, its history line, the lead's stage and the address's suppressions as of the start
    // are one atomic write: a lead that moved into an excluded stage, or whose address was
    // suppressed, is never left with a running enrollment, no reader sees the enrollment without
    // its activity, and the suppressions cost no read of their own.
    const stageValues = Object.fromEntries(stages.map((stage, i) => [`:stage${i}`, stage]));
    const firstSuppression = 1 + (stages.length > 0 ? 1 : 0);
    try {
      await this.#client.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: put },
            ...(stages.length > 0
              ? [
                  {
                    ConditionCheck: {
                      TableName: this.#table,
                      Key: keys.lead(enrollment.leadId),
                      ConditionExpression: `attribute_exists(pk) AND NOT (#stage IN (${Object.keys(stageValues).join(", ")}))`,
                      ExpressionAttributeNames: { "#stage": "stage" },
                      ExpressionAttributeValues: stageValues,
                    },
                  },
                ]
              : []),
            ...suppressions.map((key) => ({
              ConditionCheck: { TableName: this.#table, Key: key, ConditionExpression: "attribute_not_exists(pk)" },
            })),
            ...(options.activity
              ? [
                  {
                    Put: {
                      TableName: this.#table,
                      Item: activityItem({ leadId: enrollment.leadId, id: newActivityId(options.activity.at), ...options.activity }),
                    },
                  },
                ]
              : []),
          ],
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionFailure(error)) throw translateError(error, "starting an enrollment");
      const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
      const suppressed = suppressions.some((_, i) => reasons[firstSuppression + i]?.Code === "ConditionalCheckFailed");
      return suppressed ? "suppressed" : false;
    }
  }

  async listDue(shard: number, now: string, limit: number): Promise<DueRef[]> {
    const items = await queryShard(this.#client, this.#table, {
      index: "due",
      partition: indexKeys.dueShard(shard),
      upTo: indexKeys.dueUpTo(now),
      limit,
      doing: "listing due steps",
    });
    return items.map((item) => ({
      leadId: String(item.leadId),
      sequenceId: String(item.sequenceId),
      stepId: String(item.nextStepId),
      dueAt: String(item.dueAt),
    }));
  }

  async takeSweepLease(shard: number, owner: string, until: string, now: string): Promise<SweepLease | undefined> {
    return takeSweepLease(this.#client, this.#table, shard, owner, until, now);
  }

  async updateSweepLease(shard: number, owner: string, change: SweepLeaseChange): Promise<boolean> {
    return updateSweepLease(this.#client, this.#table, shard, owner, change);
  }

  async readLeads(leadIds: readonly string[], sequenceIds: readonly string[]): Promise<Map<string, LeadNurtureState>> {
    return readSweepBatch(this.#client, this.#table, leadIds, sequenceIds);
  }

  async writeSteps(writes: readonly StepWrite[]): Promise<boolean[]> {
    return writeStepBatch(this.#client, this.#table, writes);
  }


  async endEnrollment(leadId: string, sequenceId: string, reason: string, at: string): Promise<void> {
    // Removing a live claim too means a sweeper holding the step cannot revive the enrollment.
    await conditionally("ending an enrollment", () =>
      this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: keys.enrollment(leadId, sequenceId),
          UpdateExpression: "SET #status = :ended, endedAt = :at, endReason = :reason REMOVE nextStepId, dueAt, duePk, dueSk, sending",
          ConditionExpression: "#status = :active",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: { ":ended": "ended", ":active": "active", ":at": at, ":reason": reason },
        }),
      ),
    );
  }

  async recordMessage(message: MessageRecord): Promise<void> {
    await attempt("recording a message", () =>
      this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: messageItem(message),
        }),
      ),
    );
  }

  async getMessage(leadId: string, messageId: string): Promise<MessageRecord | undefined> {
    const out = await attempt("reading a message", () =>
      this.#client.send(new GetCommand({ TableName: this.#table, Key: keys.message(leadId, messageId) })),
    );
    return out.Item ? toMessage(out.Item) : undefined;
  }

  async getMessageByProviderId(providerMessageId: string): Promise<MessageRecord | undefined> {
    const out = await attempt("finding a message by SES id", () =>
      this.#client.send(
        new QueryCommand({
          TableName: this.#table,
          IndexName: "gsi1",
          KeyConditionExpression: "gsi1pk = :pk",
          ExpressionAttributeValues: { ":pk": indexKeys.sesMessage(providerMessageId).gsi1pk },
          Limit: 1,
        }),
      ),
    );
    const item = out.Items?.[0];
    return item ? toMessage(item) : undefined;
  }

  async markMessage(
    leadId: string,
    messageId: string,
    field: "openedAt" | "clickedAt" | "bouncedAt" | "complainedAt",
    at: string,
  ): Promise<void> {
    await conditionally("marking a message", () =>
      this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: keys.message(leadId, messageId),
          UpdateExpression: "SET #f = if_not_exists(#f, :at)",
          ConditionExpression: "attribute_exists(pk)",
          ExpressionAttributeNames: { "#f": field },
          ExpressionAttributeValues: { ":at": at },
        }),
      ),
    );
  }

  async findSent(leadId: string, sequenceId: string, stepId: string, since: string): Promise<MessageRecord | undefined> {
    const out = await attempt("looking for a step already sent", () =>
      this.#client.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :msg)",
          FilterExpression: "kind = :nurture AND sequenceId = :sequence AND stepId = :step AND sentAt >= :since",
          ExpressionAttributeValues: {
            ":pk": keys.lead(leadId).pk,
            ":msg": "MSG#",
            ":nurture": "nurture",
            ":sequence": sequenceId,
            ":step": stepId,
            ":since": since,
          },
          ConsistentRead: true,
        }),
      ),
    );
    const item = out.Items?.[0];
    return item ? toMessage(item) : undefined;
  }

  async recentSends(leadId: string, since: string): Promise<string[]> {
    const out = await attempt("reading recent sends", () =>
      this.#client.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :msg)",
          FilterExpression: "kind = :nurture AND sentAt >= :since",
          ExpressionAttributeValues: { ":pk": keys.lead(leadId).pk, ":msg": "MSG#", ":nurture": "nurture", ":since": since },
          ConsistentRead: true,
        }),
      ),
    );
    return (out.Items ?? []).map((item) => String(item.sentAt)).sort();
  }

  async getAbDecision(sequenceId: string, stepId: string): Promise<AbDecision | undefined> {
    const out = await attempt("reading an A/B test's outcome", () =>
      this.#client.send(new GetCommand({ TableName: this.#table, Key: keys.abDecision(sequenceId, stepId), ConsistentRead: true })),
    );
    if (!out.Item) return undefined;
    const { pk: _pk, sk: _sk, type: _t, ...decision } = out.Item;
    return decision as unknown as AbDecision;
  }

  async endAbTest(decision: AbDecision): Promise<boolean> {
    return conditionally("ending an A/B test", () =>
      this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: { ...keys.abDecision(decision.sequenceId, decision.stepId), type: "ab-decision", ...decision },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      ),
    );
  }

  async variantFigures(sequenceId: string, stepId: string): Promise<VariantFigures[]> {
    return readVariantFigures(this.#client, this.#table, sequenceId, stepId);
  }
}

/** A step's variant rows from every shard, summed per variant (the report store writes them). */
export async function readVariantFigures(client: DynamoDBDocumentClient, tableName: string, sequenceId: string, stepId: string): Promise<VariantFigures[]> {
  const sums = new Map<string, VariantFigures>();
  await Promise.all(
    Array.from({ length: REPORT_SHARDS }, async (_, shard) => {
      let startKey: Item | undefined;
      do {
        const out = await attempt("reading A/B variant figures", () =>
          client.send(
            new QueryCommand({
              TableName: tableName,
              KeyConditionExpression: "pk = :pk",
              ExpressionAttributeValues: { ":pk": keys.abVariant(sequenceId, stepId, shard, "").pk },
              ExclusiveStartKey: startKey,
            }),
          ),
        );
        for (const item of out.Items ?? []) {
          const variantId = String(item.variantId);
          const sum = sums.get(variantId) ?? { variantId, sent: 0, opened: 0, clicked: 0, mqls: 0, wins: 0 };
          for (const counter of ["sent", "opened", "clicked", "mqls", "wins"] as const) sum[counter] += typeof item[counter] === "number" ? item[counter] : 0;
          sums.set(variantId, sum);
        }
        startKey = out.LastEvaluatedKey;
      } while (startKey);
    }),
  );
  return [...sums.values()].sort((a, b) => a.variantId.localeCompare(b.variantId));
}
