/**
 * captureLead: a valid submission is stored exactly once (merged into the person's lead when the
 * address is known) before it is acknowledged, and a stored lead is never left out of its journey.
 *
 * A new address costs one write: the lead's id is derived from the address, so `lead.captured`
 * is published while the lead is stored, already marked published, in one conditional write (with
 * its first submission and, for a public submission, the address's rate window: a full window
 * stores nothing and throws WindowFullError). If
 * the bus refused the event, a second write puts the lead in the unpublished index and the
 * republisher announces it later (if that write fails too, the capture fails and the client's
 * retry announces the lead). If the put fails while the event went out, the client gets an error
 * and retries; enrollment treats a fresh event for a lead not stored yet as "try again later", and
 * a stale one as nothing to do. A known address (or a lost race) merges, then publishes as before.
 * Why the put assumes the bus takes the event rather than storing every lead unannounced and
 * clearing the mark afterwards: the clearing would be a second sequential write on every capture.
 * What this leaves open is a process killed after the put landed and before the bus answered: the
 * lead is marked published but was never announced, and only the client's retry (it got no 202;
 * a retry merges and announces) brings it to the bus.
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
import { retried } from "./retried";
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
  // The announcement and the put go out together; the put assumes the bus takes the event. The
  // put is sent first: it is the longer round trip (a transaction), so the announcement's own
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
    published: true,
    trust: owner ? "owner" : "unproven",
    ...(meta.key !== undefined ? { key: meta.key } : {}),
    ...(meta.window !== undefined ? { window: meta.window } : {}),
  });
  const [announced, stored] = await Promise.all([tryPublish(deps, capturedEvent(assumedNew, formId)), storing]);
  const { lead, created, repeated } = stored;
  if (created && !announced) {
    // The bus refused it: the lead goes into the unpublished index for the republisher, a few
    // tries, as a lead stored and answered with a 5xx is one the client may never send again.
    // Should every try fail, the capture fails and a retry by the client announces the lead.
    await retried(() => deps.leads.markUnpublished(lead.id, at), { tries: MARK_UNPUBLISHED_TRIES, jitterMs: 25 });
    return { kind: "stored", lead: { ...lead, published: false }, created, published: false };
  }
  if (created) return { kind: "stored", lead, created, published: announced };
  if (repeated) return { kind: "stored", lead, created, published: lead.published, repeated };

  // A known address: the merged lead may sit in another segment than the one announced.
  const published = await tryPublish(deps, capturedEvent(lead, formId));
  if (published && !lead.published) {
    await deps.leads.markPublished([lead.id]).catch((error: unknown) => {
      // Harmless: the republisher may announce it again, and enrollment is idempotent.
      deps.log?.warn("could not mark lead published", { leadId: lead.id, error: String(error) });
    });
  }
  return { kind: "stored", lead, created, published };
}

const MARK_UNPUBLISHED_TRIES = 5;

async function tryPublish(deps: CaptureDeps, event: ReturnType<typeof capturedEvent>): Promise<boolean> {
  try {
    await deps.publisher.publish([event]);
    return true;
  } catch (error) {
    // Not fatal: a new lead is stored unpublished and the republisher announces it later.
    deps.log?.warn("lead.captured not published; left for the republisher", {
      leadId: event.detail.leadId,
      error: String(error),
    });
    return false;
  }
}

/**
 * Announces leads whose `lead.captured` never reached the bus (the bus was down, or the process
 * died between storing and publishing). Safe to run at any time and in parallel with captures.
 */
export async function republishPending(
  deps: Pick<CaptureDeps, "leads" | "publisher">,
  options: number | { limit?: number; deadline?: number } = {},
): Promise<number> {
  const { limit = 100, deadline } = typeof options === "number" ? { limit: options } : options;
  let announced = 0;
  // The store lists the unpublished index over all its shards at once, oldest first; it has no
  // due time (every entry is due), hence the open upper bound.
  await sweepDueIndex(
    { shards: 1, listDue: (_shard, _upTo, batch) => deps.leads.listUnpublished(batch) },
    async (lead: Lead) => {
      await deps.publisher.publish([capturedEvent(lead, lead.lastTouch.formId)]);
      await deps.leads.markPublished([lead.id]);
      announced++;
    },
    { upTo: "", batch: limit, ...(deadline !== undefined ? { deadline } : {}) },
  );
  return announced;
}
