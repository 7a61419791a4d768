/**
 * composeStepEmail and composeBroadcastEmail: the one place a sequence step or a broadcast becomes
 * an email. The sweeper and the broadcast sender send what these return and the preview shows it,
 * so what a marketer sees before shipping is what a lead gets: the same subject, From, HTML, text
 * and the RFC 8058 headers a mailbox reads.
 */
import type { Sequence, Step, StepVariant } from "../config/schema";
import { variantContent } from "./ab-test";
import type { Lead } from "../lead";
import { ledgerState, pointsMergeFields } from "../rewards/points";
import { renderTemplate } from "../templating";
import { unsubscribeHeaders, unsubscribeUrl } from "./email-links";
import type { NurtureDeps } from "./enroll";
import type { OutgoingEmail } from "../ports";

/** What a composed email needs of a lead: the fields its merge fields and its links read. */
export type ComposableLead = Pick<Lead, "id" | "email" | "profile" | "segment" | "stage">;

export interface ComposedEmail {
  from: string;
  to: string;
  subject: string;
  html: string;
  text: string;
  /** List-Unsubscribe and List-Unsubscribe-Post, as the mailer sends them. */
  headers: Record<string, string>;
  unsubscribeUrl: string;
}

export type ComposeDeps = Pick<NurtureDeps, "config" | "settings" | "signer">;

/** What the mailer is handed for a composed email: the email as composed, with its attribution tags. */
export function outgoingEmail(email: ComposedEmail, tags: Record<string, string>): OutgoingEmail {
  return { to: email.to, from: email.from, subject: email.subject, html: email.html, text: email.text, headers: email.headers, tags };
}

/** A customer's points balance as of `now`, for the merge fields; none for a lead who is not a customer. */
export async function customerBalance(deps: Pick<NurtureDeps, "config" | "points">, lead: Pick<ComposableLead, "id" | "stage">, now: Date): Promise<{ balance: number } | undefined> {
  if (lead.stage !== "customer" || !deps.config.rewards || !deps.points) return undefined;
  return { balance: ledgerState(await deps.points.listEntries(lead.id), now).balance };
}

/** Any marketing email from a template: merge fields from the lead, plus the unsubscribe link and headers. */
export function composeEmail(
  deps: ComposeDeps,
  lead: ComposableLead,
  content: { template: string; subject: string; vars?: Record<string, unknown> },
  now: Date,
): ComposedEmail | undefined {
  const template = deps.config.templates[content.template];
  if (!template) return undefined;
  const unsubscribe = unsubscribeUrl(deps.settings, deps.signer, lead.id, now);
  const rendered = renderTemplate(template, content.subject, {
    lead: { ...lead.profile, email: lead.email, id: lead.id, segment: lead.segment, stage: lead.stage },
    unsubscribe_url: unsubscribe,
    ...content.vars,
  });
  return {
    from: deps.settings.from,
    to: lead.email,
    ...rendered,
    headers: unsubscribeHeaders(deps.settings, unsubscribe),
    unsubscribeUrl: unsubscribe,
  };
}

/**
 * A step's email for a lead, in its A/B variant if it has one; undefined when the template is not
 * in the config. With a points balance (a customer's, when rewards.yaml is there) the step gets the
 * same `points` and `tier` merge fields as the tier-change email, so a retention email can say where
 * the customer stands.
 */
export function composeStepEmail(
  deps: ComposeDeps,
  lead: ComposableLead,
  sequence: Sequence,
  step: Step,
  now: Date,
  variant?: StepVariant,
  points?: { balance: number },
): ComposedEmail | undefined {
  const rewards = deps.config.rewards;
  return composeEmail(
    deps,
    lead,
    {
      ...variantContent(step, variant),
      vars: {
        sequence: { id: sequence.id, name: sequence.name },
        step: { id: step.id, ...(variant ? { variant: variant.id } : {}) },
        ...(rewards && points ? pointsMergeFields(rewards, points.balance) : {}),
      },
    },
    now,
  );
}

/** What a broadcast's email needs of it (its config entry, or the preview's reading of one). */
export interface ComposableBroadcast {
  id: string;
  name?: string | undefined;
  template: string;
  subject: string;
}

/** A broadcast's email for a lead; undefined when its template is not in the config. */
export function composeBroadcastEmail(deps: ComposeDeps, lead: ComposableLead, broadcast: ComposableBroadcast, now: Date): ComposedEmail | undefined {
  return composeEmail(
    deps,
    lead,
    { template: broadcast.template, subject: broadcast.subject, vars: { broadcast: { id: broadcast.id, name: broadcast.name } } },
    now,
  );
}
