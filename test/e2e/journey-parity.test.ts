/**
 * The simulator and the deployed loop agree: one scripted set of journeys (capture, engagement,
 * qualification, claim, outcomes including not-now with activity before and after the recycle
 * date, won, lost) is played through the simulator's lead model and through the local stack
 * (HTTP routes, the stack's own bus deliveries, the virtual clock), and every step leaves each
 * lead in the same stage and segment.
 */
import { signHs256Token } from "@leadloop/api";
import { playScriptedJourneys, recycleDate, type ScriptedJourney, scheduleSteps, type StepOutcome } from "@leadloop/core";
import type { LocalStack } from "@leadloop/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoLead, post, startTestStack } from "./local-stack";

const run = Math.random().toString(36).slice(2, 8);
const site = (path: string) => `https://www.acme-analytics.example${path}`;
const vp = (name: string) => demoLead(`${name}.${run}@${name}-${run}.example`, { lastName: name, company: `${name} ${run}`, title: "VP, Sales Operations Lead" });

const journeys: ScriptedJourney[] = [
  {
    name: "parked",
    ...profileOf(vp("parked")),
    steps: [
      { day: 0, do: "submit", formId: "demo-request" },
      { day: 0, do: "claim" },
      { day: 0, do: "outcome", outcome: "not-now", reason: "timing", recycleInDays: 30 },
      { day: 1, do: "page_view", url: site("/pricing") },
      { day: 31, do: "wait" },
      { day: 32, do: "page_view", url: site("/pricing") },
    ],
  },
  {
    name: "won",
    ...profileOf(vp("won")),
    steps: [
      { day: 0, do: "submit", formId: "demo-request" },
      { day: 1, do: "claim" },
      { day: 2, do: "outcome", outcome: "won", amount: 24000 },
    ],
  },
  {
    name: "lost",
    ...profileOf(vp("lost")),
    steps: [
      { day: 0, do: "submit", formId: "demo-request" },
      { day: 1, do: "claim" },
      { day: 1, do: "outcome", outcome: "lost", reason: "price" },
      { day: 2, do: "page_view", url: site("/pricing") },
    ],
  },
  {
    // A senior buyer reading: 40 points from the whitepaper, the pricing page takes it over 50.
    name: "engaged",
    email: `grace.${run}@compilers-${run}.example`,
    profile: { firstName: "Grace", company: `Compilers ${run}`, title: "VP Data", consent: true },
    steps: [
      { day: 0, do: "submit", formId: "whitepaper" },
      { day: 1, do: "page_view", url: site("/pricing") },
    ],
  },
  {
    name: "nurtured",
    email: `olive.${run}@offices-${run}.example`,
    profile: { firstName: "Olive", company: `Offices ${run}`, title: "Office manager", consent: true },
    steps: [
      { day: 0, do: "submit", formId: "whitepaper" },
      { day: 2, do: "page_view", url: site("/blog/modern-analytics-stack") },
    ],
  },
];

function profileOf(body: Record<string, unknown>): { email: string; profile: ScriptedJourney["profile"] } {
  const { email, ...profile } = body as { email: string } & ScriptedJourney["profile"];
  return { email, profile };
}

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

async function call(method: string, path: string, as: string, roles: ("rep" | "marketing" | "admin")[], body?: unknown) {
  const token = await signHs256Token({ email: as, roles }, stack.authSecret);
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Plays the script on the local stack through its public routes; the stack runs its own jobs. */
async function playOnStack(): Promise<StepOutcome[]> {
  const leads = new Map<string, { leadId: string; token: string; rep?: string }>();
  const out: StepOutcome[] = [];
  let day = 0;
  for (const { journey, step } of scheduleSteps(journeys)) {
    if (step.day > day) {
      const res = await post(`${stack.url}/dev/clock/advance`, { by: `P${step.day - day}D` });
      expect(res.status).toBe(200);
      await stack.bus.drain();
      day = step.day;
    }
    const lead = leads.get(journey.name);
    if (step.do === "submit") {
      const res = await post(`${stack.url}/v1/forms/${step.formId}/submissions`, { email: journey.email, ...journey.profile });
      expect(res.status).toBe(202);
      leads.set(journey.name, (await res.json()) as { leadId: string; token: string });
    } else if (!lead) {
      throw new Error(`Journey ${journey.name} must start with a form submission.`);
    } else if (step.do === "page_view") {
      const res = await post(`${stack.url}/v1/events`, { token: lead.token, type: "page_view", url: step.url });
      expect(res.status).toBe(202);
    } else if (step.do === "claim") {
      const queue = (await call("GET", "/v1/sales/queue", "admin@acme-analytics.example", ["admin"])) as { unclaimed: { leadId: string; rep: string }[] };
      lead.rep = queue.unclaimed.find((e) => e.leadId === lead.leadId)?.rep;
      if (!lead.rep) throw new Error(`Journey ${journey.name}: lead ${lead.leadId} is in no queue to claim`);
      await call("POST", `/v1/sales/leads/${lead.leadId}/claim`, lead.rep, ["rep"]);
    } else if (step.do === "outcome") {
      const { outcome, reason, amount } = step;
      const recycleOn = outcome === "not-now" ? recycleDate(stack.clock.now(), step) : undefined;
      await call("POST", `/v1/sales/leads/${lead.leadId}/outcome`, lead.rep ?? "", ["rep"], { outcome, reason, amount, recycleOn });
    }
    await stack.bus.drain();
    const { leadId } = leads.get(journey.name) ?? { leadId: "" };
    const view = (await call("GET", `/v1/leads/${leadId}`, "marketer@acme-analytics.example", ["marketing"])) as { lead: { stage: StepOutcome["stage"]; segment: string } };
    out.push({ journey: journey.name, day: step.day, step: step.do, stage: view.lead.stage, segment: view.lead.segment });
  }
  return out;
}

describe("simulator and local stack", () => {
  it("move every scripted lead through the same stages", { timeout: 120_000 }, async () => {
    const start = stack.clock.now();
    const simulated = playScriptedJourneys(stack.config, journeys, start);
    const deployed = await playOnStack();
    expect(deployed).toEqual(simulated);

    // And the stages are the lifecycle's, not merely the same mistake twice.
    const stages = (name: string) => simulated.filter((s) => s.journey === name).map((s) => s.stage);
    expect(stages("parked")).toEqual(["sales", "sales", "not-now", "not-now", "recycled", "sales"]);
    expect(stages("won")).toEqual(["sales", "sales", "customer"]);
    expect(stages("lost")).toEqual(["sales", "sales", "lost", "lost"]);
    expect(stages("engaged")).toEqual(["lead", "sales"]);
    expect(stages("nurtured")).toEqual(["lead", "lead"]);
    expect(simulated.filter((s) => s.journey === "parked").map((s) => s.segment).slice(-2)).toEqual(["recycle", "recycle"]);
  });
});
