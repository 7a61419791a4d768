import { describe, expect, it } from "vitest";
import type { DealReview } from "../feedback/deal-review";
import { NONE } from "../reports/cohort";
import { calibrateScoring } from "./calibrate";
import { NotEnoughDealsError } from "./calibration-errors";
import { unifiedDiff } from "./unified-diff";
import { wilsonInterval } from "./wilson";

const config = {
  scoring: {
    threshold: 60,
    segmentThresholds: { enterprise: 50 },
    fit: [{ id: "senior-title", points: 20 }],
    behaviour: [{ id: "demo-requested", points: 40 }],
  },
  teams: { teams: [{ id: "smb", segments: ["smb"], reps: [{ email: "a@x.example" }] }] },
} as never;
const yaml = "# scoring\nthreshold: 60\n\nsegmentThresholds:\n  enterprise: 50\n";

const review = (outcome: DealReview["outcome"], rules: string[], score: number): DealReview => ({
  leadId: `L${Math.random()}`,
  closedAt: "2026-01-05T00:00:00.000Z",
  outcome,
  dims: { segment: "smb", formId: "f", source: "s", medium: NONE, campaign: NONE, team: "smb", rep: "a" },
  capturedAt: "2026-01-01T00:00:00.000Z",
  score,
  rules,
  emails: { sent: 0, opened: 0, clicked: 0 },
  webActivities: 0,
});

describe("calibrateScoring", () => {
  it("gives each rule its lift with a Wilson interval, and raises a threshold over capacity, as a diff", () => {
    const reviews = [
      review("won", ["demo-requested", "senior-title"], 90),
      review("won", ["demo-requested"], 80),
      review("lost", ["senior-title"], 70),
      review("disqualified", [], 62),
      review("not-now", ["demo-requested"], 65),
    ];
    const c = calibrateScoring({ config, scoringYaml: yaml, reviews, weeks: 1, capacityPerRepPerWeek: 3, minDeals: 4 });
    expect(c.closed).toEqual({ won: 2, lost: 1, disqualified: 1, total: 4 });
    const demo = c.rules.find((r) => r.rule === "demo-requested");
    expect(demo).toMatchObject({ deals: 2, won: 2, lostOrDisqualified: 0, winRate: 1, lift: 2 });
    expect(demo?.interval?.low).toBeCloseTo(wilsonInterval(2, 2)?.low ?? 0, 4);
    // 5 hand-offs a week (not-now counts: it took a rep's time) for 3 slots: the best three pass at 70.
    // (Scores 62, 65, 70, 80, 90.)
    expect(c.thresholds).toEqual([expect.objectContaining({ segment: "smb", current: 60, suggested: 70, weeklyMqls: 5, weeklyCapacity: 3, weeklyMqlsAtSuggested: 3 })]);
    expect(c.diff).toContain("+  smb: 70");
    expect(c.suggestedScoringYaml).toContain("# scoring");
  });

  it("moves tied scores together: the cut never lets more through than the reps can take", () => {
    const reviews = [review("won", [], 95), review("won", [], 95), review("lost", [], 85), review("lost", [], 85), review("won", [], 95)];
    const c = calibrateScoring({ config, scoringYaml: yaml, reviews, weeks: 1, capacityPerRepPerWeek: 4, minDeals: 1 });
    expect(c.thresholds[0]).toMatchObject({ suggested: 95, weeklyMqlsAtSuggested: 3 });
  });

  it("refuses below the minimum number of closed deals, saying how many it has", () => {
    expect(() => calibrateScoring({ config, scoringYaml: yaml, reviews: [review("won", [], 70), review("not-now", [], 70)], weeks: 1, capacityPerRepPerWeek: 3, minDeals: 2 })).toThrow(NotEnoughDealsError);
    expect(() => calibrateScoring({ config, scoringYaml: yaml, reviews: [], weeks: 1, capacityPerRepPerWeek: 3, minDeals: 2 })).toThrow(/at least 2 .* it has 0/);
  });
});

describe("wilsonInterval and unifiedDiff", () => {
  it("matches a textbook value and prints a patch git can apply", () => {
    const w = wilsonInterval(8, 10);
    expect(w?.low).toBeCloseTo(0.4902, 3);
    expect(w?.high).toBeCloseTo(0.9433, 3);
    expect(unifiedDiff("f", "a\nb\nc\n", "a\nB\nc\n")).toBe("--- a/f\n+++ b/f\n@@ -1,4 +1,4 @@\n a\n-b\n+B\n c\n \n");
  });
});
