/**
 * The SST secrets and parameters leadloop binds to its functions, by name: the stacks create and
 * bind them, the runtime reads them from SST Config. Kept apart from runtime.ts so the stacks can
 * name them without loading the functions' adapters.
 */

/** The API's HS256 bearer-token secret. */
export const AUTH_SECRET_NAME = "AUTH_HS256_SECRET";

/** AUTH_HS256_SECRET's value on a stage that accepts only its OpenID Connect issuer's tokens. */
export const NO_AUTH_SECRET = "none";

/** Every secret and parameter leadloop binds itself; a team's Slack variable may not reuse one. */
export const LEADLOOP_SECRET_NAMES = ["TOKEN_SIGNING_KEY", "LEAD_ID_KEY", AUTH_SECRET_NAME, "SENDER"] as const;
export type LeadloopSecretName = (typeof LEADLOOP_SECRET_NAMES)[number];
