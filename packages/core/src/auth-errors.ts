/**
 * The errors of authentication (401, 403, an unknown API key), apart from the claims and settings
 * in auth-claims.ts: the public API maps them to problems (packages/api/src/problem.ts) but
 * verifies no token, so its function carries these classes and not the schemas beside them.
 */
import type { Principal, Role } from "./auth-claims";

export type UnauthenticatedReason = "missing" | "malformed" | "expired" | "not-yet-valid" | "signature" | "issuer" | "audience" | "lifetime" | "revoked";

const UNAUTHENTICATED_DETAIL: Record<UnauthenticatedReason, string> = {
  missing:
    "This route needs a bearer token: send the header `Authorization: Bearer <token>`. On the local stack, `npm run token -- --rep <your email>` prints one.",
  malformed: "The Authorization header must be `Bearer <token>`, where the token is a JWT (three base64url parts separated by dots).",
  expired: "The token has expired; get a new one.",
  "not-yet-valid": "The token is not valid yet (its `nbf` lies in the future); check the issuer's clock.",
  signature: "The token's signature does not verify: it was altered, or signed with a key this API does not trust.",
  issuer: "The token was issued by someone this API does not trust.",
  audience: "The token was issued for another audience (its `aud` claim) than this API.",
  revoked: "This API key was revoked; ask an admin for a new one.",
  lifetime: "The token lives longer than this API allows (7 days for people, 90 for integrations); get one with a shorter lifetime.",
};

/** The caller did not prove who they are: 401. */
export class UnauthenticatedError extends Error {
  override readonly name = "UnauthenticatedError";
  constructor(
    readonly reason: UnauthenticatedReason,
    detail: string = UNAUTHENTICATED_DETAIL[reason],
  ) {
    super(detail);
  }
}

/** The caller is known but lacks the role: 403. */
export class ForbiddenError extends Error {
  override readonly name = "ForbiddenError";
  constructor(
    readonly required: readonly Role[],
    readonly principal: Principal,
  ) {
    const has = principal.roles.length > 0 ? `the role(s) ${principal.roles.join(", ")}` : "no leadloop role";
    super(
      `This needs the role ${required.join(" or ")}, but the token for ${principal.email ?? principal.subject} carries ${has}. ` +
        `Ask an admin for a token with one of those roles (locally: npm run token -- --rep <email> --role ${required[0] ?? "rep"}).`,
    );
  }
}

/** An API key id that names no key. */
export class UnknownApiKeyError extends Error {
  override readonly name = "UnknownApiKeyError";
  constructor(readonly keyId: string) {
    super(`There is no API key ${keyId}; list them with GET /v1/admin/api-keys (npm run apikey -- list).`);
  }
}
