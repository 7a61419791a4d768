/**
 * Scores and qualifications on the lead item. Every score write is conditional on the lead's
 * `version` and `behaviourSeq` as read, so a score computed from stale activities or a stale
 * profile is refused (the scorer re-reads), and a qualification is one conditional write that
 * only a lead in a stage the lifecycle lets qualify passes (`lead` never qualified, `recycled`):
 * two racing scorers cannot both qualify. `announcePending`/`announceUntil` on the lead mark a qualification whose
 * `lead.qualified` has not reached the bus yet, and who holds the right to publish it; the same
 * write puts the lead in the sparse UNANNOUNCED index, so the republisher finds a qualification
 * whose announcement every retry failed, and only the announcement takes it out again.
 */
import { createHash } from "node:crypto";
import { type DynamoDBDocumentClient, GetCommand, PutCommand, paginateQuery, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { type Activity, type LeadScore, type NewActivity, qualifiableStages, QUALIFIED_STAGE, type ScoreBasis, type ScoringRead } from "@leadloop/core";
import { newActivityId } from "./activity-id";
import { queryShards } from "./due-query";
import { translateError } from "./errors";
import { indexKeys, keys, UNANNOUNCED_SHARDS } from "./keys";
import { STRAY_ALLOWANCE, toActivity, withFirstSubmission } from "./first-submission";
import { storedScore } from "./stored-score";
import { lineOfMessage, MESSAGE_LINE, withMessageLines } from "./message-lines";

/** The one activity type whose lines sit on message items. */
const SENT_LINE = "email.sent";

type Item = Record<string, unknown>;

/**
 * An activity id for an event that may be delivered twice: its time (so the timeline still
 * sorts) and a digest of the event's identity instead of random bytes, so a second delivery
 * names the same item.
 */
export function keyedActivityId(at: string, key: string): string {
  const time = new Date(at);
  if (Number.isNaN(time.getTime())) throw new RangeError(`Not a time: ${at}`);
  return `${time.toISOString()}-${createHash("sha256").update(key).digest("hex").slice(0, 12)}`;
}

export class DynamoLeadScores {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly toLead: (item: Item) => ScoringRead["lead"],
  ) {}

  async appendBehaviour(leadId: string, activity: NewActivity, options: { key?: string } = {}): Promise<{ activity: Activity; created: boolean }> {
    const id = options.key ? keyedActivityId(activity.at, options.key) : newActivityId(activity.at);
    const stored: Activity = { leadId, id, ...activity };
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...keys.activity(leadId, id), entity: "activity", ...stored },
          ...(options.key ? { ConditionExpression: "attribute_not_exists(pk)" } : {}),
        }),
      );
    } catch (error) {
      if (errorName(error) === "ConditionalCheckFailedException") return { activity: stored, created: false };
      throw translateError(error, "appending a behaviour activity");
    }
    try {
      // After the activity, never before: a scorer that read the old sequence number then
      // finds its write refused and re-reads, now seeing this activity.
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.lead(leadId),
          UpdateExpression: "ADD behaviourSeq :one",
          ConditionExpression: "attribute_exists(pk)",
          ExpressionAttributeValues: { ":one": 1 },
        }),
      );
    } catch (error) {
      // An erased lead: the activity is an orphan nobody scores; nothing else to do.
      if (errorName(error) !== "ConditionalCheckFailedException") throw translateError(error, "counting a behaviour activity");
    }
    return { activity: stored, created: true };
  }

  async readForScoring(leadId: string, options: { types: readonly string[]; limit: number }): Promise<ScoringRead | undefined> {
    let item: Item | undefined;
    try {
      item = (await this.client.send(new GetCommand({ TableName: this.table, Key: keys.lead(leadId), ConsistentRead: true }))).Item;
    } catch (error) {
      throw translateError(error, "reading a lead to score");
    }
    if (!item) return undefined;
    // A stray or two more than the window, so skipping them still fills it (see DynamoLeadStore).
    const [stored, lines] = await Promise.all([
      options.types.length === 0 ? [] : this.#behaviour(leadId, options.types, options.limit + STRAY_ALLOWANCE),
      // A sent nurture email's line is on its message (message-lines.ts): read only where scoring counts sends.
      options.types.includes(SENT_LINE) ? this.#sentLines(leadId) : [],
    ]);
    const activities = withMessageLines(withFirstSubmission(stored, item, leadId), lines)
      .filter((a) => options.types.includes(a.type))
      .slice(0, options.limit);
    const pending = typeof item.announcePending === "string" ? item.announcePending : undefined;
    const unpublishedDue = indexKeys.unpublishedDueOf(item);
    return {
      ...(unpublishedDue !== undefined ? { unpublishedDue } : {}),
      lead: this.toLead(item),
      basis: { version: Number(item.version ?? 0), behaviourSeq: Number(item.behaviourSeq ?? 0) },
      activities,
      ...(pending
        ? { unannounced: { qualifiedAt: pending, ...(typeof item.announceUntil === "string" ? { heldUntil: item.announceUntil } : {}) } }
        : {}),
    };
  }

  /** Newest first, only the scored types, at most `limit`; consistent, so an activity just appended is seen. */
  async #behaviour(leadId: string, types: readonly string[], limit: number): Promise<Activity[]> {
    const values: Record<string, unknown> = { ":pk": keys.lead(leadId).pk, ":prefix": keys.activityPrefix };
    types.forEach((type, i) => {
      values[`:t${i}`] = type;
    });
    const items: Item[] = [];
    const query = {
      TableName: this.table,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
      FilterExpression: `#type IN (${types.map((_, i) => `:t${i}`).join(", ")})`,
      ExpressionAttributeNames: { "#type": "type" },
      ExpressionAttributeValues: values,
      ScanIndexForward: false,
      ConsistentRead: true,
    };
    try {
      for await (const page of paginateQuery({ client: this.client }, query)) {
        items.push(...(page.Items ?? []));
        if (items.length >= limit) break;
      }
    } catch (error) {
      throw translateError(error, "reading a lead's activities to score");
    }
    return items.slice(0, limit).map(toActivity);
  }

  async #sentLines(leadId: string): Promise<Activity[]> {
    const lines: Activity[] = [];
    const query = {
      TableName: this.table,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :msg)",
      FilterExpression: "attribute_exists(#line)",
      ProjectionExpression: "sk, #line",
      ExpressionAttributeNames: { "#line": MESSAGE_LINE },
      ExpressionAttributeValues: { ":pk": keys.lead(leadId).pk, ":msg": "MSG#" },
      ConsistentRead: true,
    };
    try {
      for await (const page of paginateQuery({ client: this.client }, query)) {
        for (const item of page.Items ?? []) {
          const line = lineOfMessage(item, leadId);
          if (line) lines.push(line);
        }
      }
    } catch (error) {
      throw translateError(error, "reading a lead's sent emails to score");
    }
    return lines;
  }

  async saveScore(
    leadId: string,
    score: LeadScore,
    basis: ScoreBasis,
    qualify?: { at: string; announceUntil: string },
    options: { published?: boolean } = {},
  ): Promise<"saved" | "stale"> {
    const names: Record<string, string> = { "#score": "score", "#version": "version" };
    const values: Record<string, unknown> = { ":score": storedScore(score), ":version": basis.version };
    const conditions = ["#version = :version"];
    if (basis.behaviourSeq === 0) conditions.push("attribute_not_exists(behaviourSeq)");
    else {
      conditions.push("behaviourSeq = :seq");
      values[":seq"] = basis.behaviourSeq;
    }
    let update = "SET #score = :score";
    if (qualify) {
      // The stage moves, so the version moves too: a capture merging concurrently re-reads.
      update +=
        ", #stage = :mql, qualifiedAt = :at, announcePending = :at, announceUntil = :until, updatedAt = :at, #version = :next, duePk = :duePk, dueSk = :dueSk";
      // The lifecycle's stages a lead may qualify from, checked in the write itself: a lead parked
      // or handed to sales meanwhile is not qualified by a score computed before that.
      const { first, afterRecycle } = qualifiableStages();
      const from = [
        ...first.map((stage, i) => {
          values[`:first${i}`] = stage;
          return `(#stage = :first${i} AND attribute_not_exists(qualifiedAt))`;
        }),
        ...afterRecycle.map((stage, i) => {
          values[`:again${i}`] = stage;
          return `#stage = :again${i}`;
        }),
      ];
      conditions.push(from.length > 0 ? from.join(" OR ") : "attribute_not_exists(pk)");
      names["#stage"] = "stage";
      Object.assign(values, {
        ":mql": QUALIFIED_STAGE,
        ":at": qualify.at,
        ":until": qualify.announceUntil,
        ":next": basis.version + 1,
        ":duePk": indexKeys.unannounced(leadId, qualify.at).duePk,
        ":dueSk": indexKeys.unannounced(leadId, qualify.at).dueSk,
      });
    }
    if (options.published) {
      // The lead's lead.captured reached the bus: off the republisher's list in this same write.
      update += ", published = :published REMOVE gsi1pk, gsi1sk";
      values[":published"] = true;
    }
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.lead(leadId),
          UpdateExpression: update,
          ConditionExpression: conditions.map((c) => `(${c})`).join(" AND "),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return "saved";
    } catch (error) {
      if (errorName(error) === "ConditionalCheckFailedException") return "stale";
      throw translateError(error, "saving a score");
    }
  }

  async claimAnnouncement(leadId: string, qualifiedAt: string, until: string, now: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.lead(leadId),
          UpdateExpression: "SET announceUntil = :until",
          ConditionExpression: "announcePending = :q AND (attribute_not_exists(announceUntil) OR announceUntil < :now)",
          ExpressionAttributeValues: { ":q": qualifiedAt, ":until": until, ":now": now },
        }),
      );
      return true;
    } catch (error) {
      if (errorName(error) === "ConditionalCheckFailedException") return false;
      throw translateError(error, "claiming a qualification announcement");
    }
  }

  async settleAnnouncement(leadId: string, qualifiedAt: string, outcome: "announced" | "released"): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.lead(leadId),
          UpdateExpression: outcome === "announced" ? "REMOVE announcePending, announceUntil, duePk, dueSk" : "REMOVE announceUntil",
          ConditionExpression: "announcePending = :q",
          ExpressionAttributeValues: { ":q": qualifiedAt },
        }),
      );
    } catch (error) {
      // A later qualification replaced this one: it carries its own announcement.
      if (errorName(error) === "ConditionalCheckFailedException") return;
      throw translateError(error, "settling a qualification announcement");
    }
  }

  /** Qualifications still unannounced that were made at or before `upTo`, oldest first. */
  async listUnannounced(upTo: string, limit: number): Promise<{ lead: ScoringRead["lead"]; qualifiedAt: string }[]> {
    const items = await queryShards(this.client, this.table, UNANNOUNCED_SHARDS, {
      index: "due",
      partition: indexKeys.unannouncedShard,
      upTo: indexKeys.dueUpTo(upTo),
      limit,
      doing: "listing unannounced qualifications",
    });
    return items
      .filter((item) => typeof item.announcePending === "string")
      .map((item) => ({ lead: this.toLead(item), qualifiedAt: String(item.announcePending) }));
  }
}


function errorName(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "name" in error ? String(error.name) : undefined;
}
