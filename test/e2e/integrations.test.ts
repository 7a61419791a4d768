/**
 * Integrations end to end on the local stack: a lead qualifies from its form and closes through
 * the rep routes; the CRM endpoint of config/webhooks.yaml (a receiver in this test) gets the
 * signed `lead.qualified` and `lead.closed` deliveries once each and verifies them with the
 * snippet docs/webhooks.md documents (taken from the page, not copied); a receiver answering 500
 * twice gets the delivery on the third try as the virtual clock passes the back-off; the shop's
 * API key books a purchase for the won customer (the shop's endpoint hears of it) and is refused
 * once revoked.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { signHs256Token } from "@leadloop/api";
import type { LocalStack } from "@leadloop/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoLead, post, startTestStack } from "./local-stack";

interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
  status: number;
}

interface QualifiedData {
  lead: { id: string; email: string; profile: Record<string, unknown>; firstTouch: { formId: string }; lastTouch: { formId: string } };
  segment: string;
  score: { total: number; threshold: number; reasons: unknown[] };
  owner: { email: string } | null;
}

type Verify = (secret: string, header: string, rawBody: string, toleranceSeconds?: number) => boolean;

const SECRET = "test-webhook-signing-key-0123456789abcdef";
const run = Math.random().toString(36).slice(2, 8);
let stack: LocalStack;
let receiver: Server;
const received: Received[] = [];
/** Deliveries about leads whose address contains this are answered 500 this many times first. */
const flaky = { marker: `flaky${run}`, failuresLeft: 2 };
let verify: Verify;

/** The verification snippet exactly as docs/webhooks.md shows it. */
async function documentedSnippet(): Promise<Verify> {
  const doc = readFileSync("docs/webhooks.md", "utf8");
  const match = /<!-- verify-snippet:start -->\s*```js\n([\s\S]*?)```\s*<!-- verify-snippet:end -->/.exec(doc);
  if (!match?.[1]) throw new Error("docs/webhooks.md has no verification snippet between its markers");
  const file = join(mkdtempSync(join(tmpdir(), "leadloop-snippet-")), "verify.mjs");
  writeFileSync(file, match[1]);
  const module = (await import(pathToFileURL(file).href)) as { verifyLeadloopSignature: Verify };
  return module.verifyLeadloopSignature;
}

beforeAll(async () => {
  verify = await documentedSnippet();
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      const status = body.includes(flaky.marker) && body.includes('"lead.qualified"') && flaky.failuresLeft-- > 0 ? 500 : 204;
      received.push({ headers: req.headers, body, status });
      res.statusCode = status;
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  stack = await startTestStack({
    env: { WEBHOOK_CRM_URL: `${base}/crm/hooks`, WEBHOOK_CRM_SECRET: SECRET, WEBHOOK_SHOP_URL: `${base}/shop/hooks`, WEBHOOK_SHOP_SECRET: SECRET },
  });
});
afterAll(async () => {
  await stack?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
});

const bearer = async (email: string, roles: ("rep" | "admin")[]) => `Bearer ${await signHs256Token({ email, roles }, stack.authSecret)}`;

async function call(method: string, path: string, authorization: string, body?: unknown) {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

/** A US enterprise lead from the demo-request form: its fit alone qualifies it. */
async function qualifiedLead(name: string): Promise<{ leadId: string; rep: string }> {
  const res = await post(`${stack.url}/v1/forms/demo-request/submissions`, demoLead(`${name}@bigco.example`, { country: "US", company: `BigCo ${run}` }));
  expect(res.status).toBe(202);
  const { leadId } = (await res.json()) as { leadId: string };
  await stack.bus.drain();
  const assigned = stack.bus.history.find((e) => e["detail-type"] === "lead.assigned" && e.detail.leadId === leadId);
  expect(assigned, "the lead qualified and was handed to a rep").toBeDefined();
  return { leadId, rep: String(assigned?.detail.rep) };
}

const deliveriesAbout = (leadId: string, type: string) =>
  received.filter((r) => r.headers["leadloop-event"] === type && (JSON.parse(r.body) as { data: { lead?: { id: string } } }).data.lead?.id === leadId);

describe("integrations: signed webhooks and API keys", () => {
  it("delivers lead.qualified and lead.closed once each, signed as documented, and the shop's API key works until revoked", { timeout: 120_000 }, async () => {
    const { leadId, rep } = await qualifiedLead(`ada.${run}`);
    const claim = await call("POST", `/v1/sales/leads/${leadId}/claim`, await bearer(rep, ["rep"]));
    expect(claim.status).toBe(200);
    const outcome = await call("POST", `/v1/sales/leads/${leadId}/outcome`, await bearer(rep, ["rep"]), {
      outcome: "won",
      reason: "roi-case",
      amount: 12000,
      currency: "USD",
    });
    expect(outcome.status, JSON.stringify(outcome.body)).toBe(200);
    await stack.bus.drain();

    const [qualified, ...moreQualified] = deliveriesAbout(leadId, "lead.qualified");
    const [closed, ...moreClosed] = deliveriesAbout(leadId, "lead.closed");
    expect(moreQualified).toEqual([]);
    expect(moreClosed).toEqual([]);
    for (const delivery of [qualified, closed]) {
      expect(delivery).toBeDefined();
      expect(verify(SECRET, String(delivery?.headers["leadloop-signature"]), delivery?.body ?? "")).toBe(true);
      // A body altered on the way, or another endpoint's key, does not verify.
      expect(verify(SECRET, String(delivery?.headers["leadloop-signature"]), `${delivery?.body} `)).toBe(false);
      expect(verify(`${SECRET}x`, String(delivery?.headers["leadloop-signature"]), delivery?.body ?? "")).toBe(false);
      expect((JSON.parse(delivery?.body ?? "{}") as { id: string }).id).toBe(delivery?.headers["leadloop-delivery"]);
    }

    // What a CRM needs to create the lead: profile, segment, score with reasons, touches, owner.
    const data = (JSON.parse(qualified?.body ?? "{}") as { data: QualifiedData }).data;
    expect(data.lead).toMatchObject({ id: leadId, email: `ada.${run}@bigco.example`, profile: { firstName: "Ada", company: `BigCo ${run}` } });
    expect(data.lead.firstTouch).toMatchObject({ formId: "demo-request" });
    expect(data.lead.lastTouch).toMatchObject({ formId: "demo-request" });
    expect(data.segment).toBe("enterprise");
    expect(data.score.total).toBeGreaterThanOrEqual(data.score.threshold);
    expect(data.score.reasons.length).toBeGreaterThan(0);
    expect(data.owner).toMatchObject({ email: rep });
    expect((JSON.parse(closed?.body ?? "{}") as { data: Record<string, unknown> }).data).toMatchObject({ outcome: "won", amount: 12000, currency: "USD" });

    // The won customer's purchases come from the shop with an API key, until it is revoked.
    const admin = await bearer("admin@acme.example", ["admin"]);
    const key = await call("POST", "/v1/admin/api-keys", admin, { name: "shop", roles: ["integration"] });
    expect(key.status).toBe(201);
    const purchase = (purchaseId: string) =>
      call("POST", `/v1/customers/${leadId}/purchases`, `Bearer ${String(key.body.key)}`, { purchaseId, amount: 49, currency: "USD" });
    expect((await purchase("order-1")).status).toBe(201);
    // The shop's endpoint hears of the purchase once, signed like every delivery.
    await stack.bus.drain();
    const bought = received.filter((r) => r.headers["leadloop-event"] === "customer.purchase" && (JSON.parse(r.body) as { data: { customerId: string } }).data.customerId === leadId);
    expect(bought).toHaveLength(1);
    expect(verify(SECRET, String(bought[0]?.headers["leadloop-signature"]), bought[0]?.body ?? "")).toBe(true);
    expect((JSON.parse(bought[0]?.body ?? "{}") as { data: Record<string, unknown> }).data).toMatchObject({ purchaseId: "order-1", amount: 49, currency: "USD", points: expect.any(Number) });
    expect((await call("DELETE", `/v1/admin/api-keys/${String(key.body.id)}`, admin)).status).toBe(204);
    const refused = await purchase("order-2");
    expect(refused.status).toBe(401);
    expect(refused.body.reason).toBe("revoked");
  });

  it("serves the OpenAPI document on the local stack", async () => {
    const res = await fetch(`${stack.url}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; servers: { url: string }[]; webhooks: Record<string, unknown> };
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.servers[0]?.url).toBe(stack.url);
    expect(Object.keys(doc.webhooks)).toContain("lead.qualified");
  });

  it("retries a delivery the receiver refuses with back-off: the third try, past two 500s, delivers it", { timeout: 120_000 }, async () => {
    const { leadId } = await qualifiedLead(flaky.marker);
    expect(deliveriesAbout(leadId, "lead.qualified").map((r) => r.status)).toEqual([500]);
    // The second try is due a minute later, the third five minutes after that.
    await post(`${stack.url}/dev/clock/advance`, { by: "PT2M" });
    expect(deliveriesAbout(leadId, "lead.qualified").map((r) => r.status)).toEqual([500, 500]);
    await post(`${stack.url}/dev/clock/advance`, { by: "PT10M" });
    const tries = deliveriesAbout(leadId, "lead.qualified");
    expect(tries.map((r) => r.status)).toEqual([500, 500, 204]);
    // One delivery, three tries: the receiver can drop repeats by the id.
    expect(new Set(tries.map((r) => r.headers["leadloop-delivery"])).size).toBe(1);
    for (const t of tries) expect(verify(SECRET, String(t.headers["leadloop-signature"]), t.body)).toBe(true);

    // The admin sees the attempts with their status codes.
    const status = await call("GET", "/v1/admin/webhooks", await bearer("admin@acme.example", ["admin"]));
    expect(status.status).toBe(200);
    const crm = (status.body.endpoints as { id: string; configured: boolean; deliveries: { eventType: string; state: string; attempts: { status?: number }[] }[] }[]).find(
      (e) => e.id === "crm",
    );
    expect(crm?.configured).toBe(true);
    const delivery = crm?.deliveries.find((d) => d.eventType === "lead.qualified" && d.attempts.length === 3);
    expect(delivery?.state).toBe("delivered");
    expect(delivery?.attempts.map((a) => a.status)).toEqual([500, 500, 204]);
  });
});
