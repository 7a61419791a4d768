/**
 * Who is calling the API and what they may do. Sales, report, admin and integration routes take
 * a bearer token; the adapter that verifies it (packages/api/src/auth) turns its claims into a
 * Principal here, so the rules for roles live in one pure place.
 */
import * as z from "./zod-mini";
import { ForbiddenError, UnauthenticatedError } from "./auth-errors";
import { normaliseEmail } from "./lead";

/** `integration` is a shop or CRM posting purchases, not a person. */
export const Role = z.enum(["rep", "marketing", "admin", "integration"]);
export type Role = z.infer<typeof Role>;
export const ROLES: readonly Role[] = Role.options;

export interface Principal {
  /** The token's `sub`. */
  subject: string;
  /** Normalised; a rep's email is how teams.yaml knows them. */
  email?: string;
  roles: Role[];
  name?: string;
}

/** The `iss` of the HS256 tokens `npm run token` issues, unless the stage sets another. */
export const DEFAULT_HS256_ISSUER = "leadloop";

/**
 * The longest a token may live from `iat` to `exp`: a token cannot be revoked, so a leaked one
 * must die soon. A person's token a week; a shop's or CRM's (the integration role alone) a quarter.
 */
export const MAX_TOKEN_LIFETIME_SECONDS = { person: 7 * 86_400, integration: 90 * 86_400 } as const;

/** The lifetime a token with these roles may have. */
export function maxTokenLifetime(roles: readonly Role[]): number {
  return roles.length > 0 && roles.every((r) => r === "integration") ? MAX_TOKEN_LIFETIME_SECONDS.integration : MAX_TOKEN_LIFETIME_SECONDS.person;
}

/**
 * Passes when the principal holds any of the roles. Roles do not imply one another (an admin is
 * not a rep): a route that serves several roles names each of them.
 */
export function requireRole(principal: Principal, ...anyOf: Role[]): void {
  if (anyOf.length === 0) return;
  if (!anyOf.some((role) => principal.roles.includes(role))) throw new ForbiddenError(anyOf, principal);
}

/**
 * Roles from a claim that is an array (`cognito:groups`) or a space- or comma-separated string
 * (`scope`-like). Names are compared case-insensitively; values that are not leadloop roles (other
 * groups in the same user pool) are ignored rather than refused.
 */
export function rolesFromClaim(value: unknown): Role[] {
  const raw = Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : typeof value === "string" ? value.split(/[\s,]+/) : [];
  const roles = new Set<Role>();
  for (const name of raw) {
    const parsed = Role.safeParse(name.trim().toLowerCase());
    if (parsed.success) roles.add(parsed.data);
  }
  return [...roles];
}

const EmailShape = z.email();

/** The normalised address when the value is one, else undefined. */
export function emailClaim(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const email = normaliseEmail(value);
  return EmailShape.safeParse(email).success ? email : undefined;
}

/**
 * The principal a verified token's claims describe. The `email` claim counts only when the issuer
 * says it verified it (`email_verified`): many issuers let a user type any address into their
 * profile, and a rep is found in teams.yaml by address. Otherwise the subject names the caller,
 * and is their email when it is an address.
 */
export function principalFromClaims(claims: Record<string, unknown>, rolesClaim: string): Principal {
  const subject = claims.sub;
  if (typeof subject !== "string" || subject.length === 0) {
    throw new UnauthenticatedError("malformed", "The token has no subject (`sub` claim), so it does not say who is calling.");
  }
  const principal: Principal = { subject, roles: rolesFromClaim(claims[rolesClaim]) };
  const verified = claims.email_verified === true || claims.email_verified === "true";
  const email = (verified ? emailClaim(claims.email) : undefined) ?? emailClaim(subject);
  if (email) principal.email = email;
  if (typeof claims.name === "string" && claims.name.length > 0) principal.name = claims.name;
  return principal;
}

/**
 * How the API verifies bearer tokens: a shared HS256 secret (the local stack, simple deployments),
 * an OpenID Connect issuer's JWKS for RS256 tokens (e.g. Cognito), or both.
 */
export const AuthSettings = z
  .strictObject({
    hs256Secret: z.optional(z.string().check(z.minLength(32, "must be at least 32 characters; generate one with `openssl rand -base64 32`"))),
    /** Expected `iss` of HS256 tokens; every token must carry one. */
    issuer: z._default(z.string().check(z.minLength(1)), DEFAULT_HS256_ISSUER),
    audience: z._default(z.string().check(z.minLength(1)), "leadloop"),
    jwksUrl: z.optional(z.url()),
    /** Expected `iss` of JWKS-verified tokens, e.g. https://cognito-idp.<region>.amazonaws.com/<pool id>. */
    oidcIssuer: z.optional(z.string().check(z.minLength(1))),
    /** For Cognito user-pool groups, `cognito:groups`. */
    rolesClaim: z._default(z.string().check(z.minLength(1)), "leadloop:roles"),
  })
  .check(
    z.refine((s) => s.hs256Secret !== undefined || s.jwksUrl !== undefined, {
      message: "set hs256Secret (a shared secret), jwksUrl (your OpenID Connect issuer's JWKS), or both",
      path: ["hs256Secret"],
    }),
    z.refine((s) => s.jwksUrl === undefined || s.oidcIssuer !== undefined, {
      message: "tokens verified against a JWKS must name their issuer: set it to the issuer's URL (the `iss` of its tokens)",
      path: ["oidcIssuer"],
    }),
  );
export type AuthSettings = z.infer<typeof AuthSettings>;

export class AuthSettingsError extends Error {
  override readonly name = "AuthSettingsError";
}

const ENV_NAMES = {
  hs256Secret: "LEADLOOP_AUTH_SECRET",
  issuer: "LEADLOOP_AUTH_ISSUER",
  audience: "LEADLOOP_AUTH_AUDIENCE",
  jwksUrl: "LEADLOOP_AUTH_JWKS_URL",
  oidcIssuer: "LEADLOOP_AUTH_OIDC_ISSUER",
  rolesClaim: "LEADLOOP_AUTH_ROLES_CLAIM",
} as const satisfies Record<keyof AuthSettings, string>;

/** Auth settings from environment variables, parsed once at start-up; errors name the variable. */
export function authSettingsFromEnv(env: Record<string, string | undefined>): AuthSettings {
  const input: Record<string, string> = {};
  for (const [key, name] of Object.entries(ENV_NAMES)) {
    const value = env[name];
    if (value !== undefined && value !== "") input[key] = value;
  }
  const result = AuthSettings.safeParse(input);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const key = issue.path[0] as keyof typeof ENV_NAMES | undefined;
    const name = key ? ENV_NAMES[key] : "auth settings";
    return key === "hs256Secret" && issue.code === "custom" ? `set ${ENV_NAMES.hs256Secret} or ${ENV_NAMES.jwksUrl} (or both)` : `${name}: ${issue.message}`;
  });
  throw new AuthSettingsError(`Bearer-token settings are not valid: ${lines.join("; ")}.`);
}
