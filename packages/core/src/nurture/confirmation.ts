/**
 * Double opt-in: a lead from a form that asks for it gets one confirmation email, and nurture
 * starts only after the link in it is followed. Unconfirmed leads expire (the store's TTL).
 */
import { randomUUID } from "node:crypto";
import { InvalidTokenError, NotFoundError } from "../errors";
import type { Lead } from "../lead";
import { renderTemplate } from "../templating";
import { confirmUrl } from "./email-links";
import type { NurtureDeps } from "./enroll";

/** The reserved enrollment that makes the confirmation email go out once per lead. */
export const CONFIRMATION_SEQUENCE = "_confirmation";
export const CONFIRMATION_TEMPLATE = "confirm-subscription";

export async function sendConfirmation(deps: NurtureDeps, lead: Lead): Promise<boolean> {
  const now = deps.clock.now();
  const at = now.toISOString();
  const first = await deps.nurture.startEnrollment({
    leadId: lead.id,
    sequenceId: CONFIRMATION_SEQUENCE,
    status: "ended",
    enrolledAt: at,
    completedStepIds: [],
    attempts: 0,
    runs: 1,
    endedAt: at,
    endReason: "confirmation-sent",
  });
  if (!first) return false;
  const template = deps.config.templates[CONFIRMATION_TEMPLATE];
  if (!template) throw new NotFoundError(`config/templates has no ${CONFIRMATION_TEMPLATE} template`);
  const rendered = renderTemplate(template, "Please confirm your subscription", {
    lead: { ...lead.profile, email: lead.email, id: lead.id },
    confirm_url: confirmUrl(deps.settings, deps.signer, lead.id, now),
  });
  const messageId = randomUUID();
  const { messageId: providerMessageId } = await deps.mailer.send({
    to: lead.email,
    from: deps.settings.from,
    subject: rendered.subject,
    html: rendered.html,
    text: rendered.text,
    headers: {},
    tags: { lead: lead.id, kind: "confirmation", message: messageId },
  });
  await deps.nurture.recordMessage({ messageId, providerMessageId, leadId: lead.id, kind: "confirmation", sentAt: at });
  await deps.leads.appendActivity(lead.id, { type: "email.confirmation_sent", at, data: { messageId } });
  return true;
}

/** Follows a confirmation link: the lead leaves `pending-confirmation` and is announced again. */
export async function confirmLead(deps: NurtureDeps, token: string): Promise<Lead> {
  const now = deps.clock.now();
  const { sub } = deps.signer.verify(token, "confirm", now);
  const lead = await deps.leads.getLead(sub);
  if (!lead) throw new InvalidTokenError("expired");
  if (lead.stage !== "pending-confirmation") return lead;
  const updated = (await deps.leads.updateLead(lead.id, { stage: "lead" }, now.toISOString())) ?? lead;
  await deps.leads.appendActivity(lead.id, { type: "consent.confirmed", at: now.toISOString(), data: {} });
  await deps.publisher.publish([
    { type: "lead.updated", detail: { leadId: lead.id, segment: updated.segment, stage: updated.stage, reason: "confirmed" } },
  ]);
  return updated;
}
