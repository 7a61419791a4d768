/**
 * captureLead: a valid submission is stored exactly once (merged into the person's lead when the
 * address is known) before anything else happens, then announced as `lead.captured`. If the bus
 * is down the lead stays marked unpublished and the republisher announces it later, so a stored
 * lead is never left out of its journey.
 */
import type { LeadloopConfig } from "./config/schema";
import { UnknownFormError } from "./errors";
import { validateSubmission } from "./form-validation";
import { type Consent, type Lead, normaliseEmail, type Source, UTM_KEYS } from "./lead";
import type { Clock, EventPublisher, LeadStore } from "./ports";
import { assignSegment } from "./segmentation";

export interface SubmissionMeta {
  ip: string;
  userAgent: string;
  referrer?: string;
  landingPage?: string;
  /** UTM parameters from the page URL; values in the submitted fields take precedence. */
  utm?: Partial<Record<(typeof UTM_KEYS)[number], string>>;
}

export interface CaptureDeps {
  config: LeadloopConfig;
  leads: LeadStore;
  publisher: EventPublisher;
  clock: Clock;
  log?: { warn(message: string, extra?: Record<string, unknown>): void };
}

export type CaptureOutcome =
  | { kind: "stored"; lead: Lead; created: boolean; published: boolean }
  /** A bot filled the honeypot: it gets a normal-looking answer and nothing is stored. */
  | { kind: "bot" };

function sourceOf(formId: string, at: string, raw: Record<string, unknown>, meta: SubmissionMeta): Source {
  const source: Source = { formId, at };
  for (const key of UTM_KEYS) {
    const value = raw[key] ?? meta.utm?.[key];
    if (typeof value === "string" && value.trim() !== "") source[key] = value.trim().slice(0, 200);
  }
  const referrer = typeof raw.referrer === "string" && raw.referrer ? raw.referrer : meta.referrer;
  const landingPage = typeof raw.landingPage === "string" && raw.landingPage ? raw.landingPage : meta.landingPage;
  if (referrer) source.referrer = referrer.slice(0, 2000);
  if (landingPage) source.landingPage = landingPage.slice(0, 2000);
  return source;
}

/** The `lead.captured` detail: ids and routing facts only, no personal data. */
export function capturedEvent(lead: Lead, formId: string) {
  return {
    type: "lead.captured",
    detail: {
      leadId: lead.id,
      segment: lead.segment,
      stage: lead.stage,
      formId,
      source: {
        utm_source: lead.lastTouch.utm_source,
        utm_medium: lead.lastTouch.utm_medium,
        utm_campaign: lead.lastTouch.utm_campaign,
      },
    },
  };
}

export async function captureLead(
  deps: CaptureDeps,
  formId: string,
  raw: Record<string, unknown>,
  meta: SubmissionMeta,
): Promise<CaptureOutcome> {
  const form = Object.hasOwn(deps.config.forms, formId) ? deps.config.forms[formId] : undefined;
  if (!form) throw new UnknownFormError(formId);
  const submission = validateSubmission(form, raw);
  if (submission.isBot) return { kind: "bot" };

  const at = deps.clock.now().toISOString();
  const consent: Consent | undefined = form.consent && {
    formId,
    text: form.consent.text,
    given: submission.consentGiven,
    at,
    ip: meta.ip,
    userAgent: meta.userAgent.slice(0, 500),
  };
  const segments = deps.config.segments;
  const { lead, created } = await deps.leads.captureSubmission({
    formId,
    email: normaliseEmail(submission.email),
    profile: submission.profile,
    source: sourceOf(formId, at, raw, meta),
    ...(consent ? { consent } : {}),
    segmentOf: (profile) => assignSegment(profile, segments, form.segmentHint),
    initialStage: form.doubleOptIn ? "pending-confirmation" : "lead",
    at,
  });

  try {
    await deps.publisher.publish([capturedEvent(lead, formId)]);
  } catch (error) {
    // The lead is stored and still marked unpublished: the republisher will announce it.
    deps.log?.warn("lead.captured not published; left for the republisher", {
      leadId: lead.id,
      error: String(error),
    });
    return { kind: "stored", lead, created, published: false };
  }
  await deps.leads.markPublished([lead.id]).catch((error: unknown) => {
    // Harmless: the republisher may announce it again, and enrollment is idempotent.
    deps.log?.warn("could not mark lead published", { leadId: lead.id, error: String(error) });
  });
  return { kind: "stored", lead, created, published: true };
}

/**
 * Announces leads whose `lead.captured` never reached the bus (the bus was down, or the process
 * died between storing and publishing). Safe to run at any time and in parallel with captures.
 */
export async function republishPending(
  deps: Pick<CaptureDeps, "leads" | "publisher">,
  limit = 100,
): Promise<number> {
  const pending = await deps.leads.listUnpublished(limit);
  if (pending.length === 0) return 0;
  await deps.publisher.publish(pending.map((lead) => capturedEvent(lead, lead.lastTouch.formId)));
  await deps.leads.markPublished(pending.map((lead) => lead.id));
  return pending.length;
}
