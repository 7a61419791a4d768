/**
 * The cohort funnel's breakdowns after leads change hands, through public paths only: leads
 * captured by the form route and handed to enterprise-emea by the real scoring and hand-off
 * handlers; one left unclaimed until the claim SLA (PT4H) moves it to the other rep, one claimed
 * by a teammate instead of the rep it was assigned to; claims and outcomes over the rep API. The
 * report's breakdown by each dimension must equal what the day's cohort rows sum to, value by
 * value, and each lead must count once, under the rep and team it ended with.
 */
import { signHs256Token } from "@leadloop/api";
import { COHORT_DIMENSIONS, type CohortReport, cohortFigures } from "@leadloop/core";
import type { LocalStack } from "@leadloop/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoLead, post, startTestStack } from "./local-stack";

const run = Math.random().toString(36).slice(2, 8);
let stack: LocalStack;
let today: string;
const leads: Record<string, string> = {};

const EMEA = ["sophie.martin@acme-analytics.example", "jonas.berg@acme-analytics.example"];
const other = (rep: string) => (rep === EMEA[0] ? EMEA[1] : EMEA[0]) as string;

async function call(method: string, path: string, as: string, roles: ("rep" | "marketing")[], body?: unknown) {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${await signHs256Token({ email: as, roles }, stack.authSecret)}`, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
const repsOf = (leadId: string) => stack.bus.history.filter((e) => e["detail-type"] === "lead.assigned" && e.detail.leadId === leadId).map((e) => String(e.detail.rep));
const advance = async (by: string) => expect((await post(`${stack.url}/dev/clock/advance`, { by })).status).toBe(200);

/** Who ends up with each lead. */
const finalRep: Record<string, string> = {};

beforeAll(async () => {
  stack = await startTestStack();
  today = stack.clock.now().toISOString().slice(0, 10);
  // GB enterprise leads qualify on fit at capture and go to enterprise-emea (round robin).
  for (const [name, campaign] of [
    ["waits", "q1"],
    ["swapped", "q1"],
    ["kept", "q2"],
  ] as const) {
    const res = await post(
      `${stack.url}/v1/forms/demo-request/submissions`,
      demoLead(`${name}.${run}@bigco.example`, { company: `BigCo ${run}`, utm_source: "linkedin", utm_medium: "paid-social", utm_campaign: campaign }),
    );
    expect(res.status).toBe(202);
    leads[name] = ((await res.json()) as { leadId: string }).leadId;
  }
  // One lead that never reaches sales.
  const reader = await post(`${stack.url}/v1/forms/whitepaper/submissions`, {
    email: `reader.${run}@smallco.example`,
    firstName: "Rae",
    company: "Small Co",
    title: "Analyst",
    consent: true,
    utm_source: "newsletter",
  });
  expect(reader.status).toBe(202);
  await stack.bus.drain();
  for (const name of ["waits", "swapped", "kept"]) expect(repsOf(leads[name] as string), `${name} was handed to sales`).toHaveLength(1);

  // A teammate claims the lead assigned to the other rep; the kept lead is claimed by its own rep.
  const swappedTo = other(repsOf(leads.swapped as string)[0] as string);
  expect((await call("POST", `/v1/sales/leads/${leads.swapped}/claim`, swappedTo, ["rep"])).status).toBe(200);
  finalRep.swapped = swappedTo;
  finalRep.kept = repsOf(leads.kept as string)[0] as string;
  expect((await call("POST", `/v1/sales/leads/${leads.kept}/claim`, finalRep.kept, ["rep"])).status).toBe(200);
  await stack.bus.drain();

  // Nobody claims the first lead within the SLA: it moves to the other rep, who claims it.
  await advance("PT5H");
  await stack.bus.drain();
  const waited = repsOf(leads.waits as string);
  expect(waited).toHaveLength(2);
  expect(waited[1]).toBe(other(waited[0] as string));
  finalRep.waits = waited[1] as string;
  expect((await call("POST", `/v1/sales/leads/${leads.waits}/claim`, finalRep.waits, ["rep"])).status).toBe(200);
  await stack.bus.drain();

  const outcome = async (name: string, body: Record<string, unknown>) => {
    const res = await call("POST", `/v1/sales/leads/${leads[name]}/outcome`, finalRep[name] as string, ["rep"], body);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  };
  await outcome("waits", { outcome: "won", amount: 20000, currency: "EUR", reason: "roi-case" });
  await outcome("swapped", { outcome: "lost", reason: "price" });
  await outcome("kept", { outcome: "not-now", recycleOn: new Date(stack.clock.now().getTime() + 60 * 86_400_000).toISOString().slice(0, 10) });
  await stack.bus.drain();
}, 180_000);
afterAll(async () => {
  await stack?.stop();
});

describe("the cohort funnel by dimension after leads change hands", () => {
  it("breaks each dimension down into exactly what the day's cohort rows sum to, each lead once under its latest rep", async () => {
    const res = await call("GET", `/v1/reports/cohorts?from=${today}&to=${today}`, "mia@acme.example", ["marketing"]);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const report = res.body as unknown as CohortReport;

    // What the cohort rows of the capture day hold, summed per dimension value by hand.
    const rows = await stack.reports.readCohortDay(today);
    for (const dim of COHORT_DIMENSIONS) {
      const sums = new Map<string, Map<string, number>>();
      for (const row of rows) {
        const value = sums.get(row.dims[dim]) ?? new Map<string, number>();
        for (const [name, n] of Object.entries(row.counters)) value.set(name, (value.get(name) ?? 0) + n);
        sums.set(row.dims[dim], value);
      }
      const expected = Object.fromEntries(
        [...sums].map(([value, counters]) => [value, cohortFigures(counters)] as const).filter(([, figures]) => figures.stages.some((s) => s.count !== 0)),
      );
      const got = Object.fromEntries(report.by[dim].map(({ value, ...figures }) => [value, figures]));
      expect(got, dim).toEqual(expected);
      // Every lead sits in one value of each dimension: the values add up to the totals.
      expect(report.by[dim].reduce((sum, g) => sum + (g.stages[0]?.count ?? 0), 0), dim).toBe(4);
    }

    // The rep and team each lead ended with, and nothing left under the reps it left.
    // Per rep: captured, claimed, won.
    const perRep: Record<string, number[]> = { none: [1, 0, 0] };
    for (const name of ["waits", "swapped", "kept"]) {
      const rep = finalRep[name] as string;
      const [captured = 0, claimed = 0, won = 0] = perRep[rep] ?? [];
      perRep[rep] = [captured + 1, claimed + 1, won + (name === "waits" ? 1 : 0)];
    }
    expect(Object.fromEntries(report.by.rep.map((g) => [g.value, [g.stages[0]?.count, g.stages[3]?.count, g.outcomes.won]]))).toEqual(perRep);
    expect(Object.fromEntries(report.by.team.map((g) => [g.value, g.stages[0]?.count]))).toEqual({ "enterprise-emea": 3, none: 1 });
    expect(report.totals.stages.map((s) => s.count)).toEqual([4, 3, 3, 3, 3, 1]);
    expect(report.totals.outcomes).toEqual({ won: 1, lost: 1, disqualified: 0, notNow: 1 });

    // A filter by the rep the waiting lead left finds no trace of it.
    const left = repsOf(leads.waits as string)[0] as string;
    const filtered = await call("GET", `/v1/reports/cohorts?from=${today}&to=${today}&rep=${encodeURIComponent(left)}`, "mia@acme.example", ["marketing"]);
    expect(filtered.status).toBe(200);
    const leftCount = Object.values(finalRep).filter((rep) => rep === left).length;
    expect((filtered.body as unknown as CohortReport).totals.stages[0]?.count).toBe(leftCount);
  });
});
