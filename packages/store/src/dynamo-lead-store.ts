/**
 * The LeadStore port on the one DynamoDB table. A submission creates at most one lead per
 * normalised email, however many submissions of that address race: the lead's id is derived from
 * the address (core's deriveLeadId), so "one lead per address" is a condition on the lead's own key.
 */
import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import {
  type Activity,
  type CaptureRecord,
  type CaptureResult,
  type ConfirmationState,
  type ConsentAnswer,
  checkLeadIdKey,
  deriveLeadId,
  type Lead,
  type LeadScore,
  type LeadStore,
  mergeSubmission,
  type NewActivity,
  normaliseEmail,
  type PendingEvent,
  StoreUnavailableError,
  type Stage,
  WindowFullError,
  type Suppression,
  type SuppressionGuard,
} from "@leadloop/core";
import { newActivityId } from "./activity-id";
import { LEAD_AND_MESSAGES, lineOfMessage, MESSAGE_LINE, withMessageLines } from "./message-lines";
import { DynamoConfirmations } from "./dynamo-confirmations";
import { DynamoLeadScores } from "./dynamo-lead-scores";
import { queryShards } from "./due-query";
import { erasedSuppressionHash, erasedSuppressionHashKey, erasedSuppressionKey } from "./erased-suppression";
import { LeadNotFoundError, translateError } from "./errors";
import { CONFIRMATION_SHARDS, indexKeys, keys, OUTBOX_SHARDS, UNPUBLISHED_SHARDS } from "./keys";
import { FIRST, FIRST_KEY, firstPointer, FORM_SUBMITTED, LEGACY_FIRST_SUBMISSION, STRAY_ALLOWANCE, toActivity, withFirstSubmission } from "./first-submission";
import { DynamoPendingEvents } from "./pending-events";
import { windowUpdate } from "./dynamo-rate-windows";
import { suppressionGuard } from "./suppression-guard";
import { scoreFromItem } from "./stored-score";

export interface DynamoLeadStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /**
   * The secret lead ids are derived with (deployment secret LEAD_ID_KEY). Never rotate it: every
   * known address would get a new id, so each person's next submission would start a second lead.
   */
  leadIdKey: string;
  /** Merges that lose an optimistic-lock race retry this many times before giving up. */
  maxAttempts?: number;
}


type Item = Record<string, unknown>;

type Attempt = { kind: "done"; result: CaptureResult } | { kind: "exists" } | { kind: "gone" } | { kind: "retry" };

export class DynamoLeadStore implements LeadStore {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #leadIdKey: string;
  readonly #erasedHashKey: Buffer;
  readonly #maxAttempts: number;
  /** Scores and qualifications: see dynamo-lead-scores.ts. */
  readonly #scores: DynamoLeadScores;
  /** Double-opt-in state: see dynamo-confirmations.ts. */
  readonly #confirmations: DynamoConfirmations;
  /** The outbox: see pending-events.ts. */
  readonly #outbox: DynamoPendingEvents;
  readonly outboxShards = OUTBOX_SHARDS;
  readonly confirmationShards = CONFIRMATION_SHARDS;

  constructor(options: DynamoLeadStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#leadIdKey = checkLeadIdKey(options.leadIdKey);
    this.#erasedHashKey = erasedSuppressionHashKey(this.#leadIdKey);
    this.#maxAttempts = options.maxAttempts ?? 60;
    this.#scores = new DynamoLeadScores(options.client, options.tableName, toLead);
    this.#confirmations = new DynamoConfirmations(options.client, options.tableName);
    this.#outbox = new DynamoPendingEvents(options.client, options.tableName);
  }

  leadIdFor(email: string): string {
    return deriveLeadId(this.#leadIdKey, email);
  }

  async captureSubmission(record: CaptureRecord): Promise<CaptureResult> {
    const email = normaliseEmail(record.email);
    const leadId = this.leadIdFor(email);
    // One activity id per submission: a create that loses to an existing lead merges under the
    // same id, so its tentative first-submission activity is overwritten, not left beside the merge.
    const activityId = newActivityId(record.at);
    // A keyed submission (an import row) is often a repeat: it reads first, so a repeat writes
    // nothing at all, not even a tentative first submission.
    let exists = record.key !== undefined;
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt++) {
      const outcome = exists ? await this.#tryMerge(leadId, record, activityId) : await this.#tryCreate(leadId, email, record, activityId);
      if (outcome.kind === "done") return outcome.result;
      if (outcome.kind === "exists") {
        // Straight on to the merge: no race lost yet, so no reason to wait.
        exists = true;
        continue;
      }
      if (outcome.kind === "gone") {
        exists = false;
        continue;
      }
      await backoff(attempt);
    }
    throw new StoreUnavailableError(
      `Gave up storing a submission for one address after ${this.#maxAttempts} attempts: too many concurrent submissions of it.`,
    );
  }

  /**
   * The path for a new address, two single-item writes and no transaction: the submission as the
   * lead's first activity (an idempotent put, consent record included), then the lead pointing at
   * it (a conditional put: the dedupe), in the unpublished index unless its `lead.captured`
   * already went out. The lead item carries only the consent's answer, so it stays under 1 KB.
   */
  async #tryCreate(id: string, email: string, record: CaptureRecord, activityId: string): Promise<Attempt> {
    const lead: Lead = {
      id,
      email,
      profile: record.profile,
      segment: record.segmentOf({ ...record.profile, email, stage: record.initialStage }),
      stage: record.initialStage,
      forms: [record.formId],
      firstTouch: record.source,
      lastTouch: record.source,
      consents: record.consent ? [consentAnswer(record.consent)] : [],
      createdAt: record.at,
      updatedAt: record.at,
      published: record.published,
    };
    const first = submissionActivity(id, activityId, record, true, {});
    const leadPut = {
      TableName: this.#table,
      Item: {
        ...leadItem(lead),
        version: 1,
        [FIRST]: firstPointer(activityId),
        ...(record.key !== undefined ? { [FIRST_KEY]: record.key } : {}),
        ...(record.published ? {} : indexKeys.unpublished(id, record.announceBy ?? record.at)),
      },
      ConditionExpression: "attribute_not_exists(pk)",
    };
    if (record.window) {
      // A public submission counts its address's window in the same write: one round trip, and a
      // full window stores nothing (neither the lead nor its first submission).
      const { window } = record;
      try {
        await this.#client.send(
          new TransactWriteCommand({
            TransactItems: [
              { Update: windowUpdate(this.#table, window.key, window.windowStartMs, window.limit, 1) },
              { Put: { TableName: this.#table, Item: activityItem(first) } },
              { Put: leadPut },
            ],
          }),
        );
        return { kind: "done", result: { lead, created: true, changed: {} } };
      } catch (error) {
        if (cancellation(error, 0)?.code === "ConditionalCheckFailed") throw new WindowFullError(window);
        if (cancellation(error, 2)?.code === "ConditionalCheckFailed") return { kind: "exists" };
        if (isConflict(error)) return { kind: "retry" };
        throw translateError(error, "creating a lead");
      }
    }
    try {
      await this.#client.send(new PutCommand({ TableName: this.#table, Item: activityItem(first) }));
    } catch (error) {
      throw translateError(error, "recording a lead's first submission");
    }
    try {
      await this.#client.send(new PutCommand(leadPut));
      return { kind: "done", result: { lead, created: true, changed: {} } };
    } catch (error) {
      if (errorName(error) === "ConditionalCheckFailedException") return { kind: "exists" };
      throw translateError(error, "creating a lead");
    }
  }

  /** A known address: merge with an optimistic lock on the lead's version, the activity in the same transaction. */
  async #tryMerge(leadId: string, record: CaptureRecord, activityId: string): Promise<Attempt> {
    const item = await this.#getItem(keys.lead(leadId), true, "reading a lead to merge");
    // Gone since the create failed (erased): create it afresh.
    if (!item) return { kind: "gone" };
    const current = toLead(item);
    const version = Number(item.version ?? 0);
    // The lead names this very submission: our own create landed, its reply was lost, and the
    // SDK's retry of it found the lead. Nothing to merge.
    if (item[FIRST] === firstPointer(activityId)) return { kind: "done", result: { lead: current, created: true, changed: {} } };
    if (record.key !== undefined && firstKeyOf(item) === record.key) {
      return { kind: "done", result: { lead: current, created: false, changed: {}, repeated: true } };
    }
    // Which fields may change is core's rule (lead-merge.ts); consent and first touch never do.
    const { profile, changed, kept } = mergeSubmission(current.profile, record.profile, record.trust ?? "unproven");
    const newer = record.source.at >= current.lastTouch.at;
    const lead: Lead = {
      ...current,
      profile,
      segment: record.segmentOf({ ...profile, email: current.email, stage: current.stage }),
      forms: current.forms.includes(record.formId) ? current.forms : [...current.forms, record.formId],
      lastTouch: newer ? record.source : current.lastTouch,
      updatedAt: later(record.at, current.updatedAt),
    };
    const activity = submissionActivity(leadId, activityId, record, false, changed, kept);
    // The capture's own announcement of the merge is not out yet: on the republisher's list until
    // a consumer of it (or the republisher) clears it, in this same write (one more index entry).
    const listed = !record.published && record.announceBy !== undefined;
    if (listed) lead.published = false;
    const listing = listed ? indexKeys.unpublished(leadId, record.announceBy as string) : undefined;
    try {
      await this.#client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.#table,
                Key: keys.lead(leadId),
                // Consents never change on a merge (the new answer is in this submission's activity).
                UpdateExpression: `SET #profile = :profile, #segment = :segment, #forms = :forms, #lastTouch = :lastTouch, #updatedAt = :updatedAt, #version = :next${
                  listing ? ", #published = :false, gsi1pk = :gsi1pk, gsi1sk = :gsi1sk" : ""
                }`,
                ConditionExpression: "#version = :version",
                // Named, because several of these are DynamoDB reserved words.
                ExpressionAttributeNames: {
                  "#profile": "profile",
                  "#segment": "segment",
                  "#forms": "forms",
                  "#lastTouch": "lastTouch",
                  "#updatedAt": "updatedAt",
                  "#version": "version",
                  ...(listing ? { "#published": "published" } : {}),
                },
                ExpressionAttributeValues: {
                  ...(listing ? { ":false": false, ":gsi1pk": listing.gsi1pk, ":gsi1sk": listing.gsi1sk } : {}),
                  ":profile": lead.profile,
                  ":segment": lead.segment,
                  ":forms": lead.forms,
                  ":lastTouch": lead.lastTouch,
                  ":updatedAt": lead.updatedAt,
                  ":version": version,
                  ":next": version + 1,
                },
              },
            },
            { Put: { TableName: this.#table, Item: activityItem(activity) } },
            ...(record.key !== undefined
              ? [
                  {
                    Put: {
                      TableName: this.#table,
                      Item: { ...keys.submissionKey(leadId, record.key), entity: "submission-key", at: record.at, activityId: activity.id },
                      ConditionExpression: "attribute_not_exists(pk)",
                    },
                  },
                ]
              : []),
            ...(record.window
              ? [{ Update: windowUpdate(this.#table, record.window.key, record.window.windowStartMs, record.window.limit, 1) }]
              : []),
          ],
        }),
      );
      return { kind: "done", result: { lead, created: false, changed } };
    } catch (error) {
      // The window is the last item: after the submission key's put, when there is one.
      if (record.window && cancellation(error, record.key !== undefined ? 3 : 2)?.code === "ConditionalCheckFailed") throw new WindowFullError(record.window);
      if (record.key !== undefined && cancellation(error, 2)?.code === "ConditionalCheckFailed") {
          return { kind: "done", result: { lead: current, created: false, changed: {}, repeated: true } };
      }
      if (cancellation(error, 0)?.code === "ConditionalCheckFailed" || isConflict(error)) return { kind: "retry" };
      throw translateError(error, "merging a submission into a lead");
    }
  }

  async getLead(id: string): Promise<Lead | undefined> {
    const item = await this.#getItem(keys.lead(id), false, "reading a lead");
    return item ? toLead(item) : undefined;
  }

  async getLeadByEmail(email: string): Promise<Lead | undefined> {
    return this.getLead(this.leadIdFor(email));
  }

  getConfirmation(leadId: string): Promise<ConfirmationState | undefined> {
    return this.#confirmations.get(leadId);
  }

  saveConfirmation(state: ConfirmationState, expectedVersion: number): Promise<boolean> {
    return this.#confirmations.save(state, expectedVersion);
  }

  listConfirmationsDue(shard: number, upTo: string, limit: number): Promise<ConfirmationState[]> {
    return this.#confirmations.listDue(shard, upTo, limit);
  }

  /** Takes one id or many; also removes the lead from the unpublished index. */
  appendBehaviour(...args: Parameters<LeadStore["appendBehaviour"]>) {
    return this.#scores.appendBehaviour(...args);
  }

  readForScoring(...args: Parameters<LeadStore["readForScoring"]>) {
    return this.#scores.readForScoring(...args);
  }

  saveScore(...args: Parameters<LeadStore["saveScore"]>) {
    return this.#scores.saveScore(...args);
  }

  claimAnnouncement(...args: Parameters<LeadStore["claimAnnouncement"]>) {
    return this.#scores.claimAnnouncement(...args);
  }

  settleAnnouncement(...args: Parameters<LeadStore["settleAnnouncement"]>) {
    return this.#scores.settleAnnouncement(...args);
  }

  listUnannounced(...args: Parameters<LeadStore["listUnannounced"]>) {
    return this.#scores.listUnannounced(...args);
  }

  listPendingEvents(shard: number, upTo: string, limit: number): Promise<PendingEvent[]> {
    return this.#outbox.listDue(shard, upTo, limit);
  }

  claimPendingEvent(pending: PendingEvent, until: string): Promise<boolean> {
    return this.#outbox.claim(pending, until);
  }

  keepPendingEvents(pending: PendingEvent[]): Promise<void> {
    return this.#outbox.put(pending);
  }

  removePendingEvents(pending: Pick<PendingEvent, "leadId" | "key">[]): Promise<void> {
    return this.#outbox.remove(pending);
  }

  async markPublished(leadIds: string | readonly string[], options: { dueBy?: string } = {}): Promise<void> {
    const ids = typeof leadIds === "string" ? [leadIds] : [...leadIds];
    for (let i = 0; i < ids.length; i += 25) {
      await Promise.all(ids.slice(i, i + 25).map((id) => this.#markOnePublished(id, options.dueBy)));
    }
  }

  async #markOnePublished(leadId: string, dueBy: string | undefined): Promise<void> {
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: keys.lead(leadId),
          // Without dueBy the version moves too, so a merge that read the lead before this cannot undo
          // it. With dueBy only an entry due by then goes (a later submission's entry waits for its
          // own announcement), a condition of its own: the version stays, so a scorer saving a
          // score meanwhile need not start over.
          UpdateExpression:
            dueBy === undefined
              ? "SET #published = :true, #version = #version + :one REMOVE gsi1pk, gsi1sk"
              : "SET #published = :true REMOVE gsi1pk, gsi1sk",
          ConditionExpression: dueBy === undefined ? "attribute_exists(pk)" : "gsi1pk = :listed AND gsi1sk <= :upTo",
          ExpressionAttributeNames: { "#published": "published", ...(dueBy === undefined ? { "#version": "version" } : {}) },
          ExpressionAttributeValues: {
            ":true": true,
            ...(dueBy === undefined ? { ":one": 1 } : { ":listed": indexKeys.unpublished(leadId, dueBy).gsi1pk, ":upTo": indexKeys.dueUpTo(dueBy) }),
          },
        }),
      );
    } catch (error) {
      if (errorName(error) === "ConditionalCheckFailedException") {
        // Not listed (any more), or listed for a later submission: nothing of ours to clear.
        if (dueBy !== undefined) return;
        throw new LeadNotFoundError(leadId);
      }
      throw translateError(error, "marking a lead published");
    }
  }

  async listUnpublished(limit: number, dueBy?: string): Promise<Lead[]> {
    const items = await queryShards(this.#client, this.#table, UNPUBLISHED_SHARDS, {
      index: "gsi1",
      partition: indexKeys.unpublishedShard,
      ...(dueBy !== undefined ? { upTo: indexKeys.dueUpTo(dueBy) } : {}),
      limit,
      doing: "listing unpublished leads",
    });
    return items.map(toLead);
  }

  async appendActivity(leadId: string, activity: NewActivity): Promise<Activity> {
    const stored: Activity = { leadId, id: newActivityId(activity.at), ...activity };
    try {
      await this.#client.send(new PutCommand({ TableName: this.#table, Item: activityItem(stored) }));
    } catch (error) {
      throw translateError(error, "appending an activity");
    }
    return stored;
  }

  /**
   * Newest first, without strays (see isStray). A lead stored before its first submission became
   * an activity item keeps it inline; it is placed in the history by its id, as if it were one.
   * A sent nurture email's line is read from its message item (message-lines.ts).
   */
  async listActivities(leadId: string, options: { limit?: number } = {}): Promise<Activity[]> {
    // A stray or two more than asked for, so skipping them still fills the page.
    const limit = options.limit !== undefined ? options.limit + STRAY_ALLOWANCE : undefined;
    const [items, { pointer, lines }] = await Promise.all([
      this.#query(
        {
          TableName: this.#table,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
          ExpressionAttributeValues: { ":pk": keys.lead(leadId).pk, ":prefix": keys.activityPrefix },
          ScanIndexForward: false,
          ...(limit !== undefined ? { Limit: limit } : {}),
        },
        limit,
        "listing activities",
      ),
      this.#pointerAndLines(leadId),
    ]);
    return withMessageLines(withFirstSubmission(items.map(toActivity), pointer ?? {}, leadId), lines).slice(0, options.limit);
  }

  /**
   * The lead item's first-submission pointer (or, on older leads, the submission itself) and the
   * history lines its messages hold, in one Query of the lead item and the messages beside it.
   */
  async #pointerAndLines(leadId: string): Promise<{ pointer: Item | undefined; lines: Activity[] }> {
    const items = await this.#query(
      {
        TableName: this.#table,
        KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :to",
        // Only the pointer and the lines travel (a message without a line is its key alone).
        ProjectionExpression: "sk, #first, #legacy, #line",
        ExpressionAttributeNames: { "#first": FIRST, "#legacy": LEGACY_FIRST_SUBMISSION, "#line": MESSAGE_LINE },
        ExpressionAttributeValues: { ":pk": keys.lead(leadId).pk, ":from": LEAD_AND_MESSAGES.from, ":to": LEAD_AND_MESSAGES.to },
      },
      undefined,
      "reading a lead's first submission and sent emails",
    );
    const pointer = items.find((item) => item.sk === keys.lead(leadId).sk);
    const lines = items.flatMap((item) => lineOfMessage(item, leadId) ?? []);
    return { pointer, lines };
  }

  async updateLead(leadId: string, patch: { stage?: Stage; segment?: string }, at: string): Promise<Lead | undefined> {
    const names: Record<string, string> = { "#updatedAt": "updatedAt", "#version": "version" };
    const values: Record<string, unknown> = { ":at": at, ":one": 1 };
    const sets = ["#updatedAt = :at", "#version = #version + :one"];
    for (const field of ["stage", "segment"] as const) {
      if (patch[field] === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = patch[field];
      sets.push(`#${field} = :${field}`);
    }
    try {
      const out = await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: keys.lead(leadId),
          // The version moves so a capture merging concurrently re-reads instead of overwriting.
          UpdateExpression: `SET ${sets.join(", ")}`,
          ConditionExpression: "attribute_exists(pk)",
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: "ALL_NEW",
        }),
      );
      return out.Attributes ? toLead(out.Attributes) : undefined;
    } catch (error) {
      if (errorName(error) === "ConditionalCheckFailedException") return undefined;
      throw translateError(error, "updating a lead");
    }
  }

  /** Finds an address suppressed in clear (unsubscribed, bounced…) or, once erased, by its hash. */
  async getSuppression(email: string): Promise<Suppression | undefined> {
    const normalised = normaliseEmail(email);
    // Both keys in one request.
    const plain = keys.suppression(normalised);
    const hashed = erasedSuppressionKey(erasedSuppressionHash(this.#erasedHashKey, normalised));
    const found = await this.#getItems([plain, hashed], "reading a suppression");
    const item = found.find((i) => i.pk === plain.pk);
    const erased = found.find((i) => i.pk === hashed.pk);
    if (item) return { email: String(item.email), reason: item.reason as Suppression["reason"], at: String(item.at) };
    if (erased) return { email: normalised, reason: "erased", at: String(erased.at) };
    return undefined;
  }

  suppressionGuard(email: string): SuppressionGuard {
    const normalised = normaliseEmail(email);
    return suppressionGuard([keys.suppression(normalised), erasedSuppressionKey(erasedSuppressionHash(this.#erasedHashKey, normalised))]);
  }

  async getSuppressions(emails: readonly string[]): Promise<Map<string, Suppression>> {
    const wanted = new Map<string, { plain: { pk: string; sk: string }; hashed: { pk: string; sk: string } }>();
    for (const email of emails) {
      const normalised = normaliseEmail(email);
      wanted.set(email, { plain: keys.suppression(normalised), hashed: erasedSuppressionKey(erasedSuppressionHash(this.#erasedHashKey, normalised)) });
    }
    const found = new Map<string, Item>();
    const all = [...wanted.values()].flatMap((w) => [w.plain, w.hashed]);
    // Strongly consistent: an address suppressed a moment ago must stop the send.
    for (const item of await this.#getItems(all, "reading suppressions", true)) found.set(String(item.pk), item);
    const out = new Map<string, Suppression>();
    for (const [email, w] of wanted) {
      const item = found.get(w.plain.pk);
      const erased = found.get(w.hashed.pk);
      if (item) out.set(email, { email: String(item.email), reason: item.reason as Suppression["reason"], at: String(item.at) });
      else if (erased) out.set(email, { email: normaliseEmail(email), reason: "erased", at: String(erased.at) });
    }
    return out;
  }

  /** An erased address is kept only as its keyed hash, never in clear. */
  async suppress(suppression: Suppression): Promise<void> {
    const email = normaliseEmail(suppression.email);
    const Item =
      suppression.reason === "erased"
        ? { ...erasedSuppressionKey(erasedSuppressionHash(this.#erasedHashKey, email)), entity: "suppression", reason: "erased", at: suppression.at }
        : { ...keys.suppression(email), entity: "suppression", email, reason: suppression.reason, at: suppression.at };
    try {
      await this.#client.send(new PutCommand({ TableName: this.#table, Item }));
    } catch (error) {
      throw translateError(error, "suppressing an address");
    }
  }

  /** Eventually consistent reads of a few keys in one BatchGetItem (again for what it left unprocessed). */
  async #getItems(wanted: { pk: string; sk: string }[], doing: string, consistent = false): Promise<Item[]> {
    const found: Item[] = [];
    // BatchGetItem takes a hundred keys a request.
    const pendingSets: Record<string, unknown>[][] = [];
    for (let i = 0; i < wanted.length; i += 100) pendingSets.push(wanted.slice(i, i + 100));
    try {
      for (let pending of pendingSets) {
        for (let round = 0; pending.length > 0; round++) {
          if (round > 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * round));
          const out = await this.#client.send(
            new BatchGetCommand({ RequestItems: { [this.#table]: { Keys: pending, ...(consistent ? { ConsistentRead: true } : {}) } } }),
          );
          found.push(...(out.Responses?.[this.#table] ?? []));
          pending = out.UnprocessedKeys?.[this.#table]?.Keys ?? [];
          if (round >= 8 && pending.length > 0) throw new StoreUnavailableError(`DynamoDB left keys unprocessed while ${doing}`);
        }
      }
    } catch (error) {
      throw translateError(error, doing);
    }
    return found;
  }

  async #getItem(key: { pk: string; sk: string }, consistent: boolean, doing: string): Promise<Item | undefined> {
    try {
      const out = await this.#client.send(new GetCommand({ TableName: this.#table, Key: key, ConsistentRead: consistent }));
      return out.Item;
    } catch (error) {
      throw translateError(error, doing);
    }
  }

  /** Follows pages until `limit` items (or all, without a limit). */
  async #query(input: QueryCommandInput, limit: number | undefined, doing: string): Promise<Item[]> {
    const items: Item[] = [];
    let start: Record<string, unknown> | undefined;
    try {
      do {
        const out = await this.#client.send(
          new QueryCommand({
            ...input,
            ...(start ? { ExclusiveStartKey: start } : {}),
            ...(limit !== undefined ? { Limit: limit - items.length } : {}),
          }),
        );
        items.push(...(out.Items ?? []));
        start = out.LastEvaluatedKey;
      } while (start && (limit === undefined || items.length < limit));
    } catch (error) {
      throw translateError(error, doing);
    }
    return items;
  }
}

function submissionActivity(
  leadId: string,
  id: string,
  record: CaptureRecord,
  created: boolean,
  changed: CaptureResult["changed"],
  kept: Record<string, unknown> = {},
): Activity {
  return {
    leadId,
    id,
    type: FORM_SUBMITTED,
    at: record.at,
    data: {
      formId: record.formId,
      created,
      submitted: record.profile,
      source: record.source,
      ...(record.consent ? { consent: record.consent } : {}),
      ...(record.key !== undefined ? { key: record.key } : {}),
      changed,
      ...(Object.keys(kept).length > 0 ? { kept } : {}),
    },
  };
}

function consentAnswer(consent: ConsentAnswer): ConsentAnswer {
  return { formId: consent.formId, given: consent.given, at: consent.at };
}

function firstKeyOf(item: Item): unknown {
  if (item[FIRST_KEY] !== undefined) return item[FIRST_KEY];
  return (item[LEGACY_FIRST_SUBMISSION] as { data?: { key?: unknown } } | undefined)?.data?.key;
}

function leadItem(lead: Lead): Item {
  return { ...keys.lead(lead.id), entity: "lead", ...lead };
}


export function activityItem(activity: Activity): Item {
  return { ...keys.activity(activity.leadId, activity.id), entity: "activity", ...activity };
}

/** A stored lead item as the lead every use case sees (the broadcast store reads leads by scanning). */
export function toLead(item: Item): Lead {
  return {
    id: item.id as Lead["id"],
    email: item.email as Lead["email"],
    profile: (item.profile ?? {}) as Lead["profile"],
    segment: item.segment as Lead["segment"],
    stage: item.stage as Lead["stage"],
    forms: (item.forms ?? []) as Lead["forms"],
    firstTouch: item.firstTouch as Lead["firstTouch"],
    lastTouch: item.lastTouch as Lead["lastTouch"],
    consents: ((item.consents ?? []) as ConsentAnswer[]).map(consentAnswer),
    createdAt: item.createdAt as Lead["createdAt"],
    updatedAt: item.updatedAt as Lead["updatedAt"],
    published: item.published === true,
    ...(item.score ? { score: scoreFromItem(item.score) as LeadScore } : {}),
    ...(typeof item.qualifiedAt === "string" ? { qualifiedAt: item.qualifiedAt } : {}),
  };
}


/** Why one item of a cancelled transaction failed. */
function cancellation(error: unknown, index: number): { code: string | undefined } | undefined {
  if (!(error instanceof TransactionCanceledException)) return undefined;
  const reason = error.CancellationReasons?.[index];
  return reason ? { code: reason.Code } : undefined;
}

/** Another transaction touched the same items at the same moment: retry, nothing is wrong. */
function isConflict(error: unknown): boolean {
  if (error instanceof TransactionCanceledException) {
    return (error.CancellationReasons ?? []).some((r) => r.Code === "TransactionConflict");
  }
  return errorName(error) === "TransactionConflictException";
}

function errorName(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "name" in error ? String(error.name) : undefined;
}

/** ISO times compare as strings. */
function later(a: string, b: string): string {
  return a >= b ? a : b;
}

/** Full jitter, so racing merges spread out instead of colliding again in step. */
function backoff(attempt: number): Promise<void> {
  const ceiling = Math.min(250, 5 * 2 ** Math.min(attempt, 8));
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}
