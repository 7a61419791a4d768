/**
 * sweepDueSteps: sends what is due, and only that. A step is sent at most once, even when two
 * sweepers overlap or one dies mid-batch: each step is claimed with a conditional write before
 * it is sent, and a claim left by a crashed sweeper is settled as handled, never sent again.
 * A send SES refused before sending (throttling) is retried later, never dropped; one whose
 * answer was lost (a timeout, a 5xx after the request left) is settled as uncertain, never resent.
 * With a deadline (Lambda's remaining time), a step is claimed only once its send slot under the
 * rate gate is booked early enough to be sent and settled before it, so a run cut off by its
 * timeout leaves no claimed step behind to be written off as uncertain later.
 */
import { randomUUID } from "node:crypto";
import type { Step } from "../config/schema";
import { evaluateCondition } from "../conditions";
import { leadloopEvent } from "../events";
import { DEFAULT_ITEM_BUDGET_MS, oneAtATimePer, STOP_SWEEP, sweepDueIndex } from "../due-index";
import { durationMs } from "../duration";
import {
  type BusEvent,
  type DueRef,
  type Enrollment,
  type LeadNurtureState,
  MailerUnavailableError,
  MailerUncertainError,
  MailRejectedError,
  type MessageRecord,
} from "../ports";
import { mayNurture } from "../lifecycle";
import { planNextStep } from "../planner";
import { variantFor } from "./ab-test";
import { type AbTestDecisions, abTestDecisions } from "./ab-test-decisions";
import { composeStepEmail, customerBalance, outgoingEmail } from "./compose-email";
import { leadTimeZone, type NurtureDeps, nurtureSendTimes } from "./enroll";
import { SendRateGate } from "./send-rate";

export interface SweepReport {
  due: number;
  sent: number;
  skipped: number;
  rescheduled: number;
  retried: number;
  ended: number;
  /** Entries another sweeper claimed first. */
  lost: number;
  /** Claims of crashed sweepers, settled as handled without sending again. */
  recovered: number;
  /** Items (or shards) whose handling failed (a store outage); each is due again at once or after its claim lapses. */
  failed: number;
  /** Sends whose outcome SES left unknown (the answer was lost): settled as handled, never resent. */
  uncertain: number;
  /** Due items left unclaimed for the next sweep because they could not be sent before the deadline. */
  deferred: number;
}

export interface SweepOptions {
  /** Shards to sweep; default all. */
  shards?: number[];
  /** Injected for tests of the send rate. */
  gate?: SendRateGate;
  /** Real time (epoch ms) by which the sweep must be done, e.g. now + Lambda's remaining time. */
  deadline?: number;
  /** Real time a step needs from its send slot to being settled; default 1 s. */
  itemBudgetMs?: number;
}

const RETRY_BASE_MS = 60_000;
const RETRY_MAX_MS = 60 * 60_000;
/** Shards swept at once. */
const SHARD_WORKERS = 4;
/**
 * Due items of one shard in hand at once. Handling an item is a chain of round trips (claim,
 * reads, send, writes); taken one at a time, a sweep spends most of its time waiting on them.
 */
const ITEMS_PER_SHARD = 4;

export async function sweepDueSteps(deps: NurtureDeps, options: SweepOptions = {}): Promise<SweepReport> {
  const report: SweepReport = { due: 0, sent: 0, skipped: 0, rescheduled: 0, retried: 0, ended: 0, lost: 0, recovered: 0, failed: 0, uncertain: 0, deferred: 0 };
  const gate = options.gate ?? new SendRateGate(deps.settings.maxSendsPerSecond);
  const budget = options.itemBudgetMs ?? DEFAULT_ITEM_BUDGET_MS;
  const decisions = abTestDecisions(deps);
  const announcements = new Announcements(deps);
  // A lead's items (one per sequence, in any shard) run one after another, so each is planned
  // against the frequency cap with the sends before it already recorded.
  const handle = oneAtATimePer(
    (ref: DueRef) => ref.leadId,
    async (ref: DueRef) => {
      // The send slot is booked before the claim: a step whose send could not start and settle
      // before the deadline is not claimed at all, and stays due for the next run.
      const slot = gate.reserve();
      if (options.deadline !== undefined && slot + budget > options.deadline) return STOP_SWEEP;
      await handleDue(deps, ref, () => gate.waitFor(slot), report, decisions, announcements);
      return undefined;
    },
  );
  const swept = await sweepDueIndex(deps.nurture, handle, {
    upTo: deps.clock.now().toISOString(),
    batch: deps.settings.batchSize,
    ...(options.shards ? { shards: options.shards } : {}),
    shardWorkers: SHARD_WORKERS,
    itemsPerShard: ITEMS_PER_SHARD,
    ...(options.deadline !== undefined ? { deadline: options.deadline } : {}),
    itemBudgetMs: budget,
    // One item failing must not stop the others: it stays due and the next sweep takes it again.
    onError: (ref, error) =>
      deps.log?.warn("due step not handled; it stays due", { leadId: ref.leadId, sequenceId: ref.sequenceId, stepId: ref.stepId, error: String(error) }),
    onShardError: (shard, error) => deps.log?.warn("due shard not read; it is swept again next run", { shard, error: String(error) }),
  });
  await announcements.flush();
  report.due = swept.due;
  report.failed = swept.failed;
  report.deferred = swept.deferred;
  return report;
}

/**
 * `email.sent` events, published ten to a PutEvents call (its most) rather than one call per
 * send. They are informational (the report counts them) and the send is recorded before one is
 * queued, so holding them until the batch fills or the sweep ends changes no guarantee.
 */
class Announcements {
  static readonly BATCH = 10;
  #pending: BusEvent[] = [];
  #inFlight = new Set<Promise<void>>();
  constructor(private readonly deps: Pick<NurtureDeps, "publisher" | "log">) {}

  add(event: BusEvent): void {
    this.#pending.push(event);
    if (this.#pending.length >= Announcements.BATCH) this.#send();
  }

  async flush(): Promise<void> {
    this.#send();
    await Promise.all(this.#inFlight);
  }

  #send(): void {
    if (this.#pending.length === 0) return;
    const events = this.#pending;
    this.#pending = [];
    const sending = this.deps.publisher
      .publish(events)
      .catch((error: unknown) => this.deps.log?.warn("email.sent not published", { events: events.length, error: String(error) }))
      .finally(() => this.#inFlight.delete(sending));
    this.#inFlight.add(sending);
  }
}

/**
 * Round trips per step sent: the claim beside one strongly consistent Query of the lead's
 * partition (lead, enrollments, the messages the cap and the step conditions look at), the
 * suppression read, SendEmail, then the message and its history line side by side, and the settle.
 */
async function handleDue(deps: NurtureDeps, ref: DueRef, sendSlot: () => Promise<void>, report: SweepReport, decisions: AbTestDecisions, announcements: Announcements): Promise<void> {
  const now = deps.clock.now();
  const at = now.toISOString();
  const token = randomUUID();
  const sequence = deps.config.sequences.find((s) => s.id === ref.sequenceId);
  const capSince = sequence?.frequencyCap ? new Date(now.getTime() - durationMs(sequence.frequencyCap.per)).toISOString() : undefined;
  const [claimed, read] = await Promise.allSettled([
    deps.nurture.claim(ref, { token, stepId: ref.stepId, until: new Date(now.getTime() + deps.settings.claimLeaseMs).toISOString() }, at),
    deps.nurture.readNurtureState(ref.leadId, { ...(capSince !== undefined ? { sentSince: capSince } : {}), sequenceId: ref.sequenceId }),
  ]);
  if (claimed.status === "rejected") throw claimed.reason;
  const before = claimed.value;
  if (!before) {
    report.lost++;
    return;
  }
  const settle = (outcome: Parameters<typeof deps.nurture.settle>[3]) =>
    deps.nurture.settle(ref.leadId, ref.sequenceId, token, outcome);
  const progress = { sendAttempted: false };
  try {
    if (read.status === "rejected") throw read.reason;
    await handleClaimed(deps, ref, sendSlot, report, { before, at, now, settle, progress, view: read.value, capSince, decisions, announcements });
  } catch (error) {
    // A store failure before the email was handed to the mailer: give the step back, due now, so
    // it is sent later rather than written off as uncertain when the claim lapses. A claim taken
    // over from a crashed sweeper is left to lapse again: its step may have gone out.
    if (!progress.sendAttempted && !before.sending) {
      await giveBack(() => settle({ next: { stepId: ref.stepId, dueAt: at }, attempts: before.attempts })).catch(() => false);
    }
    throw error;
  }
}

/**
 * Writes a step back as not sent, a few tries: if the write is lost too, the claim lapses and the
 * step is settled as "send uncertain", never sent, although it is known not to have gone out.
 */
async function giveBack(write: () => Promise<boolean>): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (attempt >= GIVE_BACK_TRIES) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
    }
  }
}
const GIVE_BACK_TRIES = 4;

interface Claimed {
  before: Enrollment;
  at: string;
  now: Date;
  settle: (outcome: Parameters<NurtureDeps["nurture"]["settle"]>[3]) => Promise<boolean>;
  progress: { sendAttempted: boolean };
  decisions: AbTestDecisions;
  /** The lead's partition as read beside the claim. */
  view: LeadNurtureState;
  capSince: string | undefined;
  announcements: Announcements;
}

async function handleClaimed(deps: NurtureDeps, ref: DueRef, sendSlot: () => Promise<void>, report: SweepReport, claimed: Claimed): Promise<void> {
  const { before, at, now, settle, view, capSince } = claimed;
  const end = async (reason: string) => {
    await settle({ end: { reason, at } });
    report.ended++;
  };

  let state: Enrollment = before;
  if (before.sending) {
    // A sweeper died holding this step after its claim lapsed. It may have sent it: count it as
    // handled so it can never go out twice (at most once), and say so in the lead's history.
    report.recovered++;
    const claimedStep = before.sending.stepId;
    // Its message on record (written before the settle it died ahead of) says the email went
    // out, with its history line; only without one is the outcome unknown.
    const recorded = view.messages.find((m) => m.kind === "nurture" && m.sequenceId === ref.sequenceId && m.stepId === claimedStep && m.sentAt >= before.enrolledAt);
    state = handled(before, claimedStep, recorded?.sentAt);
    if (!recorded) {
      await deps.leads.appendActivity(ref.leadId, {
        type: "email.send_uncertain",
        at,
        data: { sequenceId: ref.sequenceId, stepId: claimedStep },
      });
    }
  }

  const sequence = deps.config.sequences.find((s) => s.id === ref.sequenceId);
  if (!sequence) return end("sequence-removed");
  const lead = view.lead;
  if (!lead) return end("lead-erased");
  if (!mayNurture(lead.stage)) return end(`stage:${lead.stage}`);
  if (await deps.leads.getSuppression(lead.email)) return end("suppressed");

  const zone = leadTimeZone(lead);
  const recent = capSince === undefined ? [] : nurtureSendTimes(view.messages, capSince);
  const plan = planNextStep({ sequence, state, leadTimeZone: zone, now, recentSends: recent });
  if (plan.done) return end(plan.reason);
  // The claim names the step it may send (`sending.stepId`), and a lapsed claim is recovered by
  // marking that step handled. A step other than the claimed one (the one after a recovered step)
  // must be claimed under its own id before it is sent, or a crash after its send goes unseen.
  if (plan.dueAt.getTime() > now.getTime() + 1000 || plan.step.id !== ref.stepId) {
    // Not sendable now (outside the window after an edit, the frequency cap, or not the claimed step): wait for it.
    await settle({ ...(state !== before ? { handledStepId: before.sending!.stepId } : {}), next: { stepId: plan.step.id, dueAt: plan.dueAt.toISOString() } });
    report.rescheduled++;
    return;
  }

  const step = plan.step;
  if (!conditionHolds(deps, step, state, lead, view.messages)) {
    const after = handled(state, step.id, undefined);
    const next = planNextStep({ sequence, state: after, leadTimeZone: zone, now, recentSends: recent });
    await settle({
      handledStepId: step.id,
      ...(next.done ? { end: { reason: next.reason, at } } : { next: { stepId: next.step.id, dueAt: next.dueAt.toISOString() } }),
      activity: { type: "email.skipped", at, data: { sequenceId: sequence.id, stepId: step.id, reason: "condition" } },
    });
    report.skipped++;
    return;
  }

  // The step's email may already be on record: its claim lapsed and was taken over, or the email
  // was recorded by a sweeper whose claim was lost. Settle it as sent; never send it again.
  const earlier = view.messages.find(
    (m) => m.kind === "nurture" && m.sequenceId === sequence.id && m.stepId === step.id && m.sentAt >= state.enrolledAt,
  );
  if (earlier) {
    const after = handled(state, step.id, earlier.sentAt);
    const next = planNextStep({ sequence, state: after, leadTimeZone: zone, now, recentSends: recent });
    await settle({
      handledStepId: step.id,
      sentAt: earlier.sentAt,
      messageId: earlier.messageId,
      ...(next.done ? { end: { reason: next.reason, at } } : { next: { stepId: next.step.id, dueAt: next.dueAt.toISOString() } }),
    });
    report.recovered++;
    return;
  }

  // An A/B tested step goes out in the lead's variant, or in the winner once the test has ended.
  const variant = variantFor(lead.id, step, await claimed.decisions(sequence, step));
  const variantId = variant ? { variantId: variant.id } : {};
  // A customer's retention email shows their points as of this send.
  const email = composeStepEmail(deps, lead, sequence, step, now, variant, await customerBalance(deps, lead, now));
  if (!email) return end(`template-missing:${variant?.template ?? step.template}`);
  const messageId = randomUUID();

  await sendSlot();
  let providerMessageId: string;
  claimed.progress.sendAttempted = true;
  try {
    ({ messageId: providerMessageId } = await deps.mailer.send(outgoingEmail(email, { lead: lead.id, sequence: sequence.id, step: step.id, message: messageId, ...(variant ? { variant: variant.id } : {}) })));
  } catch (error) {
    if (error instanceof MailRejectedError) {
      await deps.leads.appendActivity(lead.id, { type: "email.rejected", at, data: { sequenceId: sequence.id, stepId: step.id, error: error.message } });
      return end("rejected");
    }
    if (error instanceof MailerUncertainError) {
      // SES may have sent it: count the step as handled (at most once) and say so in the history.
      const after = handled(state, step.id, undefined);
      const next = planNextStep({ sequence, state: after, leadTimeZone: zone, now, recentSends: [...recent, at] });
      await settle({
        handledStepId: step.id,
        attempts: 0,
        ...(next.done ? { end: { reason: next.reason, at } } : { next: { stepId: next.step.id, dueAt: next.dueAt.toISOString() } }),
      });
      await deps.leads.appendActivity(lead.id, { type: "email.send_uncertain", at, data: { sequenceId: sequence.id, stepId: step.id, error: error.message } });
      deps.log?.warn("send outcome unknown; step settled as uncertain, not resent", { leadId: lead.id, sequenceId: sequence.id, stepId: step.id });
      report.uncertain++;
      return;
    }
    // Anything else may pass: keep the step waiting and try again later, with growing pauses.
    const attempts = state.attempts + 1;
    const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (attempts - 1));
    // A lost write here would leave the claim to lapse and the step to be written off as uncertain.
    await giveBack(() => settle({ next: { stepId: step.id, dueAt: new Date(now.getTime() + delay).toISOString() }, attempts }));
    deps.log?.warn("send failed; step will be retried", {
      leadId: lead.id,
      sequenceId: sequence.id,
      stepId: step.id,
      attempts,
      error: error instanceof MailerUnavailableError ? error.message : String(error),
    });
    report.retried++;
    return;
  }

  const after = handled(state, step.id, at);
  const next = planNextStep({ sequence, state: after, leadTimeZone: zone, now, recentSends: [...recent, at] });
  // The message (the frequency cap and SES's events need it) and the history line, then the
  // settle; retried, as a lost write would leave the send unrecorded (the ids are stable).
  await giveBack(() =>
    settle({
      handledStepId: step.id,
      sentAt: at,
      messageId,
      attempts: 0,
      ...(next.done ? { end: { reason: next.reason, at } } : { next: { stepId: next.step.id, dueAt: next.dueAt.toISOString() } }),
      message: { messageId, providerMessageId, leadId: lead.id, kind: "nurture", sequenceId: sequence.id, stepId: step.id, ...variantId, sentAt: at },
      activity: { type: "email.sent", at, data: { sequenceId: sequence.id, stepId: step.id, messageId, ...variantId } },
    }),
  );
  report.sent++;
  claimed.announcements.add(leadloopEvent("email.sent", { leadId: lead.id, sequenceId: sequence.id, stepId: step.id, messageId, ...variantId }));
}

function handled(state: Enrollment, stepId: string, sentAt: string | undefined): Enrollment {
  return {
    ...state,
    lastStepId: stepId,
    ...(sentAt ? { lastSentAt: sentAt } : {}),
    completedStepIds: state.completedStepIds.includes(stepId) ? state.completedStepIds : [...state.completedStepIds, stepId],
  };
}

function conditionHolds(
  deps: NurtureDeps,
  step: Step,
  state: Enrollment,
  lead: { profile: Record<string, unknown>; email: string; segment: string; stage: string },
  messages: readonly MessageRecord[],
): boolean {
  const condition = step.condition;
  if (!condition) return true;
  if (condition.previous) {
    // The sequence's messages were read with the lead: the last one's opens and clicks are on it.
    const message = state.lastMessageId ? messages.find((m) => m.messageId === state.lastMessageId) : undefined;
    const clicked = Boolean(message?.clickedAt);
    const opened = clicked || Boolean(message?.openedAt);
    const ok = { opened, clicked, "not-opened": !opened, "not-clicked": !clicked }[condition.previous];
    if (!ok) return false;
  }
  if (condition.when) {
    return evaluateCondition(
      condition.when,
      { ...lead.profile, email: lead.email, segment: lead.segment, stage: lead.stage },
      { freeMailDomains: deps.config.segments.freeMailDomains },
    );
  }
  return true;
}
