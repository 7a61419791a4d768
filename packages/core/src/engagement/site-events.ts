/**
 * recordSiteEvent: the site script reports what a known lead does on the website (page views,
 * downloads, webinar attendance), naming the lead only by the signed token it got at capture.
 * A forged, altered or expired token is refused before anything is read or stored.
 */
import * as z from "../zod-mini";
import { type FieldIssue, NotFoundError, ValidationError } from "../errors";
import type { TokenSigner } from "../tokens";
import { PublishError, StoreUnavailableError } from "../ports";
import { retried } from "../retried";
import { type EngagementDeps, type RescoreResult, rescoreLead } from "./record-behaviour";

export const SiteEventType = z.enum(["page_view", "download", "webinar_attended"]);
export type SiteEventType = z.infer<typeof SiteEventType>;

const httpUrl = z
  .string()
  .check(
    z.maxLength(2000),
    z.refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), "must be an absolute http(s) URL"),
  );

export const SiteEvent = z.strictObject({
  token: z.string().check(z.minLength(1, "is required: the lead token returned by the form submission")),
  type: SiteEventType,
  url: z.optional(httpUrl),
  title: z.optional(z.string().check(z.maxLength(300))),
});
export type SiteEvent = z.infer<typeof SiteEvent>;

/** The activity each site event becomes (scoring.yaml's `on:`). */
export const SITE_ACTIVITY: Record<SiteEventType, string> = {
  page_view: "web.page_view",
  download: "web.download",
  webinar_attended: "web.webinar_attended",
};

export interface SiteEventDeps extends EngagementDeps {
  signer: TokenSigner;
}

/** Checks a site event's body, naming every field that is wrong. */
export function parseSiteEvent(body: unknown): SiteEvent {
  const result = SiteEvent.safeParse(body);
  if (result.success) return result.data;
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ValidationError([{ field: "body", message: 'must be a JSON object such as {"token":"…","type":"page_view","url":"https://…"}' }]);
  }
  const issues: FieldIssue[] = result.error.issues.flatMap((issue) => {
    // One issue per unknown key: a client maps each `field` back to what it sent.
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({ field: key, message: "is not a site event field (send token, type, url, title)" }));
    }
    const field = String(issue.path[0] ?? "body");
    const message =
      field === "type"
        ? `must be one of ${SiteEventType.options.join(", ")}`
        : given(body, field) === undefined
          ? "is required"
          : issue.message;
    return { field, message };
  });
  throw new ValidationError(issues);
}

function given(body: unknown, field: string): unknown {
  return typeof body === "object" && body !== null ? (body as Record<string, unknown>)[field] : undefined;
}

export async function recordSiteEvent(deps: SiteEventDeps, body: unknown): Promise<RescoreResult> {
  const event = parseSiteEvent(body);
  const now = deps.clock.now();
  // Throws InvalidTokenError (401) for a forged, altered, expired or misused token.
  const { sub: leadId } = deps.signer.verify(event.token, "lead", now);
  const lead = await deps.leads.getLead(leadId);
  if (!lead) throw new NotFoundError("The lead this token names no longer exists.");
  const activity = {
    type: SITE_ACTIVITY[event.type],
    at: now.toISOString(),
    data: { ...(event.url ? { url: event.url } : {}), ...(event.title ? { title: event.title } : {}) },
  };
  await deps.leads.appendBehaviour(leadId, activity);
  // The activity is stored: from here a page retrying would count it twice, and no bus redelivers
  // this call, so a passing failure of the scoring (and its announcement) is retried here.
  return retried(() => rescoreLead(deps, leadId, { activity: { type: activity.type, at: activity.at } }), {
    tries: RESCORE_ATTEMPTS,
    retryOn: (error) => error instanceof PublishError || error instanceof StoreUnavailableError,
  });
}

const RESCORE_ATTEMPTS = 4;
