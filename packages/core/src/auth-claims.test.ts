import { describe, expect, it } from "vitest";
import {
  AuthSettings,
  AuthSettingsError,
  authSettingsFromEnv,
  type Principal,
  principalFromClaims,
  requireRole,
  rolesFromClaim,
} from "./auth-claims";
import { ForbiddenError, UnauthenticatedError } from "./auth-errors";

const SECRET = "x".repeat(32);

describe("rolesFromClaim", () => {
  it("reads an array claim such as cognito:groups, ignoring groups that are not roles", () => {
    expect(rolesFromClaim(["rep", "Admins", "marketing", 7])).toEqual(["rep", "marketing"]);
  });

  it("reads a space- or comma-separated string, case-insensitively and without duplicates", () => {
    expect(rolesFromClaim("rep marketing,ADMIN,  rep")).toEqual(["rep", "marketing", "admin"]);
  });

  it("gives no roles for a missing or odd claim", () => {
    expect(rolesFromClaim(undefined)).toEqual([]);
    expect(rolesFromClaim({ rep: true })).toEqual([]);
    expect(rolesFromClaim("")).toEqual([]);
  });
});

describe("principalFromClaims", () => {
  it("takes the email claim, normalised, and the roles from the configured claim", () => {
    const p = principalFromClaims(
      { sub: "a1b2", email: " Ada@Acme.Example ", email_verified: true, name: "Ada", "cognito:groups": ["rep"] },
      "cognito:groups",
    );
    expect(p).toEqual({ subject: "a1b2", email: "ada@acme.example", name: "Ada", roles: ["rep"] });
  });

  it("ignores an email claim the issuer did not verify", () => {
    expect(principalFromClaims({ sub: "a1b2", email: "dana@acme.example" }, "leadloop:roles").email).toBeUndefined();
    expect(principalFromClaims({ sub: "a1b2", email: "dana@acme.example", email_verified: false }, "leadloop:roles").email).toBeUndefined();
    expect(principalFromClaims({ sub: "shop@acme.example", email: "dana@acme.example" }, "leadloop:roles").email).toBe("shop@acme.example");
  });

  it("falls back to sub when sub is an email, and has no email when neither is one", () => {
    expect(principalFromClaims({ sub: "ada@acme.example" }, "leadloop:roles").email).toBe("ada@acme.example");
    expect(principalFromClaims({ sub: "shop-1", email: "not an email" }, "leadloop:roles").email).toBeUndefined();
  });

  it("refuses a token without a subject", () => {
    expect(() => principalFromClaims({ email: "ada@acme.example" }, "leadloop:roles")).toThrow(UnauthenticatedError);
  });
});

describe("requireRole", () => {
  const rep: Principal = { subject: "ada@acme.example", email: "ada@acme.example", roles: ["rep"] };

  it("passes when the principal holds any of the roles", () => {
    expect(() => requireRole(rep, "marketing", "rep")).not.toThrow();
    expect(() => requireRole(rep)).not.toThrow();
  });

  it("throws ForbiddenError naming the needed and the held roles", () => {
    let error: unknown;
    try {
      requireRole(rep, "admin");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ForbiddenError);
    expect((error as ForbiddenError).required).toEqual(["admin"]);
    expect((error as Error).message).toContain("needs the role admin");
    expect((error as Error).message).toContain("carries the role(s) rep");
  });

  it("does not treat admin as every role", () => {
    expect(() => requireRole({ subject: "root", roles: ["admin"] }, "rep")).toThrow(ForbiddenError);
  });
});

describe("AuthSettings", () => {
  it("fills the audience and roles claim defaults", () => {
    expect(AuthSettings.parse({ hs256Secret: SECRET })).toEqual({ hs256Secret: SECRET, issuer: "leadloop", audience: "leadloop", rolesClaim: "leadloop:roles" });
  });

  it("needs a secret or a JWKS URL", () => {
    expect(AuthSettings.safeParse({}).success).toBe(false);
    expect(AuthSettings.safeParse({ jwksUrl: "https://issuer.example/.well-known/jwks.json", oidcIssuer: "https://issuer.example" }).success).toBe(true);
    // A key set without the issuer it belongs to would accept any `iss`.
    expect(AuthSettings.safeParse({ jwksUrl: "https://issuer.example/.well-known/jwks.json" }).success).toBe(false);
    expect(AuthSettings.safeParse({ jwksUrl: "not a url" }).success).toBe(false);
  });

  it("refuses a secret shorter than 32 characters", () => {
    expect(AuthSettings.safeParse({ hs256Secret: "short" }).success).toBe(false);
  });
});

describe("authSettingsFromEnv", () => {
  it("reads the LEADLOOP_AUTH_* variables", () => {
    expect(
      authSettingsFromEnv({
        LEADLOOP_AUTH_JWKS_URL: "https://issuer.example/jwks",
        LEADLOOP_AUTH_OIDC_ISSUER: "https://issuer.example",
        LEADLOOP_AUTH_ROLES_CLAIM: "cognito:groups",
        LEADLOOP_AUTH_AUDIENCE: "",
      }),
    ).toEqual({ jwksUrl: "https://issuer.example/jwks", oidcIssuer: "https://issuer.example", issuer: "leadloop", audience: "leadloop", rolesClaim: "cognito:groups" });
  });

  it("names the variable that is wrong", () => {
    expect(() => authSettingsFromEnv({ LEADLOOP_AUTH_SECRET: "short" })).toThrow(/LEADLOOP_AUTH_SECRET: must be at least 32/);
    expect(() => authSettingsFromEnv({})).toThrow(AuthSettingsError);
    expect(() => authSettingsFromEnv({})).toThrow(/set LEADLOOP_AUTH_SECRET or LEADLOOP_AUTH_JWKS_URL/);
  });
});
