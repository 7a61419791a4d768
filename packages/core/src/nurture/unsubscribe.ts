/**
 * unsubscribeLead: one request is enough. The address is suppressed at once (checked before
 * every send), every running enrollment ends, and `lead.unsubscribed` tells the rest.
 * Repeating it is harmless.
 */
import { leadloopEvent } from "../events";
import type { Lead } from "../lead";
import { stageAfter } from "../lifecycle";
import type { NurtureDeps } from "./enroll";

/** What the confirmation page may show: enough to recognise, not enough to learn an address. */
export function maskEmail(email: string): string {
  const [local = "", domain = ""] = email.split("@");
  return `${local.slice(0, 1)}${"•".repeat(Math.max(1, Math.min(local.length - 1, 6)))}@${domain}`;
}

export async function findUnsubscriber(deps: Pick<NurtureDeps, "signer" | "leads" | "clock">, token: string): Promise<Lead | undefined> {
  const { sub } = deps.signer.verify(token, "unsubscribe", deps.clock.now());
  return deps.leads.getLead(sub);
}

export async function unsubscribeLead(deps: NurtureDeps, token: string): Promise<{ lead?: Lead; already: boolean }> {
  const lead = await findUnsubscriber(deps, token);
  // An erased lead's address is already suppressed by its hash: nothing left to do.
  if (!lead) return { already: true };
  const at = deps.clock.now().toISOString();
  const already = Boolean(await deps.leads.getSuppression(lead.email));
  await deps.leads.suppress({ email: lead.email, reason: "unsubscribed", at });
  for (const enrollment of await deps.nurture.listEnrollments(lead.id)) {
    if (enrollment.status === "active") await deps.nurture.endEnrollment(lead.id, enrollment.sequenceId, "unsubscribed", at);
  }
  if (!already) {
    // Leaving marketing email ends marketing's hold on a lead, not a deal or a customer relationship.
    const stage = stageAfter(lead.stage, "unsubscribed");
    if (stage) await deps.leads.updateLead(lead.id, { stage }, at);
    await deps.leads.appendActivity(lead.id, { type: "email.unsubscribed", at, data: {} });
    await deps.publisher.publish([leadloopEvent("lead.unsubscribed", { leadId: lead.id, segment: lead.segment })]);
  }
  return { lead, already };
}
