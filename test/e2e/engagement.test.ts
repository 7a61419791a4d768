import type { EventEnvelope } from "@leadloop/core";
import type { LocalStack } from "@leadloop/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoLead, post, startTestStack } from "./local-stack";

interface DevEmail {
  messageId: string;
  to: string[];
  sequenceId?: string;
  stepId?: string;
}

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

/** A senior buyer downloading the whitepaper: enterprise, 40 points (fit 30 + whitepaper 10), threshold 50. */
const whitepaperLead = (email: string) => ({ email, firstName: "Grace", company: "Compilers Inc", title: "VP Data", consent: true });

async function capture(formId: string, body: Record<string, unknown>) {
  const res = await post(`${stack.url}/v1/forms/${formId}/submissions`, body);
  expect(res.status).toBe(202);
  await stack.bus.drain();
  return (await res.json()) as { leadId: string; token: string };
}

async function emailsTo(address: string): Promise<DevEmail[]> {
  return (await (await fetch(`${stack.url}/dev/emails?to=${encodeURIComponent(address)}`)).json()) as DevEmail[];
}

/** Moves the virtual clock until the lead's first nurture email is out (weekends and send windows vary with the real date). */
async function firstEmail(address: string): Promise<DevEmail> {
  for (let i = 0; i < 24; i++) {
    const [first] = (await emailsTo(address)).filter((e) => e.sequenceId);
    if (first) return first;
    expect((await post(`${stack.url}/dev/clock/advance`, { by: "PT6H" })).status).toBe(200);
  }
  throw new Error(`no nurture email reached ${address}`);
}

async function inject(messageId: string, action: string, body?: Record<string, unknown>) {
  const res = await post(`${stack.url}/dev/emails/${messageId}/${action}`, body ?? {});
  return res;
}

const eventsOf = (type: string, leadId: string) =>
  stack.bus.history.filter((e) => e["detail-type"] === type && (e.detail as { leadId?: string }).leadId === leadId);

describe("engagement on the local stack", () => {
  it("scores a click, qualifies the lead once when two clicks race across the threshold, and ends its nurture", async () => {
    const address = "grace.clicks@compilers.example";
    const { leadId } = await capture("whitepaper", whitepaperLead(address));
    const captured = await stack.store.getLead(leadId);
    expect(captured?.segment).toBe("enterprise");
    expect(captured?.score).toMatchObject({ fit: 30, engagement: 10, total: 40, threshold: 50 });
    expect(captured?.stage).toBe("lead");

    const email = await firstEmail(address);
    expect(email.sequenceId).toBe("enterprise-nurture");

    const click = await inject(email.messageId, "click", { link: "https://www.acme-analytics.example/pricing" });
    expect(click.status).toBe(202);
    const sesEvent = (await click.json()) as EventEnvelope;
    expect(sesEvent).toMatchObject({ source: "aws.ses", "detail-type": "Email Clicked", detail: { eventType: "Click", mail: { messageId: email.messageId } } });
    expect((sesEvent.detail as { mail: { tags: Record<string, string[]> } }).mail.tags).toMatchObject({
      lead: [leadId],
      sequence: ["enterprise-nurture"],
      "ses:configuration-set": ["leadloop-local"],
    });
    await stack.bus.drain();

    const afterClick = await stack.store.getLead(leadId);
    expect(afterClick?.score?.total).toBe(45);
    expect(afterClick?.score?.reasons).toContainEqual({ rule: "email-clicked", category: "engagement", points: 5, count: 1 });
    expect(afterClick?.stage).toBe("lead");
    expect(eventsOf("lead.scored", leadId).at(-1)?.detail).toEqual({
      leadId,
      segment: "enterprise",
      score: 45,
      fit: 30,
      engagement: 15,
      threshold: 50,
      previousScore: 40,
    });
    const message = await stack.nurture.getMessageByProviderId(email.messageId);
    expect(message?.clickedAt).toBeDefined();

    // SES delivers at least once: the same event again counts for nothing.
    stack.bus.put(sesEvent);
    await stack.bus.drain();
    expect((await stack.store.getLead(leadId))?.score?.total).toBe(45);

    const racing = await Promise.all([inject(email.messageId, "click"), inject(email.messageId, "click")]);
    expect(racing.map((r) => r.status)).toEqual([202, 202]);
    await stack.bus.drain();

    const qualified = await stack.store.getLead(leadId);
    expect(qualified?.score?.total).toBe(55);
    // mql, or already sales once the hand-off assigned it.
    expect(["mql", "sales"]).toContain(qualified?.stage);
    expect(qualified?.qualifiedAt).toBeDefined();
    const announcements = eventsOf("lead.qualified", leadId);
    expect(announcements).toHaveLength(1);
    expect(announcements[0]?.detail).toMatchObject({ leadId, segment: "enterprise", threshold: 50, qualifiedAt: qualified?.qualifiedAt });
    // The announcement carries the score that crossed the threshold: one racing click (50) or
    // both (55), whichever scoring qualified the lead first.
    const crossing = announcements[0]?.detail as { score?: number } | undefined;
    expect([50, 55]).toContain(crossing?.score);
    const reasons = (announcements[0]?.detail as { reasons?: { rule: string; points: number }[] } | undefined)?.reasons ?? [];
    expect(reasons[0]).toEqual({ rule: "senior-title", category: "fit", points: 20 });
    expect(reasons.map((r) => r.rule)).toContain("email-clicked");
    expect(reasons.length).toBeLessThanOrEqual(5);

    const enrollment = await stack.nurture.getEnrollment(leadId, "enterprise-nurture");
    expect(enrollment).toMatchObject({ status: "ended", endReason: "exit:lead.qualified" });

    // Another click after qualifying moves the score but never qualifies twice.
    await inject(email.messageId, "open");
    await stack.bus.drain();
    expect((await stack.store.getLead(leadId))?.score?.total).toBe(57);
    expect(eventsOf("lead.qualified", leadId)).toHaveLength(1);
  });

  it("qualifies a lead whose fit and form alone cross the threshold at capture", async () => {
    const { leadId } = await capture("demo-request", demoLead("ada.fit@engines.example"));
    const lead = await stack.store.getLead(leadId);
    expect(["mql", "sales"]).toContain(lead?.stage);
    expect(lead?.score?.total).toBeGreaterThanOrEqual(50);
    expect(eventsOf("lead.qualified", leadId)).toHaveLength(1);
    // Straight to sales: the enterprise nurture, which exits on qualifying, never runs for it.
    expect((await stack.nurture.getEnrollment(leadId, "enterprise-nurture"))?.status ?? "none").not.toBe("active");
  });

  it("suppresses a permanently bounced address at once and ends its enrollments; a transient bounce only records", async () => {
    const address = "gone.away@compilers.example";
    const { leadId } = await capture("whitepaper", whitepaperLead(address));
    const email = await firstEmail(address);

    expect((await inject(email.messageId, "bounce", { bounceType: "Transient" })).status).toBe(202);
    await stack.bus.drain();
    expect(await stack.store.getSuppression(address)).toBeUndefined();
    expect((await stack.nurture.getEnrollment(leadId, "enterprise-nurture"))?.status).toBe("active");

    expect((await inject(email.messageId, "bounce")).status).toBe(202);
    await stack.bus.drain();
    expect(await stack.store.getSuppression(address)).toMatchObject({ reason: "bounced" });
    expect((await stack.nurture.getEnrollment(leadId, "enterprise-nurture"))).toMatchObject({ status: "ended", endReason: "bounced" });
    const bounces = (await stack.store.listActivities(leadId)).filter((a) => a.type === "email.bounced");
    expect(bounces.map((a) => a.data.bounceType).sort()).toEqual(["Permanent", "Transient"]);
    expect((await stack.nurture.getMessageByProviderId(email.messageId))?.bouncedAt).toBeDefined();
  });

  it("suppresses an address that complained", async () => {
    const address = "not.amused@compilers.example";
    const { leadId } = await capture("whitepaper", whitepaperLead(address));
    const email = await firstEmail(address);
    expect((await inject(email.messageId, "complaint")).status).toBe(202);
    await stack.bus.drain();
    expect(await stack.store.getSuppression(address)).toMatchObject({ reason: "complained" });
    expect((await stack.nurture.getEnrollment(leadId, "enterprise-nurture"))?.status).toBe("ended");
  });

  it("answers 404 problems for an unknown message or action", async () => {
    const unknown = await inject("no-such-message", "click");
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("content-type")).toContain("application/problem+json");
    const { leadId: _ } = await capture("whitepaper", whitepaperLead("action.check@compilers.example"));
    const email = await firstEmail("action.check@compilers.example");
    const badAction = await inject(email.messageId, "forward");
    expect(badAction.status).toBe(404);
    const problem = (await badAction.json()) as { errors: { field: string }[] };
    expect(problem.errors[0]?.field).toBe("action");
  });
});

describe("POST /v1/events", () => {
  it("raises the score of the lead its token names, also when sent as text/plain by sendBeacon", async () => {
    const { leadId, token } = await capture("whitepaper", whitepaperLead("site.visitor@compilers.example"));
    const res = await post(`${stack.url}/v1/events`, { token, type: "page_view", url: "https://www.acme-analytics.example/pricing", title: "Pricing" }, {
      origin: "https://www.acme-analytics.example",
    });
    expect(res.status).toBe(202);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://www.acme-analytics.example");
    await stack.bus.drain();
    const lead = await stack.store.getLead(leadId);
    // 40 + pricing page 15 + any page view 1
    expect(lead?.score?.total).toBe(56);
    expect(lead?.score?.reasons).toContainEqual({ rule: "pricing-page", category: "engagement", points: 15, count: 1 });
    expect(lead?.qualifiedAt).toBeDefined();

    const beacon = await fetch(`${stack.url}/v1/events`, {
      method: "POST",
      headers: { "content-type": "text/plain;charset=UTF-8" },
      body: JSON.stringify({ token, type: "webinar_attended" }),
    });
    expect(beacon.status).toBe(202);
    expect((await stack.store.getLead(leadId))?.score?.total).toBe(76);
  });

  it("refuses a forged or expired token with 401 problem JSON, and names wrong fields with 422", async () => {
    const { leadId, token } = await capture("whitepaper", whitepaperLead("token.check@compilers.example"));
    const forged = `${token.split(".")[0]}.${"A".repeat(43)}`;
    const expired = stack.signer.sign({ sub: leadId, purpose: "lead", exp: Math.floor(stack.clock.now().getTime() / 1000) - 60 });
    for (const bad of [forged, expired, stack.signer.sign({ sub: leadId, purpose: "unsubscribe", exp: 4_000_000_000 })]) {
      const res = await post(`${stack.url}/v1/events`, { token: bad, type: "page_view", url: "https://www.acme-analytics.example/" });
      expect(res.status).toBe(401);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
    }
    expect((await stack.store.getLead(leadId))?.score?.total).toBe(40);

    const invalid = await post(`${stack.url}/v1/events`, { token, type: "purchase", url: "not a url" });
    expect(invalid.status).toBe(422);
    const problem = (await invalid.json()) as { errors: { field: string }[] };
    expect(problem.errors.map((e) => e.field).sort()).toEqual(["type", "url"]);

    const missing = await post(`${stack.url}/v1/events`, { type: "page_view" });
    expect(missing.status).toBe(422);
    expect(((await missing.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual(["token"]);

    const evil = await post(`${stack.url}/v1/events`, { token, type: "page_view" }, { origin: "https://evil.example" });
    expect(evil.status).toBe(403);
  });
});
