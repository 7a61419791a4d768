/**
 * API keys through HTTP on the local stack: an admin creates a key (shown once), the key
 * authenticates on the purchases route with its roles, the list shows it without the key or its
 * hash and with its last use, a revoked key is refused by the very next request, and reps' bearer
 * JWTs keep working beside keys. `npm run apikey` drives the same routes.
 */
import { signHs256Token } from "@leadloop/api";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { hashApiKey } from "@leadloop/core";
import { createDocumentClient } from "@leadloop/store";
import type { LocalStack } from "@leadloop/local";
import { apikeyCli } from "@leadloop/local/apikey-cli";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { post, startTestStack } from "./local-stack";

let stack: LocalStack;
let admin: string;

beforeAll(async () => {
  stack = await startTestStack();
  admin = await signHs256Token({ email: "admin@acme.example", roles: ["admin"] }, stack.authSecret);
});
afterAll(async () => {
  await stack?.stop();
});

const asAdmin = (method: string, path: string, body?: unknown) =>
  fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${admin}`, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });

const purchase = (key: string) =>
  post(`${stack.url}/v1/customers/00000000-0000-8000-8000-000000000000/purchases`, { purchaseId: "order-1", amount: 10, currency: "USD" }, { authorization: `Bearer ${key}` });

describe("API keys", () => {
  it("creates a key shown once, authenticates the purchases route with it, lists it without secrets and refuses it once revoked", async () => {
    const res = await asAdmin("POST", "/v1/admin/api-keys", { name: "shop-backend", roles: ["integration"] });
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const created = (await res.json()) as { id: string; key: string; roles: string[]; createdAt: string };
    expect(created.key).toMatch(/^llk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(created.roles).toEqual(["integration"]);

    // Past authentication: the customer is unknown, which only an authorised caller learns.
    const accepted = await purchase(created.key);
    expect(accepted.status).toBe(404);
    expect(((await accepted.json()) as { type: string }).type).toBe("urn:leadloop:problem:unknown-customer");

    // Only the hash is stored; the list shows neither key nor hash, and the last use.
    const client = createDocumentClient({ endpoint: stack.dynamoEndpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } });
    const item = await client.send(new GetCommand({ TableName: stack.tableName, Key: { pk: `APIKEY#${created.id}`, sk: "APIKEY" } }));
    expect(item.Item?.hash).toBe(hashApiKey(created.key));
    expect(JSON.stringify(item.Item)).not.toContain(created.key);
    const list = (await (await asAdmin("GET", "/v1/admin/api-keys")).json()) as { keys: Record<string, unknown>[] };
    const listed = list.keys.find((k) => k.id === created.id);
    expect(listed).toMatchObject({ name: "shop-backend", roles: ["integration"], createdAt: created.createdAt });
    expect(typeof listed?.lastUsedAt).toBe("string");
    expect(JSON.stringify(list)).not.toContain(created.key);
    expect(JSON.stringify(list)).not.toContain(hashApiKey(created.key));

    // A key's roles bound it like a token's: an integration key is no admin.
    expect((await fetch(`${stack.url}/v1/admin/api-keys`, { headers: { authorization: `Bearer ${created.key}` } })).status).toBe(403);

    expect((await asAdmin("DELETE", `/v1/admin/api-keys/${created.id}`)).status).toBe(204);
    const refused = await purchase(created.key);
    expect(refused.status).toBe(401);
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    expect((await refused.json()) as Record<string, unknown>).toMatchObject({ reason: "revoked" });
  });

  it("refuses a forged key, an unknown id and a bad request with problems naming what to fix", async () => {
    const forged = await purchase(`llk_${"0".repeat(16)}_${"A".repeat(43)}`);
    expect(forged.status).toBe(401);
    expect((await forged.json()) as Record<string, unknown>).toMatchObject({ reason: "signature" });
    const bad = await asAdmin("POST", "/v1/admin/api-keys", { name: "", roles: ["owner"] });
    expect(bad.status).toBe(422);
    const problem = (await bad.json()) as { errors: { field: string }[] };
    expect(problem.errors.map((e) => e.field).sort()).toEqual(["name", "roles.0"]);
    expect((await asAdmin("DELETE", "/v1/admin/api-keys/ffffffffffffffff")).status).toBe(404);
  });

  it("keeps reps' bearer JWTs working beside keys", async () => {
    const rep = await signHs256Token({ email: "dana.whitfield@acme-analytics.example", roles: ["rep"] }, stack.authSecret);
    const res = await fetch(`${stack.url}/v1/sales/queue`, { headers: { authorization: `Bearer ${rep}` } });
    expect(res.status).toBe(200);
  });

  it("npm run apikey creates, lists and revokes through the same routes", async () => {
    const env = { LEADLOOP_URL: stack.url, LEADLOOP_AUTH_SECRET: stack.authSecret, LEADLOOP_DATA_DIR: "/nonexistent" };
    let printed = "";
    const out = (text: string) => {
      printed += text;
    };
    expect(await apikeyCli(["create", "--name", "crm-sync", "--role", "integration", "--role", "marketing", "--json"], env, out)).toBe(0);
    const created = JSON.parse(printed) as { id: string; key: string };
    expect((await purchase(created.key)).status).toBe(404);
    printed = "";
    expect(await apikeyCli(["list"], env, out)).toBe(0);
    expect(printed).toContain(`${created.id}  crm-sync  [integration, marketing]`);
    expect(printed).not.toContain(created.key);
    expect(await apikeyCli(["revoke", created.id], env, out)).toBe(0);
    expect((await purchase(created.key)).status).toBe(401);
  });
});
