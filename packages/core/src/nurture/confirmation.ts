/**
 * Double opt-in: a lead from a form that asks for it is never stranded. It gets a confirmation
 * email even when SES refuses one for a moment (the send is recorded only once SES took it, and
 * a failed one is retried with a growing pause), a second submission sends it again, and a lead
 * that never confirms is deleted when its newest link expires. Nurture starts only after a person
 * presses the confirm page's button: the link itself (which mail scanners fetch) only shows it.
 *
 * Every step is a conditional write on the lead's confirmation state, so two deliveries of one
 * `lead.captured`, or the event and the job, never send twice at once.
 */
import { randomUUID } from "node:crypto";
import { teamIdsOf } from "../data-ops/erase-lead";
import { sweepDueIndex } from "../due-index";
import type { LeadRecordStore } from "../data-ops/lead-records";
import { InvalidTokenError, NotFoundError } from "../errors";
import type { Lead } from "../lead";
import { type ConfirmationState, MailRejectedError } from "../ports";
import { renderTemplate } from "../templating";
import { confirmUrl } from "./email-links";
import type { NurtureDeps } from "./enroll";

/** Reserved: no sequence in config may take this id (confirmations once were enrollments of it). */
export const CONFIRMATION_SEQUENCE = "_confirmation";
export const CONFIRMATION_TEMPLATE = "confirm-subscription";
const SUBJECT = "Please confirm your subscription";

/** A sender holds the right to send this long; if it dies, the job sends once it lapses. */
const CLAIM_MS = 2 * 60_000;
const RETRY_BASE_MS = 60_000;
const RETRY_MAX_MS = 60 * 60_000;
/** Failed attempts in a row after which the lead just waits for its expiry (or a resubmission). */
export const MAX_CONFIRMATION_FAILURES = 12;
/** A submission this soon after the last send does not send again (a redelivered event, a double click). */
export const RESEND_AFTER_MS = 10 * 60_000;
/** Confirmation emails per lead at most: whoever resubmits an address cannot flood its inbox. */
export const MAX_CONFIRMATION_SENDS = 5;

function backoff(failures: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, failures - 1));
}

const later = (now: Date, ms: number) => new Date(now.getTime() + ms).toISOString();

/**
 * Sends the confirmation email for a pending lead, as a submission asks (enrollment calls this on
 * every `lead.captured` of a pending lead). True when an email went out now.
 */
export async function sendConfirmation(deps: NurtureDeps, lead: Lead): Promise<boolean> {
  return (await attemptConfirmation(deps, lead, "submission")) === "sent";
}

type Attempt = "sent" | "not-now" | "failed";

async function attemptConfirmation(deps: NurtureDeps, lead: Lead, why: "submission" | "retry"): Promise<Attempt> {
  const now = deps.clock.now();
  const at = now.toISOString();
  const state: ConfirmationState = (await deps.leads.getConfirmation(lead.id)) ?? {
    leadId: lead.id,
    version: 0,
    sends: 0,
    failures: 0,
    expiresAt: later(now, deps.settings.confirmationDays * 86_400_000),
  };
  if (state.sendingUntil && state.sendingUntil > at) return "not-now";
  if (state.sends >= MAX_CONFIRMATION_SENDS) return "not-now";
  if (why === "submission" && state.lastSentAt && now.getTime() - Date.parse(state.lastSentAt) < RESEND_AFTER_MS) return "not-now";

  // Claim first, due when the claim lapses: a sender that dies mid-send is retried by the job.
  const claimUntil = later(now, CLAIM_MS);
  if (!(await deps.leads.saveConfirmation({ ...state, sendingUntil: claimUntil, dueAt: claimUntil }, state.version))) return "not-now";
  const claimed = state.version + 1;
  const { sendingUntil: _released, ...idle } = state;

  const template = deps.config.templates[CONFIRMATION_TEMPLATE];
  if (!template) throw new NotFoundError(`config/templates has no ${CONFIRMATION_TEMPLATE} template`);
  const rendered = renderTemplate(template, SUBJECT, {
    lead: { ...lead.profile, email: lead.email, id: lead.id },
    confirm_url: confirmUrl(deps.settings, deps.signer, lead.id, now),
  });
  const messageId = randomUUID();
  let providerMessageId: string;
  try {
    ({ messageId: providerMessageId } = await deps.mailer.send({
      to: lead.email,
      from: deps.settings.from,
      subject: rendered.subject,
      html: rendered.html,
      text: rendered.text,
      headers: {},
      tags: { lead: lead.id, kind: "confirmation", message: messageId },
    }));
  } catch (error) {
    const failures = state.failures + 1;
    // A refusal for good (a bad address) or too many failures: the lead waits for its expiry.
    const givenUp = error instanceof MailRejectedError || failures >= MAX_CONFIRMATION_FAILURES;
    await deps.leads.saveConfirmation({ ...idle, failures, dueAt: givenUp ? state.expiresAt : later(now, backoff(failures)) }, claimed);
    deps.log?.warn(givenUp ? "confirmation email not sent; the lead waits for its expiry" : "confirmation email not sent; will retry", {
      leadId: lead.id,
      failures,
      error: String(error),
    });
    return "failed";
  }
  // The newest link is valid for confirmationDays from now; the lead is kept exactly as long.
  const expiresAt = later(now, deps.settings.confirmationDays * 86_400_000);
  await deps.leads.saveConfirmation({ ...idle, sends: state.sends + 1, failures: 0, lastSentAt: at, expiresAt, dueAt: expiresAt }, claimed);
  await deps.nurture.recordMessage({ messageId, providerMessageId, leadId: lead.id, kind: "confirmation", sentAt: at });
  await deps.leads.appendActivity(lead.id, { type: "email.confirmation_sent", at, data: { messageId, [why === "retry" ? "retry" : "send"]: state.sends + 1 } });
  return "sent";
}

export interface ConfirmationDeps extends NurtureDeps {
  /** Deletes an expired lead and everything held on it. */
  records: Pick<LeadRecordStore, "erase">;
}

export interface ConfirmationReport {
  due: number;
  sent: number;
  failed: number;
  /** Unconfirmed leads deleted at their link's expiry. */
  expired: number;
  /** States of leads confirmed or gone since, taken out of the index. */
  settled: number;
}

/**
 * The periodic job: retries confirmation emails that failed (or whose sender died), and deletes
 * leads that never confirmed once their newest link expired, as if never captured. No suppression
 * is left: the person may subscribe again, and gets a new confirmation.
 */
export async function settleConfirmations(deps: ConfirmationDeps, options: { batch?: number; deadline?: number } = {}): Promise<ConfirmationReport> {
  const report: ConfirmationReport = { due: 0, sent: 0, failed: 0, expired: 0, settled: 0 };
  const at = deps.clock.now().toISOString();
  const swept = await sweepDueIndex(
    { shards: deps.leads.confirmationShards, listDue: (shard, upTo, limit) => deps.leads.listConfirmationsDue(shard, upTo, limit) },
    (state: ConfirmationState) => settleOne(deps, state, at, report),
    { upTo: at, batch: options.batch ?? 100, ...(options.deadline !== undefined ? { deadline: options.deadline } : {}) },
  );
  report.due = swept.due;
  return report;
}

async function settleOne(deps: ConfirmationDeps, state: ConfirmationState, at: string, report: ConfirmationReport): Promise<void> {
  const lead = await deps.leads.getLead(state.leadId);
  if (lead?.stage !== "pending-confirmation") {
    const { dueAt: _done, ...settled } = state;
    if (await deps.leads.saveConfirmation(settled, state.version)) report.settled++;
    return;
  }
  if (state.expiresAt <= at) {
    // Out of the index first, so a second job does not erase it again; then the lead goes.
    const { dueAt: _done, ...expiring } = state;
    if (!(await deps.leads.saveConfirmation(expiring, state.version))) return;
    await deps.records.erase(lead, { teamIds: teamIdsOf(deps.config) });
    deps.log?.info("unconfirmed lead deleted at its link's expiry", { leadId: lead.id });
    report.expired++;
    return;
  }
  const result = await attemptConfirmation(deps, lead, "retry");
  if (result === "sent") report.sent++;
  else if (result === "failed") report.failed++;
}

/** The lead a confirmation link names, for the page that asks to confirm; throws on a bad or expired link. */
export async function findConfirmable(deps: Pick<NurtureDeps, "signer" | "leads" | "clock">, token: string): Promise<Lead> {
  const { sub } = deps.signer.verify(token, "confirm", deps.clock.now());
  const lead = await deps.leads.getLead(sub);
  // Deleted at its expiry: the link is as good as expired.
  if (!lead) throw new InvalidTokenError("expired");
  return lead;
}

/**
 * Confirms (the page's button posts here): the lead leaves `pending-confirmation` and is
 * announced again. Its confirmation state is left for the job, which takes it out of the index.
 */
export async function confirmLead(deps: NurtureDeps, token: string): Promise<Lead> {
  const now = deps.clock.now();
  const lead = await findConfirmable(deps, token);
  if (lead.stage !== "pending-confirmation") return lead;
  const updated = (await deps.leads.updateLead(lead.id, { stage: "lead" }, now.toISOString())) ?? lead;
  await deps.leads.appendActivity(lead.id, { type: "consent.confirmed", at: now.toISOString(), data: {} });
  await deps.publisher.publish([
    { type: "lead.updated", detail: { leadId: lead.id, segment: updated.segment, stage: updated.stage, reason: "confirmed" } },
  ]);
  return updated;
}
