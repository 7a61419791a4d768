import { AuthSettings } from "@leadloop/core";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { createAuthenticator } from "./bearer";
import { signHs256Token } from "./issue";
import { type AuthEnv, requireAuth } from "./middleware";

const SECRET = "a-local-secret-that-is-long-enough-0123456789";
const authenticate = createAuthenticator(AuthSettings.parse({ hs256Secret: SECRET }));

function app() {
  const api = new Hono<AuthEnv>();
  api.get("/v1/sales/queue", requireAuth(authenticate, "rep"), (c) => c.json({ for: c.get("principal").email }));
  api.get("/v1/reports/funnel", requireAuth(authenticate, "marketing", "admin"), (c) => c.json({ roles: c.get("principal").roles }));
  api.get("/v1/me", requireAuth(authenticate), (c) => c.json({ subject: c.get("principal").subject }));
  return api;
}

const token = (roles: ("rep" | "marketing" | "admin" | "integration")[], secret = SECRET) =>
  signHs256Token({ email: "ada@acme.example", roles }, secret);

async function problem(response: Response) {
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  return (await response.json()) as { status: number; type: string; detail: string; reason?: string; requiredRoles?: string[] };
}

describe("requireAuth", () => {
  it("lets a rep through and hands the route the principal", async () => {
    const response = await app().request("/v1/sales/queue", { headers: { authorization: `Bearer ${await token(["rep"])}` } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ for: "ada@acme.example" });
  });

  it("answers 401 with a bare Bearer challenge when no token is sent", async () => {
    const response = await app().request("/v1/sales/queue");
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe("Bearer");
    const body = await problem(response);
    expect(body).toMatchObject({ status: 401, type: "urn:leadloop:problem:unauthenticated", reason: "missing" });
    expect(body.detail).toContain("npm run token");
  });

  it("answers 401 invalid_token with the reason for a forged token", async () => {
    const forged = await token(["rep"], "a-secret-the-api-never-heard-of-0123456789");
    const response = await app().request("/v1/sales/queue", { headers: { authorization: `Bearer ${forged}` } });
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer error="invalid_token", error_description="The token's signature does not verify[^"]*"$/);
    expect(await problem(response)).toMatchObject({ reason: "signature" });
  });

  it("answers 401 for an expired token", async () => {
    const expired = await signHs256Token({ email: "ada@acme.example", roles: ["rep"], ttl: "1h", now: new Date(Date.now() - 2 * 3_600_000) }, SECRET);
    const response = await app().request("/v1/sales/queue", { headers: { authorization: `Bearer ${expired}` } });
    expect(response.status).toBe(401);
    expect(await problem(response)).toMatchObject({ reason: "expired" });
  });

  it("answers 403 insufficient_scope naming the role needed for a token with the wrong role", async () => {
    const response = await app().request("/v1/sales/queue", { headers: { authorization: `Bearer ${await token(["marketing"])}` } });
    expect(response.status).toBe(403);
    expect(response.headers.get("www-authenticate")).toBe('Bearer error="insufficient_scope", error_description="needs the role rep"');
    const body = await problem(response);
    expect(body).toMatchObject({ status: 403, type: "urn:leadloop:problem:forbidden", requiredRoles: ["rep"] });
    expect(body.detail).toContain("carries the role(s) marketing");
  });

  it("accepts any of several roles, and any verified caller when none are named", async () => {
    const admin = `Bearer ${await token(["admin"])}`;
    expect((await app().request("/v1/reports/funnel", { headers: { authorization: admin } })).status).toBe(200);
    const none = `Bearer ${await token([])}`;
    expect((await app().request("/v1/reports/funnel", { headers: { authorization: none } })).status).toBe(403);
    const me = await app().request("/v1/me", { headers: { authorization: none } });
    expect(await me.json()).toEqual({ subject: "ada@acme.example" });
  });
});
