/**
 * Events a consumer needs for correctness survive a bus that refuses them. The stack's publisher
 * refuses chosen event types (the way PutEvents fails in an EventBridge outage) while a lead is
 * handed off and a rep records its outcome over the API; once the bus is back, the republisher
 * (run by the local stack's periodic jobs when the virtual clock moves) announces what was left,
 * and the consumers act on it: feedback applies the outcome, the assignment reaches the bus once.
 */
import { signHs256Token } from "@leadloop/api";
import { type BusEvent, type EventPublisher, PublishError } from "@leadloop/core";
import type { LocalStack } from "@leadloop/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoLead, post, startTestStack } from "./local-stack";

const run = Math.random().toString(36).slice(2, 8);
/** Event types the bus refuses while a test says so. */
const refusing = new Set<string>();
/** Event types the bus takes but never answers for (a PutEvents that hangs until the function's timeout). */
const hanging = new Set<string>();
let stack: LocalStack;

function refusingPublisher(bare: EventPublisher): EventPublisher {
  return {
    async publish(events: BusEvent[]) {
      // Never settles: the process that called it is as good as dead (killed at its timeout).
      if (events.some((e) => hanging.has(e.type))) return new Promise<void>(() => {});
      const refused = events.find((e) => refusing.has(e.type));
      if (refused) throw new PublishError(`EventBridge refused ${refused.type} (ServiceUnavailable, injected)`);
      await bare.publish(events);
    },
  };
}

beforeAll(async () => {
  stack = await startTestStack({ wrapAdapters: (bare) => ({ publisher: refusingPublisher(bare.publisher) }) });
});
afterAll(async () => {
  refusing.clear();
  hanging.clear();
  await stack?.stop();
});

const token = (email: string) => signHs256Token({ email, roles: ["rep"] }, stack.authSecret);

async function call(method: string, path: string, as: string, body?: unknown) {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${await token(as)}`, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const eventsOf = (type: string, leadId: string) => stack.bus.history.filter((e) => e["detail-type"] === type && e.detail.leadId === leadId);

/** A captured US enterprise lead, qualified by scoring or, failing that, announced as scoring does. */
async function qualifiedLead(lastName: string): Promise<string> {
  const email = `${lastName.toLowerCase()}.${run}@bigco.example`;
  const res = await post(`${stack.url}/v1/forms/demo-request/submissions`, demoLead(email, { lastName, country: "US", company: `BigCo ${run}` }));
  expect(res.status).toBe(202);
  const { leadId } = (await res.json()) as { leadId: string };
  await stack.bus.drain();
  if (eventsOf("lead.qualified", leadId).length === 0) {
    await stack.bus.publish([
      {
        type: "lead.qualified",
        detail: { leadId, segment: "enterprise", score: 74, threshold: 60, qualifiedAt: stack.clock.now().toISOString(), country: "US", reasons: [] },
      },
    ]);
    await stack.bus.drain();
  }
  return leadId;
}

/** Moves the virtual clock past the republisher's grace period; the stack runs its jobs. */
async function letTheRepublisherRun(): Promise<void> {
  const res = await post(`${stack.url}/dev/clock/advance`, { by: "PT10M" });
  expect(res.status).toBe(200);
  await stack.bus.drain();
}

async function emailsTo(address: string): Promise<{ sequenceId?: string; stepId?: string }[]> {
  const res = await fetch(`${stack.url}/dev/emails?to=${encodeURIComponent(address)}`);
  return (await res.json()) as { sequenceId?: string; stepId?: string }[];
}

describe("a capture whose process died before the bus answered", () => {
  it("announces the stored lead once the grace period has passed: it is enrolled and gets its first email once", async () => {
    const address = `hung.${run}@engines.example`;
    const leadId = stack.store.leadIdFor(address);
    hanging.add("lead.captured");
    // A whitepaper download by a VP: the enterprise nurture, not sales (see the nurture suite).
    const aborted = new AbortController();
    const request = fetch(`${stack.url}/v1/forms/whitepaper/submissions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: address, firstName: "Ada", company: "Analytical Engines Ltd", title: "VP Engineering", consent: true }),
      signal: aborted.signal,
    }).catch((error: unknown) => error);
    // The put lands while PutEvents hangs; then the client gives up (the function timed out).
    for (let i = 0; i < 500 && !(await stack.store.getLead(leadId)); i++) await new Promise((r) => setTimeout(r, 10));
    expect(await stack.store.getLead(leadId)).toBeDefined();
    aborted.abort();
    expect(await request).toBeInstanceOf(Error);
    hanging.delete("lead.captured");
    await stack.bus.drain();
    expect(eventsOf("lead.captured", leadId)).toHaveLength(0);

    // Past the grace period the republisher announces it; then its first step falls due.
    await letTheRepublisherRun();
    expect(eventsOf("lead.captured", leadId)).toHaveLength(1);
    expect((await stack.nurture.listEnrollments(leadId)).map((e) => e.sequenceId)).toEqual(["enterprise-nurture"]);
    const welcome = async () => (await emailsTo(address)).filter((e) => e.sequenceId === "enterprise-nurture" && e.stepId === "welcome");
    // Six-hour steps: whether the send window is open depends on the real time of day.
    for (let i = 0; i < 20 && (await welcome()).length === 0; i++) {
      expect((await post(`${stack.url}/dev/clock/advance`, { by: "PT6H" })).status).toBe(200);
      await stack.bus.drain();
    }
    expect(await welcome()).toHaveLength(1);
    // Announced once: later republisher runs leave it alone.
    await letTheRepublisherRun();
    expect(eventsOf("lead.captured", leadId)).toHaveLength(1);
    expect(await welcome()).toHaveLength(1);
  });

  it("announces a merged submission whose capture died before the bus answered, once", async () => {
    const address = `merged.${run}@engines.example`;
    const body = { email: address, firstName: "Ada", company: "Analytical Engines Ltd", title: "VP Engineering", consent: true };
    const first = await post(`${stack.url}/v1/forms/whitepaper/submissions`, body);
    expect(first.status).toBe(202);
    const { leadId } = (await first.json()) as { leadId: string };
    await stack.bus.drain();
    expect(eventsOf("lead.captured", leadId)).toHaveLength(1);

    hanging.add("lead.captured");
    const aborted = new AbortController();
    const request = fetch(`${stack.url}/v1/forms/whitepaper/submissions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...body, title: "CTO" }),
      signal: aborted.signal,
    }).catch((error: unknown) => error);
    const submissions = async () => (await stack.store.listActivities(leadId)).filter((a) => a.type === "form.submitted").length;
    for (let i = 0; i < 500 && (await submissions()) < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(await submissions()).toBe(2);
    aborted.abort();
    expect(await request).toBeInstanceOf(Error);
    hanging.delete("lead.captured");

    await letTheRepublisherRun();
    expect(eventsOf("lead.captured", leadId)).toHaveLength(2);
    await letTheRepublisherRun();
    expect(eventsOf("lead.captured", leadId)).toHaveLength(2);
  });

  it("does not announce a lead twice when its capture was answered normally", async () => {
    const address = `normal.${run}@engines.example`;
    const res = await post(`${stack.url}/v1/forms/whitepaper/submissions`, {
      email: address,
      firstName: "Ada",
      company: "Analytical Engines Ltd",
      title: "VP Engineering",
      consent: true,
    });
    expect(res.status).toBe(202);
    const { leadId } = (await res.json()) as { leadId: string };
    await stack.bus.drain();
    // The scorer saw its lead.captured and took it off the republisher's list.
    expect((await stack.store.listUnpublished(1000)).map((l) => l.id)).not.toContain(leadId);
    expect((await stack.store.getLead(leadId))?.published).toBe(true);
    await letTheRepublisherRun();
    await letTheRepublisherRun();
    expect(eventsOf("lead.captured", leadId)).toHaveLength(1);

    // A merge answered normally: its two announcements (the speculative one and the merged lead's), no third.
    const again = await post(`${stack.url}/v1/forms/whitepaper/submissions`, { email: address, firstName: "Ada", company: "Analytical Engines Ltd", title: "CTO", consent: true });
    expect(again.status).toBe(202);
    await stack.bus.drain();
    expect((await stack.store.listUnpublished(1000)).map((l) => l.id)).not.toContain(leadId);
    await letTheRepublisherRun();
    expect(eventsOf("lead.captured", leadId)).toHaveLength(3);
  });
});

describe("reliable events through a bus outage", () => {
  it("lead.assigned refused by the bus reaches it later, once", async () => {
    refusing.add("lead.assigned");
    const leadId = await qualifiedLead(`Assigned${run}`);
    const handoff = await stack.sales.getHandoff(leadId);
    expect(handoff?.item?.rep).toBeTruthy();
    expect(eventsOf("lead.assigned", leadId)).toHaveLength(0);

    refusing.delete("lead.assigned");
    await letTheRepublisherRun();
    const assigned = eventsOf("lead.assigned", leadId);
    expect(assigned).toHaveLength(1);
    expect(assigned[0]?.detail).toMatchObject({ leadId, teamId: handoff?.item?.teamId, rep: handoff?.item?.rep });

    await letTheRepublisherRun();
    expect(eventsOf("lead.assigned", leadId)).toHaveLength(1);
  });

  it("lead.claimed refused by the bus reaches it later, and a second rep still gets 409", async () => {
    const leadId = await qualifiedLead(`Claimed${run}`);
    const rep = String((await stack.sales.getHandoff(leadId))?.item?.rep);
    refusing.add("lead.claimed");
    expect((await call("POST", `/v1/sales/leads/${leadId}/claim`, rep)).status).toBe(200);
    expect((await call("POST", `/v1/sales/leads/${leadId}/claim`, rep)).status).toBe(200);
    const other = rep.startsWith("dana") ? "marcus.lee@acme-analytics.example" : "dana.whitfield@acme-analytics.example";
    expect((await call("POST", `/v1/sales/leads/${leadId}/claim`, other)).status).toBe(409);
    expect(eventsOf("lead.claimed", leadId)).toHaveLength(0);

    refusing.delete("lead.claimed");
    await letTheRepublisherRun();
    const claimed = eventsOf("lead.claimed", leadId);
    expect(claimed).toHaveLength(1);
    expect(claimed[0]?.detail).toMatchObject({ leadId, rep });
  });

  it("lead.claimed refused by the bus and then the outcome recorded at once: both reach it later, once each, claimed first", async () => {
    // The claim's reminder leaves with the queue item the outcome removes: the closure carries it.
    const leadId = await qualifiedLead(`ClaimedClosed${run}`);
    const rep = String((await stack.sales.getHandoff(leadId))?.item?.rep);
    refusing.add("lead.claimed");
    expect((await call("POST", `/v1/sales/leads/${leadId}/claim`, rep)).status).toBe(200);
    expect((await call("POST", `/v1/sales/leads/${leadId}/outcome`, rep, { outcome: "lost", reason: "price" })).status).toBe(200);
    await stack.bus.drain();
    expect(eventsOf("lead.claimed", leadId)).toHaveLength(0);

    refusing.delete("lead.claimed");
    await letTheRepublisherRun();
    await letTheRepublisherRun();
    expect(eventsOf("lead.claimed", leadId)).toHaveLength(1);
    expect(eventsOf("lead.claimed", leadId)[0]?.detail).toMatchObject({ leadId, rep });
    expect(eventsOf("lead.closed", leadId)).toHaveLength(1);
    const order = stack.bus.history.filter((e) => e.detail.leadId === leadId).map((e) => e["detail-type"]);
    expect(order.indexOf("lead.claimed")).toBeLessThan(order.indexOf("lead.closed"));
  });

  it("lead.closed refused by the bus is applied by feedback once the republisher ran", async () => {
    const leadId = await qualifiedLead(`Closed${run}`);
    const rep = String((await stack.sales.getHandoff(leadId))?.item?.rep);
    expect((await call("POST", `/v1/sales/leads/${leadId}/claim`, rep)).status).toBe(200);

    refusing.add("lead.closed");
    const outcome = await call("POST", `/v1/sales/leads/${leadId}/outcome`, rep, { outcome: "lost", reason: "price" });
    expect(outcome.status).toBe(200);
    await stack.bus.drain();
    const dealClosed = async () => (await stack.store.listActivities(leadId)).filter((a) => a.type === "deal.closed");
    expect(eventsOf("lead.closed", leadId)).toHaveLength(0);
    expect(await dealClosed()).toHaveLength(0);

    // Still refused: a republisher run that fails leaves it for the next one.
    await letTheRepublisherRun();
    expect(await dealClosed()).toHaveLength(0);

    refusing.delete("lead.closed");
    await letTheRepublisherRun();
    expect(eventsOf("lead.closed", leadId)).toHaveLength(1);
    const [applied] = await dealClosed();
    expect(applied?.data).toMatchObject({ outcome: "lost", reason: "price", rep });

    await letTheRepublisherRun();
    expect(eventsOf("lead.closed", leadId)).toHaveLength(1);
  });
});
