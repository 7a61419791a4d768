import { describe, expect, it } from "vitest";
import { ClosedEvent, recycleInstant } from "./closed-event";
import { recycledEngagement, recycledScore } from "./score-reset";

describe("recycledEngagement", () => {
  it("follows scoring.yaml recycle.engagement", () => {
    expect(recycledEngagement(45, "reset")).toBe(0);
    expect(recycledEngagement(45, "halve")).toBe(22);
    expect(recycledEngagement(-7, "halve")).toBe(-3);
    expect(recycledEngagement(45, "keep")).toBe(45);
  });
});

describe("recycledScore", () => {
  const decay = { after: "P30D", every: "P7D", percent: 10 };
  const stored = {
    fit: 30,
    engagement: 40,
    total: 70,
    threshold: 60,
    reasons: [
      { rule: "demo-requested", category: "engagement" as const, points: 40, count: 1 },
      { rule: "senior-title", category: "fit" as const, points: 30 },
    ],
    scoredAt: "2026-01-01T00:00:00.000Z",
    decay: { since: "2026-01-01T00:00:00.000Z", periods: 0, engagement: 40 },
  };

  it("keeps fit and leaves no old engagement for decay to carry forward after a reset", () => {
    const reset = recycledScore(stored, "reset", "2026-03-01T00:00:00.000Z", decay);
    expect(reset).toMatchObject({ fit: 30, engagement: 0, total: 30, scoredAt: "2026-03-01T00:00:00.000Z" });
    expect(reset.decay).toBeUndefined();
    expect(reset.reasons.map((r) => r.rule)).toEqual(["senior-title"]);
  });

  it("halves what decay left by the recycle date, not the points as first earned", () => {
    // 59 idle days: 30, then four whole weeks: 40 × 0.9^4 = 26.2 → 26, halved to 13.
    const halved = recycledScore(stored, "halve", "2026-03-01T00:00:00.000Z", decay);
    expect(halved).toMatchObject({ engagement: 13, total: 43 });
    expect(halved.reasons.reduce((sum, r) => sum + r.points, 0)).toBe(halved.total);
  });
});

describe("ClosedEvent", () => {
  const base = { leadId: "l1", teamId: "t", rep: "r@example.com", closedAt: "2026-03-01T10:00:00.000Z" };
  it("needs a recycle date for not-now", () => {
    const parsed = ClosedEvent.safeParse({ ...base, outcome: "not-now" });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(["recycleOn"]);
    expect(ClosedEvent.safeParse({ ...base, outcome: "not-now", recycleOn: "2026-04-01" }).success).toBe(true);
  });
  it("refuses an outcome the contract does not name", () => {
    expect(ClosedEvent.safeParse({ ...base, outcome: "maybe" }).success).toBe(false);
  });
  it("reads a plain recycle date as the start of that day in UTC", () => {
    expect(recycleInstant("2026-04-01")).toBe("2026-04-01T00:00:00.000Z");
    expect(recycleInstant("2026-04-01T09:30:00+02:00")).toBe("2026-04-01T07:30:00.000Z");
  });
});
