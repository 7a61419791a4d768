/**
 * The ReportStore port on the one table. Aggregates are counters added with `ADD` on one of
 * REPORT_SHARDS items per day and dimensions, the shard picked at random per write, so no item
 * takes every event; a day is read with one Query per shard. A lead's report state sits in its
 * own partition and is written in the same transaction as the counters it justifies.
 */
import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import {
  type DynamoDBDocumentClient,
  GetCommand,
  type NativeAttributeValue,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from "@aws-sdk/lib-dynamodb";
import type {
  AbDecision,
  AggregateIncrement,
  AggregateRow,
  CohortRow,
  DealReview,
  LeadFacts,
  LeadReportState,
  ReportCommit,
  ReportStore,
  SentMessage,
  VariantFigures,
} from "@leadloop/core";
import { COHORT_DIMENSIONS, dimValue, reportStateFromStored, type StoredReportState, sourceOf, storedReportState } from "@leadloop/core";
import { readVariantFigures } from "./dynamo-nurture-store";
import { isConditionFailure, translateError } from "./errors";
import { COHORT_SHARDS, keys, REPORT_SHARDS } from "./keys";

export interface DynamoReportStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Defaults to REPORT_SHARDS; tests and benchmarks may pick another. */
  shards?: number;
  /** Shards of the cohort rows; defaults to COHORT_SHARDS. */
  cohortShards?: number;
  /** Picks the shard of a write; random by default. */
  pickShard?: (shards: number) => number;
}

type Item = Record<string, NativeAttributeValue>;
type TransactItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];

/** Attributes of an aggregate item that are not counters. */
const ROW_ATTRIBUTES = new Set(["pk", "sk", "kind", "day", "segment", "source", "formId", "sequenceId", "stepId", ...COHORT_DIMENSIONS]);

/** `#` separates key parts: a value holding one is escaped so two rows never share a key. */
const part = (value: string) => value.replaceAll("%", "%25").replaceAll("#", "%23");

/** The item an increment lands on, with its dimensions as attributes (the report reads those, not the key). */
export function aggregateKey(increment: AggregateIncrement, shard: number) {
  if (increment.kind === "variant") return keys.abVariant(increment.sequenceId, increment.stepId, shard, part(increment.variantId));
  if (increment.kind === "cohort") return keys.cohortAggregate(increment.day, shard, COHORT_DIMENSIONS.map((d) => part(increment.dims[d])));
  const { day, dims } = increment;
  return increment.kind === "funnel"
    ? keys.reportAggregate(day, shard, part(dims.segment), part(dims.source), part(dims.formId))
    : keys.reportEmailAggregate(day, shard, part(increment.sequenceId), part(increment.stepId), part(dims.segment), part(dims.source), part(dims.formId));
}

/** One UpdateItem input: set the dimensions, ADD each counter. */
export function aggregateUpdate(tableName: string, increment: AggregateIncrement, shard: number) {
  if (increment.kind === "cohort") return cohortUpdate(tableName, increment, shard);
  if (increment.kind === "variant") return variantUpdate(tableName, increment, shard);
  const names: Record<string, string> = { "#kind": "kind", "#day": "day", "#segment": "segment", "#source": "source", "#formId": "formId" };
  const values: Record<string, NativeAttributeValue> = {
    ":kind": increment.kind,
    ":day": increment.day,
    ":segment": increment.dims.segment,
    ":source": increment.dims.source,
    ":formId": increment.dims.formId,
  };
  const sets = ["#kind = :kind", "#day = :day", "#segment = :segment", "#source = :source", "#formId = :formId"];
  if (increment.kind === "email") {
    names["#sequenceId"] = "sequenceId";
    names["#stepId"] = "stepId";
    values[":sequenceId"] = increment.sequenceId;
    values[":stepId"] = increment.stepId;
    sets.push("#sequenceId = :sequenceId", "#stepId = :stepId");
  }
  const adds = Object.entries(increment.add).map(([counter, amount], i) => {
    names[`#c${i}`] = counter;
    values[`:c${i}`] = amount;
    return `#c${i} :c${i}`;
  });
  return {
    TableName: tableName,
    Key: aggregateKey(increment, shard),
    UpdateExpression: `SET ${sets.join(", ")}${adds.length > 0 ? ` ADD ${adds.join(", ")}` : ""}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/**
 * A cohort row holds its counters only: its capture day and its seven dimensions are its key
 * (cohortFromKey reads them back), so every read of the cohort funnel carries no copy of them.
 */
function cohortUpdate(tableName: string, increment: Extract<AggregateIncrement, { kind: "cohort" }>, shard: number) {
  const names: Record<string, string> = {};
  const values: Record<string, NativeAttributeValue> = {};
  const adds = Object.entries(increment.add).map(([counter, amount], i) => {
    names[`#c${i}`] = counter;
    values[`:c${i}`] = amount;
    return `#c${i} :c${i}`;
  });
  // cohortMoves plans no move that nets to nothing; should one come, it adds a zero.
  if (adds.length === 0) {
    names["#c0"] = "captured";
    values[":c0"] = 0;
    adds.push("#c0 :c0");
  }
  return {
    TableName: tableName,
    Key: aggregateKey(increment, shard),
    UpdateExpression: `ADD ${adds.join(", ")}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

function variantUpdate(tableName: string, increment: Extract<AggregateIncrement, { kind: "variant" }>, shard: number) {
  const names: Record<string, string> = { "#kind": "kind", "#sequenceId": "sequenceId", "#stepId": "stepId", "#variantId": "variantId" };
  const values: Record<string, NativeAttributeValue> = { ":kind": "variant", ":sequenceId": increment.sequenceId, ":stepId": increment.stepId, ":variantId": increment.variantId };
  const adds = Object.entries(increment.add).map(([counter, amount], i) => {
    names[`#c${i}`] = counter;
    values[`:c${i}`] = amount;
    return `#c${i} :c${i}`;
  });
  return {
    TableName: tableName,
    Key: aggregateKey(increment, shard),
    UpdateExpression: `SET #kind = :kind, #sequenceId = :sequenceId, #stepId = :stepId, #variantId = :variantId${adds.length > 0 ? ` ADD ${adds.join(", ")}` : ""}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/** `%23` and `%25` back to `#` and `%` (see part). */
const unpart = (value: string) => value.replaceAll("%23", "#").replaceAll("%25", "%");

/**
 * A cohort row's day and dimensions, from its key. Rows written before the key was their only
 * copy also hold them as attributes, which win, so a row keyed by fewer dimensions reads as it did.
 */
function toCohortRow(item: Item): CohortRow {
  const counters: Record<string, number> = {};
  for (const [name, value] of Object.entries(item)) {
    if (!ROW_ATTRIBUTES.has(name) && typeof value === "number") counters[name] = value;
  }
  const fromKey = String(item.sk).split("#").map(unpart);
  const dims = Object.fromEntries(COHORT_DIMENSIONS.map((d, i) => [d, typeof item[d] === "string" ? item[d] : (fromKey[i] ?? "none")])) as CohortRow["dims"];
  const day = typeof item.day === "string" ? item.day : (String(item.pk).split("#")[1] ?? "");
  return { day, dims, counters };
}

const REVIEW_FIELDS = [
  "leadId",
  "closedAt",
  "outcome",
  "reason",
  "amount",
  "currency",
  "notes",
  "dims",
  "capturedAt",
  "engagedAt",
  "qualifiedAt",
  "claimedAt",
  "score",
  "threshold",
  "rules",
  "emails",
  "webActivities",
] as const;

function toReview(item: Item): DealReview {
  const review: Record<string, unknown> = {};
  for (const field of REVIEW_FIELDS) if (item[field] !== undefined) review[field] = item[field];
  return review as unknown as DealReview;
}

function toRow(item: Item): AggregateRow | undefined {
  const counters: Record<string, number> = {};
  for (const [name, value] of Object.entries(item)) {
    if (!ROW_ATTRIBUTES.has(name) && typeof value === "number") counters[name] = value;
  }
  const dims = { segment: String(item.segment), source: String(item.source), formId: String(item.formId) };
  const day = String(item.day);
  if (item.kind === "funnel") return { kind: "funnel", day, dims, counters };
  if (item.kind === "email") return { kind: "email", day, dims, sequenceId: String(item.sequenceId), stepId: String(item.stepId), counters };
  return undefined;
}

const STATE_FIELDS = [
  "leadId",
  "dims",
  "capturedAt",
  "cycleStartedAt",
  "engagedAt",
  "qualifiedAt",
  "claimedAt",
  "closedAt",
  "cohort",
  "qualification",
  "facts",
  "version",
] as const;

export class DynamoReportStore implements ReportStore {
  readonly shards: number;
  readonly cohortShards: number;
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #pickShard: (shards: number) => number;

  constructor(options: DynamoReportStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.shards = options.shards ?? REPORT_SHARDS;
    this.cohortShards = options.cohortShards ?? COHORT_SHARDS;
    this.#pickShard = options.pickShard ?? ((shards) => Math.floor(Math.random() * shards));
  }

  async #send<T>(doing: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw translateError(error, doing);
    }
  }

  async getLeadReportState(leadId: string): Promise<LeadReportState | undefined> {
    const out = await this.#send("reading a lead's report state", () =>
      this.#client.send(new GetCommand({ TableName: this.#table, Key: keys.reportState(leadId), ConsistentRead: true })),
    );
    if (!out.Item) return undefined;
    const state: Record<string, unknown> = {};
    for (const field of STATE_FIELDS) if (out.Item[field] !== undefined) state[field] = out.Item[field];
    return reportStateFromStored(leadId, state as unknown as StoredReportState);
  }

  async getLeadFacts(leadId: string): Promise<LeadFacts | undefined> {
    const out = await this.#send("reading a lead for the report", () =>
      this.#client.send(
        new GetCommand({
          TableName: this.#table,
          Key: keys.lead(leadId),
          ProjectionExpression: "#segment, firstTouch, createdAt",
          ExpressionAttributeNames: { "#segment": "segment" },
        }),
      ),
    );
    const item = out.Item;
    if (!item) return undefined;
    const firstTouch = (item.firstTouch ?? {}) as { formId?: string; utm_source?: string; utm_medium?: string; utm_campaign?: string };
    return {
      segment: typeof item.segment === "string" ? item.segment : "unknown",
      source: sourceOf(firstTouch.utm_source),
      medium: dimValue(firstTouch.utm_medium),
      campaign: dimValue(firstTouch.utm_campaign),
      formId: firstTouch.formId ?? "unknown",
      capturedAt: typeof item.createdAt === "string" ? item.createdAt : new Date(0).toISOString(),
    };
  }

  async listSentMessages(leadId: string): Promise<SentMessage[]> {
    const messages: SentMessage[] = [];
    let startKey: Item | undefined;
    do {
      const out = await this.#send("listing a lead's messages for the report", () =>
        this.#client.send(
          new QueryCommand({
            TableName: this.#table,
            KeyConditionExpression: "pk = :pk AND begins_with(sk, :msg)",
            ExpressionAttributeValues: { ":pk": keys.lead(leadId).pk, ":msg": "MSG#" },
            ProjectionExpression: "messageId, #kind, sequenceId, stepId, variantId, sentAt",
            ExpressionAttributeNames: { "#kind": "kind" },
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      for (const item of out.Items ?? []) {
        messages.push({
          messageId: String(item.messageId),
          kind: String(item.kind),
          sentAt: String(item.sentAt),
          ...(typeof item.sequenceId === "string" ? { sequenceId: item.sequenceId } : {}),
          ...(typeof item.stepId === "string" ? { stepId: item.stepId } : {}),
          ...(typeof item.variantId === "string" ? { variantId: item.variantId } : {}),
        });
      }
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return messages;
  }

  async commitReportEvent(commit: ReportCommit): Promise<boolean> {
    const { state, expectedVersion } = commit;
    const statePut = {
      TableName: this.#table,
      Item: { ...keys.reportState(state.leadId), type: "report-state", ...storedReportState(state) },
      ...(expectedVersion === undefined
        ? { ConditionExpression: "attribute_not_exists(pk)" }
        : { ConditionExpression: "version = :read", ExpressionAttributeValues: { ":read": expectedVersion } }),
    };
    // A fact that adds to no counter (a web visit of a lead already engaged) writes the state
    // alone: the same conditional put outside a transaction is as exactly-once and costs half.
    if (commit.increments.length === 0 && !commit.review) {
      try {
        await this.#client.send(new PutCommand(statePut));
        return true;
      } catch (error) {
        // As below: another of the lead's events committed first, or its transaction holds the item.
        if (isConditionFailure(error) || (error as { name?: string }).name === "TransactionConflictException") return false;
        throw translateError(error, "counting an event in the report");
      }
    }
    const items: TransactItem[] = [
      { Put: statePut },
      ...commit.increments.map((increment): TransactItem => ({
        Update: aggregateUpdate(this.#table, increment, this.#pickShard(increment.kind === "cohort" ? this.cohortShards : increment.kind === "variant" ? REPORT_SHARDS : this.shards)),
      })),
      ...(commit.review
        ? [{ Put: { TableName: this.#table, Item: { ...keys.dealReview(commit.review.closedAt, commit.review.leadId), type: "deal-review", ...commit.review } } }]
        : []),
    ];
    try {
      await this.#client.send(new TransactWriteCommand({ TransactItems: items }));
      return true;
    } catch (error) {
      // The state moved since it was read (a redelivery or another of the lead's events committed
      // first), or a concurrent transaction touched it: the caller re-reads and decides again.
      if (error instanceof TransactionCanceledException || (error as { name?: string }).name === "TransactionCanceledException") {
        const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
        if (reasons.some((r) => r.Code === "ConditionalCheckFailed" || r.Code === "TransactionConflict")) return false;
      }
      throw translateError(error, "counting an event in the report");
    }
  }

  async readDay(day: string): Promise<AggregateRow[]> {
    const shards = Array.from({ length: this.shards }, (_, shard) => shard);
    const perShard = await Promise.all(shards.map((shard) => this.#readPartition(keys.reportAggregate(day, shard, "", "", "").pk)));
    return perShard.flat();
  }

  async readCohortDay(day: string): Promise<CohortRow[]> {
    const shards = Array.from({ length: this.cohortShards }, (_, shard) => shard);
    const perShard = await Promise.all(shards.map((shard) => this.#query(keys.cohortAggregate(day, shard, []).pk, "reading cohort rows")));
    return perShard.flat().map(toCohortRow);
  }

  variantFigures(sequenceId: string, stepId: string): Promise<VariantFigures[]> {
    return readVariantFigures(this.#client, this.#table, sequenceId, stepId);
  }

  async getAbDecision(sequenceId: string, stepId: string): Promise<AbDecision | undefined> {
    const out = await this.#send("reading an A/B test's outcome", () => this.#client.send(new GetCommand({ TableName: this.#table, Key: keys.abDecision(sequenceId, stepId) })));
    if (!out.Item) return undefined;
    const { pk: _pk, sk: _sk, type: _t, ...decision } = out.Item;
    return decision as unknown as AbDecision;
  }

  async listReviews(day: string): Promise<DealReview[]> {
    return (await this.#query(`REVIEW#${day}`, "listing deal reviews")).map(toReview);
  }

  async getReview(leadId: string, closedAt: string): Promise<DealReview | undefined> {
    const out = await this.#send("reading a deal review", () => this.#client.send(new GetCommand({ TableName: this.#table, Key: keys.dealReview(closedAt, leadId) })));
    return out.Item ? toReview(out.Item) : undefined;
  }

  async #query(pk: string, doing: string): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const out = await this.#send(doing, () =>
        this.#client.send(new QueryCommand({ TableName: this.#table, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": pk }, ExclusiveStartKey: startKey })),
      );
      items.push(...(out.Items ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  async #readPartition(pk: string): Promise<AggregateRow[]> {
    const rows: AggregateRow[] = [];
    let startKey: Item | undefined;
    do {
      const out = await this.#send("reading report aggregates", () =>
        this.#client.send(
          new QueryCommand({
            TableName: this.#table,
            KeyConditionExpression: "pk = :pk",
            ExpressionAttributeValues: { ":pk": pk },
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      for (const item of out.Items ?? []) {
        const row = toRow(item);
        if (row) rows.push(row);
      }
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return rows;
  }
}
