/**
 * What an operator decides per stage, read from the environment of `sst deploy` (so nothing about
 * a particular account is committed): the verified sender, the SES identity it belongs to, the
 * public URL when a custom domain fronts the API, where alarms go, and which OpenID Connect issuer
 * the API trusts for bearer tokens. Parsed once, failing with the variable's name.
 */
import * as z from "zod";

export const StageSettings = z.object({
  /** The From of every email, e.g. `Acme <hello@acme.example>`; its identity must be verified in SES. */
  LEADLOOP_SENDER: z.string().min(3),
  /**
   * The SES domain identity the stack creates (Easy DKIM, custom MAIL FROM); defaults to the
   * sender's domain. A domain, not an address: DKIM and MAIL FROM are per domain.
   */
  LEADLOOP_SES_IDENTITY: z.string().min(3).optional(),
  /** The custom MAIL FROM domain (bounces return there, SPF aligns there); default `mail.<identity>`. */
  LEADLOOP_MAIL_FROM_DOMAIN: z.string().min(3).optional(),
  /** A custom domain in front of the API; defaults to the API Gateway URL. */
  LEADLOOP_PUBLIC_URL: z.url().optional(),
  LEADLOOP_UNSUBSCRIBE_MAILTO: z.email().optional(),
  /** An address subscribed to the alarm topic. */
  LEADLOOP_ALARM_EMAIL: z.email().optional(),
  /** API Gateway stage throttling for the whole API. */
  LEADLOOP_API_RATE: z.coerce.number().positive().default(50),
  LEADLOOP_API_BURST: z.coerce.number().int().positive().default(100),
  /**
   * Bearer tokens from an OpenID Connect issuer (e.g. a Cognito user pool,
   * https://cognito-idp.<region>.amazonaws.com/<pool id>), besides or instead of the HS256 secret
   * AUTH_HS256_SECRET. Not secrets: they reach the API function as plain variables.
   */
  LEADLOOP_AUTH_OIDC_ISSUER: z.url().optional(),
  /** The issuer's key set; defaults to `<issuer>/.well-known/jwks.json` (where Cognito serves it). */
  LEADLOOP_AUTH_JWKS_URL: z.url().optional(),
  /** The claim holding leadloop roles, e.g. `cognito:groups`; default `leadloop:roles`. */
  LEADLOOP_AUTH_ROLES_CLAIM: z.string().min(1).optional(),
  /** The `aud` tokens must carry (a Cognito app client id); default `leadloop`. */
  LEADLOOP_AUTH_AUDIENCE: z.string().min(1).optional(),
  /** The `iss` HS256 tokens must carry; unchecked when unset. */
  LEADLOOP_AUTH_ISSUER: z.string().min(1).optional(),
});
export type StageSettings = z.infer<typeof StageSettings> & { sesIdentity: string; mailFromDomain: string; senderAddress: string };

const DOMAIN = /^(?=.{3,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

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
  if (!DOMAIN.test(sesIdentity)) {
    throw new StageSettingsError(
      `LEADLOOP_SES_IDENTITY "${sesIdentity}" is not a domain: the stack verifies a domain identity (Easy DKIM, MAIL FROM); write the sender's domain, e.g. acme.example.`,
    );
  }
  if (address.split("@")[1] !== sesIdentity && !address.endsWith(`.${sesIdentity}`)) {
    throw new StageSettingsError(`LEADLOOP_SENDER "${address}" is not at LEADLOOP_SES_IDENTITY "${sesIdentity}": SES sends only from a verified domain; use an address @${sesIdentity}.`);
  }
  const mailFromDomain = result.data.LEADLOOP_MAIL_FROM_DOMAIN ?? `mail.${sesIdentity}`;
  if (!DOMAIN.test(mailFromDomain) || !mailFromDomain.endsWith(`.${sesIdentity}`)) {
    throw new StageSettingsError(`LEADLOOP_MAIL_FROM_DOMAIN "${mailFromDomain}" must be a subdomain of LEADLOOP_SES_IDENTITY "${sesIdentity}", e.g. mail.${sesIdentity}.`);
  }
  return { ...result.data, sesIdentity, mailFromDomain, senderAddress: address };
}

/** Where the issuer's signing keys are: the configured URL, else the issuer's well-known path. */
export function jwksUrl(settings: Pick<StageSettings, "LEADLOOP_AUTH_JWKS_URL" | "LEADLOOP_AUTH_OIDC_ISSUER">): string | undefined {
  if (settings.LEADLOOP_AUTH_JWKS_URL) return settings.LEADLOOP_AUTH_JWKS_URL;
  if (!settings.LEADLOOP_AUTH_OIDC_ISSUER) return undefined;
  return `${settings.LEADLOOP_AUTH_OIDC_ISSUER.replace(/\/+$/, "")}/.well-known/jwks.json`;
}

/**
 * The API function's bearer-token settings that are not secret, under the names the runtime reads
 * (authSettingsFromEnv). The HS256 secret is never among them: it is the SST secret
 * AUTH_HS256_SECRET.
 */
export function authEnvironment(settings: StageSettings): Record<string, string> {
  const keys = jwksUrl(settings);
  const out: Record<string, string> = {};
  if (keys) out.LEADLOOP_AUTH_JWKS_URL = keys;
  if (settings.LEADLOOP_AUTH_OIDC_ISSUER) out.LEADLOOP_AUTH_OIDC_ISSUER = settings.LEADLOOP_AUTH_OIDC_ISSUER.replace(/\/+$/, "");
  if (settings.LEADLOOP_AUTH_ROLES_CLAIM) out.LEADLOOP_AUTH_ROLES_CLAIM = settings.LEADLOOP_AUTH_ROLES_CLAIM;
  if (settings.LEADLOOP_AUTH_AUDIENCE) out.LEADLOOP_AUTH_AUDIENCE = settings.LEADLOOP_AUTH_AUDIENCE;
  if (settings.LEADLOOP_AUTH_ISSUER) out.LEADLOOP_AUTH_ISSUER = settings.LEADLOOP_AUTH_ISSUER;
  return out;
}
