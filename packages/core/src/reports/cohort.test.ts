import { describe, expect, it } from "vitest";
import { type CohortState, cohortContribution, cohortMoves, NONE } from "./cohort";

const dims = { segment: "smb", formId: "demo", source: "google", medium: "cpc", campaign: "q4", team: NONE, rep: NONE };
const base: CohortState = { day: "2026-11-02", dims, capturedAt: "2026-11-02T10:00:00.000Z" };

describe("cohort contribution", () => {
  it("counts a lead at every stage up to its furthest, so later stages never outnumber earlier ones", () => {
    // Qualified on fit alone: it passed through engaged at once.
    const c = cohortContribution({ ...base, mqlAt: "2026-11-02T12:00:00.000Z" });
    expect(c).toMatchObject({ captured: 1, engaged: 1, mql: 1 });
    expect(c.claimed).toBeUndefined();
    expect(c["h:capturedToEngaged:2"]).toBe(1); // 2 h: bucket [2, 4)
    expect(c["h:engagedToMql:0"]).toBe(1);
  });

  it("a won deal counts as closed and won; a lost one as closed only", () => {
    const won = cohortContribution({ ...base, claimedAt: "2026-11-03T10:00:00.000Z", closedAt: "2026-11-04T10:00:00.000Z", outcome: "won" });
    expect(won).toMatchObject({ captured: 1, engaged: 1, mql: 1, claimed: 1, closed: 1, won: 1, "o:won": 1 });
    const lost = cohortContribution({ ...base, closedAt: "2026-11-04T10:00:00.000Z", outcome: "lost" });
    expect(lost).toMatchObject({ closed: 1, "o:lost": 1, claimed: 1 });
    expect(lost.won).toBeUndefined();
  });

  it("moving to a rep takes the lead's whole contribution out of its old row and into the new one", () => {
    const before: CohortState = { ...base, mqlAt: "2026-11-02T12:00:00.000Z" };
    const after: CohortState = { ...before, claimedAt: "2026-11-03T12:00:00.000Z", dims: { ...dims, team: "smb", rep: "lucia" } };
    const moves = cohortMoves(before, after);
    expect(moves).toHaveLength(2);
    expect(moves[0]?.dims.rep).toBe(NONE);
    expect(moves[0]?.add).toMatchObject({ captured: -1, engaged: -1, mql: -1 });
    expect(moves[1]?.add).toMatchObject({ captured: 1, engaged: 1, mql: 1, claimed: 1 });
    // Nothing changed: nothing to write.
    expect(cohortMoves(after, after)).toEqual([]);
  });
});
