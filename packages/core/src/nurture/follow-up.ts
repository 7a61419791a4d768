/**
 * sendFollowUp: a submission of a form that names a follow-up email gets that email once, at once,
 * whatever its segment or score, unless the lead may not be emailed (suppressed, consent refused,
 * with sales for good) or has yet to confirm a double opt-in (it is sent on confirmation instead).
 *
 * Once per submission: the message id is derived from the form and the submission's time, and the
 * message is recorded under it, so a redelivered event finds it and sends nothing. Follow-ups are
 * their own message kind, so reports and engagement tell them from nurture steps.
 */
import { createHash } from "node:crypto";
import type { FollowUp } from "../config/schema";
import type { Lead } from "../lead";
import { awaitsConfirmation } from "../lifecycle";
import { MailRejectedError } from "../ports";
import { composeEmail, outgoingEmail } from "./compose-email";
import { LEAD_NOT_YET_STORED_GRACE_MS, LeadNotYetStoredError, type NurtureDeps } from "./enroll";

export type FollowUpResult =
  | { sent: true; messageId: string }
  | { sent: false; reason: "no-follow-up" | "already-sent" | "awaiting-confirmation" | "suppressed" | "no-consent" | "no-lead" | "rejected" | `template-missing:${string}` };

export interface FollowUpTrigger {
  leadId: string;
  formId: string;
  /** Identifies the submission (its time, or "confirmed" for the send a confirmation releases). */
  submission: string;
  /** When the asking event was published: a lead not stored yet is retried while it is fresh. */
  eventTime?: string;
}

export function followUpMessageId(formId: string, submission: string): string {
  return `follow-up-${createHash("sha256").update(`${formId}\n${submission}`).digest("hex").slice(0, 24)}`;
}

export async function sendFollowUp(deps: NurtureDeps, trigger: FollowUpTrigger): Promise<FollowUpResult> {
  const form = Object.hasOwn(deps.config.forms, trigger.formId) ? deps.config.forms[trigger.formId] : undefined;
  const followUp: FollowUp | undefined = form?.followUp;
  if (!followUp) return { sent: false, reason: "no-follow-up" };

  const lead = await deps.leads.getLead(trigger.leadId);
  if (!lead) {
    const published = trigger.eventTime === undefined ? Number.NaN : Date.parse(trigger.eventTime);
    if (deps.clock.now().getTime() - published < LEAD_NOT_YET_STORED_GRACE_MS) throw new LeadNotYetStoredError(trigger.leadId);
    return { sent: false, reason: "no-lead" };
  }
  if (awaitsConfirmation(lead.stage)) return { sent: false, reason: "awaiting-confirmation" };
  if (!consented(lead, trigger.formId)) return { sent: false, reason: "no-consent" };
  if (await deps.leads.getSuppression(lead.email)) return { sent: false, reason: "suppressed" };

  const messageId = followUpMessageId(trigger.formId, trigger.submission);
  if (await deps.nurture.getMessage(lead.id, messageId)) return { sent: false, reason: "already-sent" };
  const now = deps.clock.now();
  const at = now.toISOString();
  // The same composition the preview shows, so what a marketer sees is what is sent.
  const email = composeEmail(deps, lead, { template: followUp.template, subject: followUp.subject, vars: { form: { id: trigger.formId, name: form?.name } } }, now);
  if (!email) return { sent: false, reason: `template-missing:${followUp.template}` };
  let providerMessageId: string;
  try {
    ({ messageId: providerMessageId } = await deps.mailer.send(outgoingEmail(email, { lead: lead.id, kind: "follow-up", form: trigger.formId, message: messageId })));
  } catch (error) {
    // A bad address will not improve with retries; anything else is thrown for the bus to redeliver.
    if (error instanceof MailRejectedError) {
      await deps.leads.appendActivity(lead.id, { type: "email.rejected", at, data: { formId: trigger.formId, kind: "follow-up", error: error.message } });
      return { sent: false, reason: "rejected" };
    }
    throw error;
  }
  await deps.nurture.recordMessage({ messageId, providerMessageId, leadId: lead.id, kind: "follow-up", formId: trigger.formId, sentAt: at });
  await deps.leads.appendActivity(lead.id, { type: "email.sent", at, data: { kind: "follow-up", formId: trigger.formId, messageId } });
  return { sent: true, messageId };
}

/** A form that asks for consent and was submitted without it sends no marketing email. */
function consented(lead: Lead, formId: string): boolean {
  const latest = lead.consents.filter((c) => c.formId === formId).at(-1);
  return latest === undefined || latest.given;
}
