/**
 * Verifies bearer tokens: HS256 with the shared secret, or RS256 (and other asymmetric
 * algorithms) against an OpenID Connect issuer's JWKS. A token is accepted only when its
 * algorithm matches the kind of key configured for it, so neither `none` nor an HS256 token
 * "signed" with a public key (algorithm confusion) ever reaches a verifier.
 */
import {
  type AuthSettings,
  maxTokenLifetime,
  type Principal,
  principalFromClaims,
  UnauthenticatedError,
} from "@leadloop/core";
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  decodeProtectedHeader,
  errors,
  type FetchImplementation,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  jwtVerify,
} from "jose";

export type Authenticate = (authorizationHeader: string | undefined) => Promise<Principal>;

export interface AuthenticatorOptions {
  /** A key set held in memory instead of fetched from `settings.jwksUrl` (tests, air-gapped set-ups). */
  jwks?: JSONWebKeySet;
  /** The fetch used for `settings.jwksUrl`, e.g. through a proxy. */
  fetchJwks?: FetchImplementation;
  clock?: () => Date;
}

const SHARED_SECRET_ALGORITHMS = ["HS256"];
const PUBLIC_KEY_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"];
/** Seconds of clock skew forgiven between the issuer and us. */
const CLOCK_TOLERANCE = 30;

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const LOCAL_HINT = "locally: npm run token -- --rep <your email>";

function tokenFrom(header: string | undefined): string {
  if (header === undefined || header.trim() === "") throw new UnauthenticatedError("missing");
  const match = /^(\S+)\s+(\S+)\s*$/.exec(header.trim());
  if (!match) throw new UnauthenticatedError("malformed");
  const [, scheme = "", token = ""] = match;
  if (scheme.toLowerCase() !== "bearer") {
    throw new UnauthenticatedError("malformed", `The Authorization header uses the "${scheme.slice(0, 20)}" scheme; send "Bearer <token>" instead.`);
  }
  if (!JWT_SHAPE.test(token)) {
    throw new UnauthenticatedError("malformed", "The bearer token is not a JWT: it should be three base64url parts separated by dots.");
  }
  return token;
}

function describe(value: unknown): string {
  if (value === undefined) return "none";
  return JSON.stringify(value).slice(0, 200);
}

/** jose's verdicts become UnauthenticatedError with a detail a developer can act on; anything else (a JWKS that cannot be fetched) is our fault and propagates. */
function refusal(error: unknown, expected: { issuer: string | undefined; audience: string }, kid: unknown): unknown {
  if (error instanceof errors.JWTExpired) {
    const exp = error.payload.exp;
    const when = typeof exp === "number" ? ` at ${new Date(exp * 1000).toISOString()}` : "";
    return new UnauthenticatedError("expired", `The token expired${when}; get a new one (${LOCAL_HINT}).`);
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const payload = error.payload;
    switch (error.claim) {
      case "iss":
        return new UnauthenticatedError(
          "issuer",
          `The token was issued by ${describe(payload.iss)}, but this API trusts only "${expected.issuer}" for this kind of token.`,
        );
      case "aud":
        return new UnauthenticatedError(
          "audience",
          `The token is for the audience ${describe(payload.aud)}, but this API is "${expected.audience}"; ask for a token issued for "${expected.audience}".`,
        );
      case "nbf":
        return new UnauthenticatedError("not-yet-valid");
      case "exp":
        return new UnauthenticatedError("malformed", "The token has no valid expiry (`exp` claim); this API accepts only tokens that expire.");
      case "sub":
        return new UnauthenticatedError("malformed", "The token has no subject (`sub` claim), so it does not say who is calling.");
      case "iat":
        return new UnauthenticatedError("malformed", "The token has no valid issue time (`iat` claim), so its lifetime cannot be checked.");
      default:
        return new UnauthenticatedError("malformed", `The token's "${error.claim}" claim is not valid: ${error.message}.`);
    }
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return new UnauthenticatedError("signature");
  if (error instanceof errors.JWKSNoMatchingKey) {
    return new UnauthenticatedError(
      "signature",
      `No key in the issuer's key set matches the token (kid ${describe(kid)}): it was signed by another issuer, or with a key that has been rotated out.`,
    );
  }
  if (error instanceof errors.JWKSMultipleMatchingKeys || error instanceof errors.JOSEAlgNotAllowed) {
    return new UnauthenticatedError("signature", "The token's key id and algorithm do not pick exactly one trusted key; add a `kid` header that names the signing key.");
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid || error instanceof errors.JOSENotSupported) {
    return new UnauthenticatedError("malformed", `The bearer token is not a valid JWT: ${error.message}.`);
  }
  return error;
}

export function createAuthenticator(settings: AuthSettings, options: AuthenticatorOptions = {}): Authenticate {
  const secret = settings.hs256Secret === undefined ? undefined : new TextEncoder().encode(settings.hs256Secret);
  let keySet: JWTVerifyGetKey | undefined;
  if (options.jwks) keySet = createLocalJWKSet(options.jwks);
  else if (settings.jwksUrl) {
    keySet = createRemoteJWKSet(new URL(settings.jwksUrl), options.fetchJwks ? { [customFetch]: options.fetchJwks } : {});
  }
  const clock = options.clock ?? (() => new Date());

  const common = (): JWTVerifyOptions => ({
    audience: settings.audience,
    clockTolerance: CLOCK_TOLERANCE,
    currentDate: clock(),
    requiredClaims: ["exp", "sub", "iss", "iat"],
  });

  return async (authorizationHeader) => {
    const token = tokenFrom(authorizationHeader);
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new UnauthenticatedError("malformed", "The bearer token's header is not valid base64url JSON; it is not a JWT.");
    }
    const alg = header.alg;

    let payload: JWTPayload;
    let issuer: string | undefined;
    try {
      if (alg !== undefined && SHARED_SECRET_ALGORITHMS.includes(alg)) {
        if (!secret) {
          throw new UnauthenticatedError(
            "signature",
            "This API accepts no HS256 tokens (no shared secret is configured); use a token from its OpenID Connect issuer.",
          );
        }
        issuer = settings.issuer;
        ({ payload } = await jwtVerify(token, secret, { ...common(), algorithms: SHARED_SECRET_ALGORITHMS, ...(issuer ? { issuer } : {}) }));
      } else if (alg !== undefined && PUBLIC_KEY_ALGORITHMS.includes(alg)) {
        if (!keySet) {
          throw new UnauthenticatedError("signature", `This API accepts only HS256 tokens (no JWKS is configured), but this one is signed with ${alg}.`);
        }
        issuer = settings.oidcIssuer;
        ({ payload } = await jwtVerify(token, keySet, { ...common(), algorithms: PUBLIC_KEY_ALGORITHMS, ...(issuer ? { issuer } : {}) }));
      } else {
        throw new UnauthenticatedError(
          "signature",
          `Tokens signed with ${describe(alg)} are not accepted; this API accepts ${[...(secret ? SHARED_SECRET_ALGORITHMS : []), ...(keySet ? PUBLIC_KEY_ALGORITHMS : [])].join(", ")}.`,
        );
      }
    } catch (error) {
      if (error instanceof UnauthenticatedError) throw error;
      throw refusal(error, { issuer, audience: settings.audience }, header.kid);
    }
    const principal = principalFromClaims(payload, settings.rolesClaim);
    // jose checks exp and iat each on its own; a token minted for ten years passes both.
    if (typeof payload.exp === "number" && typeof payload.iat === "number" && payload.exp - payload.iat > maxTokenLifetime(principal.roles)) {
      throw new UnauthenticatedError("lifetime");
    }
    return principal;
  };
}
