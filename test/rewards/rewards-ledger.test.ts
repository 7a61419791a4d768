/**
 * Reward points on DynamoDB Local and the SES emulator: the ledger books each purchase once,
 * however often or however concurrently it is posted; tiers follow the unexpired balance; a tier
 * change is announced and emailed once.
 */
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import {
  NotACustomerError,
  PurchaseConflictError,
  pointsStatement,
  PublishError,
  type RewardsDeps,
  recordPurchase,
  republishEvents,
  UnknownCustomerError,
  ValidationError,
} from "@leadloop/core";
import { DynamoRewardsStore } from "@leadloop/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, nurtureHarness, uniqueEmail } from "../nurture/harness";

let h: Harness;
let deps: RewardsDeps;
const sent: { to: string; subject: string; headers: Record<string, string>; tags: Record<string, string>; text: string }[] = [];

beforeAll(async () => {
  h = await nurtureHarness({
    mailer: (real) => ({
      async send(email) {
        sent.push(email);
        return real.send(email);
      },
    }),
  });
  deps = { ...h.deps, rewards: new DynamoRewardsStore({ client: h.table.client, tableName: h.table.tableName }) };
});
afterAll(async () => {
  await h?.close();
});

async function customer(tag: string): Promise<string> {
  const id = await h.capture(uniqueEmail(tag));
  await h.leads.updateLead(id, { stage: "customer", segment: "customer" }, h.clock.now().toISOString());
  return id;
}

async function ledgerItems(leadId: string) {
  const out = await h.table.client.send(
    new QueryCommand({
      TableName: h.table.tableName,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :e)",
      ExpressionAttributeValues: { ":pk": `LEDGER#${leadId}`, ":e": "ENTRY#" },
      ConsistentRead: true,
    }),
  );
  return out.Items ?? [];
}

const tierEvents = (leadId: string) => h.bus.history.filter((e) => e["detail-type"] === "customer.tier_changed" && e.detail.leadId === leadId);

describe("POST a purchase", () => {
  it("earns points at the currency's rate and answers balance and tier", async () => {
    const id = await customer("earn");
    const result = await recordPurchase(deps, id, { purchaseId: "o-1", amount: 120.5, currency: "USD" });
    expect(result).toMatchObject({ points: 120, balance: 120, tier: "member", created: true });
    const eur = await recordPurchase(deps, id, { purchaseId: "o-2", amount: 100, currency: "EUR" });
    expect(eur).toMatchObject({ points: 110, balance: 230, tier: "member" });
  });

  it("books a repeated purchase id once and answers what it answered first", async () => {
    const id = await customer("retry");
    const first = await recordPurchase(deps, id, { purchaseId: "order-7", amount: 300, currency: "USD" });
    await recordPurchase(deps, id, { purchaseId: "order-8", amount: 50, currency: "USD" });
    const again = await recordPurchase(deps, id, { purchaseId: "order-7", amount: 300, currency: "USD" });
    expect(again).toEqual({ points: first.points, balance: first.balance, tier: first.tier, created: false });
    expect(await ledgerItems(id)).toHaveLength(2);
    expect((await pointsStatement(deps, id)).balance).toBe(350);
  });

  it("refuses the same purchase id with a different body, naming what differs", async () => {
    const id = await customer("conflict");
    await recordPurchase(deps, id, { purchaseId: "p-1", amount: 10, currency: "USD", at: "2026-03-01T10:00:00Z" });
    const error = await recordPurchase(deps, id, { purchaseId: "p-1", amount: 11, currency: "USD", at: "2026-03-01T10:00:00Z" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PurchaseConflictError);
    expect((error as PurchaseConflictError).differs).toEqual(["amount"]);
    expect(await ledgerItems(id)).toHaveLength(1);
  });

  it("books twenty concurrent posts of one purchase as one entry", async () => {
    const id = await customer("race");
    const results = await Promise.all(
      Array.from({ length: 20 }, () => recordPurchase(deps, id, { purchaseId: "dup", amount: 700, currency: "USD" })),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    for (const r of results) expect(r).toMatchObject({ points: 700, balance: 700, tier: "silver" });
    expect(await ledgerItems(id)).toHaveLength(1);
    expect(tierEvents(id)).toHaveLength(1);
  });

  it("keeps every point of concurrent different purchases", async () => {
    const id = await customer("many");
    await Promise.all(Array.from({ length: 10 }, (_, i) => recordPurchase(deps, id, { purchaseId: `m-${i}`, amount: 100, currency: "USD" })));
    const statement = await pointsStatement(deps, id);
    expect(statement).toMatchObject({ balance: 1000, tier: "silver" });
    expect(statement.ledger).toHaveLength(10);
    // Ten writers raced for the account; exactly one saw member → silver.
    expect(tierEvents(id).map((e) => [e.detail.from, e.detail.to])).toEqual([["member", "silver"]]);
  });

  it("announces a tier change once and emails the points statement with unsubscribe headers", async () => {
    const id = await customer("tier");
    const lead = await h.leads.getLead(id);
    await recordPurchase(deps, id, { purchaseId: "t-1", amount: 400, currency: "USD" });
    expect(tierEvents(id)).toHaveLength(0);
    const crossing = await recordPurchase(deps, id, { purchaseId: "t-2", amount: 1700, currency: "USD" });
    expect(crossing).toMatchObject({ balance: 2100, tier: "gold", tierChanged: { from: "member", to: "gold", email: "sent" } });
    expect(tierEvents(id).map((e) => e.detail)).toEqual([{ leadId: id, from: "member", to: "gold", balance: 2100 }]);
    const mail = sent.filter((m) => m.to === lead?.email);
    expect(mail).toHaveLength(1);
    expect(mail[0]?.subject).toBe("Your points statement: welcome to Gold");
    expect(mail[0]?.text).toContain("Points balance: 2100");
    expect(mail[0]?.text).toContain("Points to Platinum: 2900");
    expect(mail[0]?.headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
    expect(mail[0]?.tags).toMatchObject({ lead: id, kind: "rewards", template: "points-statement" });
    // The retry of the crossing purchase changes nothing and sends nothing.
    await recordPurchase(deps, id, { purchaseId: "t-2", amount: 1700, currency: "USD" });
    expect(sent.filter((m) => m.to === lead?.email)).toHaveLength(1);
  });

  it("announces a tier change the bus refused once the republisher runs, and only once", async () => {
    const id = await customer("tier-outage");
    const refusing = { ...deps, publisher: { publish: async () => Promise.reject(new PublishError("EventBridge refused the events (injected)")) } };
    const crossing = await recordPurchase(refusing, id, { purchaseId: "o-1", amount: 2100, currency: "USD" });
    expect(crossing).toMatchObject({ tier: "gold", tierChanged: { from: "member", to: "gold" } });
    expect(tierEvents(id)).toHaveLength(0);
    // The client's retry finds the purchase booked; the announcement is the republisher's.
    await recordPurchase(deps, id, { purchaseId: "o-1", amount: 2100, currency: "USD" });
    expect(tierEvents(id)).toHaveLength(0);

    h.clock.advance(5 * 60_000);
    const report = await republishEvents(deps);
    expect(report.announced).toBeGreaterThanOrEqual(1);
    expect(tierEvents(id).map((e) => e.detail)).toEqual([{ leadId: id, from: "member", to: "gold", balance: 2100 }]);
    await republishEvents(deps);
    expect(tierEvents(id)).toHaveLength(1);
  });

  it("sends no tier email to a suppressed address, but still moves the tier", async () => {
    const id = await customer("suppressed");
    const lead = await h.leads.getLead(id);
    await h.leads.suppress({ email: lead?.email ?? "", reason: "unsubscribed", at: h.clock.now().toISOString() });
    const result = await recordPurchase(deps, id, { purchaseId: "s-1", amount: 600, currency: "USD" });
    expect(result.tierChanged).toEqual({ from: "member", to: "silver", email: "suppressed" });
    expect(sent.filter((m) => m.to === lead?.email)).toHaveLength(0);
  });

  it("lets points expire: the balance and the tier fall after the expiry", async () => {
    const id = await customer("expiry");
    const now = h.clock.now();
    const longAgo = new Date(now.getTime() - 300 * 86_400_000).toISOString();
    await recordPurchase(deps, id, { purchaseId: "old", amount: 1800, currency: "USD", at: longAgo });
    const fresh = await recordPurchase(deps, id, { purchaseId: "new", amount: 400, currency: "USD" });
    expect(fresh).toMatchObject({ balance: 2200, tier: "gold" });
    h.clock.advance(70 * 86_400_000);
    try {
      const statement = await pointsStatement(deps, id);
      expect(statement).toMatchObject({ balance: 400, tier: "member" });
      expect(statement.ledger.map((e) => [e.kind === "purchase" ? e.purchaseId : e.entryId, e.expired])).toEqual([
        ["old", true],
        ["new", false],
      ]);
      // The next purchase settles the account on the unexpired balance and announces the fall.
      const later = await recordPurchase(deps, id, { purchaseId: "later", amount: 10, currency: "USD" });
      expect(later).toMatchObject({ balance: 410, tier: "member", tierChanged: { from: "gold", to: "member" } });
    } finally {
      h.clock.advance(-70 * 86_400_000);
    }
  });
});

describe("refusals", () => {
  it("names each bad field", async () => {
    const id = await customer("invalid");
    const error = await recordPurchase(deps, id, { amount: -3, currency: "usd", extra: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.field).sort()).toEqual(["amount", "body", "currency", "purchaseId"]);
    const yen = await recordPurchase(deps, id, { purchaseId: "y", amount: 3, currency: "JPY" }).catch((e: unknown) => e);
    expect((yen as ValidationError).issues).toEqual([{ field: "currency", message: expect.stringContaining("USD, EUR, GBP") }]);
  });

  it("404s an unknown customer and 409s a lead that was not won", async () => {
    await expect(recordPurchase(deps, "no-such-lead", { purchaseId: "x", amount: 1, currency: "USD" })).rejects.toBeInstanceOf(UnknownCustomerError);
    const prospect = await h.capture(uniqueEmail("prospect"));
    const error = await recordPurchase(deps, prospect, { purchaseId: "x", amount: 1, currency: "USD" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotACustomerError);
    expect(await ledgerItems(prospect)).toHaveLength(0);
  });
});
