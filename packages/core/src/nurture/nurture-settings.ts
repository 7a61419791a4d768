/**
 * Settings of the nurture engine that come from the deployment, not from marketers: where links
 * point, who sends, how fast. Parsed once at start-up by the entry point.
 */
import * as z from "../zod-mini";

export const NurtureSettings = z.object({
  /** Base URL of the public API, for unsubscribe and confirmation links. */
  publicUrl: z.pipe(z.url(), z.transform((u: string) => u.replace(/\/+$/, ""))),
  /** The verified sender, e.g. `Acme Analytics <hello@acme-analytics.example>`. */
  from: z.string().check(z.minLength(3)),
  /** Optional mailto for List-Unsubscribe, e.g. `unsubscribe@acme-analytics.example`. */
  unsubscribeMailto: z.optional(z.email()),
  /** Sends per second across one sweep (SES account rate). */
  maxSendsPerSecond: z._default(z.number().check(z.positive()), 14),
  /** Due items taken per shard per sweep. */
  batchSize: z._default(z.number().check(z.int(), z.positive()), 100),
  /** How long a sweeper may hold a step before another may recover it. */
  claimLeaseMs: z._default(z.number().check(z.int(), z.positive()), 5 * 60_000),
  /** How long an unconfirmed double-opt-in lead is kept. */
  confirmationDays: z._default(z.number().check(z.positive()), 7),
});
export type NurtureSettings = z.infer<typeof NurtureSettings>;
