/**
 * Closing the loop on the local stack: a won deal becomes a customer who gets the retention
 * sequence and earns points (a repeated purchase id adds nothing, crossing a tier sends the points
 * statement); a not-now deal comes back to nurture on its date and gets the recycle sequence.
 * `lead.closed` is put on the local bus as the sales hand-off publishes it.
 */
import { signHs256Token } from "@leadloop/api";
import type { LocalStack } from "@leadloop/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { post, startTestStack } from "./local-stack";

interface DevEmail {
  to: string[];
  subject: string;
  text: string;
  headers: Record<string, string>;
  sequenceId?: string;
  stepId?: string;
}

let stack: LocalStack;
let shop: string;

beforeAll(async () => {
  stack = await startTestStack();
  shop = await signHs256Token({ email: "shop@acme.example", roles: ["integration"] }, stack.authSecret);
});
afterAll(async () => {
  await stack?.stop();
});

async function capture(email: string): Promise<string> {
  // A whitepaper download stays below the MQL threshold, so the lead is in nurture, not with sales.
  const res = await post(`${stack.url}/v1/forms/whitepaper/submissions`, { email, firstName: "Ada", company: "Analytical Engines Ltd", title: "Office manager", consent: true });
  expect(res.status).toBe(202);
  await stack.bus.drain();
  return ((await res.json()) as { leadId: string }).leadId;
}

async function close(leadId: string, outcome: string, extra: Record<string, unknown> = {}) {
  await stack.bus.publish([
    {
      type: "lead.closed",
      detail: { leadId, teamId: "enterprise-east", rep: "rep@acme.example", outcome, closedAt: stack.clock.now().toISOString(), ...extra },
    },
  ]);
  await stack.bus.drain();
}

async function advance(by: string) {
  const res = await post(`${stack.url}/dev/clock/advance`, { by });
  expect(res.status).toBe(200);
}

async function emailsTo(address: string): Promise<DevEmail[]> {
  const res = await fetch(`${stack.url}/dev/emails?to=${encodeURIComponent(address)}`);
  return (await res.json()) as DevEmail[];
}

/**
 * Six-hour steps until an email of `sequenceId` arrives. The virtual clock keeps the real time
 * of day and a sweep runs only where an advance lands, so whole-day steps taken in the evening
 * would jump over every send window; quarter days land inside each working day's window.
 */
async function advanceUntilSequenceEmail(address: string, sequenceId: string, days = 9): Promise<DevEmail | undefined> {
  for (let i = 0; i < days * 4; i++) {
    await advance("PT6H");
    const found = (await emailsTo(address)).find((e) => e.sequenceId === sequenceId);
    if (found) return found;
  }
  return undefined;
}

const purchase = (leadId: string, body: unknown, token = shop) =>
  post(`${stack.url}/v1/customers/${leadId}/purchases`, body, { authorization: `Bearer ${token}` });

describe("won → customer", () => {
  it("enrolls the customer in retention, books points once per purchase id and emails the tier change", { timeout: 120_000 }, async () => {
    const address = "ada.won@engines.example";
    const leadId = await capture(address);

    // Not a customer yet: points are refused with a reason.
    const early = await purchase(leadId, { purchaseId: "order-1", amount: 100, currency: "USD" });
    expect(early.status).toBe(409);
    expect(((await early.json()) as { detail: string }).detail).toContain("is not a customer");

    await close(leadId, "won", { amount: 24000, currency: "USD" });
    const lead = await stack.store.getLead(leadId);
    expect(lead).toMatchObject({ stage: "customer", segment: "customer" });

    const onboarding = await advanceUntilSequenceEmail(address, "customer-retention");
    expect(onboarding?.stepId).toBe("onboarding");
    expect(onboarding?.subject).toBe("Welcome aboard, Ada: your onboarding plan");

    const first = await purchase(leadId, { purchaseId: "order-1", amount: 320, currency: "USD" });
    expect(first.status).toBe(201);
    expect(await first.json()).toEqual({ points: 320, balance: 320, tier: "member" });

    const again = await purchase(leadId, { purchaseId: "order-1", amount: 320, currency: "USD" });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ points: 320, balance: 320, tier: "member" });

    const changed = await purchase(leadId, { purchaseId: "order-1", amount: 999, currency: "USD" });
    expect(changed.status).toBe(409);

    const crossing = await purchase(leadId, { purchaseId: "order-2", amount: 200, currency: "EUR" });
    expect(crossing.status).toBe(201);
    expect(await crossing.json()).toEqual({ points: 220, balance: 540, tier: "silver" });
    await stack.bus.drain();
    const statement = (await emailsTo(address)).find((e) => e.subject.startsWith("Your points statement"));
    expect(statement?.subject).toBe("Your points statement: welcome to Silver");
    expect(statement?.text).toContain("Points balance: 540");
    expect(statement?.headers["list-unsubscribe-post"] ?? statement?.headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
    expect(stack.bus.history.filter((e) => e["detail-type"] === "customer.tier_changed" && e.detail.leadId === leadId).map((e) => e.detail)).toEqual([
      { leadId, from: "member", to: "silver", balance: 540 },
    ]);

    const points = await fetch(`${stack.url}/v1/customers/${leadId}/points`, { headers: { authorization: `Bearer ${shop}` } });
    expect(points.status).toBe(200);
    const body = (await points.json()) as { balance: number; tier: string; ledger: { purchaseId: string }[] };
    expect(body).toMatchObject({ balance: 540, tier: "silver" });
    expect(body.ledger.map((e) => e.purchaseId)).toEqual(["order-1", "order-2"]);
  });

  it("refuses purchases without an integration token, for unknown customers, and with bad fields", async () => {
    const rep = await signHs256Token({ email: "rep@acme.example", roles: ["rep"] }, stack.authSecret);
    expect((await purchase("x", { purchaseId: "a", amount: 1, currency: "USD" }, rep)).status).toBe(403);
    expect((await post(`${stack.url}/v1/customers/x/purchases`, {})).status).toBe(401);
    expect((await purchase("no-such-lead", { purchaseId: "a", amount: 1, currency: "USD" })).status).toBe(404);
    const bad = await purchase("no-such-lead", { amount: "ten", currency: "usd" });
    expect(bad.status).toBe(422);
    expect(bad.headers.get("content-type")).toContain("application/problem+json");
    const problem = (await bad.json()) as { errors: { field: string }[] };
    expect(problem.errors.map((e) => e.field).sort()).toEqual(["amount", "currency", "purchaseId"]);
  });
});

describe("not-now → recycled", () => {
  it("comes back to nurture on its date and gets the recycle sequence's first email", { timeout: 120_000 }, async () => {
    const address = "ada.notnow@engines.example";
    const leadId = await capture(address);
    const recycleOn = new Date(stack.clock.now().getTime() + 10 * 86_400_000).toISOString().slice(0, 10);
    await close(leadId, "not-now", { reason: "no-budget", recycleOn });
    await advance("P5D");
    expect((await stack.store.getLead(leadId))?.stage).not.toBe("recycled");

    await advance("P6D");
    expect(await stack.store.getLead(leadId)).toMatchObject({ stage: "recycled", segment: "recycle" });
    expect(stack.bus.history.filter((e) => e["detail-type"] === "lead.recycled" && e.detail.leadId === leadId)).toHaveLength(1);

    // The recycle sequence's first step waits 30 days.
    await advance("P29D");
    // Give it two working weeks: where the 30 days end (a weekend, the year's turn) depends on
    // the date the suite runs.
    const checkIn = await advanceUntilSequenceEmail(address, "recycle-nurture", 16);
    expect(checkIn?.stepId).toBe("check-in");
    expect(checkIn?.subject).toBe("Still on your radar, Ada?");
  });
});
