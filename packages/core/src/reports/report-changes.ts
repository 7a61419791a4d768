/**
 * The report's facts as the table holds them. Every fact the report counts is written to an item
 * before anything announces it, so the report reads the table's change stream (DynamoDB Streams in
 * AWS, the local poller on DynamoDB Local) instead of the bus: each change to one of these items
 * is the report event it stands for. Pure: the stream handler hands in item images.
 *
 * | fact | item and change |
 * |---|---|
 * | captured | the lead item, inserted |
 * | qualified | the lead item, `qualifiedAt` set or moved (its score, threshold and reasons are written with it) |
 * | email sent | a nurture message item (sequence and step), inserted |
 * | opened, clicked, bounced | a message item, `openedAt`/`clickedAt`/`bouncedAt` first set (SES's events mark it) |
 * | web engagement | a `web.*` activity, inserted (the site script's behaviour events) |
 * | unsubscribed | the `email.unsubscribed` activity, inserted |
 * | recycled | the `lead.recycled` activity, inserted |
 * | assigned, claimed, closed | the outbox item the sales write holds its event in, inserted |
 */
import { topReasons } from "../engagement/lead-scoring";
import type { ScoreReason } from "../scoring";
import type { EventEnvelope } from "../routing/routing-rules";
import { dimValue } from "./cohort";
import { sourceOf } from "./report-aggregates";
import { type ReportEvent, reportEventOf } from "./report-event";

type Image = Record<string, unknown>;

/** One changed item, as a stream record carries it (images already unmarshalled). */
export interface TableChange {
  /** The record's id (unique per change): a failed change is handed back by it. */
  id: string;
  change: "INSERT" | "MODIFY" | "REMOVE";
  newImage?: Image;
  oldImage?: Image;
}

/** Which items the report's stream trigger needs, by sort key prefix (the filter in AWS; everything else never reaches it). */
export const REPORT_ITEM_PREFIXES = ["LEAD", "MSG#", "ACT#", "OUTBOX#"] as const;

/** Activity types that are report facts. */
const WEB_ACTIVITY = /^web\./;
/** Sales events the sales store writes to the outbox with their state change. */
const OUTBOX_EVENTS = new Set(["lead.assigned", "lead.claimed", "lead.closed"]);
/** Emails to reps and staff are not the lead's engagement. */
const NOT_ENGAGEMENT = new Set(["notification"]);
const MESSAGE_MARKS = [
  ["openedAt", "opened"],
  ["clickedAt", "clicked"],
  ["bouncedAt", "bounced"],
] as const;

const str = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : undefined);
const record = (value: unknown): Image => (value && typeof value === "object" ? (value as Image) : {});

/** The report events a change stands for (none for most changes). */
export function reportEventsOfChange(change: TableChange): ReportEvent[] {
  const item = change.newImage;
  if (!item || change.change === "REMOVE") return [];
  const sk = str(item.sk) ?? "";
  const leadId = str(item.leadId) ?? str(item.id);
  if (!leadId) return [];
  const inserted = change.change === "INSERT";
  if (sk === "LEAD") return leadFacts(leadId, item, inserted ? undefined : (change.oldImage ?? {}));
  if (sk.startsWith("MSG#")) return messageFacts(leadId, item, inserted ? undefined : (change.oldImage ?? {}));
  if (!inserted) return [];
  if (sk.startsWith("ACT#")) return activityFacts(leadId, item);
  if (sk.startsWith("OUTBOX#")) {
    const event = record(item.event);
    const type = str(event.type);
    if (!type || !OUTBOX_EVENTS.has(type)) return [];
    const envelope: EventEnvelope = {
      id: change.id,
      source: str(event.source) ?? "leadloop",
      "detail-type": type,
      time: str(event.time) ?? str(item.dueAt) ?? new Date(0).toISOString(),
      detail: record(event.detail),
    };
    const fact = reportEventOf(envelope);
    return fact ? [fact] : [];
  }
  return [];
}

function leadFacts(leadId: string, lead: Image, before: Image | undefined): ReportEvent[] {
  const facts: ReportEvent[] = [];
  if (!before) {
    const touch = record(lead.firstTouch);
    facts.push({
      type: "captured",
      leadId,
      at: str(lead.createdAt) ?? new Date(0).toISOString(),
      dims: { segment: str(lead.segment) ?? "unknown", source: sourceOf(touch.utm_source), formId: str(touch.formId) ?? "unknown" },
      medium: dimValue(touch.utm_medium),
      campaign: dimValue(touch.utm_campaign),
    });
  }
  const qualifiedAt = str(lead.qualifiedAt);
  if (qualifiedAt && qualifiedAt !== str(before?.qualifiedAt) && lead.stage === "mql") {
    const score = record(lead.score);
    const reasons = Array.isArray(score.reasons) ? topReasons(score.reasons as ScoreReason[]) : [];
    facts.push({
      type: "qualified",
      leadId,
      at: qualifiedAt,
      rules: [...new Set(reasons.map((r) => r.rule).filter((r): r is string => typeof r === "string"))].sort(),
      ...(typeof score.total === "number" ? { score: score.total } : {}),
      ...(typeof score.threshold === "number" ? { threshold: score.threshold } : {}),
    });
  }
  return facts;
}

function messageFacts(leadId: string, message: Image, before: Image | undefined): ReportEvent[] {
  const messageId = str(message.messageId);
  const kind = str(message.kind);
  if (!messageId || (kind && NOT_ENGAGEMENT.has(kind))) return [];
  const sequenceId = str(message.sequenceId);
  const stepId = str(message.stepId);
  const variantId = str(message.variantId);
  const step = { ...(sequenceId ? { sequenceId } : {}), ...(stepId ? { stepId } : {}), ...(variantId ? { variantId } : {}) };
  const facts: ReportEvent[] = [];
  // email.sent is announced for nurture steps and broadcasts, which both carry a sequence and step.
  if (!before && kind === "nurture" && sequenceId && stepId) {
    facts.push({ type: "email", counter: "sent", leadId, at: str(message.sentAt) ?? new Date(0).toISOString(), messageId, ...step });
  }
  for (const [field, counter] of MESSAGE_MARKS) {
    const at = str(message[field]);
    if (at && at !== str(before?.[field])) facts.push({ type: "email", counter, leadId, at, messageId, ...step });
  }
  return facts;
}

function activityFacts(leadId: string, activity: Image): ReportEvent[] {
  const type = str(activity.type) ?? "";
  const at = str(activity.at) ?? new Date(0).toISOString();
  if (WEB_ACTIVITY.test(type)) return [{ type: "web-activity", leadId, at, key: str(activity.id) ?? at }];
  if (type === "email.unsubscribed") return [{ type: "unsubscribed", leadId, at }];
  if (type === "lead.recycled") return [{ type: "recycled", leadId, at }];
  return [];
}
