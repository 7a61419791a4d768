/**
 * Issues HS256 bearer tokens with the shared secret: the local `npm run token` CLI and the tests
 * use it; in AWS, tokens for people come from the OpenID Connect issuer instead.
 */
import { randomUUID } from "node:crypto";
import { DEFAULT_HS256_ISSUER, durationMs, emailClaim, maxTokenLifetime, type Role } from "@leadloop/core";
import { SignJWT } from "jose";

export interface TokenRequest {
  email: string;
  roles: Role[];
  name?: string;
  /** `8h`, `30m`, `7d`, `90s` or an ISO 8601 duration such as `PT8H`; default 8 hours. */
  ttl?: string;
  /** Default "leadloop", the API's default audience. */
  audience?: string;
  issuer?: string;
  /** The claim the API reads roles from (`AuthSettings.rolesClaim`). */
  rolesClaim?: string;
  /** When the token is issued; tests pass a time to issue already expired tokens. */
  now?: Date;
}

export class InvalidTtlError extends Error {
  override readonly name = "InvalidTtlError";
  constructor(readonly ttl: string) {
    super(`"${ttl}" is not a token lifetime; write e.g. 8h, 30m, 7d, 90s or PT8H.`);
  }
}

export class InvalidTokenRequestError extends Error {
  override readonly name = "InvalidTokenRequestError";
}

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** The lifetime in whole seconds; throws InvalidTtlError for anything not positive. */
export function ttlSeconds(ttl: string): number {
  const short = /^(\d+)\s*([smhd])$/.exec(ttl.trim());
  let seconds: number;
  if (short) seconds = Number(short[1]) * UNIT_SECONDS[short[2] as keyof typeof UNIT_SECONDS];
  else if (/^P/i.test(ttl.trim())) {
    try {
      seconds = Math.floor(durationMs(ttl.trim().toUpperCase()) / 1000);
    } catch {
      throw new InvalidTtlError(ttl);
    }
  } else throw new InvalidTtlError(ttl);
  if (!Number.isSafeInteger(seconds) || seconds <= 0) throw new InvalidTtlError(ttl);
  return seconds;
}

export async function signHs256Token(request: TokenRequest, secret: string): Promise<string> {
  const email = emailClaim(request.email);
  if (!email) throw new InvalidTokenRequestError(`"${request.email}" is not an email address.`);
  if (secret.length < 32) throw new InvalidTokenRequestError("The HS256 secret must be at least 32 characters.");
  const issuedAt = Math.floor((request.now ?? new Date()).getTime() / 1000);
  const lifetime = ttlSeconds(request.ttl ?? "8h");
  const max = maxTokenLifetime(request.roles);
  if (lifetime > max) {
    throw new InvalidTokenRequestError(`A token with the role(s) ${request.roles.join(", ") || "none"} may live at most ${max / 86_400} days; ask for a shorter --ttl.`);
  }
  // We issue it for the address we were given: the signer vouches for it, as an issuer that verified it would.
  const claims: Record<string, unknown> = { email, email_verified: true, [request.rolesClaim ?? "leadloop:roles"]: request.roles };
  if (request.name) claims.name = request.name;
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(email)
    .setAudience(request.audience ?? "leadloop")
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + lifetime)
    .setIssuer(request.issuer ?? DEFAULT_HS256_ISSUER)
    .setJti(randomUUID());
  return jwt.sign(new TextEncoder().encode(secret));
}
