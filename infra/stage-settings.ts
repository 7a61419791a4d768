/**
 * What an operator decides per stage, read from the environment of `sst deploy` (so nothing about
 * a particular account is committed): the verified sender, the SES identity it belongs to, the
 * public URL when a custom domain fronts the API, and where alarms go. Parsed once, failing with
 * the variable's name.
 */
import { z } from "zod";

export const StageSettings = z.object({
  /** The From of every email, e.g. `Acme <hello@acme.example>`; its identity must be verified in SES. */
  LEADLOOP_SENDER: z.string().min(3),
  /** The SES identity (domain or address) the sender belongs to; defaults to the sender's domain. */
  LEADLOOP_SES_IDENTITY: z.string().min(3).optional(),
  /** A custom domain in front of the API; defaults to the API Gateway URL. */
  LEADLOOP_PUBLIC_URL: z.url().optional(),
  LEADLOOP_UNSUBSCRIBE_MAILTO: z.email().optional(),
  /** An address subscribed to the alarm topic. */
  LEADLOOP_ALARM_EMAIL: z.email().optional(),
  /** API Gateway stage throttling for the whole API. */
  LEADLOOP_API_RATE: z.coerce.number().positive().default(50),
  LEADLOOP_API_BURST: z.coerce.number().int().positive().default(100),
});
export type StageSettings = z.infer<typeof StageSettings> & { sesIdentity: string; senderAddress: string };

/** Stages whose data outlives a mistake: the table is retained and deletion-protected. */
export function isProductionStage(stage: string): boolean {
  return stage === "prod" || stage === "production";
}

export class StageSettingsError extends Error {
  override readonly name = "StageSettingsError";
}

/** `Acme <hello@acme.example>` → `hello@acme.example`. */
export function senderAddress(sender: string): string {
  const match = /<([^>]+)>\s*$/.exec(sender);
  return (match?.[1] ?? sender).trim();
}

export function parseStageSettings(source: Record<string, string | undefined>): StageSettings {
  const result = StageSettings.safeParse(source);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  - ${String(i.path[0])}: ${source[String(i.path[0])] === undefined ? "is not set" : i.message}`);
    throw new StageSettingsError(`Stage settings are not usable (set them in the environment of sst deploy):\n${lines.join("\n")}`);
  }
  const address = senderAddress(result.data.LEADLOOP_SENDER);
  const domain = address.split("@")[1];
  const sesIdentity = result.data.LEADLOOP_SES_IDENTITY ?? domain;
  if (!sesIdentity) throw new StageSettingsError(`LEADLOOP_SENDER "${result.data.LEADLOOP_SENDER}" has no address with a domain.`);
  return { ...result.data, sesIdentity, senderAddress: address };
}
