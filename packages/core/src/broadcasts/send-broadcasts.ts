/**
 * runBroadcasts: each eligible lead gets a broadcast at most once. A broadcast's audience is
 * queued page by page (the position saved after each page, so a run cut off resumes where it
 * stopped and a page queued twice adds nobody twice) as recipients of a sharded due index; each
 * recipient is claimed with a conditional write before its email is sent, and a claim left by a
 * crashed sender is settled as uncertain, never sent again. With a deadline (Lambda's remaining
 * time) no page is read and no recipient taken that could not be finished before it, so 100,000
 * recipients are many short runs of one scheduled job, not one long one.
 */
import { randomUUID } from "node:crypto";
import { BROADCAST_SEQUENCE_ID } from "../broadcasts/broadcast-sequence-id";
import type { Broadcast } from "../config/schema";
import { DEFAULT_ITEM_BUDGET_MS, STOP_SWEEP, sweepDueIndex } from "../due-index";
import { durationMs } from "../duration-ms";
import { leadloopEvent } from "../events";
import type { Lead } from "../lead";
import { composeBroadcastEmail, outgoingEmail } from "../nurture/compose-email";
import { leadTimeZone, type NurtureDeps } from "../nurture/enroll";
import { SendRateGate } from "../nurture/send-rate";
import { MailerUncertainError, MailRejectedError } from "../ports";
import { capFor, type Exclusion, inAudience, staticExclusion } from "./broadcast-audience";
import { broadcastLatestStart, broadcastLocalAt, broadcastStartAt } from "./broadcast-schedule";
import type { BroadcastState, BroadcastStore, Recipient, RecipientRef } from "./broadcast-store";

export interface BroadcastDeps extends NurtureDeps {
  broadcasts: BroadcastStore;
}

export interface BroadcastRunReport {
  /** Leads read while queueing, and recipients queued. */
  scanned: number;
  queued: number;
  /** Whether some broadcast still has leads to queue. */
  queueing: boolean;
  due: number;
  sent: number;
  skipped: number;
  uncertain: number;
  retried: number;
  /** Recipients another sender claimed first. */
  lost: number;
  failed: number;
  deferred: number;
  missed: string[];
}

export interface BroadcastRunOptions {
  deadline?: number;
  /** Leads read per page while queueing. */
  pageSize?: number;
  nowMs?: () => number;
  gate?: SendRateGate;
}

/** Time left below which a run with a deadline starts no first page (it does not yet know what a lead costs). */
const PAGE_BUDGET_MS = 5_000;
const DEFAULT_PAGE_SIZE = 200;
const RETRY_BASE_MS = 60_000;
const RETRY_MAX_MS = 60 * 60_000;

/** The message id of a lead's copy of a broadcast: one per lead and broadcast, so a second record of it is visible. */
export const broadcastMessageId = (broadcastId: string) => `broadcast-${broadcastId}`;

export async function runBroadcasts(deps: BroadcastDeps, options: BroadcastRunOptions = {}): Promise<BroadcastRunReport> {
  const report: BroadcastRunReport = {
    scanned: 0,
    queued: 0,
    queueing: false,
    due: 0,
    sent: 0,
    skipped: 0,
    uncertain: 0,
    retried: 0,
    lost: 0,
    failed: 0,
    deferred: 0,
    missed: [],
  };
  const nowMs = options.nowMs ?? Date.now;
  const pages = pageClock(options.deadline, nowMs, options.pageSize ?? DEFAULT_PAGE_SIZE);
  for (const broadcast of deps.config.broadcasts) {
    if (pages.size() === 0) {
      report.queueing = true;
      break;
    }
    await queueBroadcast(deps, broadcast, report, pages);
  }

  const gate = options.gate ?? new SendRateGate(deps.settings.maxSendsPerSecond);
  const swept = await sweepDueIndex(
    deps.broadcasts.recipients,
    async (ref) => {
      const slot = gate.reserve();
      if (options.deadline !== undefined && slot + DEFAULT_ITEM_BUDGET_MS > options.deadline) return STOP_SWEEP;
      await sendToRecipient(deps, ref, () => gate.waitFor(slot), report);
      return undefined;
    },
    {
      upTo: deps.clock.now().toISOString(),
      batch: deps.settings.batchSize,
      shardWorkers: 4,
      itemsPerShard: 4,
      ...(options.deadline !== undefined ? { deadline: options.deadline } : {}),
      nowMs,
      onError: (ref, error) => deps.log?.warn("broadcast recipient not handled; it stays due", { broadcastId: ref.broadcastId, leadId: ref.leadId, error: String(error) }),
      onShardError: (shard, error) => deps.log?.warn("broadcast shard not read; it is swept again next run", { shard, error: String(error) }),
    },
  );
  report.due = swept.due;
  report.failed = swept.failed;
  report.deferred = swept.deferred;
  return report;
}

/** How many leads the next page may read, so it ends before the deadline (0: none fits). */
interface PageClock {
  size: () => number;
  took: (ms: number, size: number) => void;
  nowMs: () => number;
}

/** Leads read by the first page of a run with a deadline, before it knows what a lead costs. */
const FIRST_PAGE_SIZE = 25;

/**
 * Pages sized to the time left: a run with a deadline reads a small first page, measures what a
 * lead costs (read and queued), and sizes each next page to fit twice over in the time left, up
 * to `pageSize`. On a slow or throttled table a full page could otherwise outlast the run.
 */
function pageClock(deadline: number | undefined, nowMs: () => number, pageSize: number): PageClock {
  let msPerLead: number | undefined;
  return {
    size: () => {
      if (deadline === undefined) return pageSize;
      const left = deadline - nowMs();
      if (msPerLead === undefined) return left >= PAGE_BUDGET_MS ? Math.min(pageSize, FIRST_PAGE_SIZE) : 0;
      return Math.max(0, Math.min(pageSize, Math.floor(left / 2 / msPerLead)));
    },
    took: (ms, size) => {
      msPerLead = Math.max(msPerLead ?? 0, ms / Math.max(1, size));
    },
    nowMs,
  };
}

/** Creates the broadcast's state on first sight, then queues pages of its audience while it is due and time allows. */
async function queueBroadcast(deps: BroadcastDeps, broadcast: Broadcast, report: BroadcastRunReport, pages: PageClock) {
  const now = deps.clock.now();
  let state = await deps.broadcasts.getState(broadcast.id);
  if (!state) {
    const fresh: BroadcastState = {
      broadcastId: broadcast.id,
      status: now > broadcastLatestStart(broadcast) ? "missed" : "scheduled",
      startAt: broadcastStartAt(broadcast).toISOString(),
      queued: 0,
      scanned: 0,
      version: 1,
    };
    await deps.broadcasts.createState(fresh);
    state = await deps.broadcasts.getState(broadcast.id);
    if (!state) return;
  }
  if (state.status === "scheduled" && now.getTime() >= Date.parse(state.startAt)) {
    const next: BroadcastState = { ...state, status: now > broadcastLatestStart(broadcast) ? "missed" : "queueing", version: state.version + 1 };
    if (!(await deps.broadcasts.saveState(next, state.version))) return;
    state = next;
  }
  if (state.status === "missed" && !report.missed.includes(broadcast.id)) {
    report.missed.push(broadcast.id);
    return;
  }
  while (state.status === "queueing") {
    const size = pages.size();
    if (size === 0) {
      report.queueing = true;
      return;
    }
    const pageStart = pages.nowMs();
    const page = await deps.broadcasts.scanLeads(state.cursor, size);
    const recipients = page.leads
      .filter((lead) => inAudience(broadcast, lead, deps.config) && staticExclusion(broadcast, lead) === undefined)
      .map((lead) => ({ broadcastId: broadcast.id, leadId: lead.id, dueAt: broadcastLocalAt(broadcast, leadTimeZone(lead)).toISOString() }));
    const added = recipients.length > 0 ? await deps.broadcasts.addRecipients(recipients) : 0;
    const { cursor: _, ...rest } = state;
    const next: BroadcastState = {
      ...rest,
      ...(page.cursor ? { cursor: page.cursor, status: "queueing" } : { status: "queued" }),
      queued: state.queued + added,
      scanned: state.scanned + page.leads.length,
      version: state.version + 1,
    };
    const saved = await deps.broadcasts.saveState(next, state.version);
    pages.took(pages.nowMs() - pageStart, size);
    // Another run saved this page first: it counted it, and holds the position now.
    if (!saved) return;
    report.scanned += page.leads.length;
    report.queued += added;
    state = next;
  }
}

/** Why a queued lead does not get the broadcast now, or undefined when it may. */
export async function exclusionAtSend(deps: BroadcastDeps, broadcast: Broadcast, lead: Lead, now: Date): Promise<Exclusion | undefined> {
  const known = staticExclusion(broadcast, lead);
  if (known) return known;
  if (await deps.leads.getSuppression(lead.email)) return "suppressed";
  const cap = capFor(broadcast, lead, deps.config);
  if (cap) {
    const since = new Date(now.getTime() - durationMs(cap.per)).toISOString();
    if ((await deps.nurture.recentSends(lead.id, since)).length >= cap.max) return "frequency-cap";
  }
  return undefined;
}

async function sendToRecipient(deps: BroadcastDeps, ref: RecipientRef, sendSlot: () => Promise<void>, report: BroadcastRunReport): Promise<void> {
  const now = deps.clock.now();
  const at = now.toISOString();
  const token = randomUUID();
  const before = await deps.broadcasts.claimRecipient(ref, { token, until: new Date(now.getTime() + deps.settings.claimLeaseMs).toISOString() }, at);
  if (!before) {
    report.lost++;
    return;
  }
  const settle = (outcome: Parameters<BroadcastStore["settleRecipient"]>[2]) => deps.broadcasts.settleRecipient(ref, token, outcome);
  const skip = async (reason: string) => {
    await settle({ status: "skipped", reason });
    report.skipped++;
  };
  const messageId = broadcastMessageId(ref.broadcastId);
  if (before.status === "sending") return recoverLapsedClaim(deps, ref, before, messageId, settle, report, at);

  const broadcast = deps.config.broadcasts.find((b) => b.id === ref.broadcastId);
  if (!broadcast) return skip("broadcast-removed");
  const lead = await deps.leads.getLead(ref.leadId);
  if (!lead) return skip("lead-erased");
  const excluded = await exclusionAtSend(deps, broadcast, lead, now);
  if (excluded) return skip(excluded);
  // The same composition the preview shows, so what a marketer sees is what is sent.
  const email = composeBroadcastEmail(deps, lead, broadcast, now);
  if (!email) return skip(`template-missing:${broadcast.template}`);

  await sendSlot();
  let providerMessageId: string;
  try {
    ({ messageId: providerMessageId } = await deps.mailer.send(outgoingEmail(email, { lead: lead.id, sequence: BROADCAST_SEQUENCE_ID, step: broadcast.id, message: messageId })));
  } catch (error) {
    if (error instanceof MailRejectedError) return skip("rejected");
    if (error instanceof MailerUncertainError) {
      // SES may have sent it: settle it as handled (at most once), never resend.
      await settle({ status: "uncertain", reason: error.message });
      report.uncertain++;
      return;
    }
    const attempts = before.attempts + 1;
    const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (attempts - 1));
    await settle({ retryAt: new Date(now.getTime() + delay).toISOString(), attempts });
    deps.log?.warn("broadcast send failed; it will be retried", { broadcastId: ref.broadcastId, leadId: lead.id, attempts, error: String(error) });
    report.retried++;
    return;
  }
  // From here on the email is out: a failure leaves the claim to lapse, and the lapsed claim is
  // then settled from the message record (or as uncertain), never sent again.
  await deps.nurture.recordMessage({
    messageId,
    providerMessageId,
    leadId: lead.id,
    // A broadcast is marketing email: recorded as such, it counts toward every sequence's frequency cap.
    kind: "nurture",
    sequenceId: BROADCAST_SEQUENCE_ID,
    stepId: broadcast.id,
    sentAt: at,
  });
  await settle({ status: "sent", messageId });
  report.sent++;
  await announceSent(deps, lead.id, broadcast.id, messageId, at);
}

async function announceSent(deps: BroadcastDeps, leadId: string, broadcastId: string, messageId: string, at: string): Promise<void> {
  await deps.leads.appendActivity(leadId, { type: "email.sent", at, data: { broadcastId, messageId } });
  await deps.publisher
    .publish([leadloopEvent("email.sent", { leadId, sequenceId: BROADCAST_SEQUENCE_ID, stepId: broadcastId, messageId })])
    .catch((error: unknown) => deps.log?.warn("email.sent not published", { leadId, error: String(error) }));
}

/** A sender died holding this recipient: its email may be out. Never send it again; say what is known. */
async function recoverLapsedClaim(
  deps: BroadcastDeps,
  ref: RecipientRef,
  before: Recipient,
  messageId: string,
  settle: (outcome: Parameters<BroadcastStore["settleRecipient"]>[2]) => Promise<boolean>,
  report: BroadcastRunReport,
  at: string,
): Promise<void> {
  const recorded = await deps.nurture.getMessage(ref.leadId, messageId);
  if (recorded) {
    // It went out and was recorded, but its sender died before announcing it: announce it now
    // (the report counts a message once, however often its email.sent arrives).
    await settle({ status: "sent", messageId });
    report.sent++;
    await announceSent(deps, ref.leadId, ref.broadcastId, messageId, recorded.sentAt);
    return;
  }
  await settle({ status: "uncertain", reason: "sender stopped mid-send" });
  report.uncertain++;
  await deps.leads
    .appendActivity(ref.leadId, { type: "email.send_uncertain", at, data: { broadcastId: ref.broadcastId, attempts: before.attempts } })
    .catch(() => undefined);
}
