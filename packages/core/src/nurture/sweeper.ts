/**
 * sweepDueSteps: sends what is due, and only that. A step is sent at most once, even when two
 * sweepers overlap, one pauses past its lease or one dies mid-batch.
 *
 * How: a due shard is swept only under its lease (`takeSweepLease`: one conditional write of an
 * owner token and an expiry, taken only when no other owner's lease is live). Before a wave of
 * sends the holder marks the wave's steps on the lease (one conditional write, which also extends
 * it, and fails once the lease is not the holder's own); the sends go out; then each step is
 * settled with its email's record (which holds its history line: two items a send) in one
 * transaction per wave, every settle
 * conditional on the step's version (active, the step and due time the sweep listed, no claim),
 * and the wave's marks are cleared by the next lease write. What each case leaves:
 * - A second sweeper while the lease is live: it cannot take the shard and counts its entries
 *   lost; nothing of the shard is touched by two sweepers at once.
 * - A holder paused past its lease: the next holder takes the lease and finds the paused one's
 *   marks. A marked step still at its marked version is settled as handled (sent, if its email is
 *   on record, else "send uncertain") and never sent by anyone else; the paused holder's next
 *   lease write fails, so it marks nothing more and sends nothing unmarked, and its settles fail
 *   on the step versions the new holder moved on (its emails' records are still written: they
 *   went out). A step it marked and then sent late therefore goes out once.
 * - A crash before a wave's mark: those steps are untouched and still due; the next holder sends
 *   them. After the mark, before the sends or while they are in flight: the marked steps are
 *   settled "send uncertain" (they may have gone out): at most two waves (of up to 25) per shard
 *   in hand (one being recorded while the next is sent), four shards at once, so 200 sends at
 *   most. After the wave's record: its
 *   steps have moved on, their marks are stale and simply cleared.
 * - A failed call: a mark that fails may or may not be written, so its wave is not sent and the
 *   shard stops (at worst those steps are settled uncertain later, never sent twice); a wave's
 *   record that fails after its retries leaves its marks for the next holder to settle.
 * Enrollments still holding a per-step claim (`sending`, written by sweepers before the lease)
 * are honoured: a live one is left alone, a lapsed one recovered as handled.
 * A send SES refused before sending (throttling) is retried later, never dropped; one whose
 * answer was lost (a timeout, a 5xx after the request left) is settled as uncertain, never resent.
 * With a deadline (Lambda's remaining time), a step is marked only once its send slot under the
 * rate gate is booked early enough to be sent and settled before it, so a run cut off by its
 * timeout leaves no marked step behind to be written off as uncertain later.
 * The frequency cap counts a lead's sends over its sequences, whose steps sit in different shards:
 * a lead is in one batch at a time within a sweep. Sweeps do not overlap in AWS (reserved
 * concurrency 1), and across overlapping sweepers the cap is as exact as their shard split.
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
import { retried } from "../retried";

export interface SweepReport {
  due: number;
  sent: number;
  skipped: number;
  rescheduled: number;
  retried: number;
  ended: number;
  /** Entries another sweeper held (its shard lease, or a step it had moved on) when this one came. */
  lost: number;
  /** Steps a paused or crashed sweeper may have sent, settled as handled without sending again. */
  recovered: number;
  /** Items (or shards) whose handling failed (a store outage); each is due again at once or after its lease lapses. */
  failed: number;
  /** Sends whose outcome SES left unknown (the answer was lost): settled as handled, never resent. */
  uncertain: number;
  /** Due items left unmarked for the next sweep because they could not be sent before the deadline. */
  deferred: number;
}

export interface SweepOptions {
  /** Shards to sweep; default all. */
  shards?: number[];
  /** Injected for tests of the send rate. */
  gate?: SendRateGate;
  /** Sends marked and recorded together; default one batch (25). Injected for tests of lease takeovers between waves. */
  waveSteps?: number;
  /** Real time (epoch ms) by which the sweep must be done, e.g. now + Lambda's remaining time. */
  deadline?: number;
  /** Real time a step needs from its send slot to being settled; default 1 s. */
  itemBudgetMs?: number;
}

const RETRY_BASE_MS = 60_000;
const RETRY_MAX_MS = 60 * 60_000;
/** Shards listed at once. */
const SHARD_WORKERS = 4;
/** Due steps read and decided as one batch: a handful of requests per batch rather than several per send. */
const BATCH_STEPS = 25;
/**
 * Sends marked on the lease at once and then recorded together: a crash leaves at most two waves
 * per shard in hand "send uncertain" (2 × 25 × BATCH_WORKERS = 200 sends at most); smaller waves
 * cost a lease write, a suppression read and a transaction more often (waves of 8 swept at 0.23 of
 * raw SendEmail in bench:dispatch, with 0.17 lease writes a send).
 */
const WAVE_STEPS = BATCH_STEPS;
/** Sends in flight at once over the shards in hand (the rate gate still spaces them). */
const SEND_LANES = 16;
/** Shards swept at once, each under its own lease. */
const BATCH_WORKERS = 4;

export async function sweepDueSteps(deps: NurtureDeps, options: SweepOptions = {}): Promise<SweepReport> {
  const report: SweepReport = { due: 0, sent: 0, skipped: 0, rescheduled: 0, retried: 0, ended: 0, lost: 0, recovered: 0, failed: 0, uncertain: 0, deferred: 0 };
  const gate = options.gate ?? new SendRateGate(deps.settings.maxSendsPerSecond);
  const budget = options.itemBudgetMs ?? DEFAULT_ITEM_BUDGET_MS;
  const ctx: SweepContext = {
    gate,
    lanes: new Lanes(SEND_LANES),
    budget,
    deadline: options.deadline,
    report,
    decisions: abTestDecisions(deps),
    announcements: new Announcements(deps),
    owner: randomUUID(),
    leads: new LeadLocks(),
    waveSteps: Math.max(1, Math.min(options.waveSteps ?? WAVE_STEPS, BATCH_STEPS)),
  };
  const upTo = deps.clock.now().toISOString();
  const shards = [...(options.shards ?? Array.from({ length: deps.nurture.shards }, (_, i) => i))];
  const byShard: { shard: number; refs: DueRef[] }[] = [];
  await Promise.all(
    Array.from({ length: Math.min(SHARD_WORKERS, shards.length) }, async () => {
      for (let shard = shards.shift(); shard !== undefined; shard = shards.shift()) {
        try {
          const refs = await deps.nurture.listDue(shard, upTo, deps.settings.batchSize);
          if (refs.length > 0) byShard.push({ shard, refs });
          report.due += refs.length;
        } catch (error) {
          report.failed++;
          deps.log?.warn("due shard not read; it is swept again next run", { shard, error: String(error) });
        }
      }
    }),
  );
  // The shards with the oldest due step first.
  byShard.sort((a, b) => (a.refs[0]!.dueAt < b.refs[0]!.dueAt ? -1 : a.refs[0]!.dueAt > b.refs[0]!.dueAt ? 1 : 0));
  let stopped = false;
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(BATCH_WORKERS, byShard.length) }, async () => {
      for (let i = next++; i < byShard.length; i = next++) {
        const { shard, refs } = byShard[i]!;
        if (stopped || (options.deadline !== undefined && Date.now() + budget > options.deadline)) {
          stopped = true;
          report.deferred += refs.length;
          continue;
        }
        if (await sweepShard(deps, shard, refs, ctx)) stopped = true;
      }
    }),
  );
  await ctx.announcements.flush();
  return report;
}

interface SweepContext {
  gate: SendRateGate;
  lanes: Lanes;
  budget: number;
  deadline: number | undefined;
  report: SweepReport;
  decisions: AbTestDecisions;
  announcements: Announcements;
  /** This sweep's lease owner token. */
  owner: string;
  leads: LeadLocks;
  waveSteps: number;
}

/** One shard under this sweep's lease. */
interface ShardLease {
  shard: number;
  /** Marks whose steps are settled (or moved on), cleared by the next lease write. */
  done: DueRef[];
  /** Marks of a previous holder, by step version: those steps may have been sent. */
  inFlight: Set<string>;
  /** The lease turned out to be another's: nothing more is marked or sent. */
  lost: boolean;
  /** The last wave's record, written while the next wave is marked and sent (never rejects). */
  recording: Promise<void>;
}

const versionOf = (ref: DueRef) => `${ref.leadId}#${ref.sequenceId}#${ref.dueAt}`;
const enrollmentOf = (ref: DueRef) => `${ref.leadId}#${ref.sequenceId}`;

/** Takes the shard's lease, sweeps its due steps in batches, and gives the lease back. Returns whether the deadline stopped it. */
async function sweepShard(deps: NurtureDeps, shard: number, listed: DueRef[], ctx: SweepContext): Promise<boolean> {
  const { report } = ctx;
  const now = deps.clock.now();
  let taken: Awaited<ReturnType<NurtureDeps["nurture"]["takeSweepLease"]>>;
  try {
    taken = await deps.nurture.takeSweepLease(shard, ctx.owner, leaseUntil(deps, now), now.toISOString());
  } catch (error) {
    report.failed += listed.length;
    deps.log?.warn("due shard's lease not taken; it is swept again next run", { shard, error: String(error) });
    return false;
  }
  if (!taken) {
    report.lost += listed.length;
    return false;
  }
  const lease: ShardLease = { shard, done: [], inFlight: new Set(taken.inFlight.map(versionOf)), lost: false, recording: Promise.resolve() };
  // A previous holder's marked steps are read with the rest, listed or not (the index lags), so
  // each is settled before anyone could send it; a mark whose step has moved on is only cleared.
  const refs = [...listed];
  const listedEnrollments = new Map(listed.map((r) => [enrollmentOf(r), r]));
  for (const mark of taken.inFlight) {
    const seen = listedEnrollments.get(enrollmentOf(mark));
    if (!seen) refs.push(mark);
    else if (seen.dueAt !== mark.dueAt) lease.done.push(mark);
  }
  let pending = refs;
  let stop = false;
  /** The next batch of leads this sweep holds, or none when all of the rest are held elsewhere. */
  const nextPage = (): { page: DueRef[]; held: Set<string> } | undefined => {
    // A lead in one batch at a time: its steps in other shards wait for that batch to settle.
    const page: DueRef[] = [];
    const later: DueRef[] = [];
    const held = new Set<string>();
    for (const ref of pending) {
      if (held.has(ref.leadId) || (page.length < BATCH_STEPS && ctx.leads.take(ref.leadId))) {
        held.add(ref.leadId);
        page.push(ref);
      } else later.push(ref);
    }
    pending = later;
    return page.length > 0 ? { page, held } : undefined;
  };
  const prepare = async ({ page, held }: { page: DueRef[]; held: Set<string> }) => {
    try {
      return { held, batch: await prepareBatch(deps, page, ctx, lease) };
    } catch (error) {
      // The batch's steps stay due (a marked one is recovered once the lease lapses).
      report.failed += page.length;
      deps.log?.warn("due steps not handled; they stay due", { shard, steps: page.length, error: String(error) });
      return { held, batch: undefined };
    }
  };
  let preparing: ReturnType<typeof prepare> | undefined;
  for (;;) {
    if (!preparing) {
      if (pending.length === 0 || stop || lease.lost) break;
      const page = nextPage();
      if (!page) {
        await ctx.leads.anyFree(pending.map((r) => r.leadId));
        continue;
      }
      preparing = prepare(page);
    }
    const { held, batch } = await preparing;
    preparing = undefined;
    if (batch?.stop) stop = true;
    // The next batch is read and decided while this one sends.
    if (!stop && !lease.lost && pending.length > 0) {
      const page = nextPage();
      if (page) preparing = prepare(page);
    }
    if (batch) {
      try {
        await sendBatch(deps, batch, ctx, lease);
      } catch (error) {
        report.failed += batch.toSend.length;
        deps.log?.warn("due steps not sent; they stay due", { shard, steps: batch.toSend.length, error: String(error) });
      }
    }
    // This batch's leads stay held until its last wave is recorded, so their steps in other
    // shards are planned with these sends on record.
    void lease.recording.then(() => ctx.leads.release(held));
  }
  await lease.recording;
  if (lease.lost) report.lost += pending.length;
  else if (stop) report.deferred += pending.length;
  try {
    await giveBack(() => deps.nurture.updateSweepLease(shard, ctx.owner, { done: lease.done, release: true }));
  } catch (error) {
    deps.log?.warn("due shard's lease not given back; it lapses", { shard, error: String(error) });
  }
  return stop;
}

function leaseUntil(deps: NurtureDeps, now: Date): string {
  return new Date(now.getTime() + deps.settings.claimLeaseMs).toISOString();
}

type Count = Exclude<keyof SweepReport, "due" | "failed" | "deferred">;

/** What the batch does with one due step, decided from the batch's reads before anything is written. */
interface Decision {
  ref: DueRef;
  before: Enrollment;
  guard: { dueAt: string; stepId: string; lapsed?: string };
  /** Counted once its write holds. */
  counts: Count[];
  /** A previous holder's step whose email is not on record: its history says the outcome is unknown. */
  uncertainStepId?: string;
  /** A previous holder's mark this decision settles. */
  inFlight: boolean;
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

/** A batch read and decided, its steps not sent settled: what is left is to send it. */
interface PreparedBatch {
  toSend: Decision[];
  /** History lines of recovered steps whose outcome is unknown. */
  lines: { leadId: string; activity: NewActivity }[];
  /** The deadline left no time to send the rest. */
  stop: boolean;
  suppressionsReadAt: number;
  now: Date;
}

/**
 * One batch of a leased shard, first half: reads (the leads with their enrollments, the
 * suppressions, and messages only where a step needs them), every step's decision, and the steps
 * not sent settled in one transaction on their versions. It runs while the shard's previous
 * batch sends: it touches other leads, and marks nothing.
 */
async function prepareBatch(deps: NurtureDeps, refs: DueRef[], ctx: SweepContext, lease: ShardLease): Promise<PreparedBatch> {
  const { report } = ctx;
  const now = deps.clock.now();
  const at = now.toISOString();
  const sequenceIds = [...new Set([...deps.config.sequences.map((s) => s.id), ...refs.map((r) => r.sequenceId)])];
  const states = await deps.nurture.readLeads([...new Set(refs.map((r) => r.leadId))], sequenceIds);
  const emails = [...new Set([...states.values()].flatMap((v) => (v.lead ? [v.lead.email] : [])))];
  const suppressionsReadAt = Date.now();
  const suppressed = emails.length > 0 ? await deps.leads.getSuppressions(emails) : new Map<string, unknown>();

  const live: { ref: DueRef; before: Enrollment; view: LeadNurtureState; inFlight: boolean }[] = [];
  for (const ref of refs) {
    const view = states.get(ref.leadId)!;
    const before = view.enrollments.find((e) => e.sequenceId === ref.sequenceId);
    const inFlight = lease.inFlight.has(versionOf(ref));
    // Handled since the index was read (it lags the table), or held by a live per-step claim.
    const stale = before?.status !== "active" || before.dueAt !== ref.dueAt || before.nextStepId !== ref.stepId;
    if (!before || stale || (before.sending !== undefined && before.sending.until > at)) {
      // A previous holder's mark on a step that has moved on: nothing to recover.
      if (inFlight) lease.done.push(ref);
      else report.lost++;
      continue;
    }
    live.push({ ref, before, view, inFlight });
  }

  // Messages are read only where a step needs them: a step to recover, a condition on the
  // previous email's opens and clicks, or sends made before enrollments kept their own.
  const messages = new Map<string, MessageRecord[]>();
  await Promise.all(
    live.map(async ({ ref, before, view, inFlight }) => {
      const sequence = deps.config.sequences.find((s) => s.id === ref.sequenceId);
      const capSince = capSinceOf(sequence, now);
      const step = sequence?.steps.find((s) => s.id === ref.stepId);
      const legacy = capSince !== undefined && view.enrollments.some((e) => e.recentSends === undefined && e.lastSentAt !== undefined && e.lastSentAt >= capSince);
      if (!before.sending && !inFlight && !step?.condition?.previous && !legacy) return;
      const read = await deps.nurture.readNurtureState(ref.leadId, { ...(capSince !== undefined ? { sentSince: capSince } : {}), sequenceId: ref.sequenceId });
      messages.set(`${ref.leadId}#${ref.sequenceId}`, read.messages);
    }),
  );

  const planned = new Map<string, string[]>();
  const settled: Decision[] = [];
  const toSend: Decision[] = [];
  let stop = false;
  for (const { ref, before, view, inFlight } of live) {
    const decision = await decide(deps, ref, before, view, inFlight, messages.get(`${ref.leadId}#${ref.sequenceId}`), suppressed.has(view.lead?.email ?? ""), planned, now, ctx);
    if (decision.send) {
      const slot = ctx.gate.reserve();
      // A step is marked only if its send can start and settle before the deadline.
      if (stop || (ctx.deadline !== undefined && slot + ctx.budget > ctx.deadline)) {
        stop = true;
        report.deferred++;
        continue;
      }
      decision.send.slot = slot;
      planned.set(ref.leadId, [...(planned.get(ref.leadId) ?? []), at]);
      toSend.push(decision);
    } else settled.push(decision);
  }

  // The steps not sent (ended, skipped, rescheduled, recovered), each on its version.
  const lines: { leadId: string; activity: NewActivity }[] = [];
  if (settled.length > 0) {
    const applied = await deps.nurture.writeSteps(settled.map((d) => ({ leadId: d.ref.leadId, sequenceId: d.ref.sequenceId, guard: d.guard, outcome: d.outcome! })));
    for (const [i, d] of settled.entries()) {
      // Written, or moved on by another writer: either way a mark on it is spent.
      if (d.inFlight) lease.done.push(d.ref);
      if (!applied[i]) {
        report.lost++;
        continue;
      }
      for (const count of d.counts) report[count]++;
      if (d.uncertainStepId) lines.push({ leadId: d.ref.leadId, activity: { type: "email.send_uncertain", at, data: { sequenceId: d.ref.sequenceId, stepId: d.uncertainStepId } } });
    }
  }

  return { toSend, lines, stop, suppressionsReadAt, now };
}

/**
 * One batch of a leased shard, second half: the sends in waves, each wave marked on the lease,
 * sent, and settled with its emails' records in one transaction.
 */
async function sendBatch(deps: NurtureDeps, batch: PreparedBatch, ctx: SweepContext, lease: ShardLease): Promise<void> {
  const { report } = ctx;
  const { toSend, lines, suppressionsReadAt, now } = batch;
  // Prepared while the lease was still ours, and lost since: nothing of it is sent.
  if (lease.lost) report.lost += toSend.length;
  // A wave's record is written while the next wave (of this batch or the shard's next one) is
  // marked and sent: two waves in hand at most.
  for (let w = 0; w < toSend.length && !lease.lost; w += ctx.waveSteps) {
    const wave = toSend.slice(w, w + ctx.waveSteps);
    // The batch's suppression read covers every address of it; one read again, where it has aged,
    // covers the wave's: started beside the mark, so the sends rarely wait for it.
    const fresh = new SuppressionCheck(deps, wave.map((d) => d.send!.lead.email), suppressionsReadAt);
    fresh.prefetch();
    // The mark before the sends: a holder that lost its lease learns it here and sends nothing.
    const done = lease.done.splice(0);
    let marked: boolean;
    try {
      marked = await deps.nurture.updateSweepLease(lease.shard, ctx.owner, { begin: wave.map((d) => d.ref), done, until: leaseUntil(deps, deps.clock.now()) });
    } catch (error) {
      // The marks may or may not be written: send nothing of the wave (at worst its steps are settled uncertain, never sent twice).
      lease.done.push(...done);
      lease.lost = true;
      report.failed += toSend.length - w;
      deps.log?.warn("sends not marked on the shard's lease; the shard stops here", { shard: lease.shard, error: String(error) });
      break;
    }
    if (!marked) {
      lease.lost = true;
      report.lost += toSend.length - w;
      deps.log?.warn("the shard's lease was taken over; the shard stops here", { shard: lease.shard });
      break;
    }
    const settles = await sendWave(deps, wave, ctx, fresh, now);
    const previous = lease.recording;
    lease.recording = previous.then(() => recordWave(deps, settles, ctx, lease));
    await previous;
  }
  await Promise.all(
    lines.map(({ leadId, activity }) =>
      deps.leads.appendActivity(leadId, activity).catch((error: unknown) => deps.log?.warn("history line not written", { leadId, type: activity.type, error: String(error) })),
    ),
  );
}

interface WaveSettle {
  decision: Decision;
  write: StepWrite;
  count: Count;
  event?: BusEvent;
}

/** Sends a marked wave; returns each step's settle (a sent one's with its email's record). */
async function sendWave(deps: NurtureDeps, wave: Decision[], ctx: SweepContext, fresh: SuppressionCheck, now: Date): Promise<WaveSettle[]> {
  const at = now.toISOString();
  const settles: WaveSettle[] = [];
  await Promise.all(
    wave.map(async (decision) => {
      const { lead, sequence, step, state, email, messageId, variantId, zone, recent, ownRecent, slot } = decision.send!;
      const settle = (outcome: StepSettlement, count: Count, event?: BusEvent) =>
        settles.push({ decision, write: { leadId: lead.id, sequenceId: sequence.id, guard: decision.guard, outcome }, count, ...(event ? { event } : {}) });
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
        settle({ next: { stepId: step.id, dueAt: at }, attempts: state.attempts }, "retried");
        deps.log?.warn("suppressions not read again; step given back", { leadId: lead.id, sequenceId: sequence.id, stepId: step.id, error: String(error) });
        return;
      }
      if (suppressedSince) {
        settle({ end: { reason: "suppressed", at } }, "ended");
        return;
      }
      let providerMessageId: string;
      try {
        ({ messageId: providerMessageId } = await ctx.lanes.run(() => deps.mailer.send(email)));
      } catch (error) {
        if (error instanceof MailRejectedError) {
          settle({ end: { reason: "rejected", at }, activity: { type: "email.rejected", at, data: { sequenceId: sequence.id, stepId: step.id, error: error.message } } }, "ended");
          return;
        }
        if (error instanceof MailerUncertainError) {
          // SES may have sent it: count the step as handled (at most once) and say so in the history.
          settle(
            {
              handledStepId: step.id,
              attempts: 0,
              ...(ownRecent.length > 0 || recent.length > 0 ? { recentSends: [...ownRecent, at] } : {}),
              ...nextAfter(handled(state, step.id, undefined), [...recent, at]),
              activity: { type: "email.send_uncertain", at, data: { sequenceId: sequence.id, stepId: step.id, error: error.message } },
            },
            "uncertain",
          );
          deps.log?.warn("send outcome unknown; step settled as uncertain, not resent", { leadId: lead.id, sequenceId: sequence.id, stepId: step.id });
          return;
        }
        // Anything else may pass: keep the step waiting and try again later, with growing pauses.
        const attempts = state.attempts + 1;
        const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (attempts - 1));
        settle({ next: { stepId: step.id, dueAt: new Date(now.getTime() + delay).toISOString() }, attempts }, "retried");
        deps.log?.warn("send failed; step will be retried", {
          leadId: lead.id,
          sequenceId: sequence.id,
          stepId: step.id,
          attempts,
          error: error instanceof MailerUnavailableError ? error.message : String(error),
        });
        return;
      }
      const plan = planNextStep({ sequence, state: handled(state, step.id, at), leadTimeZone: zone, now, recentSends: [...recent, at] });
      settle(
        {
          handledStepId: step.id,
          sentAt: at,
          messageId,
          attempts: 0,
          ...(capSinceOf(sequence, now) !== undefined ? { recentSends: [...ownRecent, at] } : {}),
          ...(plan.done ? { end: { reason: plan.reason, at } } : { next: { stepId: plan.step.id, dueAt: plan.dueAt.toISOString() } }),
          // The record the frequency cap, SES's events and a recovering sweeper need, with the settle.
          message: { messageId, providerMessageId, leadId: lead.id, kind: "nurture", sequenceId: sequence.id, stepId: step.id, ...variantId, sentAt: at },
          activity: { type: "email.sent", at, data: { sequenceId: sequence.id, stepId: step.id, messageId, ...variantId } },
        },
        "sent",
        leadloopEvent("email.sent", { leadId: lead.id, sequenceId: sequence.id, stepId: step.id, messageId, ...variantId }),
      );
    }),
  );
  return settles;
}

/** A wave's settles in one transaction, then its marks are spent. */
async function recordWave(deps: NurtureDeps, settles: WaveSettle[], ctx: SweepContext, lease: ShardLease): Promise<void> {
  const { report } = ctx;
  if (settles.length === 0) return;
  let applied: boolean[];
  try {
    // Retried: a lost write would leave the marks for the next holder to settle as uncertain.
    applied = await giveBack(() => deps.nurture.writeSteps(settles.map((s) => s.write)));
  } catch (error) {
    // The marks stay: the next holder settles these steps as handled (sent or uncertain), never resent.
    for (const s of settles) if (s.count === "sent") report.sent++;
    deps.log?.warn("a wave's settlements not written; its marks are left for the next holder", { steps: settles.length, error: String(error) });
    return;
  }
  for (const [i, { decision, count, event }] of settles.entries()) {
    lease.done.push(decision.ref);
    // A sent email counts (and is announced) whether or not its step had been taken over: it went out, and its record is written.
    if (count === "sent") {
      report.sent++;
      if (event) ctx.announcements.add(event);
    } else if (applied[i]) report[count]++;
    else report.lost++;
    if (applied[i]) for (const c of decision.counts) if (c !== count) report[c]++;
  }
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
 * The leads in a batch somewhere in this sweep: a lead's steps in other shards wait, so each is
 * planned against the frequency cap with the sends before it settled and read.
 */
class LeadLocks {
  #held = new Set<string>();
  #waiting: (() => void)[] = [];

  take(leadId: string): boolean {
    if (this.#held.has(leadId)) return false;
    this.#held.add(leadId);
    return true;
  }

  release(leadIds: Iterable<string>): void {
    for (const id of leadIds) this.#held.delete(id);
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const wake of waiting) wake();
  }

  /** Resolves once one of these leads is free (at once if one is). */
  async anyFree(leadIds: readonly string[]): Promise<void> {
    while (leadIds.every((id) => this.#held.has(id))) await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }
}

/**
 * Suppressions of a wave's addresses, read again (strongly consistent, every address of the wave
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
    if (Date.now() - this.readAt > SUPPRESSION_FRESH_MS) await this.#read();
    return this.#suppressed.has(email);
  }

  /**
   * Reads again now where the last read will have aged by the sends (beside the wave's mark), so
   * they find it fresh instead of waiting for it; a failed read is read again at the send.
   */
  prefetch(): void {
    if (Date.now() - this.readAt > SUPPRESSION_FRESH_MS / 2) this.#read().catch(() => undefined);
  }

  #read(): Promise<void> {
    this.#reading ??= (async () => {
      const startedAt = Date.now();
      const found = await this.deps.leads.getSuppressions([...new Set(this.emails)]);
      for (const address of found.keys()) this.#suppressed.add(address);
      this.readAt = startedAt;
    })().finally(() => {
      this.#reading = undefined;
    });
    return this.#reading;
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
  inFlight: boolean,
  messages: MessageRecord[] | undefined,
  isSuppressed: boolean,
  planned: Map<string, string[]>,
  now: Date,
  ctx: SweepContext,
): Promise<Decision> {
  const at = now.toISOString();
  const decision: Decision = { ref, before, inFlight, guard: { dueAt: ref.dueAt, stepId: ref.stepId, ...(before.sending ? { lapsed: before.sending.token } : {}) }, counts: [] };
  const final = (outcome: StepSettlement, count: Count) => {
    decision.outcome = outcome;
    decision.counts.push(count);
    return decision;
  };
  const end = (reason: string) => final({ end: { reason, at } }, "ended");

  let state: Enrollment = before;
  // A step a previous lease holder marked, or a lapsed per-step claim: whoever held it may have sent it.
  const claimedStep = before.sending?.stepId ?? (inFlight ? ref.stepId : undefined);
  if (claimedStep !== undefined) {
    // Count it as handled so it can never go out twice (at most once), and say so in the lead's history.
    decision.counts.push("recovered");
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
    return final({ ...(claimedStep !== undefined ? { handledStepId: claimedStep } : {}), next: { stepId: plan.step.id, dueAt: plan.dueAt.toISOString() } }, "rescheduled");
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
function giveBack<T>(write: () => Promise<T>): Promise<T> {
  return retried(write, { tries: GIVE_BACK_TRIES, jitterMs: 20 });
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
