/**
 * Open and click rates per email: a copy change (a new subject, a better call to action) shows in
 * a forecast only if that email can be given its own rates. A step's own entry wins over its
 * template's, and either over the simulation's global rates.
 */
import * as z from "zod";

const Rate = z.number().min(0).max(1);

export const EmailRate = z
  .strictObject({
    open: Rate.describe("share of delivered copies of this email opened"),
    click: Rate.describe("share of delivered copies clicked (a click implies an open)"),
  })
  .refine((r) => r.click <= r.open, { message: "click cannot exceed open: every click is also an open", path: ["click"] });
export type EmailRate = z.infer<typeof EmailRate>;

/** The `--rates` file: `templates: { smb-pricing: { open: 0.5, click: 0.1 } }` and/or `steps: { smb-nurture/pricing: … }`. */
export const EmailRatesFile = z.strictObject({
  templates: z.record(z.string().regex(/^[a-z0-9-]+$/, "must be a template name such as smb-pricing"), EmailRate).default({}),
  steps: z
    .record(z.string().regex(/^[a-z0-9-]+\/[a-z0-9-]+$/, "must be <sequence id>/<step id>, e.g. smb-nurture/pricing"), EmailRate)
    .default({}),
});
export type EmailRatesFile = z.infer<typeof EmailRatesFile>;

export function emailRateFor(
  rates: EmailRatesFile | undefined,
  email: { sequenceId: string; stepId: string; template: string },
  fallback: { openRate: number; clickRate: number },
): { openRate: number; clickRate: number } {
  const own = rates?.steps[`${email.sequenceId}/${email.stepId}`] ?? rates?.templates[email.template];
  return own ? { openRate: own.open, clickRate: own.click } : fallback;
}
