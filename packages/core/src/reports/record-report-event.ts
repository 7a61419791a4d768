/**
 * The report handler's use case: each event adds to the report's day aggregates exactly once,
 * however often EventBridge delivers it. The lead's report state records every fact counted and
 * is written in the same transaction as the increments, conditional on the version read: a
 * redelivery finds its fact already there, and two deliveries racing cannot both commit.
 */
import { StoreUnavailableError } from "../ports";
import type { EventEnvelope } from "../routing/routing-rules";
import { needsMessages, planReportEvent, reportEventOf } from "./report-event";
import type { ReportStore } from "./report-store";

export interface ReportDeps {
  reports: ReportStore;
}

export type ReportOutcome = "counted" | "duplicate" | "ignored" | "unknown-lead";

/** A lead's events rarely race; when they do, the loser re-reads and tries again. */
const MAX_ATTEMPTS = 8;

export async function recordReportEvent(deps: ReportDeps, envelope: EventEnvelope): Promise<ReportOutcome> {
  const event = reportEventOf(envelope);
  if (!event) return "ignored";
  const messages = needsMessages(event) ? await deps.reports.listSentMessages(event.leadId) : undefined;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const state = await deps.reports.getLeadReportState(event.leadId);
    const lead = state || event.type === "captured" ? undefined : await deps.reports.getLeadFacts(event.leadId);
    if (!state && !lead && event.type !== "captured") return "unknown-lead";
    const plan = planReportEvent(event, { ...(state ? { state } : {}), ...(lead ? { lead } : {}), ...(messages ? { messages } : {}) });
    if (!plan) return "duplicate";
    const committed = await deps.reports.commitReportEvent({
      state: { ...plan.state, version: (state?.version ?? 0) + 1 },
      expectedVersion: state?.version,
      increments: plan.increments,
      ...(plan.review ? { review: plan.review } : {}),
    });
    if (committed) return "counted";
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * 2 ** attempt));
  }
  throw new StoreUnavailableError(`the report state of lead ${event.leadId} kept changing while counting ${envelope["detail-type"]}; retry later`);
}
