import { signHs256Token } from "@leadloop/api";
import type { FunnelReport } from "@leadloop/core";
import type { LocalStack } from "@leadloop/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestStack } from "./local-stack";
import { seedFunnel } from "./report-events";

let stack: LocalStack;
let marketing: string;
let period: string;

beforeAll(async () => {
  stack = await startTestStack();
  marketing = await signHs256Token({ email: "mia@acme.example", roles: ["marketing"] }, stack.authSecret);
  await seedFunnel(stack);
  const today = stack.clock.now().toISOString().slice(0, 10);
  const later = new Date(stack.clock.now().getTime() + 10 * 86_400_000).toISOString().slice(0, 10);
  period = `from=${today}&to=${later}`;
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

const get = (path: string, token?: string) => fetch(`${stack.url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

describe("GET /v1/reports/funnel on the local stack", () => {
  it("reports the funnel from capture to won, counting a redelivered event once", async () => {
    expect(stack.bus.deadLetters.filter((d) => d.rule === "report")).toEqual([]);
    const res = await get(`/v1/reports/funnel?${period}`, marketing);
    expect(res.status).toBe(200);
    const report = (await res.json()) as FunnelReport;
    const count = (stage: string) => report.totals.stages.find((s) => s.stage === stage)?.count;
    expect(count("captured")).toBe(4);
    expect(count("engaged")).toBe(3); // the won lead opened twice and clicked: still one engaged lead
    // The scoring handler qualifies the three demo requests on fit at capture; the later
    // lead.qualified the stream repeats for two of them is the same MQL, not another.
    expect(count("mql")).toBe(3);
    expect(count("claimed")).toBe(2);
    expect(count("won")).toBe(1);
    expect(report.totals.stages.find((s) => s.stage === "engaged")?.conversionFromPrevious).toBe(0.75);
    expect(report.totals.outcomes).toEqual({ won: 1, lost: 1, disqualified: 0, notNow: 0 });
    expect(report.totals.lossReasons).toEqual([{ reason: "price", count: 1 }]);
    expect(report.totals.revenueWon).toEqual([{ currency: "EUR", amount: 24000 }]);
    // Qualified at capture, claimed 42 h and 52 h later: the median lies in the [32 h, 64 h) bucket.
    expect(report.totals.medianHours.mqlToClaimed).toBeGreaterThanOrEqual(32);
    expect(report.totals.medianHours.mqlToClaimed).toBeLessThan(64);
    expect(report.totals.durationSamples.claimedToClosed).toBe(2);

    expect(report.bySource.map((s) => [s.source, s.stages[0]?.count]).sort()).toEqual([
      ["direct", 1],
      ["google", 1],
      ["linkedin", 2],
    ]);
    expect(report.byForm.map((f) => [f.formId, f.stages[0]?.count]).sort()).toEqual([
      ["demo-request", 3],
      ["whitepaper", 1],
    ]);
    const nurture = report.sequences.find((s) => s.sequenceId === "report-nurture");
    expect(nurture?.wonDeals).toBe(1);
    const welcome = nurture?.steps.find((s) => s.stepId === "welcome");
    expect(welcome).toMatchObject({ sent: 3, opened: 3, clicked: 1, wonTouches: 1 });
    expect(nurture?.steps.find((s) => s.stepId === "case-study")).toMatchObject({ sent: 1, opened: 1, wonTouches: 1 });
  });

  it("filters by source and form", async () => {
    const google = (await (await get(`/v1/reports/funnel?${period}&source=google`, marketing)).json()) as FunnelReport;
    expect(google.totals.stages.map((s) => s.count)).toEqual([1, 1, 1, 1, 1]);
    const whitepaper = (await (await get(`/v1/reports/funnel?${period}&form=whitepaper`, marketing)).json()) as FunnelReport;
    expect(whitepaper.totals.stages.map((s) => s.count)).toEqual([1, 1, 0, 0, 0]);
  });

  it("names bad parameters with 422, and refuses callers without the marketing or admin role", async () => {
    const bad = await get("/v1/reports/funnel?from=2026-02-30&to=soon", marketing);
    expect(bad.status).toBe(422);
    expect(bad.headers.get("content-type")).toContain("application/problem+json");
    const problem = (await bad.json()) as { detail: string; errors: { field: string }[] };
    expect(problem.errors.map((e) => e.field).sort()).toEqual(["from", "to"]);
    expect(problem.detail).toContain("from");

    expect((await get(`/v1/reports/funnel?${period}`)).status).toBe(401);
    const rep = await signHs256Token({ email: "dana.whitfield@acme-analytics.example", roles: ["rep"] }, stack.authSecret);
    expect((await get(`/v1/reports/funnel?${period}`, rep)).status).toBe(403);
    const admin = await signHs256Token({ email: "root@acme.example", roles: ["admin"] }, stack.authSecret);
    expect((await get(`/v1/reports/funnel?${period}`, admin)).status).toBe(200);
  });

  it("serves the /reports page and the charting library it loads", async () => {
    const page = await get("/reports");
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script src="/assets/chart.umd.js">');
    const script = await get("/assets/chart.umd.js");
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toContain("javascript");
    expect((await script.text()).length).toBeGreaterThan(100_000);
  });
});
