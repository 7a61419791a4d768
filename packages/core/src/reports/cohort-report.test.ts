import { describe, expect, it } from "vitest";
import { type CohortDims, type CohortMove, type CohortState, cohortMoves, NONE } from "./cohort";
import { buildCohortReport, parseCohortQuery } from "./cohort-report";
import type { CohortRow } from "./report-aggregates";

/** Cohort rows as the store sums them (one per capture day and combination of dimensions), from the moves. */
function rowsOf(moves: CohortMove[]): CohortRow[] {
  const rows = new Map<string, CohortRow>();
  for (const move of moves) {
    const key = `${move.day}|${Object.values(move.dims).join("|")}`;
    const row = rows.get(key) ?? { day: move.day, dims: move.dims, counters: {} };
    for (const [name, n] of Object.entries(move.add)) row.counters[name] = (row.counters[name] ?? 0) + n;
    rows.set(key, row);
  }
  return [...rows.values()];
}

const store = (rows: CohortRow[]) => ({ readCohortDay: async (day: string) => rows.filter((r) => r.day === day) });

/** Leads over two weeks taking every path: some engage, qualify, get a rep, close. */
function leadMoves(): CohortMove[] {
  const moves: CohortMove[] = [];
  const reps = ["dana", "marcus", "lucia"];
  for (let i = 0; i < 300; i++) {
    const day = `2026-11-${String(2 + (i % 14)).padStart(2, "0")}`;
    const dims: CohortDims = {
      segment: ["smb", "enterprise", "self-serve"][i % 3] as string,
      formId: ["demo", "whitepaper"][i % 2] as string,
      source: ["google", "direct", "linkedin", "newsletter"][i % 4] as string,
      medium: ["cpc", NONE, "email"][i % 5 % 3] as string,
      campaign: ["q4", NONE][i % 7 % 2] as string,
      team: NONE,
      rep: NONE,
    };
    const at = (h: number) => new Date(Date.parse(`${day}T08:00:00Z`) + h * 3_600_000).toISOString();
    let state: CohortState = { day, dims, capturedAt: at(0) };
    const step = (next: CohortState) => {
      moves.push(...cohortMoves(state, next));
      state = next;
    };
    moves.push(...cohortMoves(undefined, state));
    if (i % 2 === 0) step({ ...state, engagedAt: at(3) });
    if (i % 3 === 0) step({ ...state, mqlAt: at(30) });
    if (i % 6 === 0) step({ ...state, claimedAt: at(40), dims: { ...state.dims, team: dims.segment, rep: reps[(i / 6) % 3] as string } });
    if (i % 12 === 0) step({ ...state, closedAt: at(90), outcome: i % 24 === 0 ? "won" : "lost" });
  }
  return moves;
}

describe("cohort funnel from the cohort rows", () => {
  it("breaks every dimension down from the rows of every combination, each lead once under its latest values", async () => {
    const report = await buildCohortReport({ reports: store(rowsOf(leadMoves())) }, parseCohortQuery({ from: "2026-11-02", to: "2026-11-15" }));
    expect(report.totals.stages.map((s) => s.count)).toEqual([300, 200, 100, 50, 25, 13]);
    expect(report.by.rep.map((r) => [r.value, r.stages[0]?.count])).toEqual([
      [NONE, 250],
      ["dana", 17],
      ["marcus", 17],
      ["lucia", 16],
    ]);
    // Every lead sits in one value of each dimension, so each breakdown adds up to the totals.
    for (const dim of ["segment", "formId", "source", "medium", "campaign", "team", "rep"] as const) {
      expect(report.by[dim].reduce((sum, g) => sum + (g.stages[0]?.count ?? 0), 0)).toBe(300);
    }
  });

  it("a filter keeps the matching rows, so its breakdowns stay joint", async () => {
    const r = await buildCohortReport({ reports: store(rowsOf(leadMoves())) }, parseCohortQuery({ from: "2026-11-02", to: "2026-11-15", segment: "smb" }));
    expect(r.totals.stages[0]?.count).toBe(100);
    expect(r.by.segment.map((s) => s.value)).toEqual(["smb"]);
  });

  it("a lead that gains a rep leaves the row it was in: nothing stays under the rep it had before", async () => {
    const dims: CohortDims = { segment: "smb", formId: "demo", source: "google", medium: "cpc", campaign: "q4", team: NONE, rep: NONE };
    const captured: CohortState = { day: "2026-11-02", dims, capturedAt: "2026-11-02T10:00:00.000Z", mqlAt: "2026-11-02T12:00:00.000Z" };
    const assigned: CohortState = { ...captured, dims: { ...dims, team: "smb", rep: "tom" } };
    const claimed: CohortState = { ...assigned, claimedAt: "2026-11-03T12:00:00.000Z", dims: { ...dims, team: "smb", rep: "lucia" } };
    const moves = [...cohortMoves(undefined, captured), ...cohortMoves(captured, assigned), ...cohortMoves(assigned, claimed)];
    const r = await buildCohortReport({ reports: store(rowsOf(moves)) }, parseCohortQuery({ from: "2026-11-02", to: "2026-11-02" }));
    expect(r.by.rep.map((g) => [g.value, g.stages.map((s) => s.count)])).toEqual([["lucia", [1, 1, 1, 1, 0, 0]]]);
    expect(r.by.segment.map((g) => [g.value, g.stages[3]?.count])).toEqual([["smb", 1]]);
  });
});
