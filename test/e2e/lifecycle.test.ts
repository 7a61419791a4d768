/**
 * The lead's lifecycle end to end on the local stack, driven only through the public routes, the
 * bus deliveries the stack makes itself and the virtual clock: a rep's not-now keeps the lead
 * with marketing until its recycle date whatever it does, and an idle lead's score decays.
 */
import { signHs256Token } from "@leadloop/api";
import type { LocalStack } from "@leadloop/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoLead, post, startTestStack } from "./local-stack";

interface DevEmail {
  to: string[];
  subject: string;
  headers: Record<string, string>;
  sequenceId?: string;
}

const DAY = 86_400_000;
const run = Math.random().toString(36).slice(2, 8);

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

type Role = "rep" | "marketing" | "admin";

async function call(method: string, path: string, as: string, body?: unknown, roles: Role[] = ["rep"]) {
  const token = await signHs256Token({ email: as, roles }, stack.authSecret);
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const MARKETER = "marketer@acme-analytics.example";
const viewLead = async (leadId: string) => (await call("GET", `/v1/leads/${leadId}`, MARKETER, undefined, ["marketing"])).body as {
  lead: { stage: string; segment: string };
  score?: { value: number; reasons: { rule: string; points: number }[] };
};

async function capture(formId: string, body: Record<string, unknown>) {
  const res = await post(`${stack.url}/v1/forms/${formId}/submissions`, body);
  expect(res.status).toBe(202);
  await stack.bus.drain();
  return (await res.json()) as { leadId: string; token: string };
}

async function pageView(token: string, path: string) {
  const res = await post(`${stack.url}/v1/events`, { token, type: "page_view", url: `https://www.acme-analytics.example${path}` });
  expect(res.status).toBe(202);
  await stack.bus.drain();
}

async function advance(by: string) {
  const res = await post(`${stack.url}/dev/clock/advance`, { by });
  expect(res.status).toBe(200);
  await stack.bus.drain();
}

/** Every email to a rep or escalation contact of any team that is about this lead. */
async function repEmailsAbout(marker: string): Promise<DevEmail[]> {
  const staff = new Set(stack.config.teams.teams.flatMap((t) => [...t.reps.map((r) => r.email), t.escalation?.email]).filter(Boolean));
  const res = await fetch(`${stack.url}/dev/emails`);
  return ((await res.json()) as DevEmail[]).filter((e) => e.to.some((t) => staff.has(t)) && e.subject.includes(marker));
}

/** Queue entries for the lead, as an admin (who sees every team's queue) reads them. */
async function queued(leadId: string): Promise<{ leadId: string; teamId: string }[]> {
  const queue = (await call("GET", "/v1/sales/queue", "admin@acme-analytics.example", undefined, ["admin"])).body as {
    unclaimed: { leadId: string; teamId: string }[];
    claimed: { leadId: string; teamId: string }[];
  };
  return [...queue.unclaimed, ...queue.claimed].filter((e) => e.leadId === leadId);
}

function assignedRep(leadId: string): string {
  const assigned = stack.bus.history.filter((e) => e["detail-type"] === "lead.assigned" && e.detail.leadId === leadId);
  return String(assigned.at(-1)?.detail.rep);
}

describe("not now means not now", () => {
  it("keeps a not-now lead with marketing until its recycle date, then re-qualifies it only on new engagement", { timeout: 300_000 }, async () => {
    // A VP (and team lead) at a 1,500-person company: fit alone (65) clears every threshold.
    const company = `Engines ${run}`;
    const { leadId, token } = await capture(
      "demo-request",
      demoLead(`ada.notnow.${run}@engines-${run}.example`, { company, title: "VP, Sales Operations Lead" }),
    );
    expect((await viewLead(leadId)).lead.stage).toBe("sales");
    expect(await queued(leadId)).toHaveLength(1);
    expect(await repEmailsAbout(company)).toHaveLength(1);

    const rep = assignedRep(leadId);
    expect((await call("POST", `/v1/sales/leads/${leadId}/claim`, rep)).status).toBe(200);
    const recycleOn = new Date(stack.clock.now().getTime() + 30 * DAY).toISOString().slice(0, 10);
    const closed = await call("POST", `/v1/sales/leads/${leadId}/outcome`, rep, { outcome: "not-now", reason: "timing", recycleOn });
    expect(closed.status).toBe(200);
    await stack.bus.drain();
    expect((await viewLead(leadId)).lead.stage).toBe("not-now");

    // The next day the lead reads the pricing page: it stays parked, no queue, no rep is told.
    await advance("P1D");
    await pageView(token, "/pricing");
    await pageView(token, "/pricing/enterprise");
    expect((await viewLead(leadId)).lead.stage).toBe("not-now");
    expect(await queued(leadId)).toEqual([]);
    expect(await repEmailsAbout(company)).toHaveLength(1);
    expect(stack.bus.history.filter((e) => e["detail-type"] === "lead.qualified" && e.detail.leadId === leadId)).toHaveLength(1);

    // Past the recycle date: recycled, in the recycle sequence, engagement reset (fit stays), and
    // still not with sales although its fit alone clears the threshold.
    await advance("P30D");
    const recycled = await viewLead(leadId);
    expect(recycled.lead).toMatchObject({ stage: "recycled", segment: "recycle" });
    expect(recycled.score?.value).toBe(65);
    expect(recycled.score?.reasons.filter((r) => r.rule !== "decay").every((r) => ["senior-title", "manager-title", "large-company", "target-country", "company-domain"].includes(r.rule))).toBe(true);
    expect((await stack.nurture.getEnrollment(leadId, "recycle-nurture"))?.status).toBe("active");
    expect(await queued(leadId)).toEqual([]);
    expect(await repEmailsAbout(company)).toHaveLength(1);

    // Engagement after the date takes it back to sales, to the team that works recycled leads.
    await pageView(token, "/pricing");
    expect((await viewLead(leadId)).lead.stage).toBe("sales");
    expect((await queued(leadId)).map((e) => e.teamId)).toEqual(["smb"]);
    expect(await repEmailsAbout(company)).toHaveLength(2);
  });
});

describe("decay takes effect", () => {
  it("lowers an idle lead's shown score as scoring.yaml says, and new activity does not bring decayed points back", { timeout: 60_000 }, async () => {
    // Office manager at a company domain: fit 20; whitepaper 10 and a pricing visit 16 make 26 engagement.
    const { leadId, token } = await capture("whitepaper", {
      email: `grace.idle.${run}@compilers-${run}.example`,
      firstName: "Grace",
      company: `Compilers ${run}`,
      title: "Office manager",
      consent: true,
    });
    await pageView(token, "/pricing");
    expect((await viewLead(leadId)).score?.value).toBe(46);

    // 30 idle days, then one whole week: engagement loses 10% (26 → 23.4, shown 23).
    await advance("P38D");
    const idle = await viewLead(leadId);
    expect(idle.score?.value).toBe(43);
    expect(idle.score?.reasons.find((r) => r.rule === "decay")?.points).toBe(-3);

    // One more page view adds its one point to what is left, not to the undecayed 26.
    await pageView(token, "/about");
    expect((await viewLead(leadId)).score?.value).toBe(44);
  });
});

describe("unsubscribing ends marketing's hold, not a customer relationship", () => {
  it("keeps a won customer a customer (purchases still earn points) after it leaves marketing email", { timeout: 120_000 }, async () => {
    const address = `nora.customer.${run}@shop-${run}.example`;
    const { leadId } = await capture("demo-request", demoLead(address, { company: `Shop ${run}` }));
    const rep = assignedRep(leadId);
    expect((await call("POST", `/v1/sales/leads/${leadId}/claim`, rep)).status).toBe(200);
    expect((await call("POST", `/v1/sales/leads/${leadId}/outcome`, rep, { outcome: "won", amount: 9000 })).status).toBe(200);
    await stack.bus.drain();
    expect((await viewLead(leadId)).lead.stage).toBe("customer");

    // Quarter-day steps land inside the retention sequence's send window whatever the time of day.
    let onboarding: DevEmail | undefined;
    for (let i = 0; i < 40 && !onboarding; i++) {
      await advance("PT6H");
      const res = await fetch(`${stack.url}/dev/emails?to=${encodeURIComponent(address)}`);
      onboarding = ((await res.json()) as DevEmail[]).find((e) => e.sequenceId === "customer-retention");
    }
    const link = /<(http[^>]+)>/.exec(onboarding?.headers["List-Unsubscribe"] ?? "")?.[1];
    expect(link).toContain("/v1/unsubscribe?token=");
    const oneClick = await fetch(link!, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "List-Unsubscribe=One-Click" });
    expect(oneClick.status).toBe(200);
    await stack.bus.drain();

    expect((await viewLead(leadId)).lead.stage).toBe("customer");
    const shop = await signHs256Token({ email: "shop@acme.example", roles: ["integration"] }, stack.authSecret);
    const bought = await post(`${stack.url}/v1/customers/${leadId}/purchases`, { purchaseId: `o-${run}`, amount: 100, currency: "USD" }, { authorization: `Bearer ${shop}` });
    expect(bought.status).toBe(201);
  });
});
