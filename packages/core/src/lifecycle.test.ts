import { describe, expect, it } from "vitest";
import { isWithSales, mayNurture, mayQualify, mayRecycle, STAGES, stageAfter, stageAfterOutcome } from "./lifecycle";

const reaches = { reachesThreshold: true, engagementSinceRecycle: 0 };

describe("the lifecycle", () => {
  it("qualifies a new lead once, a recycled lead only on engagement after its recycle date, and no other stage", () => {
    expect(mayQualify({ stage: "lead" }, reaches)).toBe(true);
    expect(mayQualify({ stage: "lead", qualifiedAt: "2026-01-01T00:00:00Z" }, reaches)).toBe(false);
    expect(mayQualify({ stage: "lead" }, { ...reaches, reachesThreshold: false })).toBe(false);
    // Fit alone over the threshold does not send a recycled lead back to sales.
    expect(mayQualify({ stage: "recycled", qualifiedAt: "2026-01-01T00:00:00Z" }, reaches)).toBe(false);
    expect(mayQualify({ stage: "recycled", qualifiedAt: "2026-01-01T00:00:00Z" }, { ...reaches, engagementSinceRecycle: 1 })).toBe(true);
    for (const stage of STAGES.filter((s) => s !== "lead" && s !== "recycled")) {
      expect(mayQualify({ stage }, { ...reaches, engagementSinceRecycle: 50 }), stage).toBe(false);
    }
  });

  it("parks a not-now lead with marketing: no nurture, no qualification, recycled on its date", () => {
    const parked = stageAfterOutcome("not-now");
    expect(parked).toBe("not-now");
    expect(mayNurture(parked)).toBe(false);
    expect(isWithSales(parked)).toBe(false);
    expect(stageAfter(parked, "qualified")).toBeUndefined();
    expect(stageAfter(parked, "recycle-date")).toBe("recycled");
  });

  it("never recycles a lead in a sales queue, nor one that left the funnel", () => {
    expect(STAGES.filter(mayRecycle)).toEqual(["not-now"]);
    for (const stage of ["mql", "sales", "customer", "lost", "disqualified", "unsubscribed"] as const) {
      expect(stageAfter(stage, "recycle-date"), stage).toBeUndefined();
    }
  });

  it("moves each outcome to one stage, and lets an unsubscribe end marketing's hold but not a deal", () => {
    expect(["won", "lost", "disqualified", "not-now"].map((o) => stageAfterOutcome(o as "won"))).toEqual(["customer", "lost", "disqualified", "not-now"]);
    expect(stageAfter("lead", "unsubscribed")).toBe("unsubscribed");
    expect(stageAfter("not-now", "unsubscribed")).toBe("unsubscribed");
    expect(stageAfter("sales", "unsubscribed")).toBeUndefined();
    expect(stageAfter("customer", "unsubscribed")).toBeUndefined();
    expect(stageAfter("pending-confirmation", "confirmed")).toBe("lead");
    expect(stageAfter("mql", "assigned")).toBe("sales");
  });

  it("nurtures marketing's active stages only", () => {
    expect(STAGES.filter(mayNurture)).toEqual(["lead", "mql", "sales", "customer", "recycled"]);
  });
});
