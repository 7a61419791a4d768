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
import { awaitsConfirmation, isWithSales, mayNurture } from "../lifecycle";
import { planNextStep } from "../planner";
import type { Clock, Enrollment, EventPublisher, LeadStore, Mailer, NurtureStore } from "../ports";
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
  const lead = await deps.leads.getLead(input.leadId);
  if (!lead) {
    const published = input.eventTime === undefined ? Number.NaN : Date.parse(input.eventTime);
    if (deps.clock.now().getTime() - published < LEAD_NOT_YET_STORED_GRACE_MS) throw new LeadNotYetStoredError(input.leadId);
    return "not-eligible";
  }
  // The lifecycle says who gets nurture; a lead awaiting its double opt-in gets the confirmation.
  if (lead.segment !== sequence.segment || !(mayNurture(lead.stage) || awaitsConfirmation(lead.stage))) return "not-eligible";
  // A lead scored over its threshold at capture may be qualified before this event is handled:
  // a sequence it would leave on qualifying must not take it in after its exit already ran.
  if (isWithSales(lead.stage) && (sequence.exitOn as string[]).includes("lead.qualified")) {
    // Nor keep it: a delivery that started the enrollment after the exit looked, and then failed
    // to look again (below), left it running, and this redelivery is the last to see it.
    const running = await deps.nurture.getEnrollment(lead.id, sequence.id);
    if (running?.status === "active") await deps.nurture.endEnrollment(lead.id, sequence.id, "exit:lead.qualified", deps.clock.now().toISOString());
    return "not-eligible";
  }
  if (lead.stage === "pending-confirmation") {
    return (await sendConfirmation(deps, lead)) ? "confirmation-sent" : "awaiting-confirmation";
  }
  if (await deps.leads.getSuppression(lead.email)) return "not-eligible";

  const now = deps.clock.now();
  const previous = await deps.nurture.getEnrollment(lead.id, sequence.id);
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
    recentSends: await recentSendsFor(deps, lead.id, sequence, now),
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
  const started = await deps.nurture.startEnrollment(enrollment, previous);
  if (!started) return "already-enrolled";
  if ((sequence.exitOn as string[]).includes("lead.qualified")) {
    // The lead may have qualified after it was read above, and the exit handler looked for this
    // enrollment before it existed (a capture's lead.captured is often redelivered, as its lead
    // was not stored yet, while its scoring already ran). Looking again after the start means
    // either the exit handler sees the enrollment or this sees the qualification.
    const current = await deps.leads.getLead(lead.id);
    if (current && isWithSales(current.stage)) {
      await deps.nurture.endEnrollment(lead.id, sequence.id, "exit:lead.qualified", deps.clock.now().toISOString());
      return "not-eligible";
    }
  }
  await deps.leads.appendActivity(lead.id, {
    type: "sequence.enrolled",
    at: state.enrolledAt,
    data: { sequenceId: sequence.id, firstStep: plan.step.id, dueAt: enrollment.dueAt, run: enrollment.runs },
  });
  return previous ? "re-enrolled" : "enrolled";
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
