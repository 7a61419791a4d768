import { describe, expect, it } from "vitest";
import { ClosedEvent, recycleInstant } from "./closed-event";
import { recycledEngagement } from "./score-reset";

describe("recycledEngagement", () => {
  it("follows scoring.yaml recycle.engagement", () => {
    expect(recycledEngagement(45, "reset")).toBe(0);
    expect(recycledEngagement(45, "halve")).toBe(22);
    expect(recycledEngagement(-7, "halve")).toBe(-3);
    expect(recycledEngagement(45, "keep")).toBe(45);
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
