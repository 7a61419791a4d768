import { randomUUID } from "node:crypto";
import { PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { buildCohortReport, buildFunnelReport, type EventEnvelope, parseCohortQuery, recordReportEvent } from "@leadloop/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestTable, type TestTable } from "../../../test/engines";
import { DynamoReportStore } from "./dynamo-report-store";
import { keys } from "./keys";

let table: TestTable;
let reports: DynamoReportStore;

beforeAll(async () => {
  table = await createTestTable("report");
  reports = new DynamoReportStore({ client: table.client, tableName: table.tableName });
});
afterAll(async () => table?.drop());

let sequence = 0;
function event(type: string, detail: Record<string, unknown>, time = "2026-01-05T10:00:00Z", source = "leadloop"): EventEnvelope {
  return { id: `evt-${++sequence}`, source, "detail-type": type, time, detail };
}
const captured = (leadId: string, segment = "enterprise", utm_source = "google") =>
  event("lead.captured", { leadId, segment, stage: "lead", formId: "demo", source: { utm_source, utm_medium: "cpc", utm_campaign: "q1" } });
const opened = (leadId: string, messageId: string) =>
  event(
    "Email Opened",
    { eventType: "Open", mail: { messageId: `ses-${messageId}`, tags: { lead: [leadId], sequence: ["nurture"], step: ["s1"], message: [messageId] } }, open: { timestamp: "2026-01-06T08:00:00.000Z" } },
    "2026-01-06T08:00:01Z",
    "aws.ses",
  );

const period = { from: "2026-01-01", to: "2026-01-14" };
const stageCount = async (stage: string, query: Record<string, string> = {}) =>
  (await buildFunnelReport({ reports }, { ...period, ...query })).totals.stages.find((s) => s.stage === stage)?.count;

describe("DynamoReportStore with recordReportEvent", () => {
  it("counts a redelivered event once", async () => {
    const lead = randomUUID();
    const before = await stageCount("captured", { segment: "redelivery" });
    const capture = captured(lead, "redelivery");
    expect(await recordReportEvent({ reports }, capture)).toBe("counted");
    // EventBridge delivers at least once: the same event again, and again at the same time.
    expect(await recordReportEvent({ reports }, capture)).toBe("duplicate");
    const racing = await Promise.all([recordReportEvent({ reports }, capture), recordReportEvent({ reports }, { ...capture, id: "republished" })]);
    expect(racing).toEqual(["duplicate", "duplicate"]);
    expect(await stageCount("captured", { segment: "redelivery" })).toBe((before ?? 0) + 1);
  });

  it("sums every shard: many leads spread over shards add up exactly", async () => {
    const leads = Array.from({ length: 40 }, () => randomUUID());
    await Promise.all(leads.map((lead) => recordReportEvent({ reports }, captured(lead, "spread", "linkedin"))));
    const partitions = await Promise.all(
      Array.from({ length: reports.shards }, (_, shard) =>
        table.client.send(new QueryCommand({ TableName: table.tableName, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": `REPORT#2026-01-05#${shard}` } })),
      ),
    );
    const used = partitions.filter((p) => (p.Items ?? []).some((item) => item.segment === "spread")).length;
    expect(used).toBeGreaterThan(4); // random shards: 40 writes on 16 shards touch far more than a few
    expect(await stageCount("captured", { segment: "spread" })).toBe(40);
    const report = await buildFunnelReport({ reports }, { ...period, segment: "spread" });
    expect(report.bySource).toHaveLength(1);
    expect(report.bySource[0]?.source).toBe("linkedin");
  });

  it("counts engagement once per lead even when opens race, and each message's open once", async () => {
    const lead = randomUUID();
    await recordReportEvent({ reports }, captured(lead, "engaging"));
    const first = opened(lead, "m1");
    const outcomes = await Promise.all([recordReportEvent({ reports }, first), recordReportEvent({ reports }, first), recordReportEvent({ reports }, opened(lead, "m2"))]);
    expect(outcomes.filter((o) => o === "counted")).toHaveLength(2);
    const report = await buildFunnelReport({ reports }, { ...period, segment: "engaging" });
    expect(report.totals.stages.find((s) => s.stage === "engaged")?.count).toBe(1);
    expect(report.sequences[0]?.steps[0]).toMatchObject({ stepId: "s1", opened: 2 });
  });

  it("follows a deal from capture to won: durations, revenue, and the steps it went through", async () => {
    const lead = randomUUID();
    await recordReportEvent({ reports }, event("lead.captured", { leadId: lead, segment: "deal", formId: "demo", source: {} }, "2026-01-02T00:00:00Z"));
    for (const [messageId, stepId, sentAt] of [
      ["m1", "welcome", "2026-01-02T01:00:00.000Z"],
      ["m2", "case-study", "2026-01-04T01:00:00.000Z"],
    ] as const) {
      await table.client.send(
        new PutCommand({ TableName: table.tableName, Item: { ...keys.message(lead, messageId), type: "message", messageId, providerMessageId: `ses-${messageId}`, leadId: lead, kind: "nurture", sequenceId: "deal-nurture", stepId, sentAt } }),
      );
      await recordReportEvent({ reports }, event("email.sent", { leadId: lead, sequenceId: "deal-nurture", stepId, messageId }, sentAt));
    }
    await recordReportEvent({ reports }, event("lead.qualified", { leadId: lead, segment: "deal", score: 80, threshold: 60, qualifiedAt: "2026-01-05T00:00:00Z", reasons: [] }));
    await recordReportEvent({ reports }, event("lead.claimed", { leadId: lead, teamId: "t", rep: "r", claimedAt: "2026-01-05T03:00:00Z" }));
    const won = event("lead.closed", { leadId: lead, teamId: "t", rep: "r", outcome: "won", amount: 4200, currency: "EUR", closedAt: "2026-01-12T03:00:00Z" });
    expect(await recordReportEvent({ reports }, won)).toBe("counted");
    expect(await recordReportEvent({ reports }, won)).toBe("duplicate");

    const report = await buildFunnelReport({ reports }, { ...period, segment: "deal" });
    expect(report.totals.stages.map((s) => s.count)).toEqual([1, 0, 1, 1, 1]);
    expect(report.totals.revenueWon).toEqual([{ currency: "EUR", amount: 4200 }]);
    expect(report.totals.medianHours.capturedToMql).toBeGreaterThanOrEqual(64); // 72 h
    expect(report.totals.medianHours.capturedToMql).toBeLessThan(128);
    expect(report.totals.medianHours.mqlToClaimed).toBeGreaterThanOrEqual(2); // 3 h
    expect(report.totals.medianHours.mqlToClaimed).toBeLessThan(4);
    const nurture = report.sequences.find((s) => s.sequenceId === "deal-nurture");
    expect(nurture?.wonDeals).toBe(1);
    expect(nurture?.steps.map((s) => [s.stepId, s.sent, s.wonTouches])).toEqual([
      ["case-study", 1, 1],
      ["welcome", 1, 1],
    ]);
  });

  it("counts each web visit once when it adds only to the lead's state, however often it races", async () => {
    const lead = randomUUID();
    await recordReportEvent({ reports }, captured(lead, "visiting"));
    const visit = (id: string, at: string) => ({ ...event("lead.scored", { leadId: lead, score: 10, activity: { type: "page.viewed" }, at }), id });
    // The first visit engages the lead (funnel and cohort counters); later ones only join its facts.
    expect(await recordReportEvent({ reports }, visit("v1", "2026-01-05T11:00:00.000Z"))).toBe("counted");
    const second = visit("v2", "2026-01-05T12:00:00.000Z");
    const third = visit("v3", "2026-01-05T13:00:00.000Z");
    const outcomes = await Promise.all([second, second, third, third].map((v) => recordReportEvent({ reports }, v)));
    expect(outcomes.filter((o) => o === "counted")).toHaveLength(2);
    expect(outcomes.filter((o) => o === "duplicate")).toHaveLength(2);
    expect((await reports.getLeadReportState(lead))?.facts.filter((f) => f.startsWith("web#")).sort()).toEqual(["web#v1", "web#v2", "web#v3"]);
    expect(await stageCount("engaged", { segment: "visiting" })).toBe(1);
    const closed = event("lead.closed", { leadId: lead, outcome: "lost", reason: "price", closedAt: "2026-01-06T10:00:00.000Z" });
    expect(await recordReportEvent({ reports }, closed)).toBe("counted");
    expect((await reports.listReviews("2026-01-06")).find((r) => r.leadId === lead)?.webActivities).toBe(3);
  });

  it("reads a cohort row's dimensions back from its key, a value holding # or % included", async () => {
    const lead = randomUUID();
    const capture = event(
      "lead.captured",
      { leadId: lead, segment: "keyed", formId: "demo", source: { utm_source: "google", utm_medium: "cpc", utm_campaign: "Q1#launch %23 100%" } },
      "2026-01-07T10:00:00Z",
    );
    expect(await recordReportEvent({ reports }, capture)).toBe("counted");
    const claim = event("lead.claimed", { leadId: lead, teamId: "t#1", rep: "r%25@x.example", claimedAt: "2026-01-07T12:00:00Z" }, "2026-01-07T12:00:00Z");
    expect(await recordReportEvent({ reports }, claim)).toBe("counted");
    // The claim moved the lead out of its row without a team (on whichever shards) into this one.
    const [row] = (await reports.readCohortDay("2026-01-07")).filter((r) => r.dims.segment === "keyed" && r.counters.claimed === 1);
    expect(row?.dims).toEqual({ segment: "keyed", formId: "demo", source: "google", medium: "cpc", campaign: "q1#launch %23 100%", team: "t#1", rep: "r%25@x.example" });
    const report = await buildCohortReport({ reports }, parseCohortQuery({ from: "2026-01-07", to: "2026-01-07", segment: "keyed" }));
    expect(report.by.campaign.map((g) => [g.value, g.stages[0]?.count])).toEqual([["q1#launch %23 100%", 1]]);
    expect(report.by.rep.map((g) => [g.value, g.stages[3]?.count])).toEqual([["r%25@x.example", 1]]);
  });

  it("ignores events of leads it cannot place and events it does not count", async () => {
    expect(await recordReportEvent({ reports }, event("lead.qualified", { leadId: randomUUID(), qualifiedAt: "2026-01-05T00:00:00Z" }))).toBe("unknown-lead");
    expect(await recordReportEvent({ reports }, event("lead.assigned", { leadId: randomUUID() }))).toBe("ignored");
  });
});
