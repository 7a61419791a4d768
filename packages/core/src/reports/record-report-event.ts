/**
 * The report handler's use case: each event adds to the report's aggregates exactly once, however
 * often it is delivered, and a batch of events costs one write per lead and per aggregate row, not
 * one transaction per event. Each lead's report state records every fact counted; a commit writes
 * the states of a batch's leads (each conditional on the version read) and the batch's increments,
 * summed per row, in one transaction: a redelivery finds its facts already there, and two batches
 * racing on a lead cannot both commit (the loser re-reads and plans again).
 */
import { StoreUnavailableError } from "../ports";
import type { DealReview } from "../feedback/deal-review";
import type { EventEnvelope } from "../routing/routing-rules";
import { type AggregateIncrement, aggregateRowOf, mergeIncrements } from "./report-aggregates";
import { needsMessages, planReportEvent, type ReportEvent, reportEventOf } from "./report-event";
import { type LeadFacts, type LeadReportState, MAX_COMMIT_ITEMS, type ReportStateWrite, type ReportStore, type SentMessage } from "./report-store";

export interface ReportDeps {
  reports: ReportStore;
}

export type ReportOutcome = "counted" | "duplicate" | "ignored" | "unknown-lead";

export interface ReportBatchResult {
  /** How many events of the batch ended each way. */
  outcomes: Record<ReportOutcome, number>;
  /** Events not counted now (a store failure, or a lead whose state kept changing): deliver them again. */
  failed: { id: string; error: unknown }[];
  /** Transactions written. */
  commits: number;
}

/** A lead's events rarely race; when they do, the loser re-reads and tries again. */
const MAX_ATTEMPTS = 8;
/** Leads read at once while planning a batch. */
const READ_CONCURRENCY = 16;

type Pending = ReportFact;

interface LeadGroup {
  leadId: string;
  events: Pending[];
  /** Commits this lead lost to another writer so far. */
  conflicts: number;
}

/** One lead's share of a commit. */
interface LeadPlan {
  group: LeadGroup;
  write?: ReportStateWrite;
  increments: AggregateIncrement[];
  rows: Set<string>;
  reviews: DealReview[];
  /** Outcomes of the events planned, final once the commit holding them succeeds. */
  outcomes: ReportOutcome[];
  /** Events left for the next commit: one lead's batch would not fit one transaction. */
  rest: Pending[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Counts one event (a batch of one); throws when it could not be counted now, so its delivery is retried. */
export async function recordReportEvent(deps: ReportDeps, envelope: EventEnvelope): Promise<ReportOutcome> {
  const result = await recordReportEvents(deps, [envelope]);
  const failure = result.failed[0];
  if (failure) throw failure.error;
  return (Object.keys(result.outcomes) as ReportOutcome[]).find((o) => result.outcomes[o] > 0) ?? "ignored";
}

/**
 * Counts a batch of events. Events of one lead are planned in the order given, on the state they
 * leave each other; what one lead's events add would not fit one transaction is counted by the
 * next commit. Never throws for a store failure: the events it hit are returned as failed.
 */
export async function recordReportEvents(deps: ReportDeps, envelopes: readonly EventEnvelope[]): Promise<ReportBatchResult> {
  const events: ReportFact[] = [];
  let ignored = 0;
  for (const envelope of envelopes) {
    const event = reportEventOf(envelope);
    if (event) events.push({ id: envelope.id, event });
    else ignored++;
  }
  const result = await countReportEvents(deps, events);
  result.outcomes.ignored += ignored;
  return result;
}

/** A fact to count and the id of what carried it (a bus event, a stream record), by which a failure is handed back. */
export interface ReportFact {
  id: string;
  event: ReportEvent;
}

/**
 * Counts a batch of facts, already in the report's terms (from bus events or the table's stream).
 * Never throws for a store failure: the facts it hit are returned as failed.
 */
export async function countReportEvents(deps: ReportDeps, facts: readonly ReportFact[]): Promise<ReportBatchResult> {
  const result: ReportBatchResult = { outcomes: { counted: 0, duplicate: 0, ignored: 0, "unknown-lead": 0 }, failed: [], commits: 0 };
  const groups = new Map<string, LeadGroup>();
  for (const { id, event } of facts) {
    const group = groups.get(event.leadId) ?? { leadId: event.leadId, events: [], conflicts: 0 };
    group.events.push({ id, event });
    groups.set(event.leadId, group);
  }
  const fail = (events: Pending[], error: unknown) => {
    for (const p of events) result.failed.push({ id: p.id, error });
  };

  let pending = [...groups.values()];
  while (pending.length > 0) {
    const planned = await mapLimit(pending, READ_CONCURRENCY, (group) => planLead(deps.reports, group));
    const next: LeadGroup[] = [];
    const toCommit: LeadPlan[] = [];
    planned.forEach((outcome, i) => {
      const group = pending[i] as LeadGroup;
      if (outcome.status === "rejected") fail(group.events, outcome.reason);
      else if (outcome.value.write) toCommit.push(outcome.value);
      else settle(result, outcome.value);
    });
    let conflicted = false;
    // One transaction after the other: two of this batch at once would conflict on shared rows.
    for (const chunk of chunksOf(toCommit)) {
      let committed: boolean;
      try {
        committed = await deps.reports.commitReport({
          states: chunk.map((p) => p.write as ReportStateWrite),
          increments: mergeIncrements(chunk.flatMap((p) => p.increments)),
          reviews: chunk.flatMap((p) => p.reviews),
        });
      } catch (error) {
        for (const p of chunk) fail(p.group.events, error);
        continue;
      }
      if (committed) {
        result.commits++;
        for (const p of chunk) {
          settle(result, p);
          if (p.rest.length > 0) next.push({ leadId: p.group.leadId, events: p.rest, conflicts: p.group.conflicts });
        }
        continue;
      }
      conflicted = true;
      for (const p of chunk) {
        const conflicts = p.group.conflicts + 1;
        if (conflicts < MAX_ATTEMPTS) next.push({ ...p.group, conflicts });
        else fail(p.group.events, new StoreUnavailableError(`the report state of lead ${p.group.leadId} kept changing while counting its events; retry later`));
      }
    }
    if (conflicted) {
      const worst = Math.max(0, ...next.map((g) => g.conflicts));
      await sleep(Math.random() * 20 * 2 ** worst);
    }
    pending = next;
  }
  return result;
}

function settle(result: ReportBatchResult, plan: LeadPlan): void {
  for (const outcome of plan.outcomes) result.outcomes[outcome]++;
}

/** Reads what the lead's events need and plans them in order, stopping before a commit would overflow. */
async function planLead(reports: ReportStore, group: LeadGroup): Promise<LeadPlan> {
  const messages: SentMessage[] | undefined = group.events.some((p) => needsMessages(p.event)) ? await reports.listSentMessages(group.leadId) : undefined;
  const read = await reports.getLeadReportState(group.leadId);
  let lead: LeadFacts | undefined;
  if (!read && group.events[0]?.event.type !== "captured") lead = await reports.getLeadFacts(group.leadId);
  let state: LeadReportState | undefined = read;
  const plan: LeadPlan = { group, increments: [], rows: new Set(), reviews: [], outcomes: [], rest: [] };
  for (const [i, pending] of group.events.entries()) {
    const { event } = pending;
    if (!state && !lead && event.type !== "captured") {
      plan.outcomes.push("unknown-lead");
      continue;
    }
    const next = planReportEvent(event, { ...(state ? { state } : {}), ...(lead ? { lead } : {}), ...(messages ? { messages } : {}) });
    if (!next) {
      plan.outcomes.push("duplicate");
      continue;
    }
    const rows = new Set([...plan.rows, ...next.increments.map(aggregateRowOf)]);
    const reviews = plan.reviews.length + (next.review ? 1 : 0);
    if (state !== read && 1 + reviews + rows.size > MAX_COMMIT_ITEMS) {
      plan.rest = group.events.slice(i);
      break;
    }
    state = next.state;
    plan.rows = rows;
    plan.increments.push(...next.increments);
    if (next.review) plan.reviews.push(next.review);
    plan.outcomes.push("counted");
  }
  if (state && state !== read) plan.write = { state: { ...state, version: (read?.version ?? 0) + 1 }, expectedVersion: read?.version };
  return plan;
}

/** Leads grouped into transactions of at most MAX_COMMIT_ITEMS items (states, reviews and distinct rows). */
function chunksOf(plans: readonly LeadPlan[]): LeadPlan[][] {
  const chunks: LeadPlan[][] = [];
  let chunk: LeadPlan[] = [];
  let rows = new Set<string>();
  let items = 0;
  for (const plan of plans) {
    const merged = new Set([...rows, ...plan.rows]);
    const own = 1 + plan.reviews.length;
    if (chunk.length > 0 && items + own + merged.size > MAX_COMMIT_ITEMS) {
      chunks.push(chunk);
      chunk = [];
      rows = new Set(plan.rows);
      items = 0;
    } else {
      rows = merged;
    }
    chunk.push(plan);
    items += own;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/** Runs `work` on every item, at most `limit` at once, and says how each one ended. */
async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let nextIndex = 0;
  const worker = async () => {
    while (nextIndex < items.length) {
      const i = nextIndex++;
      try {
        results[i] = { status: "fulfilled", value: await work(items[i] as T) };
      } catch (reason) {
        results[i] = { status: "rejected", reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
