/**
 * How the bearer-token functions (functions/staff-api.ts, functions/reports-api.ts) verify tokens,
 * built once per container from the runtime's bound secrets. Apart from runtime.ts, so the public
 * API function, which verifies no token, carries neither the verifier nor the settings' schema.
 */
import { type Authenticate, createAuthenticator } from "@leadloop/api/auth/bearer";
import { type AuthSettings, authSettingsFromEnv } from "@leadloop/core/auth-claims";
import type { Runtime } from "./runtime";
import { AUTH_SECRET_NAME, NO_AUTH_SECRET } from "./secret-names";

/**
 * How the API verifies bearer tokens on this stage: the HS256 secret (the SST secret
 * AUTH_HS256_SECRET, never a plain variable: a LEADLOOP_AUTH_SECRET in the environment is ignored)
 * and the OpenID Connect settings the stacks put in the environment (LEADLOOP_AUTH_JWKS_URL,
 * LEADLOOP_AUTH_OIDC_ISSUER, LEADLOOP_AUTH_ROLES_CLAIM, …). Undefined when neither is configured:
 * the public routes still work and the token routes refuse every caller.
 */
export function runtimeAuthSettings(source: Record<string, string | undefined>, hs256Secret: string | undefined): AuthSettings | undefined {
  const secret = hs256Secret === undefined || hs256Secret.trim() === "" || hs256Secret.trim() === NO_AUTH_SECRET ? undefined : hs256Secret;
  const env: Record<string, string | undefined> = { ...source, LEADLOOP_AUTH_SECRET: secret };
  if (!env.LEADLOOP_AUTH_SECRET && !env.LEADLOOP_AUTH_JWKS_URL) return undefined;
  return authSettingsFromEnv(env);
}

let authenticator: { authenticate: Authenticate | undefined } | undefined;

/** The API's bearer-token verifier, built once per container (its JWKS cache lives as long). */
export function useAuthenticator(runtime: Runtime, source: Record<string, string | undefined> = process.env): Authenticate | undefined {
  if (!authenticator) {
    const settings = runtimeAuthSettings(source, runtime.bound(AUTH_SECRET_NAME));
    authenticator = { authenticate: settings ? createAuthenticator(settings) : undefined };
    if (!settings) {
      runtime.log.warn("bearer tokens are not configured: the sales, report, customer and admin routes refuse every caller", {
        fix: `npx sst secrets set ${AUTH_SECRET_NAME} "$(openssl rand -base64 32)", or set LEADLOOP_AUTH_OIDC_ISSUER when you deploy`,
      });
    }
  }
  return authenticator.authenticate;
}
