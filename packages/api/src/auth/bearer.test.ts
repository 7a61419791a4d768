import { AuthSettings, type Principal, UnauthenticatedError, type UnauthenticatedReason } from "@leadloop/core";
import { exportJWK, exportSPKI, generateKeyPair, type JSONWebKeySet, type JWTPayload, SignJWT, UnsecuredJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { type Authenticate, createAuthenticator } from "./bearer";
import { InvalidTtlError, signHs256Token, ttlSeconds } from "./issue";

const SECRET = "a-local-secret-that-is-long-enough-0123456789";
const OTHER_SECRET = "another-secret-nobody-here-trusts-0123456789";
const T0 = new Date("2030-03-01T09:00:00Z");
const ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TEST";
const JWKS_URL = `${ISSUER}/.well-known/jwks.json`;

async function refusal(authenticate: Authenticate, header: string | undefined): Promise<UnauthenticatedError> {
  try {
    const principal = await authenticate(header);
    throw new Error(`expected a refusal, got ${JSON.stringify(principal)}`);
  } catch (error) {
    if (error instanceof UnauthenticatedError) return error;
    throw error;
  }
}

async function expectRefused(authenticate: Authenticate, header: string | undefined, reason: UnauthenticatedReason, detail?: RegExp) {
  const error = await refusal(authenticate, header);
  expect(error.reason).toBe(reason);
  if (detail) expect(error.message).toMatch(detail);
}

type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];

const bearer = (token: string) => `Bearer ${token}`;

function hs256Raw(claims: JWTPayload, secret = SECRET, now = T0): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setIssuedAt(Math.floor(now.getTime() / 1000))
    .setIssuer("leadloop")
    .sign(new TextEncoder().encode(secret));
}

describe("HS256 tokens", () => {
  const settings = AuthSettings.parse({ hs256Secret: SECRET });
  const at = (date: Date) => createAuthenticator(settings, { clock: () => date });
  const authenticate = at(new Date(T0.getTime() + 60_000));

  it("accepts a token from signHs256Token and reads who it is for", async () => {
    const token = await signHs256Token({ email: "Ada@Acme.Example", roles: ["rep"], name: "Ada Lovelace", now: T0 }, SECRET);
    const principal = await authenticate(bearer(token));
    expect(principal).toEqual<Principal>({ subject: "ada@acme.example", email: "ada@acme.example", name: "Ada Lovelace", roles: ["rep"] });
  });

  it("accepts the scheme in any case and surrounding spaces", async () => {
    const token = await signHs256Token({ email: "ada@acme.example", roles: ["rep"], now: T0 }, SECRET);
    expect((await authenticate(`  bearer   ${token} `)).email).toBe("ada@acme.example");
  });

  it("enforces expiry, forgiving 30 seconds of clock skew", async () => {
    const token = await signHs256Token({ email: "ada@acme.example", roles: ["rep"], ttl: "1h", now: T0 }, SECRET);
    const expiry = T0.getTime() + 3_600_000;
    expect((await at(new Date(expiry + 20_000))(bearer(token))).email).toBe("ada@acme.example");
    await expectRefused(at(new Date(expiry + 40_000)), bearer(token), "expired", /expired at 2030-03-01T10:00:00\.000Z/);
  });

  it("refuses a token that is not valid yet", async () => {
    const early = await hs256Raw({ sub: "ada@acme.example", aud: "leadloop", exp: Math.floor(T0.getTime() / 1000) + 3600, nbf: Math.floor(T0.getTime() / 1000) + 600 });
    await expectRefused(at(T0), bearer(early), "not-yet-valid");
    expect((await at(new Date(T0.getTime() + 600_000))(bearer(early))).email).toBe("ada@acme.example");
  });

  it("refuses a token without an issuer, or living longer than its roles allow", async () => {
    const iat = Math.floor(T0.getTime() / 1000);
    const noIssuer = await new SignJWT({ sub: "ada@acme.example", aud: "leadloop", exp: iat + 3600 })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuedAt(iat)
      .sign(new TextEncoder().encode(SECRET));
    await expectRefused(authenticate, bearer(noIssuer), "issuer");
    const month = await hs256Raw({ sub: "ada@acme.example", aud: "leadloop", "leadloop:roles": ["rep"], exp: iat + 30 * 86_400 });
    await expectRefused(authenticate, bearer(month), "lifetime");
    const shop = await hs256Raw({ sub: "shop@acme.example", aud: "leadloop", "leadloop:roles": ["integration"], exp: iat + 30 * 86_400 });
    expect((await authenticate(bearer(shop))).roles).toEqual(["integration"]);
    await expect(signHs256Token({ email: "ada@acme.example", roles: ["rep"], ttl: "30d" }, SECRET)).rejects.toThrow(/at most 7 days/);
  });

  it("refuses a token signed with another secret", async () => {
    const token = await signHs256Token({ email: "ada@acme.example", roles: ["rep"], now: T0 }, OTHER_SECRET);
    await expectRefused(authenticate, bearer(token), "signature", /signature does not verify/);
  });

  it("refuses a token whose payload was altered to add a role", async () => {
    const token = await signHs256Token({ email: "ada@acme.example", roles: ["rep"], now: T0 }, SECRET);
    const [head, body, signature] = token.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as Record<string, unknown>;
    claims["leadloop:roles"] = ["rep", "admin"];
    const forged = [head, Buffer.from(JSON.stringify(claims)).toString("base64url"), signature].join(".");
    await expectRefused(authenticate, bearer(forged), "signature");
  });

  it("refuses a token for another audience, naming both", async () => {
    const token = await signHs256Token({ email: "ada@acme.example", roles: ["rep"], audience: "crm", now: T0 }, SECRET);
    await expectRefused(authenticate, bearer(token), "audience", /audience "crm", but this API is "leadloop"/);
  });

  it("checks the issuer when one is configured", async () => {
    const strict = createAuthenticator(AuthSettings.parse({ hs256Secret: SECRET, issuer: "leadloop-local" }), { clock: () => T0 });
    const right = await signHs256Token({ email: "ada@acme.example", roles: ["rep"], issuer: "leadloop-local", now: T0 }, SECRET);
    const wrong = await signHs256Token({ email: "ada@acme.example", roles: ["rep"], issuer: "someone-else", now: T0 }, SECRET);
    expect((await strict(bearer(right))).email).toBe("ada@acme.example");
    await expectRefused(strict, bearer(wrong), "issuer", /issued by "someone-else", but this API trusts only "leadloop-local"/);
  });

  it("says a token is missing when there is no header or an empty one", async () => {
    await expectRefused(authenticate, undefined, "missing", /Authorization: Bearer <token>/);
    await expectRefused(authenticate, "   ", "missing");
  });

  it("says what is malformed", async () => {
    await expectRefused(authenticate, "Basic YWRhOnNlY3JldA==", "malformed", /uses the "Basic" scheme/);
    await expectRefused(authenticate, "Bearer", "malformed");
    await expectRefused(authenticate, "Bearer not-a-jwt", "malformed", /three base64url parts/);
    await expectRefused(authenticate, "Bearer abc.def.ghi", "malformed", /header is not valid/);
    await expectRefused(authenticate, "Bearer a.b.c d", "malformed");
  });

  it("refuses an unsigned (alg none) token", async () => {
    const token = new UnsecuredJWT({ "leadloop:roles": ["admin"] }).setSubject("ada@acme.example").setAudience("leadloop").setExpirationTime("1h").encode();
    await expectRefused(authenticate, bearer(token), "signature", /"none" are not accepted/);
  });

  it("refuses tokens without an expiry or without a subject", async () => {
    await expectRefused(authenticate, bearer(await hs256Raw({ sub: "ada@acme.example", aud: "leadloop" })), "malformed", /no valid expiry/);
    await expectRefused(authenticate, bearer(await hs256Raw({ aud: "leadloop", exp: Math.floor(T0.getTime() / 1000) + 600 })), "malformed", /no subject/);
  });

  it("reads roles from a space- or comma-separated string claim", async () => {
    const token = await hs256Raw({ sub: "mia@acme.example", aud: "leadloop", exp: Math.floor(T0.getTime() / 1000) + 600, "leadloop:roles": "marketing, admin bogus" });
    expect((await authenticate(bearer(token))).roles).toEqual(["marketing", "admin"]);
  });

  it("takes the email from the email claim when sub is an opaque id", async () => {
    const token = await hs256Raw({ sub: "u-123", email: "Mia@Acme.Example", email_verified: true, aud: "leadloop", exp: Math.floor(T0.getTime() / 1000) + 600 });
    expect(await authenticate(bearer(token))).toEqual({ subject: "u-123", email: "mia@acme.example", roles: [] });
  });
});

describe("RS256 tokens from an OpenID Connect issuer's JWKS", () => {
  let privateKey: SigningKey;
  let strangerKey: SigningKey;
  let publicPem: string;
  let jwks: JSONWebKeySet;
  const settings = AuthSettings.parse({ jwksUrl: JWKS_URL, oidcIssuer: ISSUER, audience: "client-123", rolesClaim: "cognito:groups" });

  beforeAll(async () => {
    const pair = await generateKeyPair("RS256");
    privateKey = pair.privateKey;
    strangerKey = (await generateKeyPair("RS256")).privateKey;
    publicPem = await exportSPKI(pair.publicKey);
    jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "RS256", use: "sig" }] };
  });

  const rs256 = (claims: JWTPayload, options: { kid?: string; key?: SigningKey; iss?: string } = {}) =>
    new SignJWT({ email: "ada@acme.example", email_verified: true, "cognito:groups": ["rep", "Everyone"], ...claims })
      .setProtectedHeader({ alg: "RS256", kid: options.kid ?? "k1" })
      .setSubject("0f1e2d3c-cognito-user")
      .setIssuer(options.iss ?? ISSUER)
      .setAudience("client-123")
      .setIssuedAt(Math.floor(T0.getTime() / 1000))
      .setExpirationTime(Math.floor(T0.getTime() / 1000) + 3600)
      .sign(options.key ?? privateKey);

  const local = () => createAuthenticator(settings, { jwks, clock: () => T0 });

  it("accepts a token signed by a key in the JWKS, roles from cognito:groups", async () => {
    expect(await local()(bearer(await rs256({})))).toEqual({ subject: "0f1e2d3c-cognito-user", email: "ada@acme.example", roles: ["rep"] });
  });

  it("fetches the JWKS from its URL", async () => {
    const fetched: string[] = [];
    const authenticate = createAuthenticator(settings, {
      clock: () => T0,
      fetchJwks: async (url) => {
        fetched.push(url);
        return new Response(JSON.stringify(jwks), { headers: { "content-type": "application/json" } });
      },
    });
    expect((await authenticate(bearer(await rs256({})))).email).toBe("ada@acme.example");
    expect(fetched).toEqual([JWKS_URL]);
  });

  it("refuses a token whose kid is not in the JWKS", async () => {
    await expectRefused(local(), bearer(await rs256({}, { kid: "k2" })), "signature", /No key in the issuer's key set .*"k2"/);
  });

  it("refuses a token signed by another key under a known kid", async () => {
    await expectRefused(local(), bearer(await rs256({}, { key: strangerKey })), "signature");
  });

  it("refuses a token from another issuer", async () => {
    await expectRefused(local(), bearer(await rs256({}, { iss: "https://evil.example" })), "issuer", /"https:\/\/evil\.example"/);
  });

  it("refuses alg confusion: an HS256 token keyed with the RSA public key", async () => {
    const claims = { sub: "0f1e2d3c-cognito-user", iss: ISSUER, aud: "client-123", exp: Math.floor(T0.getTime() / 1000) + 600, "cognito:groups": ["admin"] };
    const keyed = (key: Uint8Array) => new SignJWT(claims).setProtectedHeader({ alg: "HS256", kid: "k1" }).sign(key);
    const pemToken = await keyed(new TextEncoder().encode(publicPem));
    const modulusToken = await keyed(Buffer.from(String(jwks.keys[0]?.n), "base64url"));
    for (const token of [pemToken, modulusToken]) {
      await expectRefused(local(), bearer(token), "signature", /accepts no HS256 tokens/);
    }
    // With a shared secret configured too, the public key still never verifies an HS256 token.
    const both = createAuthenticator(AuthSettings.parse({ ...settings, hs256Secret: SECRET }), { jwks, clock: () => T0 });
    await expectRefused(both, bearer(pemToken), "signature", /signature does not verify/);
  });

  it("refuses RS256 tokens when only a shared secret is configured", async () => {
    const hsOnly = createAuthenticator(AuthSettings.parse({ hs256Secret: SECRET, audience: "client-123" }), { clock: () => T0 });
    await expectRefused(hsOnly, bearer(await rs256({})), "signature", /accepts only HS256/);
  });

  it("refuses an expired RS256 token", async () => {
    const later = createAuthenticator(settings, { jwks, clock: () => new Date(T0.getTime() + 2 * 3_600_000) });
    await expectRefused(later, bearer(await rs256({})), "expired");
  });
});

describe("ttlSeconds", () => {
  it("reads short forms and ISO 8601 durations", () => {
    expect(ttlSeconds("8h")).toBe(28_800);
    expect(ttlSeconds("30m")).toBe(1_800);
    expect(ttlSeconds("7d")).toBe(604_800);
    expect(ttlSeconds("PT8H")).toBe(28_800);
  });

  it("refuses nonsense and zero", () => {
    for (const ttl of ["8 hours", "0h", "", "-1h", "Pnope"]) expect(() => ttlSeconds(ttl)).toThrow(InvalidTtlError);
  });
});
