import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  FormsFile,
  type LeadloopConfig,
  ScoringFile,
  SegmentsFile,
  type Sequence,
  SequenceFile,
  TeamsFile,
} from "../config/schema";
import { durationMs } from "../duration";
import { isInSendWindow } from "../planner";
import { forecastJourneys, type SimulatedSend, simulateJourneys } from "./journey-simulator";

// A small config of its own, so these tests do not move when marketers edit config/.
const forms = FormsFile.parse({
  forms: {
    demo: {
      name: "Demo",
      thankYouUrl: "https://example.com/thanks",
      fields: {
        email: { type: "email", required: true },
        firstName: { type: "text", required: true },
        company: { type: "text", required: true },
        title: { type: "text", required: true },
        companySize: { type: "number", required: true },
        country: { type: "country", required: true },
        timezone: { type: "timezone" },
      },
    },
    newsletter: {
      name: "Newsletter",
      thankYouUrl: "https://example.com/thanks",
      fields: { email: { type: "email", required: true }, firstName: { type: "text" }, timezone: { type: "timezone" } },
    },
  },
}).forms;

const segments = SegmentsFile.parse({
  segments: [
    { id: "customer", when: { field: "stage", equals: "customer" } },
    { id: "recycle", when: { field: "stage", equals: "recycled" } },
    {
      id: "enterprise",
      when: { any: [{ field: "companySize", gte: 1000 }, { field: "title", contains: ["vp", "director", "head of", "chief", "cto"] }] },
    },
    { id: "smb", when: { field: "email", emailDomain: "company" } },
  ],
  default: "self-serve",
});

const scoringInput = {
  threshold: 60,
  fit: [
    { id: "senior", when: { field: "title", contains: ["vp", "director", "head of", "chief", "cto"] }, points: 20 },
    { id: "large", when: { field: "companySize", gte: 1000 }, points: 15 },
    { id: "company-mail", when: { field: "email", emailDomain: "company" }, points: 10 },
  ],
  behaviour: [
    { id: "opened", on: "email.opened", points: 3, cap: 15 },
    { id: "clicked", on: "email.clicked", points: 8, cap: 24 },
    { id: "pricing", on: "web.page_view", url: "*/pricing*", points: 15, cap: 30 },
    { id: "page", on: "web.page_view", points: 1, cap: 10 },
    { id: "demo", on: "form.submitted", form: "demo", points: 25 },
    { id: "webinar", on: "web.webinar_attended", points: 20 },
  ],
  decay: { after: "P14D", every: "P7D", percent: 20 },
};
const scoring = ScoringFile.parse(scoringInput);

const sequence = (input: Record<string, unknown>): Sequence => SequenceFile.parse(input);
const steps = (prefix: string) => [
  { id: "welcome", delay: "PT10M", template: `${prefix}-welcome`, subject: "Welcome" },
  { id: "second", delay: "P2D", template: `${prefix}-second`, subject: "Second" },
  { id: "third", delay: "P3D", template: `${prefix}-third`, subject: "Third", condition: { previous: "opened" } },
  { id: "fourth", delay: "P3D", template: `${prefix}-fourth`, subject: "Fourth" },
];
const sequences: Sequence[] = [
  sequence({
    id: "enterprise-nurture",
    name: "Enterprise",
    segment: "enterprise",
    sendWindow: { days: ["mon", "tue", "wed", "thu", "fri"], start: "09:00", end: "17:00", timezone: "America/New_York" },
    frequencyCap: { max: 3, per: "P7D" },
    steps: steps("ent"),
  }),
  sequence({
    id: "smb-nurture",
    name: "SMB",
    segment: "smb",
    sendWindow: { days: ["mon", "tue", "wed", "thu", "fri"], start: "08:30", end: "18:00", timezone: "Europe/London" },
    frequencyCap: { max: 3, per: "P7D" },
    steps: steps("smb"),
  }),
  sequence({
    id: "self-serve-nurture",
    name: "Self-serve",
    segment: "self-serve",
    sendWindow: { days: ["mon", "tue", "wed", "thu", "fri", "sat"], start: "10:00", end: "14:00", timezone: "UTC" },
    frequencyCap: { max: 3, per: "P7D" },
    steps: steps("ss"),
  }),
  sequence({ id: "customer-retention", name: "Customers", segment: "customer", exitOn: ["lead.unsubscribed"], steps: steps("cust").slice(0, 2) }),
  sequence({ id: "recycle-nurture", name: "Recycle", segment: "recycle", steps: steps("rec").slice(0, 2) }),
];

const rep = (name: string, weight = 1) => ({ email: `${name}@example.com`, name, weight });
const teams = TeamsFile.parse({
  teams: [
    {
      id: "enterprise-na",
      name: "Enterprise NA",
      segments: ["enterprise"],
      territories: ["US", "CA"],
      reps: [rep("ana"), rep("bo")],
      claimSla: "PT4H",
      escalation: { email: "boss@example.com" },
    },
    {
      id: "inside",
      name: "Inside sales",
      segments: ["enterprise", "smb", "self-serve", "recycle"],
      assignment: "weighted",
      reps: [rep("cy", 3), rep("di", 1)],
      claimSla: "PT8H",
      escalation: { email: "boss@example.com" },
    },
  ],
  lostReasons: [{ code: "price", label: "Price" }],
  disqualifiedReasons: [{ code: "student", label: "Student" }],
});

const baseConfig: LeadloopConfig = {
  forms,
  segments,
  scoring,
  sequences,
  teams: { teams: teams.teams, lostReasons: teams.lostReasons, disqualifiedReasons: teams.disqualifiedReasons },
  templates: {},
  broadcasts: [],
};

const withScoring = (threshold: number): LeadloopConfig => ({ ...baseConfig, scoring: ScoringFile.parse({ ...scoringInput, threshold }) });

const small = { leads: 150, days: 21 };

describe("simulateJourneys", () => {
  it("gives the same forecast for the same seed, and a different one for another seed", () => {
    const a = forecastJourneys(baseConfig, { ...small, seed: 7 });
    const b = forecastJourneys(baseConfig, { ...small, seed: 7 });
    const c = forecastJourneys(baseConfig, { ...small, seed: 8 });
    expect(b).toEqual(a);
    expect(c.emails.perDay).not.toEqual(a.emails.perDay);
  });

  it("accounts for every lead and every email it reports", () => {
    const f = forecastJourneys(baseConfig, { ...small, seed: 3 });
    expect(f.leads.captured).toBe(small.leads);
    expect(Object.values(f.leads.bySegment).reduce((a, b) => a + b, 0)).toBe(small.leads);
    expect(f.emails.perDay).toHaveLength(small.days);
    expect(f.emails.perDay.reduce((n, d) => n + d.emails, 0)).toBe(f.emails.total);
    expect(f.emails.bySequence.reduce((n, s) => n + s.sent, 0)).toBe(f.emails.nurture);
    expect(f.emails.peakPerDay).toBe(Math.max(...f.emails.perDay.map((d) => d.emails)));
    expect(Object.values(f.handoffs.byTeam).reduce((a, b) => a + b, 0)).toBe(f.handoffs.total);
    expect(f.repLoad.reps.reduce((n, r) => n + r.leads, 0)).toBe(f.sales.claimed);
    // The run exercises the whole journey, not just the first email.
    expect(f.emails.nurture).toBeGreaterThan(small.leads);
    expect(f.mqls.total).toBeGreaterThan(0);
    expect(f.sales.claimed).toBeGreaterThan(0);
    expect(f.cost.usd.total).toBeGreaterThan(0);
  });

  it("never makes more MQLs when the threshold is raised (same seed)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 20, max: 120 }), fc.integer({ min: 1, max: 60 }), (seed, low, raise) => {
        const options = { leads: 60, days: 14, seed };
        const before = forecastJourneys(withScoring(low), options);
        const after = forecastJourneys(withScoring(low + raise), options);
        expect(after.mqls.total).toBeLessThanOrEqual(before.mqls.total);
      }),
      { numRuns: 6 },
    );
    // And the threshold does matter, so the property above is not vacuous.
    const options = { ...small, seed: 5 };
    expect(forecastJourneys(withScoring(120), options).mqls.total).toBeLessThan(forecastJourneys(withScoring(40), options).mqls.total);
  });

  it("sends more email when a step is added to a sequence", () => {
    const extended: LeadloopConfig = {
      ...baseConfig,
      sequences: baseConfig.sequences.map((s) =>
        s.id === "smb-nurture"
          ? { ...s, steps: [...s.steps.slice(0, 2), { id: "extra", delay: "P1D", template: "smb-extra", subject: "Extra" }, ...s.steps.slice(2)] }
          : s,
      ),
    };
    const options = { ...small, seed: 11 };
    const before = forecastJourneys(baseConfig, options);
    const after = forecastJourneys(extended, options);
    const smb = (f: typeof before) => f.emails.bySequence.find((s) => s.sequenceId === "smb-nurture");
    expect(smb(after)?.steps.find((s) => s.stepId === "extra")?.sent).toBeGreaterThan(0);
    expect(smb(after)?.sent).toBeGreaterThan(smb(before)?.sent ?? 0);
    expect(after.emails.nurture).toBeGreaterThan(before.emails.nurture);
  });

  it("keeps every lead within the frequency cap, which does bind", () => {
    // Hourly steps would send far more than twice a week without the cap.
    const hourly = (s: Sequence, cap: Sequence["frequencyCap"]): Sequence => ({
      ...s,
      sendWindow: { days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], start: "00:00", end: "23:59", timezone: "UTC" },
      frequencyCap: cap,
      steps: s.steps.map((st) => ({ ...st, delay: "PT1H", condition: undefined })),
    });
    const capped = { ...baseConfig, sequences: baseConfig.sequences.map((s) => hourly(s, { max: 2, per: "P7D" })) };
    const uncapped = { ...baseConfig, sequences: baseConfig.sequences.map((s) => hourly(s, undefined)) };
    const options = { leads: 80, days: 21, seed: 2 };
    const perMs = durationMs("P7D");
    expect(maxInAnyWindow(simulateJourneys(uncapped, options).sends, perMs)).toBeGreaterThan(2);
    const sends = simulateJourneys(capped, options).sends;
    expect(sends.length).toBeGreaterThan(options.leads);
    expect(maxInAnyWindow(sends, perMs)).toBeLessThanOrEqual(2);
  });

  it("sends only inside each sequence's send window, on the lead's own clock", () => {
    const { sends } = simulateJourneys(baseConfig, { ...small, seed: 4 });
    expect(new Set(sends.map((s) => s.zone)).size).toBeGreaterThan(3);
    for (const send of sends) {
      const seq = baseConfig.sequences.find((s) => s.id === send.sequenceId);
      if (!seq) throw new Error(`unknown sequence ${send.sequenceId}`);
      expect(isInSendWindow(send.at, seq.sendWindow, send.zone), `${send.sequenceId} at ${send.at.toISOString()} in ${send.zone}`).toBe(true);
    }
  });

  it("hands leads to the team covering their segment and country, by the team's weights", () => {
    const f = forecastJourneys(baseConfig, { leads: 300, days: 21, seed: 9, claimMissRate: 0 });
    expect(f.handoffs.byTeam["enterprise-na"]).toBeGreaterThan(0);
    expect(f.handoffs.byTeam.inside).toBeGreaterThan(0);
    const load = (name: string) => f.repLoad.reps.find((r) => r.name === name)?.leads ?? 0;
    // Weighted 3:1 with no missed claims: the split is exact up to the one rotation in progress.
    expect(Math.abs(load("cy") - 3 * load("di"))).toBeLessThanOrEqual(3);
    expect(Math.abs(load("ana") - load("bo"))).toBeLessThanOrEqual(1);
  });

  it("stops nurture for leads who unsubscribe", () => {
    const f = forecastJourneys(baseConfig, { ...small, seed: 6, unsubscribeRate: 1 });
    expect(f.unsubscribes.total).toBeGreaterThan(0);
    // Everyone unsubscribes after the first email, so nobody gets a third.
    for (const s of f.emails.bySequence) expect(s.steps.slice(2).every((st) => st.sent === 0)).toBe(true);
  });
});

/** The most sends one lead got within any rolling window of `perMs`. */
function maxInAnyWindow(sends: readonly SimulatedSend[], perMs: number): number {
  const byLead = new Map<number, number[]>();
  for (const s of sends) byLead.set(s.leadIndex, [...(byLead.get(s.leadIndex) ?? []), s.at.getTime()]);
  let max = 0;
  for (const times of byLead.values()) {
    times.sort((a, b) => a - b);
    for (let i = 0; i < times.length; i++) {
      const first = times[i] ?? 0;
      const inWindow = times.filter((t) => t >= first && t - first < perMs).length;
      max = Math.max(max, inWindow);
    }
  }
  return max;
}

describe("A/B tests in the simulator", () => {
  const tested = (winner?: { metric: "clicks"; minSends: number; confidence: number }): LeadloopConfig => ({
    ...baseConfig,
    sequences: baseConfig.sequences.map((s) =>
      s.id === "smb-nurture"
        ? {
            ...s,
            steps: s.steps.map((st, i) =>
              i === 0 ? { ...st, variants: [{ id: "a", weight: 1 }, { id: "b", weight: 1, template: "smb-first-short" }], ...(winner ? { winner } : {}) } : st,
            ),
          }
        : s,
    ),
  });
  // The short version draws far more clicks, as a --rates file would say.
  const emailRates = { templates: { "smb-first": { open: 0.3, click: 0.01 }, "smb-first-short": { open: 0.6, click: 0.5 } }, steps: {} };

  it("sends each lead its variant, drawing opens and clicks at that variant's rates", () => {
    const f = forecastJourneys(tested(), { ...small, leads: 400, seed: 5, emailRates });
    const first = f.emails.bySequence.find((s) => s.sequenceId === "smb-nurture")?.steps[0];
    const [a, b] = first?.variants ?? [];
    expect((a?.sent ?? 0) + (b?.sent ?? 0)).toBe(first?.sent);
    expect(a?.sent).toBeGreaterThan(10);
    expect(b?.sent).toBeGreaterThan(10);
    expect((b?.clicked ?? 0) / (b?.sent ?? 1)).toBeGreaterThan((a?.clicked ?? 0) / (a?.sent ?? 1));
    expect(first?.abWinner).toBeUndefined();
  });

  it("ends the test by its rule and sends the winner from then on", () => {
    const f = forecastJourneys(tested({ metric: "clicks", minSends: 10, confidence: 0.95 }), { ...small, leads: 400, seed: 5, emailRates });
    const first = f.emails.bySequence.find((s) => s.sequenceId === "smb-nurture")?.steps[0];
    expect(first?.abWinner).toBe("b");
    const [a, b] = first?.variants ?? [];
    expect(b?.sent).toBeGreaterThan((a?.sent ?? 0) * 2);
  });
});
