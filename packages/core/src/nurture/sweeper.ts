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
import type { Sequence, Step } from "../config/schema";
import type { Lead } from "../lead";
import { evaluateCondition } from "../conditions";
import { leadloopEvent } from "../events";
import { DEFAULT_ITEM_BUDGET_MS } from "../due-index";
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
  type NewActivity,
  type OutgoingEmail,
  type StepSettlement,
  type StepWrite,
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
/** Shards listed at once. */
const SHARD_WORKERS = 4;
/**
 * Due steps handled as one batch: read, claimed and settled in a handful of requests per batch
 * rather than several per send. Small, because a batch's claims are held and its emails recorded
 * only when the whole batch has sent: a sweeper killed mid-batch leaves every claim of the batches
 * in hand "send uncertain", never resent (300 of 900 due with batches of a hundred in the crash
 * suite); DynamoDB Local's time goes per item, not per request, so 25 sends no slower.
 */
const BATCH_STEPS = 25;
/** Sends in flight at once over the batches in hand (the rate gate still spaces them). */
const SEND_LANES = 16;
/** Batches in hand at once. */
const BATCH_WORKERS = 3;

export async function sweepDueSteps(deps: NurtureDeps, options: SweepOptions = {}): Promise<SweepReport> {
  const report: SweepReport = { due: 0, sent: 0, skipped: 0, rescheduled: 0, retried: 0, ended: 0, lost: 0, recovered: 0, failed: 0, uncertain: 0, deferred: 0 };
  const gate = options.gate ?? new SendRateGate(deps.settings.maxSendsPerSecond);
  const budget = options.itemBudgetMs ?? DEFAULT_ITEM_BUDGET_MS;
  const decisions = abTestDecisions(deps);
  const announcements = new Announcements(deps);
  const lanes = new Lanes(SEND_LANES);
  const upTo = deps.clock.now().toISOString();
  const shards = [...(options.shards ?? Array.from({ length: deps.nurture.shards }, (_, i) => i))];
  const due: DueRef[] = [];
  await Promise.all(
    Array.from({ length: Math.min(SHARD_WORKERS, shards.length) }, async () => {
      for (let shard = shards.shift(); shard !== undefined; shard = shards.shift()) {
        try {
          due.push(...(await deps.nurture.listDue(shard, upTo, deps.settings.batchSize)));
        } catch (error) {
          report.failed++;
          deps.log?.warn("due shard not read; it is swept again next run", { shard, error: String(error) });
        }
      }
    }),
  );
  report.due = due.length;
  due.sort((a, b) => (a.dueAt < b.dueAt ? -1 : a.dueAt > b.dueAt ? 1 : 0));
  // A lead's steps (one per sequence, in any shard) go in one batch, planned one after another,
  // so each is planned against the frequency cap with the sends before it counted.
  const byLead = new Map<string, DueRef[]>();
  for (const ref of due) byLead.set(ref.leadId, [...(byLead.get(ref.leadId) ?? []), ref]);
  const batches: DueRef[][] = [];
  let batch: DueRef[] = [];
  for (const refs of byLead.values()) {
    batch.push(...refs);
    if (batch.length >= BATCH_STEPS) {
      batches.push(batch);
      batch = [];
    }
  }
  if (batch.length > 0) batches.push(batch);
  // Batches overlap, so one batch's reads and writes run while another's emails go out. A lead is
  // in one batch only, so its frequency cap is never planned by two at once.
  let stopped = false;
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(BATCH_WORKERS, batches.length) }, async () => {
      for (let i = next++; i < batches.length; i = next++) {
        const refs = batches[i]!;
        if (stopped || (options.deadline !== undefined && Date.now() + budget > options.deadline)) {
          stopped = true;
          report.deferred += refs.length;
          continue;
        }
        try {
          if (await sweepBatch(deps, refs, { gate, lanes, budget, deadline: options.deadline, report, decisions, announcements })) stopped = true;
        } catch (error) {
          // The batch's steps stay due (or claimed, to be recovered once the claims lapse).
          report.failed += refs.length;
          deps.log?.warn("due steps not handled; they stay due", { steps: refs.length, error: String(error) });
        }
      }
    }),
  );
  await announcements.flush();
  return report;
}

interface BatchContext {
  gate: SendRateGate;
  lanes: Lanes;
  budget: number;
  deadline: number | undefined;
  report: SweepReport;
  decisions: AbTestDecisions;
  announcements: Announcements;
}

type Count = Exclude<keyof SweepReport, "due" | "failed" | "deferred">;

/** What the batch does with one due step, decided from the batch's reads before anything is written. */
interface Decision {
  ref: DueRef;
  before: Enrollment;
  guard: { dueAt: string; lapsed?: string };
  /** Counted once its write holds. */
  counts: Count[];
  /** A recovered claim whose email is not on record: its history says the outcome is unknown. */
  uncertainStepId?: string;
  /** Settled without sending (ended, rescheduled, skipped, already sent). */
  outcome?: StepSettlement;
  send?: {
    lead: Lead;
    sequence: Sequence;
    step: Step;
    state: Enrollment;
    email: OutgoingEmail;
    messageId: string;
    variantId: { variantId?: string };
    zone: string | undefined;
    recent: string[];
    ownRecent: string[];
    slot: number;
  };
}

/**
 * One batch: reads (the leads with their enrollments, the suppressions, and messages only where
 * a step needs them), every step's decision, one conditional write per step in a hundred-step
 * transaction (the claims of those to send, the settlements of the rest), the sends, then the
 * messages and history lines as batched idempotent puts and the settlements, again batched.
 * A step is sent only under its own claim, written before its send: a sweeper that dies after
 * sending leaves the claim, and whoever finds it lapsed counts the step handled, never resends.
 * Returns whether the sweep must stop (the deadline left no time to send).
 */
async function sweepBatch(deps: NurtureDeps, refs: DueRef[], ctx: BatchContext): Promise<boolean> {
  const { report } = ctx;
  const now = deps.clock.now();
  const at = now.toISOString();
  const sequenceIds = [...new Set([...deps.config.sequences.map((s) => s.id), ...refs.map((r) => r.sequenceId)])];
  const states = await deps.nurture.readLeads([...new Set(refs.map((r) => r.leadId))], sequenceIds);
  const emails = [...new Set([...states.values()].flatMap((v) => (v.lead ? [v.lead.email] : [])))];
  const suppressionsReadAt = Date.now();
  const suppressed = emails.length > 0 ? await deps.leads.getSuppressions(emails) : new Map<string, unknown>();

  const live: { ref: DueRef; before: Enrollment; view: LeadNurtureState }[] = [];
  for (const ref of refs) {
    const view = states.get(ref.leadId)!;
    const before = view.enrollments.find((e) => e.sequenceId === ref.sequenceId);
    // Handled since the index was read (it lags the table), or held by a live claim.
    const stale = before?.status !== "active" || before.dueAt !== ref.dueAt;
    if (!before || stale || (before.sending !== undefined && before.sending.until > at)) {
      report.lost++;
      continue;
    }
    live.push({ ref, before, view });
  }

  // Messages are read only where a step needs them: a lapsed claim to recover, a condition on the
  // previous email's opens and clicks, or sends made before enrollments kept their own.
  const messages = new Map<string, MessageRecord[]>();
  await Promise.all(
    live.map(async ({ ref, before, view }) => {
      const sequence = deps.config.sequences.find((s) => s.id === ref.sequenceId);
      const capSince = capSinceOf(sequence, now);
      const step = sequence?.steps.find((s) => s.id === ref.stepId);
      const legacy = capSince !== undefined && view.enrollments.some((e) => e.recentSends === undefined && e.lastSentAt !== undefined && e.lastSentAt >= capSince);
      if (!before.sending && !step?.condition?.previous && !legacy) return;
      const read = await deps.nurture.readNurtureState(ref.leadId, { ...(capSince !== undefined ? { sentSince: capSince } : {}), sequenceId: ref.sequenceId });
      messages.set(`${ref.leadId}#${ref.sequenceId}`, read.messages);
    }),
  );

  const planned = new Map<string, string[]>();
  const decisionsMade: Decision[] = [];
  let stop = false;
  for (const { ref, before, view } of live) {
    const decision = await decide(deps, ref, before, view, messages.get(`${ref.leadId}#${ref.sequenceId}`), suppressed.has(view.lead?.email ?? ""), planned, now, ctx);
    if (decision.send) {
      const slot = ctx.gate.reserve();
      // A step is claimed only if its send can start and settle before the deadline.
      if (stop || (ctx.deadline !== undefined && slot + ctx.budget > ctx.deadline)) {
        stop = true;
        report.deferred++;
        continue;
      }
      decision.send.slot = slot;
      planned.set(ref.leadId, [...(planned.get(ref.leadId) ?? []), at]);
    }
    decisionsMade.push(decision);
  }

  const tokens = decisionsMade.map(() => randomUUID());
  const until = new Date(now.getTime() + deps.settings.claimLeaseMs).toISOString();
  const applied = await deps.nurture.writeSteps(
    decisionsMade.map((d, i) => ({
      leadId: d.ref.leadId,
      sequenceId: d.ref.sequenceId,
      guard: d.guard,
      ...(d.send ? { claim: { token: tokens[i]!, stepId: d.ref.stepId, until } } : { outcome: d.outcome! }),
    })),
  );
  const lines: { leadId: string; activity: NewActivity }[] = [];
  const toSend: { decision: Decision; token: string }[] = [];
  for (const [i, d] of decisionsMade.entries()) {
    if (!applied[i]) {
      report.lost++;
      continue;
    }
    for (const count of d.counts) report[count]++;
    if (d.uncertainStepId) lines.push({ leadId: d.ref.leadId, activity: { type: "email.send_uncertain", at, data: { sequenceId: d.ref.sequenceId, stepId: d.uncertainStepId } } });
    if (d.send) toSend.push({ decision: d, token: tokens[i]! });
  }

  const fresh = new SuppressionCheck(deps, toSend.map(({ decision }) => decision.send!.lead.email), suppressionsReadAt);
  const sent: { message: MessageRecord; activity: NewActivity; token: string; decision: Decision }[] = [];
  const settles: StepWrite[] = [];
  const pending = [...toSend];
  await Promise.all(
    Array.from({ length: Math.min(SEND_LANES, pending.length) }, async () => {
      for (let next = pending.shift(); next; next = pending.shift()) {
        const { decision, token } = next;
        const { lead, sequence, step, state, email, messageId, variantId, zone, recent, ownRecent, slot } = decision.send!;
        const settle = (outcome: StepSettlement) => settles.push({ leadId: lead.id, sequenceId: sequence.id, guard: { token }, outcome });
        const nextAfter = (after: Enrollment, sends: string[]) => {
          const plan = planNextStep({ sequence, state: after, leadTimeZone: zone, now, recentSends: sends });
          return plan.done ? { end: { reason: plan.reason, at } } : { next: { stepId: plan.step.id, dueAt: plan.dueAt.toISOString() } };
        };
        await ctx.gate.waitFor(slot);
        // The batch's suppression read may be older than this send: an address suppressed since
        // (an unsubscribe while the batch was sending) still stops it.
        let suppressedSince: boolean;
        try {
          suppressedSince = await fresh.suppressed(lead.email);
        } catch (error) {
          // Not known to be sendable: give the step back, due now, for the next sweep.
          settle({ next: { stepId: step.id, dueAt: at }, attempts: state.attempts });
          deps.log?.warn("suppressions not read again; step given back", { leadId: lead.id, sequenceId: sequence.id, stepId: step.id, error: String(error) });
          report.retried++;
          continue;
        }
        if (suppressedSince) {
          settle({ end: { reason: "suppressed", at } });
          report.ended++;
          continue;
        }
        let providerMessageId: string;
        try {
          ({ messageId: providerMessageId } = await ctx.lanes.run(() => deps.mailer.send(email)));
        } catch (error) {
          if (error instanceof MailRejectedError) {
            lines.push({ leadId: lead.id, activity: { type: "email.rejected", at, data: { sequenceId: sequence.id, stepId: step.id, error: error.message } } });
            settle({ end: { reason: "rejected", at } });
            report.ended++;
            continue;
          }
          if (error instanceof MailerUncertainError) {
            // SES may have sent it: count the step as handled (at most once) and say so in the history.
            settle({
              handledStepId: step.id,
              attempts: 0,
              ...(ownRecent.length > 0 || recent.length > 0 ? { recentSends: [...ownRecent, at] } : {}),
              ...nextAfter(handled(state, step.id, undefined), [...recent, at]),
            });
            lines.push({ leadId: lead.id, activity: { type: "email.send_uncertain", at, data: { sequenceId: sequence.id, stepId: step.id, error: error.message } } });
            deps.log?.warn("send outcome unknown; step settled as uncertain, not resent", { leadId: lead.id, sequenceId: sequence.id, stepId: step.id });
            report.uncertain++;
            continue;
          }
          // Anything else may pass: keep the step waiting and try again later, with growing pauses.
          const attempts = state.attempts + 1;
          const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (attempts - 1));
          settle({ next: { stepId: step.id, dueAt: new Date(now.getTime() + delay).toISOString() }, attempts });
          deps.log?.warn("send failed; step will be retried", {
            leadId: lead.id,
            sequenceId: sequence.id,
            stepId: step.id,
            attempts,
            error: error instanceof MailerUnavailableError ? error.message : String(error),
          });
          report.retried++;
          continue;
        }
        sent.push({
          token,
          decision,
          message: { messageId, providerMessageId, leadId: lead.id, kind: "nurture", sequenceId: sequence.id, stepId: step.id, ...variantId, sentAt: at },
          activity: { type: "email.sent", at, data: { sequenceId: sequence.id, stepId: step.id, messageId, ...variantId } },
        });
      }
    }),
  );

  // The sent emails' records (the frequency cap, SES's events and a recovering sweeper need
  // them) before their settlements: retried, as a lost write would leave a send unrecorded.
  let recorded = true;
  if (sent.length > 0) {
    recorded = await giveBack(async () => {
      await deps.nurture.recordSends(sent.map(({ message, activity }) => ({ message, activity })));
      return true;
    }).catch((error: unknown) => {
      // The claims lapse and the steps are recovered as handled, never resent.
      deps.log?.warn("sent emails not recorded; their claims are left to lapse", { sent: sent.length, error: String(error) });
      return false;
    });
  }
  for (const { decision, token, message } of sent) {
    const { sequence, step, state, zone, recent, ownRecent } = decision.send!;
    if (recorded) {
      const plan = planNextStep({ sequence, state: handled(state, step.id, at), leadTimeZone: zone, now, recentSends: [...recent, at] });
      settles.push({
        leadId: message.leadId,
        sequenceId: sequence.id,
        guard: { token },
        outcome: {
          handledStepId: step.id,
          sentAt: at,
          messageId: message.messageId,
          attempts: 0,
          ...(capSinceOf(sequence, now) !== undefined ? { recentSends: [...ownRecent, at] } : {}),
          ...(plan.done ? { end: { reason: plan.reason, at } } : { next: { stepId: plan.step.id, dueAt: plan.dueAt.toISOString() } }),
        },
      });
    }
    report.sent++;
    ctx.announcements.add(leadloopEvent("email.sent", { leadId: message.leadId, sequenceId: sequence.id, stepId: step.id, messageId: message.messageId, ...decision.send!.variantId }));
  }
  if (settles.length > 0) {
    // A lost write here would leave the claims to lapse and the steps to be written off as uncertain.
    await giveBack(async () => {
      await deps.nurture.writeSteps(settles);
      return true;
    }).catch((error: unknown) => deps.log?.warn("settlements not written; their claims are left to lapse", { steps: settles.length, error: String(error) }));
  }
  await Promise.all(
    lines.map(({ leadId, activity }) =>
      deps.leads.appendActivity(leadId, activity).catch((error: unknown) => deps.log?.warn("history line not written", { leadId, type: activity.type, error: String(error) })),
    ),
  );
  return stop;
}

/** At most `n` tasks at once, the rest waiting in order. */
class Lanes {
  #free: number;
  #waiting: (() => void)[] = [];
  constructor(n: number) {
    this.#free = n;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    }
  }
}

/**
 * Suppressions of a batch's addresses, read again (strongly consistent, every address of the batch
 * in one request) whenever the last read is older than `SUPPRESSION_FRESH_MS` at a send, so no
 * email goes out on a suppression check older than that plus one read.
 */
class SuppressionCheck {
  #suppressed = new Set<string>();
  #reading: Promise<void> | undefined;
  constructor(
    private readonly deps: Pick<NurtureDeps, "leads">,
    private readonly emails: string[],
    private readAt: number,
  ) {}

  async suppressed(email: string): Promise<boolean> {
    if (Date.now() - this.readAt > SUPPRESSION_FRESH_MS) {
      this.#reading ??= (async () => {
        const startedAt = Date.now();
        const found = await this.deps.leads.getSuppressions([...new Set(this.emails)]);
        for (const address of found.keys()) this.#suppressed.add(address);
        this.readAt = startedAt;
      })().finally(() => {
        this.#reading = undefined;
      });
      await this.#reading;
    }
    return this.#suppressed.has(email);
  }
}
/** How old the batch's suppression read may be when an email goes out. */
const SUPPRESSION_FRESH_MS = 200;

function capSinceOf(sequence: Sequence | undefined, now: Date): string | undefined {
  return sequence?.frequencyCap ? new Date(now.getTime() - durationMs(sequence.frequencyCap.per)).toISOString() : undefined;
}

/** The sends the frequency cap counts: the lead's enrollments' own, or its messages where they were read. */
function recentSendsOf(view: LeadNurtureState, messages: readonly MessageRecord[] | undefined, since: string): string[] {
  if (messages) return nurtureSendTimes(messages, since);
  return view.enrollments.flatMap((e) => (e.recentSends ?? []).filter((t) => t >= since)).sort();
}

/** A step's decision from the batch's reads, as one sweeper holding its claim would make it. */
async function decide(
  deps: NurtureDeps,
  ref: DueRef,
  before: Enrollment,
  view: LeadNurtureState,
  messages: MessageRecord[] | undefined,
  isSuppressed: boolean,
  planned: Map<string, string[]>,
  now: Date,
  ctx: BatchContext,
): Promise<Decision> {
  const at = now.toISOString();
  const decision: Decision = { ref, before, guard: { dueAt: ref.dueAt, ...(before.sending ? { lapsed: before.sending.token } : {}) }, counts: [] };
  const final = (outcome: StepSettlement, count: Count) => {
    decision.outcome = outcome;
    decision.counts.push(count);
    return decision;
  };
  const end = (reason: string) => final({ end: { reason, at } }, "ended");

  let state: Enrollment = before;
  if (before.sending) {
    // A sweeper died holding this step after its claim lapsed. It may have sent it: count it as
    // handled so it can never go out twice (at most once), and say so in the lead's history.
    decision.counts.push("recovered");
    const claimedStep = before.sending.stepId;
    // Its message on record (written before the settle it died ahead of) says the email went
    // out, with its history line; only without one is the outcome unknown.
    const recorded = messages?.find((m) => m.kind === "nurture" && m.sequenceId === ref.sequenceId && m.stepId === claimedStep && m.sentAt >= before.enrolledAt);
    state = handled(before, claimedStep, recorded?.sentAt);
    if (!recorded) decision.uncertainStepId = claimedStep;
  }

  const sequence = deps.config.sequences.find((s) => s.id === ref.sequenceId);
  if (!sequence) return end("sequence-removed");
  const lead = view.lead;
  if (!lead) return end("lead-erased");
  if (!mayNurture(lead.stage)) return end(`stage:${lead.stage}`);
  if (isSuppressed) return end("suppressed");

  const capSince = capSinceOf(sequence, now);
  const zone = leadTimeZone(lead);
  const recent = capSince === undefined ? [] : [...recentSendsOf(view, messages, capSince), ...(planned.get(lead.id) ?? [])].sort();
  const ownRecent =
    capSince === undefined
      ? []
      : messages && state.recentSends === undefined
        ? nurtureSendTimes(messages.filter((m) => m.sequenceId === sequence.id), capSince)
        : (state.recentSends ?? []).filter((t) => t >= capSince);
  const plan = planNextStep({ sequence, state, leadTimeZone: zone, now, recentSends: recent });
  if (plan.done) return end(plan.reason);
  // The claim names the step it may send (`sending.stepId`), and a lapsed claim is recovered by
  // marking that step handled. A step other than the listed one (the one after a recovered step)
  // must be claimed under its own id before it is sent, or a crash after its send goes unseen.
  if (plan.dueAt.getTime() > now.getTime() + 1000 || plan.step.id !== ref.stepId) {
    // Not sendable now (outside the window after an edit, the frequency cap, or not the listed step): wait for it.
    return final({ ...(state !== before ? { handledStepId: before.sending!.stepId } : {}), next: { stepId: plan.step.id, dueAt: plan.dueAt.toISOString() } }, "rescheduled");
  }

  const step = plan.step;
  const nextAfter = (after: Enrollment) => {
    const next = planNextStep({ sequence, state: after, leadTimeZone: zone, now, recentSends: recent });
    return next.done ? { end: { reason: next.reason, at } } : { next: { stepId: next.step.id, dueAt: next.dueAt.toISOString() } };
  };
  if (!conditionHolds(deps, step, state, lead, messages ?? [])) {
    return final(
      {
        handledStepId: step.id,
        ...nextAfter(handled(state, step.id, undefined)),
        activity: { type: "email.skipped", at, data: { sequenceId: sequence.id, stepId: step.id, reason: "condition" } },
      },
      "skipped",
    );
  }

  // The step's email may already be on record: its claim lapsed and was taken over, or the email
  // was recorded by a sweeper whose claim was lost. Settle it as sent; never send it again.
  const earlier = messages?.find((m) => m.kind === "nurture" && m.sequenceId === sequence.id && m.stepId === step.id && m.sentAt >= state.enrolledAt);
  if (earlier) {
    return final({ handledStepId: step.id, sentAt: earlier.sentAt, messageId: earlier.messageId, ...nextAfter(handled(state, step.id, earlier.sentAt)) }, "recovered");
  }

  // An A/B tested step goes out in the lead's variant, or in the winner once the test has ended.
  const variant = variantFor(lead.id, step, await ctx.decisions(sequence, step));
  // A customer's retention email shows their points as of this send.
  const composed = composeStepEmail(deps, lead, sequence, step, now, variant, await customerBalance(deps, lead, now));
  if (!composed) return end(`template-missing:${variant?.template ?? step.template}`);
  const messageId = randomUUID();
  decision.send = {
    lead,
    sequence,
    step,
    state,
    email: outgoingEmail(composed, { lead: lead.id, sequence: sequence.id, step: step.id, message: messageId, ...(variant ? { variant: variant.id } : {}) }),
    messageId,
    variantId: variant ? { variantId: variant.id } : {},
    zone,
    recent,
    ownRecent,
    slot: 0,
  };
  return decision;
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
