/**
 * The tier-change email (rewards.yaml `tierChangeTemplate`): a marketing email like any nurture
 * step, so it goes only to addresses that are not suppressed, carries a signed unsubscribe link and
 * the RFC 8058 one-click headers, and is tagged so SES events find their lead.
 */
import { randomUUID } from "node:crypto";
import type { LeadloopConfig, Rewards } from "../config/schema";
import type { Lead } from "../lead";
import { unsubscribeHeaders, unsubscribeUrl } from "../nurture/email-links";
import type { NurtureSettings } from "../nurture/nurture-settings";
import type { Clock, LeadStore, Mailer } from "../ports";
import { renderTemplate } from "../templating";
import type { TokenSigner } from "../tokens";
import { pointsMergeFields } from "./points";

export interface TierEmailDeps {
  config: LeadloopConfig;
  leads: LeadStore;
  mailer: Mailer;
  clock: Clock;
  settings: NurtureSettings;
  signer: TokenSigner;
}

export interface TierChange {
  from: string | null;
  to: string | null;
  balance: number;
  /** Points the purchase that caused the change earned. */
  earned?: number;
}

export type TierEmailResult = "sent" | "suppressed" | "no-template";

export async function sendTierEmail(deps: TierEmailDeps, rewards: Rewards, lead: Lead, change: TierChange): Promise<TierEmailResult> {
  const template = rewards.tierChangeTemplate ? deps.config.templates[rewards.tierChangeTemplate] : undefined;
  if (!template) return "no-template";
  if (lead.stage === "unsubscribed" || (await deps.leads.getSuppression(lead.email))) return "suppressed";

  const now = deps.clock.now();
  const at = now.toISOString();
  const messageId = randomUUID();
  const unsubscribe = unsubscribeUrl(deps.settings, deps.signer, lead.id, now);
  const rendered = renderTemplate(template, rewards.tierChangeSubject, {
    lead: { ...lead.profile, email: lead.email, id: lead.id, segment: lead.segment, stage: lead.stage },
    unsubscribe_url: unsubscribe,
    ...pointsMergeFields(rewards, change.balance, { from: change.from, ...(change.earned !== undefined ? { earned: change.earned } : {}) }),
  });
  await deps.mailer.send({
    to: lead.email,
    from: deps.settings.from,
    subject: rendered.subject,
    html: rendered.html,
    text: rendered.text,
    headers: unsubscribeHeaders(deps.settings, unsubscribe),
    tags: { lead: lead.id, kind: "rewards", template: template.name, message: messageId },
  });
  await deps.leads.appendActivity(lead.id, {
    type: "email.sent",
    at,
    data: { kind: "rewards", template: template.name, messageId, tier: change.to, from: change.from },
  });
  return "sent";
}
