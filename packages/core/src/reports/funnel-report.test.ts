import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors";
import { daysBetween, type FunnelQuery, parseFunnelQuery, rate, summariseFunnel } from "./funnel-report";
import type { AggregateRow, ReportDims } from "./report-aggregates";

const web: ReportDims = { segment: "enterprise", source: "google", formId: "demo" };
const social: ReportDims = { segment: "smb", source: "linkedin", formId: "ebook" };
const query: FunnelQuery = { from: "2026-01-01", to: "2026-01-31" };

const funnel = (day: string, dims: ReportDims, counters: Record<string, number>): AggregateRow => ({ kind: "funnel", day, dims, counters });
const email = (day: string, dims: ReportDims, sequenceId: string, stepId: string, counters: Record<string, number>): AggregateRow => ({
  kind: "email",
  day,
  dims,
  sequenceId,
  stepId,
  counters,
});

describe("summariseFunnel", () => {
  it("sums shards and days, and derives conversions between stages", () => {
    const rows = [
      // The same day and dimensions on two shards: summed.
      funnel("2026-01-02", web, { captured: 60, engaged: 30, mql: 10 }),
      funnel("2026-01-02", web, { captured: 40, engaged: 20, mql: 10, claimed: 8 }),
      funnel("2026-01-09", web, { claimed: 8, won: 4, lost: 6, "lost:price": 4, "lost:timing": 2, "revenue:EUR": 12000.5 }),
      funnel("2026-01-09", social, { captured: 100, engaged: 10, "revenue:USD": 99 }),
      // Outside the period: ignored.
      funnel("2026-02-01", web, { captured: 1000 }),
    ];
    const report = summariseFunnel(rows, query);
    expect(report.totals.stages).toEqual([
      { stage: "captured", count: 200, conversionFromPrevious: null },
      { stage: "engaged", count: 60, conversionFromPrevious: 0.3 },
      { stage: "mql", count: 20, conversionFromPrevious: 0.3333 },
      { stage: "claimed", count: 16, conversionFromPrevious: 0.8 },
      { stage: "won", count: 4, conversionFromPrevious: 0.25 },
    ]);
    expect(report.totals.outcomes).toEqual({ won: 4, lost: 6, disqualified: 0, notNow: 0 });
    expect(report.totals.winRate).toBe(0.4);
    expect(report.totals.overallConversion).toBe(0.02);
    expect(report.totals.lossReasons).toEqual([
      { reason: "price", count: 4 },
      { reason: "timing", count: 2 },
    ]);
    expect(report.totals.revenueWon).toEqual([
      { currency: "EUR", amount: 12000.5 },
      { currency: "USD", amount: 99 },
    ]);
    expect(report.bySegment.map((s) => [s.segment, s.stages[0]?.count])).toEqual([
      ["enterprise", 100],
      ["smb", 100],
    ]);
    expect(report.bySource.find((s) => s.source === "google")?.outcomes.won).toBe(4);
    expect(report.byDay.find((d) => d.day === "2026-01-02")).toEqual({ day: "2026-01-02", captured: 100, engaged: 50, mql: 20, claimed: 8, won: 0 });
    expect(report.byDay).toHaveLength(31);
  });

  it("filters by segment, source and form", () => {
    const rows = [funnel("2026-01-02", web, { captured: 5 }), funnel("2026-01-02", social, { captured: 7 })];
    expect(summariseFunnel(rows, { ...query, segment: "smb" }).totals.stages[0]?.count).toBe(7);
    expect(summariseFunnel(rows, { ...query, source: "google" }).totals.stages[0]?.count).toBe(5);
    expect(summariseFunnel(rows, { ...query, form: "nope" }).totals.stages[0]?.count).toBe(0);
    expect(summariseFunnel(rows, { ...query, form: "nope" }).totals.stages[1]?.conversionFromPrevious).toBeNull();
  });

  it("computes medians per stage from the summed histograms", () => {
    // 3 leads took [4, 8) hours to qualify, 1 took [256, 512): the median lies in [4, 8).
    const rows = [funnel("2026-01-03", web, { "h:capturedToMql:3": 2 }), funnel("2026-01-04", web, { "h:capturedToMql:3": 1, "h:capturedToMql:9": 1 })];
    const report = summariseFunnel(rows, query);
    expect(report.totals.medianHours.capturedToMql).toBeGreaterThanOrEqual(4);
    expect(report.totals.medianHours.capturedToMql).toBeLessThan(8);
    expect(report.totals.durationSamples.capturedToMql).toBe(4);
    expect(report.totals.medianHours.mqlToClaimed).toBeNull();
  });

  it("gives per-sequence, per-step email figures and won touches", () => {
    const rows = [
      email("2026-01-02", web, "enterprise-nurture", "step-10", { sent: 100, opened: 40, clicked: 10, bounced: 4 }),
      email("2026-01-02", web, "enterprise-nurture", "step-2", { sent: 80, opened: 20, unsubscribed: 2 }),
      email("2026-01-03", web, "enterprise-nurture", "step-2", { wonTouches: 3 }),
      email("2026-01-03", web, "enterprise-nurture", "*", { wonDeals: 3 }),
      email("2026-01-03", social, "smb-nurture", "welcome", { sent: 5 }),
    ];
    const report = summariseFunnel(rows, query);
    const enterprise = report.sequences.find((s) => s.sequenceId === "enterprise-nurture");
    expect(enterprise?.wonDeals).toBe(3);
    expect(enterprise?.steps.map((s) => s.stepId)).toEqual(["step-2", "step-10"]);
    expect(enterprise?.steps[0]).toMatchObject({ sent: 80, opened: 20, unsubscribed: 2, wonTouches: 3, openRate: 0.25, unsubscribeRate: 0.025 });
    expect(enterprise?.steps[1]).toMatchObject({ sent: 100, bounced: 4, openRate: 0.4167, clickRate: 0.1042, bounceRate: 0.04 });
    expect(enterprise?.totals.sent).toBe(180);
    expect(summariseFunnel(rows, { ...query, sequence: "smb-nurture" }).sequences.map((s) => s.sequenceId)).toEqual(["smb-nurture"]);
    expect(summariseFunnel(rows, { ...query, segment: "smb" }).sequences.map((s) => s.sequenceId)).toEqual(["smb-nurture"]);
  });
});

describe("parseFunnelQuery", () => {
  it("names each bad parameter", () => {
    try {
      parseFunnelQuery({ from: "2026-13-01", to: "yesterday" });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues.map((i) => i.field).sort()).toEqual(["from", "to"]);
    }
    expect(() => parseFunnelQuery({ from: "2026-02-01", to: "2026-01-01" })).toThrow(/from: must not be after to/);
    expect(() => parseFunnelQuery({ from: "2024-01-01", to: "2026-01-01" })).toThrow(/to: must be at most 366 days/);
    expect(parseFunnelQuery({ from: "2026-01-01", to: "2026-01-01", segment: "smb" })).toEqual({ from: "2026-01-01", to: "2026-01-01", segment: "smb" });
  });
});

describe("rate and daysBetween", () => {
  it("rounds rates and refuses a zero denominator", () => {
    expect(rate(1, 3)).toBe(0.3333);
    expect(rate(1, 0)).toBeNull();
  });

  it("lists days across a month end, both ends included", () => {
    expect(daysBetween("2026-01-30", "2026-02-02")).toEqual(["2026-01-30", "2026-01-31", "2026-02-01", "2026-02-02"]);
  });
});
