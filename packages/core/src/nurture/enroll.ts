/**
 * enrollLead: a lead is in a sequence at most once at a time. A second event for a running
 * enrollment changes nothing; a finished one restarts only when the sequence allows it
 * (`reenrollAfter`). Double-opt-in leads get their confirmation email first and start nurture
 * only once confirmed.
 */
import type { RewardsStore } from "../rewards/rewards-store";
import type { LeadloopConfig, Sequence } from "../config/schema";
import { addDuration, durationMs } from "../duration";
import type { Lead } from "../lead";
import { awaitsConfirmation, isWithSales, mayNurture, STAGES } from "../lifecycle";
import { planNextStep } from "../planner";
import type { Clock, Enrollment, EventPublisher, LeadStore, Mailer, MessageRecord, NurtureStore } from "../ports";
import type { TokenSigner } from "../tokens";
import { sendConfirmation } from "./confirmation";
import type { NurtureSettings } from "./nurture-settings";

export interface NurtureDeps {
  config: LeadloopConfig;
  leads: LeadStore;
  nurture: NurtureStore;
  mailer: Mailer;
  publisher: EventPublisher;
  clock: Clock;
  settings: NurtureSettings;
  signer: TokenSigner;
  log?: { info(m: string, e?: Record<string, unknown>): void; warn(m: string, e?: Record<string, unknown>): void };
  /** Customers' points ledgers: retention emails show the balance and the next tier. */
  points?: Pick<RewardsStore, "listEntries">;
}

export type EnrollResult =
  | "enrolled"
  | "re-enrolled"
  | "already-enrolled"
  | "confirmation-sent"
  | "awaiting-confirmation"
  | "not-eligible";

/**
 * A capture announces a new lead just before storing it, so its event can arrive first; and if
 * the store then failed, the client retries the capture. Until this long after the event, a
 * missing lead is worth another delivery (the bus retries a throwing handler); after it, the
 * capture was abandoned and there is nothing to enroll.
 */
export const LEAD_NOT_YET_STORED_GRACE_MS = 5 * 60_000;

/** The event names a lead that is not stored yet; deliver it again later. */
export class LeadNotYetStoredError extends Error {
  override readonly name = "LeadNotYetStoredError";
  constructor(readonly leadId: string) {
    super(`Lead ${leadId} is not stored yet; its capture may still be under way, so the event should be delivered again.`);
  }
}

export function leadTimeZone(lead: Lead): string | undefined {
  const tz = lead.profile.timezone;
  return typeof tz === "string" && tz ? tz : undefined;
}

export async function recentSendsFor(deps: Pick<NurtureDeps, "nurture">, leadId: string, sequence: Sequence, now: Date) {
  if (!sequence.frequencyCap) return [];
  const since = new Date(now.getTime() - durationMs(sequence.frequencyCap.per));
  return deps.nurture.recentSends(leadId, since.toISOString());
}

/**
 * `eventTime` is when the event that asks for the enrollment was published: while it is recent,
 * a lead not found yet throws LeadNotYetStoredError so the bus delivers again. Without it, a
 * missing lead is simply not eligible.
 */
export async function enrollLead(
  deps: NurtureDeps,
  input: { leadId: string; sequenceId: string; eventTime?: string },
): Promise<EnrollResult> {
  const sequence = deps.config.sequences.find((s) => s.id === input.sequenceId);
  if (!sequence) return "not-eligible";
  const now = deps.clock.now();
  // One read of the lead's partition: the lead, its enrollments and the sends the cap counts.
  const capSince = sequence.frequencyCap ? new Date(now.getTime() - durationMs(sequence.frequencyCap.per)).toISOString() : undefined;
  const { lead, enrollments, messages } = await deps.nurture.readNurtureState(input.leadId, capSince !== undefined ? { sentSince: capSince } : {});
  if (!lead) {
    const published = input.eventTime === undefined ? Number.NaN : Date.parse(input.eventTime);
    if (now.getTime() - published < LEAD_NOT_YET_STORED_GRACE_MS) throw new LeadNotYetStoredError(input.leadId);
    return "not-eligible";
  }
  const previous = enrollments.find((e) => e.sequenceId === sequence.id);
  const exitsOnQualifying = (sequence.exitOn as string[]).includes("lead.qualified");
  // The lifecycle says who gets nurture; a lead awaiting its double opt-in gets the confirmation.
  if (lead.segment !== sequence.segment || !(mayNurture(lead.stage) || awaitsConfirmation(lead.stage))) return "not-eligible";
  // A lead scored over its threshold at capture may be qualified before this event is handled:
  // a sequence it would leave on qualifying must not take it in after its exit already ran.
  if (isWithSales(lead.stage) && exitsOnQualifying) {
    // Nor keep it: an enrollment started before the qualification whose exit handler looked too
    // early is ended by whichever delivery sees both.
    if (previous?.status === "active") await deps.nurture.endEnrollment(lead.id, sequence.id, "exit:lead.qualified", now.toISOString());
    return "not-eligible";
  }
  if (lead.stage === "pending-confirmation") {
    return (await sendConfirmation(deps, lead)) ? "confirmation-sent" : "awaiting-confirmation";
  }
  if (previous?.status === "active") return "already-enrolled";
  if (previous) {
    const endedAt = new Date(previous.endedAt ?? previous.enrolledAt);
    if (!sequence.reenrollAfter || addDuration(endedAt, sequence.reenrollAfter) > now) return "already-enrolled";
  }

  const state = { enrolledAt: now.toISOString(), completedStepIds: [] };
  const plan = planNextStep({
    sequence,
    state,
    leadTimeZone: leadTimeZone(lead),
    now,
    recentSends: capSince === undefined ? [] : nurtureSendTimes(messages, capSince),
  });
  if (plan.done) return "not-eligible";
  const enrollment: Enrollment = {
    leadId: lead.id,
    sequenceId: sequence.id,
    status: "active",
    enrolledAt: state.enrolledAt,
    completedStepIds: [],
    nextStepId: plan.step.id,
    dueAt: plan.dueAt.toISOString(),
    attempts: 0,
    runs: (previous?.runs ?? 0) + 1,
  };
  // A suppressed address is not enrolled: the start below is conditional on it not being suppressed.
  // The lead may qualify after it was read above, and the exit handler may then look for this
  // enrollment before it exists (a capture's lead.captured is often redelivered, as its lead was
  // not stored yet, while its scoring already ran). The start is conditional on the lead's stage
  // as of the write, so either the exit handler sees the enrollment or the start sees the
  // qualification; the history line is written with it.
  const started = await deps.nurture.startEnrollment(enrollment, previous, {
    activity: {
      type: "sequence.enrolled",
      at: state.enrolledAt,
      data: { sequenceId: sequence.id, firstStep: plan.step.id, dueAt: enrollment.dueAt, run: enrollment.runs },
    },
    ...(exitsOnQualifying ? { unlessStageIn: STAGES.filter(isWithSales) } : {}),
    // No read of the suppression list: the start is conditional on the address not being on it.
    unlessSuppressed: deps.leads.suppressionGuard(lead.email),
  });
  if (started === "suppressed") return "not-eligible";
  if (!started) {
    // Lost to another delivery, or the lead qualified meanwhile (only this rare path reads again).
    if (exitsOnQualifying) {
      const current = await deps.leads.getLead(lead.id);
      if (current && isWithSales(current.stage)) return "not-eligible";
    }
    return "already-enrolled";
  }
  return previous ? "re-enrolled" : "enrolled";
}

/** Send times of the nurture messages since `since`, oldest first (the frequency cap counts them). */
export function nurtureSendTimes(messages: readonly MessageRecord[], since: string): string[] {
  return messages
    .filter((m) => m.kind === "nurture" && m.sentAt >= since)
    .map((m) => m.sentAt)
    .sort();
}

/**
 * exitEnrollments: an exit event (qualified, unsubscribed, closed) ends every running enrollment
 * of the lead whose sequence lists that event in `exitOn`.
 */
export async function exitEnrollments(
  deps: Pick<NurtureDeps, "config" | "nurture" | "clock">,
  input: { leadId: string; event: string },
): Promise<number> {
  let ended = 0;
  for (const enrollment of await deps.nurture.listEnrollments(input.leadId)) {
    if (enrollment.status !== "active") continue;
    const sequence = deps.config.sequences.find((s) => s.id === enrollment.sequenceId);
    const exits: string[] = sequence?.exitOn ?? [];
    if (sequence && !exits.includes(input.event)) continue;
    await deps.nurture.endEnrollment(
      input.leadId,
      enrollment.sequenceId,
      sequence ? `exit:${input.event}` : "sequence-removed",
      deps.clock.now().toISOString(),
    );
    ended++;
  }
  return ended;
}
