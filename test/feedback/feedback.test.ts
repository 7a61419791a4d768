/**
 * Outcomes back to marketing on DynamoDB Local: each closure applies once however often
 * `lead.closed` arrives; not-now leads come back on their date, once, with the score reset
 * scoring.yaml asks for.
 */
import { QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { applyOutcome, type FeedbackDeps, recycleDueLeads } from "@leadloop/core";
import { DynamoFeedbackStore } from "@leadloop/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, nurtureHarness, uniqueEmail } from "../nurture/harness";

let h: Harness;
let deps: FeedbackDeps;
const DAY = 86_400_000;

beforeAll(async () => {
  h = await nurtureHarness();
  deps = { config: h.config, leads: h.leads, feedback: new DynamoFeedbackStore({ client: h.table.client, tableName: h.table.tableName }), publisher: h.bus, clock: h.clock };
});
afterAll(async () => {
  await h?.close();
});

const closed = (leadId: string, outcome: string, extra: Record<string, unknown> = {}) => ({
  leadId,
  teamId: "enterprise-east",
  rep: "rep@acme.example",
  outcome,
  closedAt: h.clock.now().toISOString(),
  ...extra,
});

async function activities(leadId: string, type: string) {
  const out = await h.table.client.send(
    new QueryCommand({
      TableName: h.table.tableName,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :a)",
      ExpressionAttributeValues: { ":pk": `LEAD#${leadId}`, ":a": "ACT#" },
      ConsistentRead: true,
    }),
  );
  return (out.Items ?? []).filter((i) => i.type === type);
}

const events = (leadId: string, type: string) => h.bus.history.filter((e) => e["detail-type"] === type && e.detail.leadId === leadId);

describe("applyOutcome", () => {
  it("makes a won lead a customer once, and announces it for the retention sequence", async () => {
    const id = await h.capture(uniqueEmail("won"));
    const event = closed(id, "won", { amount: 12000, currency: "USD" });
    expect(await applyOutcome(deps, event)).toBe("recorded");
    expect(await applyOutcome(deps, event)).toBe("duplicate");
    const lead = await h.leads.getLead(id);
    expect(lead).toMatchObject({ stage: "customer", segment: "customer" });
    expect(await activities(id, "deal.closed")).toHaveLength(1);
    // Announced again on the redelivery: enrolling twice changes nothing, losing it would.
    expect(events(id, "lead.updated").map((e) => e.detail)).toEqual([
      { leadId: id, segment: "customer", stage: "customer", reason: "won", closedAt: event.closedAt },
      { leadId: id, segment: "customer", stage: "customer", reason: "won", closedAt: event.closedAt },
    ]);
  });

  it("keeps a lost lead's reason code and its label from teams.yaml", async () => {
    const id = await h.capture(uniqueEmail("lost"));
    await applyOutcome(deps, closed(id, "lost", { reason: "competitor" }));
    expect(await h.leads.getLead(id)).toMatchObject({ stage: "lost" });
    const [activity] = await activities(id, "deal.closed");
    expect(activity?.data).toMatchObject({ outcome: "lost", reason: "competitor", reasonLabel: "Chose a competitor", rep: "rep@acme.example" });
    await applyOutcome(deps, closed(id, "disqualified", { reason: "student", closedAt: new Date(h.clock.now().getTime() + 1000).toISOString() }));
    expect(await h.leads.getLead(id)).toMatchObject({ stage: "disqualified" });
  });

  it("ignores an older closure delivered after a newer one", async () => {
    const id = await h.capture(uniqueEmail("order"));
    const later = new Date(h.clock.now().getTime() + 60_000).toISOString();
    await applyOutcome(deps, closed(id, "won", { closedAt: later }));
    expect(await applyOutcome(deps, closed(id, "lost", { reason: "price" }))).toBe("superseded");
    expect(await h.leads.getLead(id)).toMatchObject({ stage: "customer" });
  });
});

describe("recycleDueLeads", () => {
  it("brings a not-now lead back on its date, once, with engagement reset as scoring.yaml says", async () => {
    const id = await h.capture(uniqueEmail("notnow"));
    // A stored score, as engagement scoring keeps it.
    await h.table.client.send(
      new UpdateCommand({
        TableName: h.table.tableName,
        Key: { pk: `LEAD#${id}`, sk: "LEAD" },
        UpdateExpression: "SET score = :s, qualifiedAt = :q",
        ExpressionAttributeValues: { ":s": { fit: 40, engagement: 30, total: 70, threshold: 50, reasons: [] }, ":q": h.clock.now().toISOString() },
      }),
    );
    const recycleOn = new Date(h.clock.now().getTime() + 10 * DAY).toISOString().slice(0, 10);
    const event = closed(id, "not-now", { recycleOn });
    await applyOutcome(deps, event);
    await applyOutcome(deps, event);

    expect((await recycleDueLeads(deps)).recycled).toBe(0);
    h.clock.advance(10 * DAY);
    try {
      const [first, second] = await Promise.all([recycleDueLeads(deps), recycleDueLeads(deps)]);
      expect((first?.recycled ?? 0) + (second?.recycled ?? 0)).toBeGreaterThanOrEqual(1);
      const lead = await h.leads.getLead(id);
      expect(lead).toMatchObject({ stage: "recycled", segment: "recycle" });
      expect(lead?.score).toMatchObject({ fit: 40, engagement: 0, total: 40 });
      expect(await activities(id, "lead.recycled")).toHaveLength(1);
      const announced = events(id, "lead.recycled");
      expect(announced.length).toBeGreaterThanOrEqual(1);
      expect(announced[0]?.detail).toMatchObject({ leadId: id, segment: "recycle", stage: "recycled", engagement: { mode: "reset", before: 30, after: 0 } });
      // The schedule is empty now: a later run does nothing.
      expect(await recycleDueLeads(deps)).toEqual({ due: 0, recycled: 0, stale: 0 });
    } finally {
      h.clock.advance(-10 * DAY);
    }
  });

  it("does not recycle a lead that was won before its recycle date", async () => {
    const id = await h.capture(uniqueEmail("comeback"));
    const recycleOn = new Date(h.clock.now().getTime() + 5 * DAY).toISOString();
    await applyOutcome(deps, closed(id, "not-now", { recycleOn }));
    await applyOutcome(deps, closed(id, "won", { closedAt: new Date(h.clock.now().getTime() + DAY).toISOString() }));
    h.clock.advance(6 * DAY);
    try {
      await recycleDueLeads(deps);
      expect(await h.leads.getLead(id)).toMatchObject({ stage: "customer" });
      expect(events(id, "lead.recycled")).toHaveLength(0);
    } finally {
      h.clock.advance(-6 * DAY);
    }
  });

  it("never pulls a lead out of a sales queue on its recycle date", async () => {
    const id = await h.capture(uniqueEmail("insales"));
    const recycleOn = new Date(h.clock.now().getTime() + 5 * DAY).toISOString();
    await applyOutcome(deps, closed(id, "not-now", { recycleOn }));
    expect(await h.leads.getLead(id)).toMatchObject({ stage: "not-now" });
    // However it got there (an admin, an old qualification delivered late), it is with sales now.
    await h.leads.updateLead(id, { stage: "sales" }, h.clock.now().toISOString());
    h.clock.advance(6 * DAY);
    try {
      expect(await recycleDueLeads(deps)).toMatchObject({ due: 1, recycled: 0, stale: 1 });
      expect(await h.leads.getLead(id)).toMatchObject({ stage: "sales" });
      expect(events(id, "lead.recycled")).toHaveLength(0);
      expect(await recycleDueLeads(deps)).toEqual({ due: 0, recycled: 0, stale: 0 });
    } finally {
      h.clock.advance(-6 * DAY);
    }
  });

  it("recycles, on its date, a lead parked as 'recycled' before the lifecycle had a not-now stage", async () => {
    const id = await h.capture(uniqueEmail("legacy"));
    await applyOutcome(deps, closed(id, "not-now", { recycleOn: new Date(h.clock.now().getTime() + 5 * DAY).toISOString() }));
    await h.leads.updateLead(id, { stage: "recycled" }, h.clock.now().toISOString());
    h.clock.advance(6 * DAY);
    try {
      expect(await recycleDueLeads(deps)).toMatchObject({ due: 1, recycled: 1, stale: 0 });
      expect(await h.leads.getLead(id)).toMatchObject({ stage: "recycled", segment: "recycle" });
      expect(await activities(id, "lead.recycled")).toHaveLength(1);
    } finally {
      h.clock.advance(-6 * DAY);
    }
  });
});
