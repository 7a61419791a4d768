/**
 * The deployment's settings, as the stacks hand them to every function: plain environment
 * variables for names and URLs, SST Config for the secrets and the stage's sender. Parsed once per
 * container; a missing or malformed value stops the container at start-up with a message that
 * names the variable, instead of failing on the first lead.
 */
import { MIN_LEAD_ID_KEY_LENGTH } from "@leadloop/core/lead-id";
import * as z from "@leadloop/core/zod-mini";

const optionalNumber = z.optional(z.coerce.number().check(z.positive()));

export const Environment = z.object({
  TABLE_NAME: z.string().check(z.minLength(1)),
  EVENT_BUS_NAME: z.string().check(z.minLength(1)),
  SES_CONFIGURATION_SET: z.string().check(z.minLength(1)),
  /** Base URL of the public API, for unsubscribe and confirmation links. */
  PUBLIC_URL: z.url(),
  /** The stage's verified sender (SST Config.Parameter SENDER). */
  SENDER: z.string().check(z.minLength(3)),
  /** The token-signing key (SST Config.Secret TOKEN_SIGNING_KEY). */
  TOKEN_SIGNING_KEY: z.string().check(z.minLength(16)),
  /**
   * The key lead ids are derived from emails with (SST Config.Secret LEAD_ID_KEY), apart from the
   * token-signing key. Never rotate it: every known address would get a new lead id.
   */
  LEAD_ID_KEY: z.string().check(z.minLength(MIN_LEAD_ID_KEY_LENGTH)),
  UNSUBSCRIBE_MAILTO: z.optional(z.email()),
  MAX_SENDS_PER_SECOND: optionalNumber,
  /** The marketers' config, snapshotted at synth time and shipped beside the bundle. */
  CONFIG_FILE: z._default(z.string().check(z.minLength(1)), "leadloop-config.json"),
  RATE_LIMIT_BURST: optionalNumber,
  RATE_LIMIT_PER_SECOND: optionalNumber,
});
export type Environment = z.infer<typeof Environment>;

/** Names the variables that are missing or wrong, so the operator knows what to set where. */
export class EnvironmentError extends Error {
  override readonly name = "EnvironmentError";
  constructor(readonly problems: string[]) {
    super(`The function's environment is not usable:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

const WHERE: Partial<Record<keyof Environment, string>> = {
  TOKEN_SIGNING_KEY: "an SST secret: npx sst secrets set TOKEN_SIGNING_KEY <value> --stage <stage>",
  LEAD_ID_KEY: "an SST secret, set once per stage and never changed: npx sst secrets set LEAD_ID_KEY \"$(openssl rand -base64 32)\" --stage <stage>",
  SENDER: "the stage parameter: set LEADLOOP_SENDER when you deploy",
};

export function parseEnvironment(source: Record<string, string | undefined>): Environment {
  const result = Environment.safeParse(source);
  if (result.success) return result.data;
  throw new EnvironmentError(
    result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? "?") as keyof Environment;
      const value = source[name];
      const what = value === undefined || value === "" ? "is not set" : `is not valid (${issue.message})`;
      const hint = WHERE[name];
      return `${name} ${what}${hint ? `; it is ${hint}` : ""}`;
    }),
  );
}
