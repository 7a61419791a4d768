/**
 * Rewards the customer can use, on the local stack through HTTP and the clock: redemptions from
 * the rewards.yaml catalogue (idempotent, refused on a short balance or a reached limit, never
 * both spending the same points), refunds and adjustments by purchase id, the scheduled expiry
 * that settles lapsed points and sends the tier-change email, and the retention report, each
 * checked against numbers worked out by hand from the shipped rewards.yaml (USD 1 point per
 * dollar; member 0, silver 500, gold 2000; expiry P365D; free-shipping 200 twice per 30 days,
 * ten-off 500, onboarding-session 1500 once per customer).
 */
import { signHs256Token } from "@leadloop/api";
import type { LocalStack } from "@leadloop/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { post, startTestStack } from "./local-stack";

interface DevEmail {
  to: string[];
  subject: string;
  text: string;
  html: string;
  sequenceId?: string;
  stepId?: string;
}

let stack: LocalStack;
let shop: string;
let marketing: string;

beforeAll(async () => {
  stack = await startTestStack();
  shop = await signHs256Token({ email: "shop@acme.example", roles: ["integration"] }, stack.authSecret);
  marketing = await signHs256Token({ email: "marketing@acme.example", roles: ["marketing"] }, stack.authSecret);
});
afterAll(async () => {
  await stack?.stop();
});

let customers = 0;
/** A won customer: captured through the form, closed won as the sales hand-off announces it. */
async function customer(): Promise<{ leadId: string; email: string }> {
  const email = `rewards.${++customers}.${Date.now()}@engines.example`;
  const res = await post(`${stack.url}/v1/forms/whitepaper/submissions`, { email, firstName: "Ada", company: "Analytical Engines Ltd", title: "Office manager", consent: true });
  expect(res.status).toBe(202);
  await stack.bus.drain();
  const { leadId } = (await res.json()) as { leadId: string };
  await stack.bus.publish([
    { type: "lead.closed", detail: { leadId, teamId: "enterprise-east", rep: "rep@acme.example", outcome: "won", closedAt: stack.clock.now().toISOString() } },
  ]);
  await stack.bus.drain();
  expect((await stack.store.getLead(leadId))?.stage).toBe("customer");
  return { leadId, email };
}

const auth = (token = shop) => ({ authorization: `Bearer ${token}` });
const buy = (leadId: string, purchaseId: string, amount: number) =>
  post(`${stack.url}/v1/customers/${leadId}/purchases`, { purchaseId, amount, currency: "USD" }, auth());
const redeem = (leadId: string, body: unknown, token = shop) => post(`${stack.url}/v1/customers/${leadId}/redemptions`, body, auth(token));
const refund = (leadId: string, purchaseId: string, body?: unknown) =>
  post(`${stack.url}/v1/customers/${leadId}/purchases/${purchaseId}/refund`, body ?? "", auth());
const adjust = (leadId: string, purchaseId: string, body: unknown) => post(`${stack.url}/v1/customers/${leadId}/purchases/${purchaseId}/adjustments`, body, auth());
const balanceOf = async (leadId: string) => {
  const res = await fetch(`${stack.url}/v1/customers/${leadId}/points`, { headers: auth() });
  return ((await res.json()) as { balance: number }).balance;
};
const today = () => stack.clock.now().toISOString().slice(0, 10);
const retention = async (from: string, to = from) => {
  const res = await fetch(`${stack.url}/v1/reports/retention?from=${from}&to=${to}`, { headers: auth(marketing) });
  expect(res.status).toBe(200);
  return (await res.json()) as { tiers: ({ tier: string } & Record<string, number | null>)[]; total: Record<string, number | null> };
};
const emailsTo = async (address: string): Promise<DevEmail[]> =>
  (await (await fetch(`${stack.url}/dev/emails?to=${encodeURIComponent(address)}`)).json()) as DevEmail[];

describe("retention report", () => {
  // First in the file, so the day's figures are this test's alone.
  it("counts purchases, repeat purchases, points earned, redeemed and taken back by the tier the customer was in", { timeout: 120_000 }, async () => {
    const a = await customer();
    const b = await customer();
    // a: 300 (member, first) → 300; 400 (member, repeat) → 700 silver; redeem ten-off 500 in silver → 200 member.
    expect((await buy(a.leadId, "a-1", 300)).status).toBe(201);
    expect((await buy(a.leadId, "a-2", 400)).status).toBe(201);
    expect((await redeem(a.leadId, { redemptionId: "a-r1", rewardId: "ten-off" })).status).toBe(201);
    // b: 600 (member, first) → 600 silver; 100 (silver, repeat) → 700; refund b-2 in silver: 100 back → 600.
    expect((await buy(b.leadId, "b-1", 600)).status).toBe(201);
    expect((await buy(b.leadId, "b-2", 100)).status).toBe(201);
    expect((await refund(b.leadId, "b-2")).status).toBe(201);
    // Retries count nothing more.
    expect((await buy(a.leadId, "a-1", 300)).status).toBe(200);
    expect((await redeem(a.leadId, { redemptionId: "a-r1", rewardId: "ten-off" })).status).toBe(200);
    expect((await refund(b.leadId, "b-2")).status).toBe(200);

    const report = await retention(today());
    const tier = (id: string) => report.tiers.find((t) => t.tier === id);
    expect(tier("member")).toMatchObject({ purchases: 3, repeatPurchases: 1, repeatPurchaseRate: 1 / 3, pointsEarned: 1300, redemptions: 0, pointsRedeemed: 0, pointsReversed: 0 });
    expect(tier("silver")).toMatchObject({ purchases: 1, repeatPurchases: 1, repeatPurchaseRate: 1, pointsEarned: 100, redemptions: 1, pointsRedeemed: 500, pointsReversed: 100 });
    expect(tier("gold")).toMatchObject({ purchases: 0, repeatPurchaseRate: null });
    expect(report.total).toMatchObject({ purchases: 4, repeatPurchases: 2, repeatPurchaseRate: 0.5, pointsEarned: 1400, pointsRedeemed: 500, pointsReversed: 100 });
    expect(await balanceOf(a.leadId)).toBe(200);
    expect(await balanceOf(b.leadId)).toBe(600);

    // Another period holds none of it; a bad period is named.
    const yesterday = new Date(stack.clock.now().getTime() - 86_400_000).toISOString().slice(0, 10);
    expect((await retention(yesterday)).total).toMatchObject({ purchases: 0, pointsEarned: 0 });
    const bad = await fetch(`${stack.url}/v1/reports/retention?from=2026-13-01`, { headers: auth(marketing) });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual(["from"]);
    expect((await fetch(`${stack.url}/v1/reports/retention`, { headers: auth(shop) })).status).toBe(403);
  });
});

describe("POST /v1/customers/{id}/redemptions", () => {
  it("spends points on a catalogue reward once per redemption id, and refuses a short balance naming it", { timeout: 60_000 }, async () => {
    const { leadId } = await customer();
    await buy(leadId, "o-1", 700);

    const first = await redeem(leadId, { redemptionId: "r-1", rewardId: "ten-off" });
    expect(first.status).toBe(201);
    const answer = await first.json();
    expect(answer).toEqual({ redemptionId: "r-1", reward: { id: "ten-off", name: "$10 off your next order", points: 500 }, points: -500, balance: 200, tier: "member" });

    const again = await redeem(leadId, { redemptionId: "r-1", rewardId: "ten-off" });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(answer);

    const conflict = await redeem(leadId, { redemptionId: "r-1", rewardId: "free-shipping" });
    expect(conflict.status).toBe(409);
    expect(await conflict.json()).toMatchObject({ type: "urn:leadloop:problem:redemption-conflict", differs: ["rewardId"] });

    const short = await redeem(leadId, { redemptionId: "r-2", rewardId: "ten-off" });
    expect(short.status).toBe(409);
    expect(short.headers.get("content-type")).toContain("application/problem+json");
    const problem = (await short.json()) as { type: string; balance: number; needed: number; detail: string };
    expect(problem).toMatchObject({ type: "urn:leadloop:problem:insufficient-points", balance: 200, needed: 500 });
    expect(problem.detail).toContain("200 points");
    expect(await balanceOf(leadId)).toBe(200);
    // A refused redemption books nothing: the same id succeeds once the balance covers it.
    await buy(leadId, "o-2", 300);
    expect((await redeem(leadId, { redemptionId: "r-2", rewardId: "ten-off" })).status).toBe(201);
    expect(await balanceOf(leadId)).toBe(0);
  });

  it("names an unknown reward and bad fields, and keeps the routes to integrations", async () => {
    const { leadId } = await customer();
    const unknown = await redeem(leadId, { redemptionId: "x", rewardId: "free-lunch" });
    expect(unknown.status).toBe(422);
    const body = (await unknown.json()) as { errors: { field: string; message: string }[] };
    expect(body.errors).toEqual([{ field: "rewardId", message: expect.stringContaining("free-shipping, ten-off, onboarding-session") }]);
    const bad = await redeem(leadId, { redemptionId: "has space", extra: 1 });
    expect(((await bad.json()) as { errors: { field: string }[] }).errors.map((e) => e.field).sort()).toEqual(["body", "redemptionId", "rewardId"]);
    expect((await redeem(leadId, { redemptionId: "x", rewardId: "ten-off" }, marketing)).status).toBe(403);
    expect((await post(`${stack.url}/v1/customers/${leadId}/redemptions`, { redemptionId: "x", rewardId: "ten-off" })).status).toBe(401);
    expect((await redeem("no-such-lead", { redemptionId: "x", rewardId: "ten-off" })).status).toBe(404);
  });

  it("enforces the per-period and per-customer limits, and frees a period's slot when it has passed", { timeout: 120_000 }, async () => {
    const { leadId } = await customer();
    await buy(leadId, "big", 2500);
    expect((await redeem(leadId, { redemptionId: "s-1", rewardId: "free-shipping" })).status).toBe(201);
    expect((await redeem(leadId, { redemptionId: "s-2", rewardId: "free-shipping" })).status).toBe(201);
    const third = await redeem(leadId, { redemptionId: "s-3", rewardId: "free-shipping" });
    expect(third.status).toBe(409);
    const limit = (await third.json()) as { type: string; limit: number; used: number; period: string; nextAt: string };
    expect(limit).toMatchObject({ type: "urn:leadloop:problem:reward-limit", rewardId: "free-shipping", limit: 2, used: 2, period: "30 days" });
    expect(Date.parse(limit.nextAt) - stack.clock.now().getTime()).toBeGreaterThan(29 * 86_400_000);

    expect((await redeem(leadId, { redemptionId: "o-1", rewardId: "onboarding-session" })).status).toBe(201);
    const twice = await redeem(leadId, { redemptionId: "o-2", rewardId: "onboarding-session" });
    expect(twice.status).toBe(409);
    expect(await twice.json()).toMatchObject({ type: "urn:leadloop:problem:reward-limit", limit: 1, used: 1 });
    // 2500 − 200 − 200 − 1500 = 600.
    expect(await balanceOf(leadId)).toBe(600);

    expect((await post(`${stack.url}/dev/clock/advance`, { by: "P31D" })).status).toBe(200);
    expect((await redeem(leadId, { redemptionId: "s-3", rewardId: "free-shipping" })).status).toBe(201);
    expect(await balanceOf(leadId)).toBe(400);
  });

  it("lets exactly one of two redemptions racing for the same points through", { timeout: 60_000 }, async () => {
    const { leadId } = await customer();
    await buy(leadId, "o-1", 700);
    const answers = await Promise.all(["race-1", "race-2", "race-3"].map((id) => redeem(leadId, { redemptionId: id, rewardId: "ten-off" })));
    expect(answers.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    expect(await balanceOf(leadId)).toBe(200);
  });
});

describe("refunds and adjustments by purchase id", () => {
  it("reverses a purchase's points once, corrects them with a reason, and owes points already spent", { timeout: 60_000 }, async () => {
    const { leadId } = await customer();
    await buy(leadId, "a", 300);
    await buy(leadId, "b", 200);

    const plus = await adjust(leadId, "a", { adjustmentId: "adj-1", points: 50, reason: "goodwill for a late delivery" });
    expect(plus.status).toBe(201);
    expect(await plus.json()).toEqual({ purchaseId: "a", points: 50, balance: 550, tier: "silver" });
    const plusAgain = await adjust(leadId, "a", { adjustmentId: "adj-1", points: 50, reason: "goodwill for a late delivery" });
    expect(plusAgain.status).toBe(200);
    const changed = await adjust(leadId, "a", { adjustmentId: "adj-1", points: 60, reason: "goodwill for a late delivery" });
    expect(changed.status).toBe(409);
    expect(await changed.json()).toMatchObject({ type: "urn:leadloop:problem:adjustment-conflict", differs: ["points"] });
    const noReason = await adjust(leadId, "a", { adjustmentId: "adj-2", points: 5 });
    expect(noReason.status).toBe(422);
    expect(((await noReason.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual(["reason"]);
    expect((await adjust(leadId, "nope", { adjustmentId: "adj-3", points: 5, reason: "x" })).status).toBe(404);
    const tooMuch = await adjust(leadId, "b", { adjustmentId: "adj-4", points: -600, reason: "wrong amount keyed" });
    expect(tooMuch.status).toBe(409);
    expect(await tooMuch.json()).toMatchObject({ type: "urn:leadloop:problem:insufficient-points", balance: 550, needed: 600 });

    const refunded = await refund(leadId, "b", { reason: "returned" });
    expect(refunded.status).toBe(201);
    expect(await refunded.json()).toEqual({ purchaseId: "b", points: -200, balance: 350, tier: "member" });
    const again = await refund(leadId, "b", { reason: "returned" });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ purchaseId: "b", points: -200, balance: 350, tier: "member" });
    const unknown = await refund(leadId, "zzz");
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ type: "urn:leadloop:problem:unknown-purchase", purchaseId: "zzz" });

    // Spend 200 of a's 350, then refund a: its 300 + 50 come back, 150 from a's lot and 200 owed.
    expect((await redeem(leadId, { redemptionId: "ship", rewardId: "free-shipping" })).status).toBe(201);
    const owed = await refund(leadId, "a");
    expect(await owed.json()).toEqual({ purchaseId: "a", points: -350, balance: -200, tier: "member" });
    // The next purchase pays the debt first: 500 − 200.
    expect(await (await buy(leadId, "c", 500)).json()).toEqual({ points: 500, balance: 300, tier: "member" });
  });
});

describe("merge fields", () => {
  it("puts the customer's balance and the points to the next tier in retention emails, and in their preview", { timeout: 180_000 }, async () => {
    const { leadId, email } = await customer();
    await buy(leadId, "m-1", 320);
    // Six-hour steps: the clock keeps the real time of day, and the step waits for its send window.
    let onboarding: DevEmail | undefined;
    for (let i = 0; i < 40 && !onboarding; i++) {
      expect((await post(`${stack.url}/dev/clock/advance`, { by: "PT6H" })).status).toBe(200);
      onboarding = (await emailsTo(email)).find((m) => m.sequenceId === "customer-retention" && m.stepId === "onboarding");
    }
    expect(onboarding?.text).toContain("Your rewards: 320 points (Member). 180 more points and you reach Silver.");
    expect(onboarding?.html).toContain("Your rewards: <strong>320 points</strong> (Member). 180 more points and you reach Silver.");

    const real = await fetch(`${stack.url}/v1/preview/email?item=${encodeURIComponent("step:customer-retention/onboarding")}&leadId=${leadId}`);
    expect(((await real.json()) as { email: { text: string } }).email.text).toContain("Your rewards: 320 points (Member).");
    const sample = await fetch(`${stack.url}/v1/preview/email?item=${encodeURIComponent("step:customer-retention/onboarding")}`);
    expect(((await sample.json()) as { email: { text: string } }).email.text).toContain("Your rewards: 0 points (Member). 500 more points and you reach Silver.");
  });
});

describe("scheduled expiry", () => {
  it("settles lapsed points on their date without a purchase, emails the tier drop once and counts the lapse", { timeout: 240_000 }, async () => {
    const { leadId, email } = await customer();
    // Bought 200 days ago: the 600 points lapse 165 days from now, on a day no other customer's do.
    const at = new Date(stack.clock.now().getTime() - 200 * 86_400_000);
    const bought = await post(`${stack.url}/v1/customers/${leadId}/purchases`, { purchaseId: "old", amount: 600, currency: "USD", at: at.toISOString() }, auth());
    expect(await bought.json()).toEqual({ points: 600, balance: 600, tier: "silver" });
    const lapsesAt = new Date(at.getTime() + 365 * 86_400_000);
    expect(await stack.rewards.getAccount(leadId)).toMatchObject({ balance: 600, tier: "silver", nextExpiryAt: lapsesAt.toISOString() });

    expect((await post(`${stack.url}/dev/clock/advance`, { by: "P164D" })).status).toBe(200);
    expect(await stack.rewards.getAccount(leadId)).toMatchObject({ balance: 600, tier: "silver", expired: 0 });

    expect((await post(`${stack.url}/dev/clock/advance`, { by: "P2D" })).status).toBe(200);
    const account = await stack.rewards.getAccount(leadId);
    expect(account).toMatchObject({ balance: 0, tier: "member", expired: 600 });
    expect(account?.nextExpiryAt).toBeUndefined();
    const changes = stack.bus.history.filter((e) => e["detail-type"] === "customer.tier_changed" && e.detail.leadId === leadId).map((e) => [e.detail.from, e.detail.to]);
    expect(changes).toEqual([
      ["member", "silver"],
      ["silver", "member"],
    ]);
    const statements = (await emailsTo(email)).filter((m) => m.subject === "Your points statement: welcome to Member");
    expect(statements).toHaveLength(1);
    expect(statements[0]?.text).toContain("Your rewards tier changed from Silver to Member.");
    expect(statements[0]?.text).toContain("Points balance: 0");

    // The lapse is counted on its day, under the tier the customer was in.
    const report = await retention(lapsesAt.toISOString().slice(0, 10));
    expect(report.tiers.find((t) => t.tier === "silver")).toMatchObject({ pointsExpired: 600 });
    expect(report.total).toMatchObject({ pointsExpired: 600 });
    // Later runs find nothing more to settle.
    expect((await post(`${stack.url}/dev/clock/advance`, { by: "P1D" })).status).toBe(200);
    expect((await emailsTo(email)).filter((m) => m.subject === "Your points statement: welcome to Member")).toHaveLength(1);
  });
});
