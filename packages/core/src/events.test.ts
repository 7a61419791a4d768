import { describe, expect, it } from "vitest";
import { EventDetails, LeadloopEvent, leadloopEvent, parseEventDetail } from "./events";
import { LeadloopEventType } from "./routing/routing-rules";

describe("typed events", () => {
  it("declares a schema for every event of the public contract", () => {
    for (const type of LeadloopEventType.options) expect(Object.keys(EventDetails)).toContain(type);
  });

  it("parses a delivered event by its detail-type", () => {
    const event = LeadloopEvent.parse({
      type: "lead.closed",
      detail: { leadId: "L1", teamId: "t", rep: "r@x.example", outcome: "not-now", recycleOn: "2027-01-15", closedAt: "2026-12-01T10:00:00.000Z" },
    });
    expect(event.type).toBe("lead.closed");
    expect(LeadloopEvent.safeParse({ type: "lead.closed", detail: { leadId: "L1", outcome: "maybe" } }).success).toBe(false);
    expect(LeadloopEvent.safeParse({ type: "lead.nonsense", detail: {} }).success).toBe(false);
  });

  it("names the field a consumer refuses", () => {
    const detail = { leadId: "L1", teamId: "t", rep: "r", outcome: "not-now", closedAt: "2026-12-01T10:00:00Z" };
    expect(() => parseEventDetail("lead.closed", detail)).toThrow(/recycleOn/);
  });

  it("builds events a consumer's schema accepts", () => {
    const built = leadloopEvent("lead.assigned", { leadId: "L1", teamId: "t", rep: "r@x.example", queuedAt: "a", claimBy: "b" });
    expect(parseEventDetail(built.type, built.detail)).toEqual(built.detail);
  });
});
