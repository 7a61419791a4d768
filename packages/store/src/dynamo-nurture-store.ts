/**
 * The NurtureStore port on the one table: enrollments live in their lead's partition, and only
 * an enrollment with a step waiting carries the due-index attributes (sparse, sharded), so a
 * sweep reads due work and nothing else. Claims and settlements are conditional writes: two
 * sweepers can never both own a step.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { AbDecision, DueRef, Enrollment, MessageRecord, NurtureStore, VariantFigures } from "@leadloop/core";
import { attempt, conditionally, isConditionFailure, translateError } from "./errors";
import { queryShard } from "./due-query";
import { DUE_SHARDS, indexKeys, keys, REPORT_SHARDS } from "./keys";

export interface DynamoNurtureStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
}

type Item = Record<string, unknown>;

const ENROLLMENT_FIELDS = [
  "leadId",
  "sequenceId",
  "status",
  "enrolledAt",
  "lastStepId",
  "lastSentAt",
  "lastMessageId",
  "completedStepIds",
  "nextStepId",
  "dueAt",
  "attempts",
  "sending",
  "endedAt",
  "endReason",
  "runs",
] as const;

function toEnrollment(item: Item): Enrollment {
  const out: Record<string, unknown> = {};
  for (const field of ENROLLMENT_FIELDS) if (item[field] !== undefined) out[field] = item[field];
  out.completedStepIds ??= [];
  out.attempts ??= 0;
  out.runs ??= 1;
  return out as unknown as Enrollment;
}

function toMessage(item: Item): MessageRecord {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, type: _t, ...rest } = item;
  return rest as unknown as MessageRecord;
}


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

  async startEnrollment(enrollment: Enrollment, previous?: Enrollment): Promise<boolean> {
    const item: Item = {
      ...keys.enrollment(enrollment.leadId, enrollment.sequenceId),
      type: "enrollment",
      ...enrollment,
      ...(enrollment.status === "active" && enrollment.dueAt
        ? indexKeys.due(enrollment.leadId, enrollment.sequenceId, enrollment.dueAt)
        : {}),
    };
    return conditionally("starting an enrollment", () =>
      this.#client.send(
        new PutCommand({
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
        }),
      ),
    );
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

  async claim(ref: DueRef, claim: { token: string; stepId: string; until: string }, now: string): Promise<Enrollment | undefined> {
    // The claimed entry stays in the due index at the claim's expiry, so a sweeper that dies
    // holding it is found again then, and only then.
    try {
      const out = await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: keys.enrollment(ref.leadId, ref.sequenceId),
          UpdateExpression: "SET sending = :claim, dueAt = :until, dueSk = :dueSk",
          ConditionExpression:
            "#status = :active AND dueAt = :due AND (attribute_not_exists(sending) OR sending.#until <= :now)",
          ExpressionAttributeNames: { "#status": "status", "#until": "until" },
          ExpressionAttributeValues: {
            ":claim": claim,
            ":until": claim.until,
            ":dueSk": indexKeys.due(ref.leadId, ref.sequenceId, claim.until).dueSk,
            ":active": "active",
            ":due": ref.dueAt,
            ":now": now,
          },
          ReturnValues: "ALL_OLD",
        }),
      );
      return out.Attributes ? toEnrollment(out.Attributes) : undefined;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw translateError(error, "claiming a due step");
    }
  }

  async settle(
    leadId: string,
    sequenceId: string,
    token: string,
    outcome: Parameters<NurtureStore["settle"]>[3],
  ): Promise<boolean> {
    const set: string[] = [];
    const remove = ["sending"];
    const values: Item = { ":token": token };
    const names: Record<string, string> = { "#token": "token" };
    if (outcome.handledStepId) {
      set.push("lastStepId = :handled", "completedStepIds = list_append(if_not_exists(completedStepIds, :empty), :handledList)");
      values[":handled"] = outcome.handledStepId;
      values[":handledList"] = [outcome.handledStepId];
      values[":empty"] = [];
    }
    if (outcome.sentAt) {
      set.push("lastSentAt = :sentAt");
      values[":sentAt"] = outcome.sentAt;
    }
    if (outcome.messageId) {
      set.push("lastMessageId = :messageId");
      values[":messageId"] = outcome.messageId;
    }
    if (outcome.attempts !== undefined) {
      set.push("attempts = :attempts");
      values[":attempts"] = outcome.attempts;
    }
    if (outcome.end) {
      set.push("#status = :ended", "endedAt = :endedAt", "endReason = :endReason");
      remove.push("nextStepId", "dueAt", "duePk", "dueSk");
      names["#status"] = "status";
      values[":ended"] = "ended";
      values[":endedAt"] = outcome.end.at;
      values[":endReason"] = outcome.end.reason;
    } else if (outcome.next) {
      const due = indexKeys.due(leadId, sequenceId, outcome.next.dueAt);
      set.push("nextStepId = :nextStep", "dueAt = :dueAt", "duePk = :duePk", "dueSk = :dueSk");
      values[":nextStep"] = outcome.next.stepId;
      values[":dueAt"] = outcome.next.dueAt;
      values[":duePk"] = due.duePk;
      values[":dueSk"] = due.dueSk;
    }
    return conditionally("settling a claimed step", () =>
      this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: keys.enrollment(leadId, sequenceId),
          UpdateExpression: `${set.length ? `SET ${set.join(", ")} ` : ""}REMOVE ${remove.join(", ")}`,
          ConditionExpression: "sending.#token = :token",
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      ),
    );
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
          Item: {
            ...keys.message(message.leadId, message.messageId),
            ...indexKeys.sesMessage(message.providerMessageId),
            type: "message",
            ...message,
          },
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
