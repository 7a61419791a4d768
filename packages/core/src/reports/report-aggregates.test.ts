import { describe, expect, it } from "vitest";
import { type AggregateIncrement, mergeIncrements } from "./report-aggregates";

const dims = { segment: "smb", source: "google", formId: "demo" };
const cohortDims = { segment: "smb", formId: "demo", source: "google", medium: "cpc", campaign: "q1", team: "none", rep: "none" };

describe("mergeIncrements", () => {
  it("sums the increments of one row and keeps rows of other days, steps or dimensions apart", () => {
    const merged = mergeIncrements([
      { kind: "funnel", day: "2026-01-05", dims, add: { captured: 1 } },
      { kind: "funnel", day: "2026-01-05", dims, add: { captured: 1, engaged: 1 } },
      { kind: "funnel", day: "2026-01-06", dims, add: { captured: 1 } },
      { kind: "funnel", day: "2026-01-05", dims: { ...dims, source: "direct" }, add: { captured: 1 } },
      { kind: "email", day: "2026-01-05", dims, sequenceId: "s", stepId: "a", add: { sent: 1 } },
      { kind: "email", day: "2026-01-05", dims, sequenceId: "s", stepId: "b", add: { sent: 1 } },
      { kind: "email", day: "2026-01-05", dims, sequenceId: "s", stepId: "a", add: { opened: 1, sent: 1 } },
      { kind: "variant", sequenceId: "s", stepId: "a", variantId: "v1", add: { sent: 1 } },
      { kind: "variant", sequenceId: "s", stepId: "a", variantId: "v1", add: { sent: 1 } },
    ]);
    expect(merged).toEqual([
      { kind: "funnel", day: "2026-01-05", dims, add: { captured: 2, engaged: 1 } },
      { kind: "funnel", day: "2026-01-06", dims, add: { captured: 1 } },
      { kind: "funnel", day: "2026-01-05", dims: { ...dims, source: "direct" }, add: { captured: 1 } },
      { kind: "email", day: "2026-01-05", dims, sequenceId: "s", stepId: "a", add: { sent: 2, opened: 1 } },
      { kind: "email", day: "2026-01-05", dims, sequenceId: "s", stepId: "b", add: { sent: 1 } },
      { kind: "variant", sequenceId: "s", stepId: "a", variantId: "v1", add: { sent: 2 } },
    ]);
  });

  it("drops counters whose moves cancel out, and rows left with none", () => {
    const moves: AggregateIncrement[] = [
      // A lead passes from captured to engaged to MQL within one batch: out of each stage it entered.
      { kind: "cohort", day: "2026-01-05", dims: cohortDims, add: { captured: 1 } },
      { kind: "cohort", day: "2026-01-05", dims: cohortDims, add: { captured: -1, engaged: 1 } },
      { kind: "cohort", day: "2026-01-05", dims: cohortDims, add: { engaged: -1, mql: 1 } },
      { kind: "cohort-value", day: "2026-01-05", dimension: "rep", value: "none", add: { mql: 1 } },
      { kind: "cohort-value", day: "2026-01-05", dimension: "rep", value: "none", add: { mql: -1 } },
    ];
    expect(mergeIncrements(moves)).toEqual([{ kind: "cohort", day: "2026-01-05", dims: cohortDims, add: { mql: 1 } }]);
  });
});
