import { describe, expect, it } from "vitest";
import { type CohortDims, type CohortMove, type CohortState, cohortMoves, cohortValueMoves, NONE } from "./cohort";
import { buildCohortReport, parseCohortQuery } from "./cohort-report";
import type { CohortRow, CohortValueRow } from "./report-aggregates";

/** Cohort rows and value rows as the store would sum them, from the same moves. */
function rowsOf(moves: CohortMove[]) {
  const joint = new Map<string, CohortRow>();
  const values = new Map<string, CohortValueRow>();
  for (const move of moves) {
    const key = `${move.day}|${Object.values(move.dims).join("|")}`;
    const row = joint.get(key) ?? { day: move.day, dims: move.dims, counters: {} };
    for (const [name, n] of Object.entries(move.add)) row.counters[name] = (row.counters[name] ?? 0) + n;
    joint.set(key, row);
  }
  for (const move of cohortValueMoves(moves)) {
    const key = `${move.day}|${move.dimension}|${move.value}`;
    const row = values.get(key) ?? { day: move.day, dimension: move.dimension, value: move.value, counters: {} };
    for (const [name, n] of Object.entries(move.add)) row.counters[name] = (row.counters[name] ?? 0) + n;
    values.set(key, row);
  }
  return { joint: [...joint.values()], values: [...values.values()] };
}

const store = (joint: CohortRow[], values: CohortValueRow[]) => ({
  readCohortDay: async (day: string) => joint.filter((r) => r.day === day),
  readCohortValues: async (day: string) => values.filter((r) => r.day === day),
});

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

describe("cohort funnel from value rows", () => {
  it("reads the same figures from one row per dimension value as from the rows of every combination", async () => {
    const { joint, values } = rowsOf(leadMoves());
    const query = parseCohortQuery({ from: "2026-11-02", to: "2026-11-15" });
    const fromValues = await buildCohortReport({ reports: store(joint, values) }, query);
    const fromJoint = await buildCohortReport({ reports: store(joint, []) }, query);
    expect(fromValues).toEqual(fromJoint);
    expect(fromValues.totals.stages.map((s) => s.count)).toEqual([300, 200, 100, 50, 25, 13]);
    expect(fromValues.by.rep.map((r) => [r.value, r.stages[0]?.count])).toEqual([
      [NONE, 250],
      ["dana", 17],
      ["marcus", 17],
      ["lucia", 16],
    ]);
    expect(values.length).toBeLessThan(joint.length);
  });

  it("a filter reads the combination rows, so its breakdowns stay joint", async () => {
    const { joint, values } = rowsOf(leadMoves());
    const r = await buildCohortReport({ reports: store(joint, values) }, parseCohortQuery({ from: "2026-11-02", to: "2026-11-15", segment: "smb" }));
    expect(r.totals.stages[0]?.count).toBe(100);
    expect(r.by.segment.map((s) => s.value)).toEqual(["smb"]);
  });

  it("a lead that only gains a rep moves its other dimensions' rows by the stage it reached", () => {
    const dims: CohortDims = { segment: "smb", formId: "demo", source: "google", medium: "cpc", campaign: "q4", team: NONE, rep: NONE };
    const before: CohortState = { day: "2026-11-02", dims, capturedAt: "2026-11-02T10:00:00.000Z", mqlAt: "2026-11-02T12:00:00.000Z" };
    const after: CohortState = { ...before, claimedAt: "2026-11-03T12:00:00.000Z", dims: { ...dims, team: "smb", rep: "lucia" } };
    const moves = cohortValueMoves(cohortMoves(before, after));
    const segment = moves.find((m) => m.dimension === "segment");
    expect(segment?.add).toMatchObject({ claimed: 1 });
    expect(segment?.add.captured).toBeUndefined();
    expect(moves.find((m) => m.dimension === "rep" && m.value === NONE)?.add).toMatchObject({ captured: -1, mql: -1 });
    expect(moves.find((m) => m.dimension === "rep" && m.value === "lucia")?.add).toMatchObject({ captured: 1, claimed: 1 });
  });
});
