/**
 * captureLead: a valid submission is stored exactly once (merged into the person's lead when the
 * address is known) before it is acknowledged, and a stored lead is never left out of its journey.
 *
 * A new address costs one round trip: the lead's id is derived from the address, so
 * `lead.captured` is published while the lead is stored in one conditional write (with its first
 * submission and, for a public submission, the address's rate window: a full window stores
 * nothing and throws WindowFullError). That write also puts the lead on the republisher's list,
 * due CAPTURE_GRACE_MS later (capture-grace.ts), and the scorer, the one consumer of every
 * `lead.captured`, clears the entry when the event reaches it, in the write that saves the lead's
 * first score (an index entry put and removed: no more items, nothing sequential here). So whatever happens
 * to this process after the put (the bus refuses, PutEvents hangs until the function's timeout,
 * a crash), a stored lead is announced: by this event, else by the republisher once the entry is
 * due. A normal capture is never republished; a rare duplicate is harmless (events are
 * at-least-once, enrollment is idempotent). If the put fails while the event went out, the client
 * gets an error and retries; enrollment treats a fresh event for a lead not stored yet as "try
 * again later", and a stale one as nothing to do. A known address (or a lost race) merges, its
 * submission listed the same way in the merge's write, then publishes the merged lead.
 *
 * A merge changes only what lead-merge.ts allows: a submission that does not come from the lead's
 * own browser (its lead token) or an admin import only fills blanks. A keyed submission already
 * merged (an import row imported again) writes nothing and announces nothing.
 */
import type { CountedWindow } from "./client-limits";
import type { LeadloopConfig } from "./config/schema";
import { sweepDueIndex } from "./due-index";
import { leadloopEvent } from "./events";
import { UnknownFormError } from "./errors";
import { validateSubmission } from "./form-validation";
import { type Consent, type Lead, normaliseEmail, type Profile, type Source, UTM_KEYS } from "./lead";
import type { Clock, EventPublisher, LeadStore } from "./ports";
import { captureAnnounceBy } from "./capture-grace";
import { assignSegment } from "./segmentation";

export interface SubmissionMeta {
  ip: string;
  userAgent: string;
  referrer?: string;
  landingPage?: string;
  /** UTM parameters from the page URL; values in the submitted fields take precedence. */
  utm?: Partial<Record<(typeof UTM_KEYS)[number], string>>;
  /** The lead the submitter's verified lead token names: proof it is that lead's own browser. */
  provenLeadId?: string;
  /** An admin import: trusted as the lead's own word. */
  trusted?: boolean;
  /** A stable key for this submission (an import row); a repeat of it changes nothing. */
  key?: string;
  /** The email address's window, counted in the write that stores the submission (WindowFullError when full). */
  window?: CountedWindow;
}

export interface CaptureDeps {
  config: LeadloopConfig;
  leads: LeadStore;
  publisher: EventPublisher;
  clock: Clock;
  log?: { warn(message: string, extra?: Record<string, unknown>): void };
}

export type CaptureOutcome =
  | { kind: "stored"; lead: Lead; created: boolean; published: boolean; repeated?: boolean }
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
export function capturedEvent(lead: Pick<Lead, "id" | "segment" | "stage" | "lastTouch">, formId: string) {
  return leadloopEvent("lead.captured", {
    leadId: lead.id,
    segment: lead.segment,
    stage: lead.stage,
    formId,
    submittedAt: lead.lastTouch.at,
    source: {
      ...(lead.lastTouch.utm_source !== undefined ? { utm_source: lead.lastTouch.utm_source } : {}),
      ...(lead.lastTouch.utm_medium !== undefined ? { utm_medium: lead.lastTouch.utm_medium } : {}),
      ...(lead.lastTouch.utm_campaign !== undefined ? { utm_campaign: lead.lastTouch.utm_campaign } : {}),
    },
  });
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
  const email = normaliseEmail(submission.email);
  const source = sourceOf(formId, at, raw, meta);
  const segments = deps.config.segments;
  const segmentOf = (profile: Profile) => assignSegment(profile, segments, form.segmentHint);
  const initialStage = form.doubleOptIn ? "pending-confirmation" : "lead";

  // Announce the lead as this submission would create it; the store writes the same segment.
  const assumedNew = {
    id: deps.leads.leadIdFor(email),
    segment: segmentOf({ ...submission.profile, email, stage: initialStage }),
    stage: initialStage,
    lastTouch: source,
  } as const;
  const owner = meta.trusted === true || (meta.provenLeadId !== undefined && meta.provenLeadId === assumedNew.id);
  // The announcement and the put go out together; the put lists the lead until the event is seen.
  // The put is sent first: it is the longer round trip (a transaction), so the announcement's own
  // preparation (on a cold start, the bus client's first request) runs while the put is on its way.
  const storing = deps.leads.captureSubmission({
    formId,
    email,
    profile: submission.profile,
    source,
    ...(consent ? { consent } : {}),
    segmentOf,
    initialStage,
    at,
    published: false,
    announceBy: captureAnnounceBy(at),
    trust: owner ? "owner" : "unproven",
    ...(meta.key !== undefined ? { key: meta.key } : {}),
    ...(meta.window !== undefined ? { window: meta.window } : {}),
  });
  const [announced, stored] = await Promise.all([tryPublish(deps, capturedEvent(assumedNew, formId)), storing]);
  const { lead, created, repeated } = stored;
  // Refused by the bus or not, the lead is listed: the republisher announces it after the grace.
  if (created) return { kind: "stored", lead, created, published: announced };
  if (repeated) return { kind: "stored", lead, created, published: lead.published, repeated };

  // A known address: the merged lead may sit in another segment than the one announced. Its
  // entry (written with the merge) is cleared by the scorer when this event reaches it.
  const published = await tryPublish(deps, capturedEvent(lead, formId));
  return { kind: "stored", lead, created, published };
}

async function tryPublish(deps: CaptureDeps, event: ReturnType<typeof capturedEvent>): Promise<boolean> {
  try {
    await deps.publisher.publish([event]);
    return true;
  } catch (error) {
    // Not fatal: the submission is listed, and the republisher announces the lead after the grace.
    deps.log?.warn("lead.captured not published; left for the republisher", {
      leadId: event.detail.leadId,
      error: String(error),
    });
    return false;
  }
}

/**
 * Announces leads whose `lead.captured` was not seen by its consumer within the grace (the bus
 * refused it, the process died between storing and publishing, PutEvents hung). Safe to run at
 * any time and in parallel with captures.
 */
export async function republishPending(
  deps: Pick<CaptureDeps, "leads" | "publisher" | "clock">,
  options: number | { limit?: number; deadline?: number } = {},
): Promise<number> {
  const { limit = 100, deadline } = typeof options === "number" ? { limit: options } : options;
  const now = deps.clock.now().toISOString();
  let announced = 0;
  // The store lists the unpublished index over all its shards at once, due first, up to now.
  await sweepDueIndex(
    { shards: 1, listDue: (_shard, upTo, batch) => deps.leads.listUnpublished(batch, upTo) },
    async (lead: Lead) => {
      await deps.publisher.publish([capturedEvent(lead, lead.lastTouch.formId)]);
      // Only entries due by now: a submission merged since the listing waits for its own event.
      await deps.leads.markPublished([lead.id], { dueBy: now });
      announced++;
    },
    { upTo: now, batch: limit, ...(deadline !== undefined ? { deadline } : {}) },
  );
  return announced;
}
