/**
 * Signed tokens for links and scripts that act for one lead (behaviour events, unsubscribe,
 * opt-in confirmation). HMAC-SHA256 over a compact payload: a token names one lead and one
 * purpose, expires, and cannot be altered into another lead's without the key.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { InvalidTokenError } from "./errors";

export type TokenPurpose = "lead" | "unsubscribe" | "confirm";

export interface TokenClaims {
  /** The lead id. */
  sub: string;
  purpose: TokenPurpose;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

const b64 = (buf: Buffer | string) => Buffer.from(buf).toString("base64url");

export class TokenSigner {
  readonly #key: Buffer;

  constructor(key: string) {
    if (key.length < 16) throw new Error("The token-signing key must be at least 16 characters long.");
    this.#key = Buffer.from(key, "utf8");
  }

  sign(claims: TokenClaims): string {
    const payload = b64(JSON.stringify([claims.sub, claims.purpose, claims.exp]));
    return `${payload}.${this.#mac(payload)}`;
  }

  /** Returns the claims of a token made by `sign` for `purpose`, or throws InvalidTokenError. */
  verify(token: string, purpose: TokenPurpose, now: Date): TokenClaims {
    const [payload, mac, extra] = token.split(".");
    if (!payload || !mac || extra !== undefined || payload.length > 512) throw new InvalidTokenError("malformed");
    const expected = Buffer.from(this.#mac(payload));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw new InvalidTokenError("signature");
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    } catch {
      throw new InvalidTokenError("malformed");
    }
    if (!Array.isArray(parsed) || parsed.length !== 3) throw new InvalidTokenError("malformed");
    const [sub, tokenPurpose, exp] = parsed as [unknown, unknown, unknown];
    if (typeof sub !== "string" || typeof exp !== "number") throw new InvalidTokenError("malformed");
    if (tokenPurpose !== purpose) throw new InvalidTokenError("purpose");
    if (exp * 1000 < now.getTime()) throw new InvalidTokenError("expired");
    return { sub, purpose, exp };
  }

  #mac(payload: string): string {
    return createHmac("sha256", this.#key).update(payload).digest("base64url");
  }
}

/** Expiry `days` after `now`, as token claims want it. */
export function expiresIn(now: Date, days: number): number {
  return Math.floor(now.getTime() / 1000) + Math.round(days * 86_400);
}
