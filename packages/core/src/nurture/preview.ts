/**
 * Preview and test-send: every email the config can send (sequence steps, form follow-ups,
 * broadcasts), composed by the same function the sender uses, for a sample lead built from a
 * form's fields or for a real lead. A test send goes through the same mailer, marked as a test,
 * and is never the lead's: no message record, no activity, no event, so no engagement or report
 * ever counts it, and its unsubscribe link cannot unsubscribe the lead it was rendered for.
 */
import * as z from "../zod-mini";
import type { Form, LeadloopConfig } from "../config/schema";
import { staffEmailTags } from "../engagement/ses-events";
import { NotFoundError, ValidationError } from "../errors";
import type { Lead } from "../lead";
import { stageAtCapture } from "../lifecycle";
import type { Clock, Mailer } from "../ports";
import { assignSegment } from "../segmentation";
import { variantContent } from "./ab-test";
import { type ComposableLead, type ComposeDeps, type ComposedEmail, composeBroadcastEmail, composeEmail, composeStepEmail } from "./compose-email";

export type PreviewKind = "step" | "follow-up" | "broadcast";

export interface PreviewItem {
  /** `step:<sequence>/<step>`, `follow-up:<form>` or `broadcast:<id>`. */
  id: string;
  kind: PreviewKind;
  /** What a marketer calls it: "Enterprise nurture · welcome". */
  label: string;
  template: string;
  subject: string;
}

/**
 * The unsubscribe link of a previewed or test email is signed for this id, which no lead has:
 * clicking it (a marketer in the preview, a colleague in the test inbox) unsubscribes nobody.
 */
export const PREVIEW_LEAD_ID = "preview";

/** Subject prefix and header that mark a test send, for the recipient and for any filter. */
export const TEST_SUBJECT_PREFIX = "[Test] ";
export const TEST_HEADER = "X-Leadloop-Test";

// Follow-ups and broadcasts are optional parts of the config: read them through these shapes, so
// the preview lists them whenever the loaded config carries them.
const FollowUp = z.object({ template: z.string(), subject: z.string() });
const Broadcast = z.object({ id: z.string(), name: z.optional(z.string()), template: z.string(), subject: z.string() });

function followUps(config: LeadloopConfig): { formId: string; form: Form; followUp: z.infer<typeof FollowUp> }[] {
  return Object.entries(config.forms).flatMap(([formId, form]) => {
    const parsed = FollowUp.safeParse((form as { followUp?: unknown }).followUp);
    return parsed.success ? [{ formId, form, followUp: parsed.data }] : [];
  });
}

function broadcasts(config: LeadloopConfig): z.infer<typeof Broadcast>[] {
  const list = (config as { broadcasts?: unknown }).broadcasts;
  const entries = Array.isArray(list) ? list : list && typeof list === "object" ? Object.values(list) : [];
  return entries.flatMap((b) => {
    const parsed = Broadcast.safeParse(b);
    return parsed.success ? [parsed.data] : [];
  });
}

/** Separates a step from its A/B variant in a preview item's id: `step:<sequence>/<step>@<variant>`. */
const VARIANT_MARK = "@";

/** Every email the config can send, in the order a marketer reads the files. */
export function listPreviewItems(config: LeadloopConfig): PreviewItem[] {
  const items: PreviewItem[] = [];
  for (const sequence of config.sequences) {
    for (const step of sequence.steps) {
      items.push({ id: `step:${sequence.id}/${step.id}`, kind: "step", label: `${sequence.name} · ${step.id}`, template: step.template, subject: step.subject });
      // An A/B test shows each variant as the leads assigned to it get it.
      for (const variant of step.variants ?? []) {
        items.push({
          id: `step:${sequence.id}/${step.id}${VARIANT_MARK}${variant.id}`,
          kind: "step",
          label: `${sequence.name} · ${step.id} · variant ${variant.id}`,
          ...variantContent(step, variant),
        });
      }
    }
  }
  for (const { formId, form, followUp } of followUps(config)) {
    items.push({ id: `follow-up:${formId}`, kind: "follow-up", label: `${form.name} · follow-up`, ...followUp });
  }
  for (const b of broadcasts(config)) {
    items.push({ id: `broadcast:${b.id}`, kind: "broadcast", label: `Broadcast · ${b.name ?? b.id}`, template: b.template, subject: b.subject });
  }
  return items;
}

/** Plausible values for a form's fields, so a sample lead fills every merge field a template may use. */
const SAMPLE_VALUES: Record<string, unknown> = {
  email: "sample.lead@example.com",
  firstName: "Alex",
  lastName: "Sample",
  company: "Example Industries",
  title: "Head of Analytics",
  companySize: 250,
  country: "US",
  timezone: "America/New_York",
  phone: "+1 555 0100",
  website: "https://www.example.com",
};

/** A lead as the form would have captured it: every field of the form with a sample value, filed into its segment. */
export function sampleLead(config: LeadloopConfig, formId?: string): ComposableLead {
  const id = formId ?? Object.keys(config.forms)[0];
  const form = id === undefined ? undefined : config.forms[id];
  if (!form) throw new ValidationError([{ field: "form", message: `there is no form "${formId}" in config/forms.yaml` }]);
  const profile: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(form.fields)) {
    if (field.type === "hidden" || name === form.honeypot) continue;
    profile[name] = SAMPLE_VALUES[name] ?? sampleFor(field.type, field.options, field.min);
  }
  const email = String(profile.email ?? SAMPLE_VALUES.email);
  delete profile.email;
  const segment = assignSegment({ ...profile, email }, config.segments, form.segmentHint);
  return { id: PREVIEW_LEAD_ID, email, profile: profile as Lead["profile"], segment, stage: stageAtCapture(false) };
}

function sampleFor(type: string, options: string[] | undefined, min: number | undefined): unknown {
  switch (type) {
    case "number":
      return min ?? 1;
    case "select":
      return options?.[0] ?? "";
    case "checkbox":
      return true;
    case "country":
      return "US";
    case "timezone":
      return "America/New_York";
    case "url":
      return "https://www.example.com";
    case "tel":
      return "+1 555 0100";
    default:
      return "Sample";
  }
}

/** Composes one item for a lead (sample or real), with its unsubscribe link signed for nobody. */
export function previewEmail(
  deps: ComposeDeps,
  itemId: string,
  lead: ComposableLead,
  now: Date,
  points?: { balance: number },
): { item: PreviewItem; email: ComposedEmail } {
  const item = listPreviewItems(deps.config).find((i) => i.id === itemId);
  if (!item) throw new NotFoundError(`There is no email "${itemId}" to preview. GET /v1/preview/emails lists the ones the config can send.`);
  const shown = { ...lead, id: PREVIEW_LEAD_ID };
  let email: ComposedEmail | undefined;
  if (item.kind === "step") {
    const [sequenceId, stepAndVariant = ""] = item.id.slice("step:".length).split("/");
    const [stepId, variantId] = stepAndVariant.split(VARIANT_MARK);
    const sequence = deps.config.sequences.find((s) => s.id === sequenceId);
    const step = sequence?.steps.find((s) => s.id === stepId);
    const variant = variantId === undefined ? undefined : step?.variants?.find((v) => v.id === variantId);
    if (sequence && step) email = composeStepEmail(deps, shown, sequence, step, now, variant, points);
  } else if (item.kind === "broadcast") {
    const broadcast = broadcasts(deps.config).find((b) => b.id === item.id.slice("broadcast:".length));
    if (broadcast) email = composeBroadcastEmail(deps, shown, broadcast, now);
  } else {
    const formId = item.id.slice("follow-up:".length);
    // The variables the follow-up sender gives its template (follow-up.ts), the form's name included.
    email = composeEmail(deps, shown, { template: item.template, subject: item.subject, vars: { form: { id: formId, name: deps.config.forms[formId]?.name } } }, now);
  }
  if (!email) {
    throw new NotFoundError(`The email "${itemId}" names the template "${item.template}", which is not under config/templates; npm run config:check shows where.`);
  }
  return { item, email };
}

export const TestSendRequest = z.strictObject({
  item: z.string().check(z.minLength(1, "name the email to send, e.g. step:enterprise-nurture/welcome")),
  to: z.email("must be an email address such as you@example.com"),
  leadId: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
  form: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
});
export type TestSendRequest = z.infer<typeof TestSendRequest>;

/** Sends a previewed email to any address through the mailer, marked as a test and attributed to no lead. */
export async function sendTestEmail(
  deps: ComposeDeps & { mailer: Mailer; clock: Clock },
  itemId: string,
  lead: ComposableLead,
  to: string,
): Promise<{ item: PreviewItem; email: ComposedEmail; messageId: string }> {
  const { item, email } = previewEmail(deps, itemId, lead, deps.clock.now());
  const sent: ComposedEmail = { ...email, to, subject: `${TEST_SUBJECT_PREFIX}${email.subject}`, headers: { ...email.headers, [TEST_HEADER]: "true" } };
  // Tagged as staff mail with no lead: SES events about a test email are nobody's engagement.
  const { messageId } = await deps.mailer.send({ to, from: sent.from, subject: sent.subject, html: sent.html, text: sent.text, headers: sent.headers, tags: staffEmailTags("test") });
  return { item, email: sent, messageId };
}
