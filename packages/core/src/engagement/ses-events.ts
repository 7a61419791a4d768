/**
 * handleSesEvent: what SES tells us about an email (configuration-set events on EventBridge,
 * source `aws.ses`) lands on the lead it was sent to. Opens and clicks become activities and move
 * the score; a permanent bounce or a complaint suppresses the address at once and ends every
 * running enrollment. Redelivering an event changes nothing: its activity is keyed by the event.
 */
import * as z from "../zod-mini";
import type { LeadloopConfig } from "../config/schema";
import type { NurtureStore, SuppressionReason } from "../ports";
import type { EventEnvelope } from "../routing/routing-rules";
import { type EngagementDeps, recordBehaviour } from "./record-behaviour";

/**
 * SES's names for its email events: `detail-type` on EventBridge and `detail.eventType` (the same
 * record SES publishes to SNS and Firehose).
 */
export const SES_EVENTS = {
  send: { detailType: "Email Sent", eventType: "Send" },
  delivery: { detailType: "Email Delivered", eventType: "Delivery" },
  open: { detailType: "Email Opened", eventType: "Open" },
  click: { detailType: "Email Clicked", eventType: "Click" },
  bounce: { detailType: "Email Bounced", eventType: "Bounce" },
  complaint: { detailType: "Email Complaint Received", eventType: "Complaint" },
} as const;

export type SesEventName = keyof typeof SES_EVENTS;

/**
 * The SES events leadloop reads, so the configuration set publishes only those: every event is an
 * EventBridge entry and a Lambda invocation per rule it matches. Opens and clicks score and drive
 * step conditions; bounces and complaints suppress. A delivery only records an `email.delivered`
 * activity, worth its cost only when a scoring rule gives points for it. SES's Send event (the
 * email was accepted) tells nothing the sweeper's own `email.sent` does not.
 */
export function sesEventsConsumed(config: Pick<LeadloopConfig, "scoring">): SesEventName[] {
  const scoresDelivery = config.scoring.behaviour.some((rule) => rule.on === "email.delivered");
  return ["open", "click", "bounce", "complaint", ...(scoresDelivery ? (["delivery"] as const) : [])];
}

/**
 * Emails to reps and staff (hand-offs, claim notices) say who they are for with this tag and carry
 * no `lead` tag: a rep opening a notification about a lead is not that lead's engagement.
 */
export const AUDIENCE_TAG = "audience";
export const STAFF_AUDIENCE = "staff";

/** Staff emails sent before the audience tag existed carried the lead's tag and one of these kinds. */
const LEGACY_STAFF_KINDS: ReadonlySet<string> = new Set(["handoff", "handoff-notice"]);

/** The tags of an email to staff: its kind (and team), never a lead. */
export function staffEmailTags(kind: string, team?: string): Record<string, string> {
  return { [AUDIENCE_TAG]: STAFF_AUDIENCE, kind, ...(team ? { team } : {}) };
}

/** Tags travel as arrays of strings: `{"lead": ["…"], "ses:configuration-set": ["…"]}`. */
const Tags = z.record(z.string(), z.array(z.string()));

const Recipient = z.looseObject({ emailAddress: z.string() });

/** The parts of SES's event record leadloop reads; everything else is kept but not checked. */
export const SesEventDetail = z.looseObject({
  eventType: z.string(),
  mail: z.looseObject({
    messageId: z.string().check(z.minLength(1)),
    timestamp: z.optional(z.string()),
    destination: z._default(z.array(z.string()), []),
    tags: z._default(Tags, {}),
  }),
  open: z.optional(z.looseObject({ timestamp: z.optional(z.string()), userAgent: z.optional(z.string()) })),
  click: z.optional(z.looseObject({ timestamp: z.optional(z.string()), link: z.string(), userAgent: z.optional(z.string()) })),
  delivery: z.optional(z.looseObject({ timestamp: z.optional(z.string()) })),
  bounce: z.optional(
    z.looseObject({
      bounceType: z.string(),
      bounceSubType: z.optional(z.string()),
      bouncedRecipients: z._default(z.array(Recipient), []),
      timestamp: z.optional(z.string()),
    }),
  ),
  complaint: z.optional(
    z.looseObject({
      complainedRecipients: z._default(z.array(Recipient), []),
      complaintFeedbackType: z.optional(z.string()),
      timestamp: z.optional(z.string()),
    }),
  ),
});
export type SesEventDetail = z.infer<typeof SesEventDetail>;

export interface SesEventDeps extends EngagementDeps {
  nurture: Pick<NurtureStore, "getMessage" | "getMessageByProviderId" | "markMessage" | "listEnrollments" | "endEnrollment">;
}

export type SesEventOutcome =
  | { kind: "ignored"; reason: string }
  | { kind: "recorded"; leadId: string; activity: string; duplicate: boolean; suppressed?: SuppressionReason; endedEnrollments?: number };

/** Where an unsubscribe link points; clicking it is not interest. */
const UNSUBSCRIBE_PATH = "/v1/unsubscribe";

export async function handleSesEvent(deps: SesEventDeps, event: EventEnvelope): Promise<SesEventOutcome> {
  const parsed = SesEventDetail.safeParse(event.detail);
  if (!parsed.success) return { kind: "ignored", reason: "not an SES email event" };
  const detail = parsed.data;
  const tag = (name: string) => detail.mail.tags[name]?.[0];
  if (tag(AUDIENCE_TAG) === STAFF_AUDIENCE || LEGACY_STAFF_KINDS.has(tag("kind") ?? "")) return { kind: "ignored", reason: `SES message ${detail.mail.messageId} went to staff, not to a lead` };

  // Our own tags name the lead and the message; an event without them (a tag lost on the way)
  // is found through the SES message id we stored at send time.
  let leadId = tag("lead");
  let messageId = tag("message");
  let message = leadId && messageId ? await deps.nurture.getMessage(leadId, messageId) : undefined;
  if (!message && (!leadId || !messageId)) {
    message = await deps.nurture.getMessageByProviderId(detail.mail.messageId);
    leadId ??= message?.leadId;
    messageId ??= message?.messageId;
  }
  if (!leadId) return { kind: "ignored", reason: `no lead for SES message ${detail.mail.messageId}` };

  const about = {
    sesMessageId: detail.mail.messageId,
    ...(messageId ? { messageId } : {}),
    ...((message?.sequenceId ?? tag("sequence")) ? { sequenceId: message?.sequenceId ?? tag("sequence") } : {}),
    ...((message?.stepId ?? tag("step")) ? { stepId: message?.stepId ?? tag("step") } : {}),
    ...((message?.formId ?? tag("form")) ? { formId: message?.formId ?? tag("form"), kind: message?.kind ?? tag("kind") } : {}),
  };
  const mark = async (field: "openedAt" | "clickedAt" | "bouncedAt" | "complainedAt", at: string) => {
    if (messageId && message) await deps.nurture.markMessage(leadId, messageId, field, at);
  };
  const record = async (type: string, at: string, data: Record<string, unknown>) => {
    const result = await recordBehaviour(deps, { leadId, activity: { type, at, data: { ...about, ...data } }, key: `ses:${event.id}` });
    return { kind: "recorded" as const, leadId, activity: type, duplicate: result.duplicate };
  };
  const when = (timestamp: string | undefined) => instant(timestamp) ?? instant(event.time) ?? deps.clock.now().toISOString();

  switch (detail.eventType) {
    case SES_EVENTS.open.eventType: {
      const at = when(detail.open?.timestamp);
      await mark("openedAt", at);
      return record("email.opened", at, {});
    }
    case SES_EVENTS.click.eventType: {
      const at = when(detail.click?.timestamp);
      const url = detail.click?.link ?? "";
      if (isUnsubscribeLink(url)) return record("email.clicked", at, { url, unsubscribeLink: true });
      await mark("clickedAt", at);
      return record("email.clicked", at, { url });
    }
    case SES_EVENTS.delivery.eventType:
      return record("email.delivered", when(detail.delivery?.timestamp), {});
    case SES_EVENTS.bounce.eventType: {
      const bounce = detail.bounce;
      const at = when(bounce?.timestamp);
      const permanent = bounce?.bounceType === "Permanent";
      const data = { bounceType: bounce?.bounceType ?? "Undetermined", ...(bounce?.bounceSubType ? { bounceSubType: bounce.bounceSubType } : {}) };
      if (!permanent) return record("email.bounced", at, data);
      await mark("bouncedAt", at);
      const ended = await stopMailing(deps, leadId, recipientsOf(bounce?.bouncedRecipients, detail.mail.destination), "bounced", at);
      return { ...(await record("email.bounced", at, data)), suppressed: "bounced", endedEnrollments: ended };
    }
    case SES_EVENTS.complaint.eventType: {
      const complaint = detail.complaint;
      const at = when(complaint?.timestamp);
      await mark("complainedAt", at);
      const ended = await stopMailing(deps, leadId, recipientsOf(complaint?.complainedRecipients, detail.mail.destination), "complained", at);
      const data = complaint?.complaintFeedbackType ? { feedbackType: complaint.complaintFeedbackType } : {};
      return { ...(await record("email.complained", at, data)), suppressed: "complained", endedEnrollments: ended };
    }
    default:
      return { kind: "ignored", reason: `SES ${detail.eventType} events are not tracked` };
  }
}

/**
 * Suppression first: from this moment no sweeper sends to the address, even one that already
 * claimed a step (it checks suppression before sending).
 */
async function stopMailing(deps: SesEventDeps, leadId: string, addresses: string[], reason: SuppressionReason, at: string): Promise<number> {
  const lead = await deps.leads.getLead(leadId);
  const emails = new Set(addresses.length > 0 ? addresses : lead ? [lead.email] : []);
  for (const email of emails) await deps.leads.suppress({ email, reason, at });
  let ended = 0;
  for (const enrollment of await deps.nurture.listEnrollments(leadId)) {
    if (enrollment.status !== "active") continue;
    await deps.nurture.endEnrollment(leadId, enrollment.sequenceId, reason, at);
    ended++;
  }
  return ended;
}

function recipientsOf(recipients: { emailAddress: string }[] | undefined, destination: string[]): string[] {
  const named = (recipients ?? []).map((r) => r.emailAddress).filter(Boolean);
  return named.length > 0 ? named : destination;
}

export function isUnsubscribeLink(url: string): boolean {
  try {
    return new URL(url).pathname.endsWith(UNSUBSCRIBE_PATH);
  } catch {
    return url.includes(UNSUBSCRIBE_PATH);
  }
}

/** SES times, normalised to the ISO form activities sort by; undefined when absent or not a time. */
function instant(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}
