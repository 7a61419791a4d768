/**
 * A lead who engages on the website, not by email, counts as engaged in the funnel: the site
 * script's event raises the score, and the `lead.scored` it publishes names the site activity,
 * which is what the report counts as web engagement.
 */
import { signHs256Token } from "@leadloop/api";
import type { FunnelReport } from "@leadloop/core";
import type { LocalStack } from "@leadloop/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { post, startTestStack } from "./local-stack";

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack();
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

const visitor = (email: string) => ({ email, firstName: "Grace", company: "Compilers Inc", title: "CTO", consent: true });

describe("web engagement in the funnel", () => {
  it("counts a lead engaged by a page view, and one who did nothing not", async () => {
    const submitted = await post(`${stack.url}/v1/forms/whitepaper/submissions`, visitor("grace@compilers.example"));
    expect(submitted.status).toBe(202);
    const { token } = (await submitted.json()) as { token: string };
    expect((await post(`${stack.url}/v1/forms/whitepaper/submissions`, visitor("idle@compilers.example"))).status).toBe(202);
    await stack.bus.drain();

    const viewed = await post(`${stack.url}/v1/events`, { token, type: "page_view", url: "https://www.acme-analytics.example/pricing" });
    expect(viewed.status).toBe(202);
    await stack.bus.drain();

    const marketing = await signHs256Token({ email: "mia@acme.example", roles: ["marketing"] }, stack.authSecret);
    const today = stack.clock.now().toISOString().slice(0, 10);
    const res = await fetch(`${stack.url}/v1/reports/funnel?from=${today}&to=${today}`, { headers: { authorization: `Bearer ${marketing}` } });
    expect(res.status).toBe(200);
    const report = (await res.json()) as FunnelReport;
    const count = (stage: string) => report.totals.stages.find((s) => s.stage === stage)?.count;
    expect(count("captured")).toBe(2);
    expect(count("engaged")).toBe(1);
    expect(stack.bus.deadLetters).toEqual([]);
  });
});
