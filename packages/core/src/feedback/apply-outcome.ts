/**
 * applyOutcome: a rep's outcome reaches marketing exactly once, however often `lead.closed` is
 * delivered. The lead moves as the lifecycle says: won leads become customers and start the
 * retention sequence; not-now leads are parked with marketing until their recycle date; lost and
 * disqualified leads keep their reason code for the reports.
 */
import type { LeadloopConfig } from "../config/schema";
import type { Stage } from "../lead";
import { stageAfterOutcome } from "../lifecycle";
import type { Clock, EventPublisher, LeadStore } from "../ports";
import { assignSegment } from "../segmentation";
import { ClosedEvent, type ClosedOutcome, recycleInstant } from "./closed-event";
import type { FeedbackStore, RecordedOutcome, RecordOutcomeResult } from "./feedback-store";

export interface FeedbackDeps {
  config: LeadloopConfig;
  leads: LeadStore;
  feedback: FeedbackStore;
  publisher: EventPublisher;
  clock: Clock;
  log?: { info(m: string, e?: Record<string, unknown>): void; warn(m: string, e?: Record<string, unknown>): void };
}

/** The activity every closure leaves on its lead's timeline; reports count outcomes and reasons from it. */
export const DEAL_CLOSED_ACTIVITY = "deal.closed";

export type ApplyOutcomeResult = RecordOutcomeResult;

/** The reason's label from teams.yaml, or undefined for a code not listed there (or no reason). */
export function reasonLabel(config: Pick<LeadloopConfig, "teams">, outcome: ClosedOutcome, code: string | undefined): string | undefined {
  if (code === undefined) return undefined;
  const list =
    outcome === "lost"
      ? config.teams.lostReasons
      : outcome === "disqualified"
        ? config.teams.disqualifiedReasons
        : outcome === "won"
          ? (config.teams.wonReasons ?? [])
          : [];
  return list.find((r) => r.code === code)?.label;
}

/** The segment a lead lands in at a stage, by the same rules capture uses (they may test `stage`). */
export function segmentAtStage(config: Pick<LeadloopConfig, "segments">, lead: { email: string; profile: Record<string, unknown> }, stage: Stage): string {
  return assignSegment({ ...lead.profile, email: lead.email, stage }, config.segments);
}

/** Throws a ZodError for a malformed event: the bus retries it, then dead-letters it to inspect. */
export async function applyOutcome(deps: FeedbackDeps, detail: unknown): Promise<ApplyOutcomeResult> {
  const event = ClosedEvent.parse(detail);
  const lead = await deps.leads.getLead(event.leadId);
  if (!lead) {
    deps.log?.warn("lead.closed names an unknown lead; nothing to apply", { leadId: event.leadId });
    return "missing";
  }

  const label = reasonLabel(deps.config, event.outcome, event.reason);
  if (event.reason !== undefined && label === undefined && (event.outcome === "lost" || event.outcome === "disqualified")) {
    deps.log?.warn("reason code is not in teams.yaml; kept as given", { leadId: lead.id, outcome: event.outcome, reason: event.reason });
  }
  const outcome: RecordedOutcome = {
    outcome: event.outcome,
    rep: event.rep,
    teamId: event.teamId,
    closedAt: event.closedAt,
    ...(event.reason !== undefined ? { reason: event.reason } : {}),
    ...(label !== undefined ? { reasonLabel: label } : {}),
    ...(event.amount !== undefined ? { amount: event.amount } : {}),
    ...(event.currency !== undefined ? { currency: event.currency } : {}),
    ...(event.recycleOn !== undefined && event.outcome === "not-now" ? { recycleAt: recycleInstant(event.recycleOn) } : {}),
  };
  // The same move sales made when the rep recorded it: the lifecycle has one answer per outcome.
  const stage = stageAfterOutcome(event.outcome);
  const segment = event.outcome === "won" ? segmentAtStage(deps.config, lead, stage) : undefined;
  const result = await deps.feedback.recordOutcome(lead.id, {
    outcome,
    stage,
    ...(segment ? { segment } : {}),
    activity: { type: DEAL_CLOSED_ACTIVITY, at: event.closedAt, data: { ...outcome, stage, ...(segment ? { segment } : {}) } },
  });

  // A redelivery may follow a run that recorded the closure but crashed before announcing it;
  // announcing again is harmless (enrollment is idempotent).
  if (event.outcome === "won" && segment && (result === "recorded" || result === "duplicate")) {
    await deps.publisher.publish([
      { type: "lead.updated", detail: { leadId: lead.id, segment, stage, reason: "won", closedAt: event.closedAt } },
    ]);
  }
  deps.log?.info("outcome applied", { leadId: lead.id, outcome: event.outcome, result });
  return result;
}
