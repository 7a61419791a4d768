/**
 * The activity types a lead's timeline holds and scoring.yaml's behaviour rules may score, as plain
 * data: config/schema.ts makes its zod enum of them, and the scorer reads them here, so the public
 * API's scoring path does not load the whole config schema to know them.
 */
export const ACTIVITY_TYPES = [
  "form.submitted",
  "email.sent",
  "email.delivered",
  "email.opened",
  "email.clicked",
  "email.bounced",
  "email.complained",
  "email.unsubscribed",
  "web.page_view",
  "web.download",
  "web.webinar_attended",
] as const;
