/**
 * How one bus event moves the report: which fact it is (the key that makes a redelivery a no-op),
 * what it changes in the lead's report state, and which counters it adds to. Pure: the use case
 * (record-report-event.ts) reads the state and writes the result.
 */
import type { EventEnvelope, SES_REPORT_EVENTS } from "../routing/routing-rules";
import {
  type AggregateIncrement,
  CLOSE_OUTCOMES,
  type CloseOutcome,
  counterName,
  type EmailCounter,
  hoursBetween,
  type ReportDims,
  sourceOf,
  utcDay,
  WHOLE_SEQUENCE_STEP,
} from "./report-aggregates";
import type { DealNotes, DealReview } from "../feedback/deal-review";
import { type CohortDims, type CohortState, cohortMoves, dimValue, NONE } from "./cohort";
import type { LeadFacts, LeadReportState, SentMessage } from "./report-store";

/** An event in the terms the report cares about. */
export type ReportEvent =
  | { type: "captured"; leadId: string; at: string; dims: ReportDims; medium: string; campaign: string }
  | {
      type: "email";
      counter: Exclude<EmailCounter, "wonTouches" | "unsubscribed">;
      leadId: string;
      at: string;
      messageId: string;
      sequenceId?: string;
      stepId?: string;
      variantId?: string;
    }
  | { type: "web-activity"; leadId: string; at: string; key: string }
  | { type: "unsubscribed"; leadId: string; at: string }
  | { type: "qualified"; leadId: string; at: string; score?: number; threshold?: number; rules: string[] }
  | { type: "assigned"; leadId: string; at: string; teamId: string; rep: string }
  | { type: "claimed"; leadId: string; at: string; teamId?: string; rep?: string }
  | {
      type: "closed";
      leadId: string;
      at: string;
      outcome: CloseOutcome;
      reason?: string;
      amount?: number;
      currency?: string;
      teamId?: string;
      rep?: string;
      notes?: DealNotes;
    }
  | { type: "recycled"; leadId: string; at: string };

/** SES detail-types (configuration-set events on EventBridge) the report counts: its rule delivers these (routing-rules.ts). */
const SES_COUNTERS: Record<(typeof SES_REPORT_EVENTS)[number], "opened" | "clicked" | "bounced"> = {
  "Email Opened": "opened",
  "Email Clicked": "clicked",
  "Email Bounced": "bounced",
};
const SES_TIME_FIELD = { opened: "open", clicked: "click", bounced: "bounce" } as const;

const str = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : undefined);
const record = (value: unknown): Record<string, unknown> => (value && typeof value === "object" ? (value as Record<string, unknown>) : {});
const validTime = (value: unknown): string | undefined => {
  const text = str(value);
  return text && Number.isFinite(Date.parse(text)) ? new Date(text).toISOString() : undefined;
};
/** SES tags are arrays of strings. */
const tag = (tags: Record<string, unknown>, name: string): string | undefined => {
  const value = tags[name];
  return Array.isArray(value) ? str(value[0]) : str(value);
};

/** The report's view of an event, or undefined for events it does not count. */
export function reportEventOf(event: EventEnvelope): ReportEvent | undefined {
  const detail = event.detail;
  const envelopeTime = validTime(event.time) ?? new Date().toISOString();
  if (event.source === "aws.ses") {
    const counter = (SES_COUNTERS as Record<string, "opened" | "clicked" | "bounced" | undefined>)[event["detail-type"]];
    if (!counter) return undefined;
    const mail = record(detail.mail);
    const tags = record(mail.tags);
    const leadId = tag(tags, "lead");
    const messageId = tag(tags, "message") ?? str(mail.messageId);
    if (!leadId || !messageId) return undefined;
    const at = validTime(record(detail[SES_TIME_FIELD[counter]]).timestamp) ?? envelopeTime;
    const sequenceId = tag(tags, "sequence");
    const stepId = tag(tags, "step");
    const variantId = tag(tags, "variant");
    return { type: "email", counter, leadId, at, messageId, ...(sequenceId ? { sequenceId } : {}), ...(stepId ? { stepId } : {}), ...(variantId ? { variantId } : {}) };
  }
  const leadId = str(detail.leadId);
  if (!leadId) return undefined;
  switch (event["detail-type"]) {
    case "lead.captured": {
      const source = record(detail.source);
      return {
        type: "captured",
        leadId,
        at: envelopeTime,
        dims: { segment: str(detail.segment) ?? "unknown", source: sourceOf(source.utm_source), formId: str(detail.formId) ?? "unknown" },
        medium: dimValue(source.utm_medium),
        campaign: dimValue(source.utm_campaign),
      };
    }
    case "email.sent": {
      const messageId = str(detail.messageId);
      if (!messageId) return undefined;
      const sequenceId = str(detail.sequenceId);
      const stepId = str(detail.stepId);
      const variantId = str(detail.variantId);
      return {
        type: "email",
        counter: "sent",
        leadId,
        at: envelopeTime,
        messageId,
        ...(sequenceId ? { sequenceId } : {}),
        ...(stepId ? { stepId } : {}),
        ...(variantId ? { variantId } : {}),
      };
    }
    case "lead.scored": {
      // Only a score moved by something the lead did on the site (the site script's behaviour
      // events) is web engagement; rescoring a profile is not.
      const activity = detail.activity;
      if (activity === undefined || activity === null) return undefined;
      return { type: "web-activity", leadId, at: validTime(record(activity).at) ?? validTime(detail.at) ?? envelopeTime, key: event.id };
    }
    case "lead.unsubscribed":
      return { type: "unsubscribed", leadId, at: envelopeTime };
    case "lead.qualified": {
      const rules = Array.isArray(detail.reasons) ? detail.reasons.map((r) => str(record(r).rule)).filter((r): r is string => r !== undefined) : [];
      return {
        type: "qualified",
        leadId,
        at: validTime(detail.qualifiedAt) ?? envelopeTime,
        rules: [...new Set(rules)].sort(),
        ...(typeof detail.score === "number" ? { score: detail.score } : {}),
        ...(typeof detail.threshold === "number" ? { threshold: detail.threshold } : {}),
      };
    }
    case "lead.assigned": {
      const teamId = str(detail.teamId);
      const rep = str(detail.rep);
      if (!teamId || !rep) return undefined;
      return { type: "assigned", leadId, at: validTime(detail.queuedAt) ?? envelopeTime, teamId, rep };
    }
    case "lead.claimed": {
      const teamId = str(detail.teamId);
      const rep = str(detail.rep);
      return { type: "claimed", leadId, at: validTime(detail.claimedAt) ?? envelopeTime, ...(teamId ? { teamId } : {}), ...(rep ? { rep } : {}) };
    }
    case "lead.closed": {
      const outcome = CLOSE_OUTCOMES.find((o) => o === detail.outcome);
      if (!outcome) return undefined;
      const amount = typeof detail.amount === "number" && Number.isFinite(detail.amount) && detail.amount > 0 ? detail.amount : undefined;
      const reason = str(detail.reason);
      const currency = str(detail.currency);
      const teamId = str(detail.teamId);
      const rep = str(detail.rep);
      const notesIn = record(detail.notes);
      const notes: DealNotes = {};
      if (str(notesIn.wentWell)) notes.wentWell = String(notesIn.wentWell).slice(0, 2000);
      if (str(notesIn.toImprove)) notes.toImprove = String(notesIn.toImprove).slice(0, 2000);
      return {
        type: "closed",
        leadId,
        at: validTime(detail.closedAt) ?? envelopeTime,
        outcome,
        ...(reason ? { reason } : {}),
        ...(amount !== undefined ? { amount } : {}),
        ...(currency ? { currency } : {}),
        ...(teamId ? { teamId } : {}),
        ...(rep ? { rep } : {}),
        ...(Object.keys(notes).length > 0 ? { notes } : {}),
      };
    }
    case "lead.recycled":
      return { type: "recycled", leadId, at: validTime(detail.recycledAt) ?? envelopeTime };
    default:
      return undefined;
  }
}

/** Whether planning this event needs the lead's sent messages (won touches, unsubscribe and A/B attribution). */
export function needsMessages(event: ReportEvent): boolean {
  return event.type === "unsubscribed" || event.type === "qualified" || (event.type === "closed" && event.outcome === "won");
}

/**
 * The key that makes this event count once: per lead (capture, engagement, unsubscribe), per
 * message (email figures), or per lead and cycle for the sales stages — a lead is an MQL, claimed
 * and closed at most once until it is recycled, however many times those events are published.
 */
export function factOf(event: ReportEvent, cycleStartedAt?: string): string {
  const cycle = cycleStartedAt ?? "first";
  switch (event.type) {
    case "captured":
      return "captured";
    case "email":
      return `${event.counter}#${event.messageId}`;
    case "web-activity":
      return `web#${event.key}`;
    case "unsubscribed":
      return "unsubscribed";
    case "qualified":
      return `mql#${cycle}`;
    case "assigned":
      return `assigned#${cycle}#${event.teamId}#${event.rep}`;
    case "claimed":
      return `claimed#${cycle}`;
    case "closed":
      return `closed#${cycle}`;
    case "recycled":
      return `recycled#${event.at}`;
  }
}

export interface ReportPlan {
  state: LeadReportState;
  increments: AggregateIncrement[];
  /** Written with the counters when a deal closes. */
  review?: DealReview;
}

/**
 * DynamoDB takes at most 100 actions per transaction: the state, the review, the funnel row, at
 * most two cohort rows (out of one combination into another), the A/B variants credited, and these.
 */
const MAX_TOUCH_INCREMENTS = 60;
/** A/B variants a lead's MQL or win is credited to (one per tested step it was sent). */
const MAX_VARIANT_INCREMENTS = 20;

/**
 * What the event adds, given the lead's report state (or, when the report never saw the lead, its
 * cohort from the lead item). Undefined when there is nothing to do: the fact was counted already,
 * or the lead is unknown to both.
 */
export function planReportEvent(
  event: ReportEvent,
  known: { state?: LeadReportState; lead?: LeadFacts; messages?: SentMessage[] },
): ReportPlan | undefined {
  const previous = known.state;
  const fact = factOf(event, previous?.cycleStartedAt);
  if (previous?.facts.includes(fact)) return undefined;
  const base: LeadReportState | undefined =
    previous ??
    (event.type === "captured"
      ? { leadId: event.leadId, dims: event.dims, capturedAt: event.at, facts: [], version: 0 }
      : known.lead
        ? {
            leadId: event.leadId,
            dims: { segment: known.lead.segment, source: known.lead.source, formId: known.lead.formId },
            capturedAt: known.lead.capturedAt,
            facts: [],
            version: 0,
          }
        : undefined);
  if (!base) return undefined;
  const state: LeadReportState = { ...base, facts: [...base.facts, fact] };
  state.cohort = nextCohort(
    previous?.cohort ?? initialCohort(base, event.type === "captured" ? event : known.lead),
    event,
  );
  let review: DealReview | undefined;
  const dims = state.dims;
  const day = utcDay(event.at);
  const funnel: Record<string, number> = {};
  const increments: AggregateIncrement[] = [];
  const email = (sequenceId: string, stepId: string, add: Record<string, number>, onDay = day) =>
    increments.push({ kind: "email", day: onDay, dims, sequenceId, stepId, add });
  const engage = () => {
    if (state.engagedAt) return;
    state.engagedAt = event.at;
    funnel[counterName.stage("engaged")] = 1;
  };

  switch (event.type) {
    case "captured":
      funnel[counterName.stage("captured")] = 1;
      break;
    case "email":
      if (event.counter === "opened" || event.counter === "clicked") engage();
      if (event.sequenceId && event.stepId) email(event.sequenceId, event.stepId, { [counterName.email(event.counter)]: 1 });
      if (event.sequenceId && event.stepId && event.variantId && event.counter !== "bounced") {
        increments.push({ kind: "variant", sequenceId: event.sequenceId, stepId: event.stepId, variantId: event.variantId, add: { [event.counter]: 1 } });
      }
      break;
    case "web-activity":
      engage();
      break;
    case "unsubscribed": {
      // Attributed to the last nurture email sent before it: the step that lost the reader.
      const last = (known.messages ?? [])
        .filter((m) => m.sequenceId && m.stepId && m.sentAt <= event.at)
        .sort((a, b) => a.sentAt.localeCompare(b.sentAt))
        .at(-1);
      if (last?.sequenceId && last.stepId) email(last.sequenceId, last.stepId, { [counterName.email("unsubscribed")]: 1 });
      break;
    }
    case "qualified": {
      state.qualification = {
        rules: event.rules,
        ...(event.score !== undefined ? { score: event.score } : {}),
        ...(event.threshold !== undefined ? { threshold: event.threshold } : {}),
      };
      funnel[counterName.stage("mql")] = 1;
      const hours = hoursBetween(state.cycleStartedAt ?? state.capturedAt, event.at);
      if (hours !== undefined) funnel[counterName.duration("capturedToMql", hours)] = 1;
      state.qualifiedAt = event.at;
      delete state.claimedAt;
      delete state.closedAt;
      for (const v of variantsSent(known.messages ?? [], event.at)) increments.push({ kind: "variant", ...v, add: { mqls: 1 } });
      break;
    }
    case "claimed": {
      funnel[counterName.stage("claimed")] = 1;
      const hours = hoursBetween(state.qualifiedAt, event.at);
      if (hours !== undefined) funnel[counterName.duration("mqlToClaimed", hours)] = 1;
      state.claimedAt = event.at;
      break;
    }
    case "closed": {
      const hours = hoursBetween(state.claimedAt ?? state.qualifiedAt, event.at);
      if (hours !== undefined) funnel[counterName.duration("claimedToClosed", hours)] = 1;
      state.closedAt = event.at;
      review = dealReview(state, event);
      if (event.outcome === "won") {
        funnel[counterName.stage("won")] = 1;
        if (event.amount !== undefined) funnel[counterName.revenue(event.currency ?? "unspecified")] = event.amount;
        wonTouches(known.messages ?? [], event.at).forEach(({ sequenceId, stepIds }) => {
          email(sequenceId, WHOLE_SEQUENCE_STEP, { [counterName.email("wonDeals")]: 1 });
          for (const stepId of stepIds) email(sequenceId, stepId, { [counterName.email("wonTouches")]: 1 });
        });
        increments.splice(MAX_TOUCH_INCREMENTS);
        for (const v of variantsSent(known.messages ?? [], event.at)) increments.push({ kind: "variant", ...v, add: { wins: 1 } });
      } else if (event.outcome === "lost") {
        funnel[counterName.stage("lost")] = 1;
        funnel[counterName.lostReason(event.reason ?? "unspecified")] = 1;
      } else if (event.outcome === "disqualified") {
        funnel[counterName.stage("disqualified")] = 1;
        funnel[counterName.disqualifiedReason(event.reason ?? "unspecified")] = 1;
      } else {
        funnel[counterName.stage("notNow")] = 1;
      }
      break;
    }
    case "recycled":
      state.cycleStartedAt = event.at;
      delete state.qualifiedAt;
      delete state.claimedAt;
      delete state.closedAt;
      break;
  }
  if (Object.keys(funnel).length > 0) increments.unshift({ kind: "funnel", day, dims, add: funnel });
  for (const move of cohortMoves(previous?.cohort, state.cohort)) increments.push({ kind: "cohort", ...move });
  return { state, increments, ...(review ? { review } : {}) };
}

/** A lead's cohort as first seen: from its capture, or from what the report already knew. */
function initialCohort(base: LeadReportState, source: { medium?: string; campaign?: string } | undefined): CohortState {
  const dims: CohortDims = {
    segment: base.dims.segment,
    formId: base.dims.formId,
    source: base.dims.source,
    medium: source?.medium ?? NONE,
    campaign: source?.campaign ?? NONE,
    team: NONE,
    rep: NONE,
  };
  // A lead the report counted before cohorts existed keeps the stage times it already has.
  return {
    day: utcDay(base.capturedAt),
    dims,
    capturedAt: base.capturedAt,
    ...(base.engagedAt ? { engagedAt: base.engagedAt } : {}),
    ...(base.qualifiedAt ? { mqlAt: base.qualifiedAt } : {}),
    ...(base.claimedAt ? { claimedAt: base.claimedAt } : {}),
  };
}

/** Where the event takes the lead's cohort: the first time it reached each stage, its latest sales owner and outcome. */
function nextCohort(cohort: CohortState, event: ReportEvent): CohortState {
  const next: CohortState = { ...cohort, dims: { ...cohort.dims } };
  const owner = (teamId?: string, rep?: string) => {
    if (teamId) next.dims.team = dimValue(teamId);
    if (rep) next.dims.rep = dimValue(rep);
  };
  switch (event.type) {
    case "email":
      if (event.counter === "opened" || event.counter === "clicked") next.engagedAt ??= event.at;
      break;
    case "web-activity":
      next.engagedAt ??= event.at;
      break;
    case "qualified":
      next.mqlAt ??= event.at;
      break;
    case "assigned":
      if (!next.outcome || next.outcome === "not-now") owner(event.teamId, event.rep);
      break;
    case "claimed":
      next.claimedAt ??= event.at;
      owner(event.teamId, event.rep);
      break;
    case "closed":
      next.closedAt ??= event.at;
      // A won deal stays won in its cohort; a not-now lead that comes back may still close otherwise.
      if (next.outcome !== "won") next.outcome = event.outcome;
      owner(event.teamId, event.rep);
      break;
    default:
      break;
  }
  return next;
}

const countFacts = (facts: string[], prefix: string) => facts.filter((f) => f.startsWith(prefix)).length;

function dealReview(state: LeadReportState, event: Extract<ReportEvent, { type: "closed" }>): DealReview {
  const cohort = state.cohort as CohortState;
  const q = state.qualification;
  return {
    leadId: state.leadId,
    closedAt: event.at,
    outcome: event.outcome,
    ...(event.reason ? { reason: event.reason } : {}),
    ...(event.amount !== undefined ? { amount: event.amount } : {}),
    ...(event.currency ? { currency: event.currency } : {}),
    ...(event.notes ? { notes: event.notes } : {}),
    dims: cohort.dims,
    capturedAt: state.capturedAt,
    ...(state.engagedAt ? { engagedAt: state.engagedAt } : {}),
    ...(state.qualifiedAt ? { qualifiedAt: state.qualifiedAt } : {}),
    ...(state.claimedAt ? { claimedAt: state.claimedAt } : {}),
    ...(q?.score !== undefined ? { score: q.score } : {}),
    ...(q?.threshold !== undefined ? { threshold: q.threshold } : {}),
    rules: q?.rules ?? [],
    emails: { sent: countFacts(state.facts, "sent#"), opened: countFacts(state.facts, "opened#"), clicked: countFacts(state.facts, "clicked#") },
    webActivities: countFacts(state.facts, "web#"),
  };
}

/** The distinct nurture sequences and steps a lead was sent before the deal closed. */
function wonTouches(messages: SentMessage[], closedAt: string): { sequenceId: string; stepIds: string[] }[] {
  const bySequence = new Map<string, Set<string>>();
  for (const m of messages) {
    if (!m.sequenceId || !m.stepId || m.sentAt > closedAt) continue;
    const steps = bySequence.get(m.sequenceId) ?? new Set<string>();
    steps.add(m.stepId);
    bySequence.set(m.sequenceId, steps);
  }
  return [...bySequence].map(([sequenceId, steps]) => ({ sequenceId, stepIds: [...steps].sort() }));
}

/** The A/B variants a lead was sent before an instant, one per tested step. */
function variantsSent(messages: SentMessage[], before: string): { sequenceId: string; stepId: string; variantId: string }[] {
  const seen = new Map<string, { sequenceId: string; stepId: string; variantId: string }>();
  for (const m of messages) {
    if (!m.sequenceId || !m.stepId || !m.variantId || m.sentAt > before) continue;
    seen.set(`${m.sequenceId}#${m.stepId}`, { sequenceId: m.sequenceId, stepId: m.stepId, variantId: m.variantId });
  }
  return [...seen.values()].slice(0, MAX_VARIANT_INCREMENTS);
}
