import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { SendWindow, Sequence, Step, Weekday } from "./config/schema";
import { durationMs } from "./duration";
import {
  type EnrollmentState,
  frequencyCapAllows,
  isInSendWindow,
  nextStepOf,
  nextWindowStart,
  planNextStep,
} from "./planner";

const weekdays: SendWindow = {
  days: ["mon", "tue", "wed", "thu", "fri"],
  start: "09:00",
  end: "17:00",
  timezone: "UTC",
};
const everyDay = (start: string, end: string, timezone = "UTC"): SendWindow => ({
  days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
  start,
  end,
  timezone,
});
const step = (id: string, delay = "P2D"): Step => ({ id, delay, template: id, subject: `About ${id}` });
const seq = (steps: Step[], sendWindow = weekdays, frequencyCap?: Sequence["frequencyCap"]) => ({
  steps,
  sendWindow,
  frequencyCap,
});
const iso = (d: Date) => d.toISOString();
const planned = (result: ReturnType<typeof planNextStep>) => {
  if (result.done) throw new Error(`expected a step, got done (${result.reason})`);
  return result;
};

describe("planNextStep: which step", () => {
  const steps = [step("welcome"), step("case-study"), step("webinar"), step("demo")];
  const state = (s: Partial<EnrollmentState>): EnrollmentState => ({
    enrolledAt: "2024-06-03T10:00:00Z",
    completedStepIds: [],
    ...s,
  });

  it("starts with the first step and follows ids after that", () => {
    expect(nextStepOf(steps, state({}))).toMatchObject({ index: 0, step: { id: "welcome" } });
    expect(nextStepOf(steps, state({ lastStepId: "welcome", completedStepIds: ["welcome"] }))).toMatchObject({
      index: 1,
      step: { id: "case-study" },
    });
  });

  it("follows a step that moved to another position by its id", () => {
    const reordered = [step("case-study"), step("welcome"), step("demo"), step("webinar")];
    expect(nextStepOf(reordered, state({ lastStepId: "welcome", completedStepIds: ["welcome"] }))).toMatchObject({
      index: 2,
      step: { id: "demo" },
    });
  });

  it("continues after the last completed step that still exists when the last step was removed", () => {
    const edited = [step("welcome"), step("webinar"), step("demo")]; // case-study removed
    const s = state({ lastStepId: "case-study", completedStepIds: ["welcome", "case-study"] });
    expect(nextStepOf(edited, s)).toMatchObject({ index: 1, step: { id: "webinar" } });
  });

  it("never sends a completed step again, even one moved after the lead's place", () => {
    const edited = [step("case-study"), step("webinar"), step("welcome"), step("demo")];
    const s = state({ lastStepId: "case-study", completedStepIds: ["welcome", "case-study"] });
    expect(nextStepOf(edited, s)).toMatchObject({ step: { id: "webinar" } });
    const s2 = state({ lastStepId: "webinar", completedStepIds: ["welcome", "case-study", "webinar"] });
    expect(nextStepOf(edited, s2)).toMatchObject({ step: { id: "demo" } });
  });

  it("ends as completed after the last step, and as sequence-changed when an edit left nothing", () => {
    const all = ["welcome", "case-study", "webinar", "demo"];
    expect(nextStepOf(steps, state({ lastStepId: "demo", completedStepIds: all }))).toEqual({
      done: true,
      reason: "completed",
    });
    const edited = [step("welcome"), step("case-study")];
    const s = state({ lastStepId: "webinar", completedStepIds: ["welcome", "case-study", "webinar"] });
    expect(planNextStep({ sequence: seq(edited), state: s, now: new Date(), recentSends: [] })).toEqual({
      done: true,
      reason: "sequence-changed",
    });
  });
});

describe("planNextStep: when", () => {
  it("waits the step's delay after enrollment, in the lead's time zone", () => {
    // Monday 2024-06-03 10:00 in New York (EDT, UTC-4).
    const result = planned(
      planNextStep({
        sequence: seq([step("welcome", "PT1H")]),
        state: { enrolledAt: "2024-06-03T14:00:00Z", completedStepIds: [] },
        leadTimeZone: "America/New_York",
        now: new Date("2024-06-03T14:00:00Z"),
        recentSends: [],
      }),
    );
    expect(iso(result.dueAt)).toBe("2024-06-03T15:00:00.000Z");
  });

  it("moves a Friday-evening due time to Monday 09:00", () => {
    // Sent Thursday 18:30 EDT; one day later is Friday 18:30, after the window closes.
    const result = planned(
      planNextStep({
        sequence: seq([step("a"), step("b", "P1D")]),
        state: { enrolledAt: "2024-06-01T00:00:00Z", lastStepId: "a", lastSentAt: "2024-06-06T22:30:00Z", completedStepIds: ["a"] },
        leadTimeZone: "America/New_York",
        now: new Date("2024-06-06T22:30:00Z"),
        recentSends: ["2024-06-06T22:30:00Z"],
      }),
    );
    expect(iso(result.dueAt)).toBe("2024-06-10T13:00:00.000Z"); // Monday 09:00 EDT
    expect(result).toMatchObject({ stepIndex: 1, step: { id: "b" } });
  });

  it("is never in the past, and sends at once when now is inside the window", () => {
    const now = new Date("2024-06-05T11:17:00Z"); // Wednesday
    const result = planned(
      planNextStep({
        sequence: seq([step("a"), step("b", "P1D")]),
        state: { enrolledAt: "2024-01-01T00:00:00Z", lastStepId: "a", lastSentAt: "2024-01-02T10:00:00Z", completedStepIds: ["a"] },
        now,
        recentSends: [],
      }),
    );
    expect(result.dueAt).toEqual(now);
  });

  it("falls back to the window's zone when the lead's zone is unknown or invalid", () => {
    const input = {
      sequence: seq([step("welcome", "PT0S")], { ...weekdays, timezone: "Europe/Berlin" }),
      state: { enrolledAt: "2024-06-03T05:00:00Z", completedStepIds: [] }, // Monday 07:00 in Berlin
      now: new Date("2024-06-03T05:00:00Z"),
      recentSends: [],
    };
    const berlinNine = "2024-06-03T07:00:00.000Z";
    expect(iso(planned(planNextStep(input)).dueAt)).toBe(berlinNine);
    expect(iso(planned(planNextStep({ ...input, leadTimeZone: "Mars/Olympus" })).dueAt)).toBe(berlinNine);
    expect(iso(planned(planNextStep({ ...input, leadTimeZone: "Asia/Tokyo" })).dueAt)).toBe(
      "2024-06-03T05:00:00.000Z", // 14:00 in Tokyo, inside its window
    );
  });

  it("pushes a send past the frequency cap, then back into the window", () => {
    // At most 2 per week: Monday and Tuesday 10:00 UTC already sent, so Wednesday must wait until
    // Monday's send leaves the rolling week: next Monday 10:00.
    const result = planned(
      planNextStep({
        sequence: seq([step("a"), step("b", "P1D")], weekdays, { max: 2, per: "P7D" }),
        state: { enrolledAt: "2024-06-03T09:00:00Z", lastStepId: "a", lastSentAt: "2024-06-04T10:00:00Z", completedStepIds: ["a"] },
        now: new Date("2024-06-04T10:00:00Z"),
        recentSends: ["2024-06-03T10:00:00Z", "2024-06-04T10:00:00Z"],
      }),
    );
    expect(iso(result.dueAt)).toBe("2024-06-10T10:00:00.000Z");
  });

  it("re-fits a cap push that lands outside the window", () => {
    // One a day: yesterday's 16:30 send frees the cap at 16:30, but today's window is over by then.
    const result = planned(
      planNextStep({
        sequence: seq([step("a"), step("b", "PT1H")], weekdays, { max: 1, per: "P1D" }),
        state: { enrolledAt: "2024-06-03T09:00:00Z", lastStepId: "a", lastSentAt: "2024-06-04T09:00:00Z", completedStepIds: ["a"] },
        now: new Date("2024-06-04T09:00:00Z"),
        recentSends: ["2024-06-03T16:59:00Z", "2024-06-04T09:00:00Z"],
      }),
    );
    expect(iso(result.dueAt)).toBe("2024-06-05T09:00:00.000Z");
  });
});

describe("planNextStep across DST", () => {
  const plan = (window: SendWindow, zone: string, lastSentAt: string, delay: string) =>
    planned(
      planNextStep({
        sequence: seq([step("a"), step("b", delay)], window),
        state: { enrolledAt: lastSentAt, lastStepId: "a", lastSentAt, completedStepIds: ["a"] },
        leadTimeZone: zone,
        now: new Date(lastSentAt),
        recentSends: [],
      }),
    ).dueAt;

  it("keeps 09:00 in New York across spring forward and fall back", () => {
    expect(iso(plan(everyDay("09:00", "17:00"), "America/New_York", "2024-03-09T14:00:00Z", "P1D"))).toBe(
      "2024-03-10T13:00:00.000Z",
    );
    expect(iso(plan(everyDay("09:00", "17:00"), "America/New_York", "2024-11-02T13:00:00Z", "P1D"))).toBe(
      "2024-11-03T14:00:00.000Z",
    );
  });

  it("keeps 10:00 in Berlin across spring forward and fall back", () => {
    expect(iso(plan(everyDay("09:00", "17:00"), "Europe/Berlin", "2024-03-30T09:00:00Z", "P1D"))).toBe(
      "2024-03-31T08:00:00.000Z",
    );
    expect(iso(plan(everyDay("09:00", "17:00"), "Europe/Berlin", "2024-10-26T08:00:00Z", "P1D"))).toBe(
      "2024-10-27T09:00:00.000Z",
    );
  });

  it("opens a window whose start does not exist on spring-forward day at the end of the gap", () => {
    // New York skips 02:00–03:00 on 2024-03-10; a 02:30 start opens at 03:00 EDT.
    const ny = everyDay("02:30", "05:00", "America/New_York");
    expect(iso(nextWindowStart(new Date("2024-03-10T06:00:00Z"), ny))).toBe("2024-03-10T07:00:00.000Z");
    // Berlin skips 02:00–03:00 on 2024-03-31; a 02:15 start opens at 03:00 CEST.
    const berlin = everyDay("02:15", "06:00", "Europe/Berlin");
    expect(iso(nextWindowStart(new Date("2024-03-31T00:00:00Z"), berlin))).toBe("2024-03-31T01:00:00.000Z");
    // A day after Saturday 01:30 CET is Sunday 01:30 CET, before the window; it opens at the gap's end.
    expect(iso(plan(berlin, "Europe/Berlin", "2024-03-30T00:30:00Z", "P1D"))).toBe("2024-03-31T01:00:00.000Z");
  });

  it("uses whichever occurrence of a repeated start time comes next on fall-back day", () => {
    // New York repeats 01:00–02:00 on 2024-11-03.
    const ny = everyDay("01:30", "01:45", "America/New_York");
    expect(iso(nextWindowStart(new Date("2024-11-03T04:00:00Z"), ny))).toBe("2024-11-03T05:30:00.000Z"); // EDT
    expect(iso(nextWindowStart(new Date("2024-11-03T05:50:00Z"), ny))).toBe("2024-11-03T06:30:00.000Z"); // EST
    // Berlin repeats 02:00–03:00 on 2024-10-27.
    const berlin = everyDay("02:30", "04:00", "Europe/Berlin");
    expect(iso(nextWindowStart(new Date("2024-10-27T00:00:00Z"), berlin))).toBe("2024-10-27T00:30:00.000Z"); // CEST
  });

  it("skips a window that lies wholly inside the spring-forward gap", () => {
    const gap = everyDay("02:10", "02:50", "America/New_York");
    expect(iso(nextWindowStart(new Date("2024-03-10T05:00:00Z"), gap))).toBe("2024-03-11T06:10:00.000Z");
  });
});

describe("isInSendWindow", () => {
  it("reads the window on the lead's wall clock, end exclusive", () => {
    expect(isInSendWindow(new Date("2024-06-03T13:00:00Z"), weekdays, "America/New_York")).toBe(true); // Mon 09:00
    expect(isInSendWindow(new Date("2024-06-03T12:59:59Z"), weekdays, "America/New_York")).toBe(false);
    expect(isInSendWindow(new Date("2024-06-03T21:00:00Z"), weekdays, "America/New_York")).toBe(false); // 17:00
    expect(isInSendWindow(new Date("2024-06-08T13:00:00Z"), weekdays, "America/New_York")).toBe(false); // Saturday
  });
});

describe("frequencyCapAllows", () => {
  const day = 86_400_000;
  it("counts only rolling windows that contain the send", () => {
    const t = new Date(10 * day);
    expect(frequencyCapAllows(t, [9.2 * day, 9.5 * day], 2, day)).toBe(false);
    expect(frequencyCapAllows(t, [9.2 * day, 9.5 * day], 3, day)).toBe(true);
    // Exactly one period ago has left the window.
    expect(frequencyCapAllows(t, [9 * day, 9.5 * day], 2, day)).toBe(true);
    // A send just after t shares a window with t.
    expect(frequencyCapAllows(t, [9.5 * day, 10.5 * day], 2, day)).toBe(true);
    expect(frequencyCapAllows(t, [9.5 * day, 10.4 * day], 2, day)).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const ZONES = [
  "America/New_York",
  "Europe/Berlin",
  "Europe/London",
  "America/Sao_Paulo",
  "America/St_Johns",
  "Australia/Lord_Howe", // 30-minute DST shift
  "Australia/Sydney",
  "Pacific/Chatham",
  "Asia/Kolkata",
  "Asia/Kathmandu",
  "Asia/Tehran",
  "Pacific/Apia",
  "UTC",
];
const DAYS: Weekday[] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const DELAYS = ["PT0S", "PT30M", "PT1H", "PT20H", "P1D", "P2D", "P1DT12H", "P1W", "P1M"];
const CAP_PERIODS = ["PT12H", "P1D", "P3D", "P7D"];
// Instants near DST changes, so the generators visit them often.
const TRANSITIONS = [
  "2024-03-10T07:00:00Z",
  "2024-11-03T06:00:00Z",
  "2024-03-31T01:00:00Z",
  "2024-10-27T01:00:00Z",
  "2024-04-06T15:00:00Z",
  "2024-10-05T16:00:00Z",
  "2024-09-28T14:00:00Z",
].map((s) => Date.parse(s));

const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
const windowArb: fc.Arbitrary<SendWindow> = fc
  .record({
    days: fc.subarray(DAYS, { minLength: 1 }),
    times: fc.uniqueArray(fc.integer({ min: 0, max: 1439 }), { minLength: 2, maxLength: 2 }),
    timezone: fc.constantFrom(...ZONES),
  })
  .map(({ days, times, timezone }) => {
    const [a = 0, b = 1] = times;
    return { days, start: hhmm(Math.min(a, b)), end: hhmm(Math.max(a, b)), timezone };
  });
const nowArb = fc.oneof(
  fc.integer({ min: Date.parse("2020-01-01T00:00:00Z"), max: Date.parse("2030-01-01T00:00:00Z") }),
  fc.tuple(fc.constantFrom(...TRANSITIONS), fc.integer({ min: -3 * 86_400_000, max: 3 * 86_400_000 })).map(
    ([t, d]) => t + d,
  ),
);
const ids = ["s-a", "s-b", "s-c", "s-d", "s-e", "s-f"];

const scenario = fc
  .record({
    oldIds: fc.subarray(ids, { minLength: 1 }),
    keep: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
    delays: fc.array(fc.constantFrom(...DELAYS), { minLength: 6, maxLength: 6 }),
    window: windowArb,
    cap: fc.option(fc.record({ max: fc.integer({ min: 1, max: 4 }), per: fc.constantFrom(...CAP_PERIODS) }), {
      nil: undefined,
    }),
    leadTimeZone: fc.option(fc.constantFrom(...ZONES, "Not/AZone"), { nil: undefined }),
    now: nowArb,
    progress: fc.integer({ min: 0, max: 6 }),
    sinceEnrolled: fc.integer({ min: 0, max: 40 * 86_400_000 }),
    sinceSent: fc.option(fc.integer({ min: -86_400_000, max: 20 * 86_400_000 }), { nil: undefined }),
    sends: fc.array(fc.integer({ min: -14 * 86_400_000, max: 0 }), { maxLength: 8 }),
  })
  .map((s) => {
    // The lead went through the old sequence; a marketer may since have removed steps.
    const done = s.oldIds.slice(0, s.progress);
    const steps = s.oldIds
      .filter((_, i) => s.keep[i] !== false || i === 0)
      .map((id, i) => step(id, s.delays[i] ?? "P1D"));
    const state: EnrollmentState = {
      enrolledAt: new Date(s.now - s.sinceEnrolled).toISOString(),
      lastStepId: done.at(-1),
      lastSentAt: done.length > 0 && s.sinceSent !== undefined ? new Date(s.now - s.sinceSent).toISOString() : undefined,
      completedStepIds: done,
    };
    return {
      sequence: seq(steps, s.window, s.cap),
      state,
      leadTimeZone: s.leadTimeZone,
      now: new Date(s.now),
      recentSends: s.sends.map((d) => new Date(s.now + d).toISOString()),
    };
  });

/** Independent check: every window [x, x + per) that contains `at` holds at most `max` sends. */
function capHolds(at: Date, sends: string[], cap: { max: number; per: string }): boolean {
  const per = durationMs(cap.per);
  const t = at.getTime();
  const all = [...sends.map((s) => Date.parse(s)), t];
  // The fullest such window can be slid right until it starts at one of its own sends.
  const starts = all.filter((x) => x > t - per && x <= t);
  return starts.every((x) => all.filter((u) => u >= x && u < x + per).length <= cap.max);
}

describe("planNextStep properties", () => {
  it("plans inside the window, never before now, within the cap, never repeating a step", () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const result = planNextStep(input);
        if (result.done) {
          const handled = new Set([...input.state.completedStepIds, input.state.lastStepId]);
          const lastIndex = input.sequence.steps.findIndex((s) => s.id === input.state.lastStepId);
          // Done only when nothing unhandled is left after the lead's place.
          expect(input.sequence.steps.slice(lastIndex + 1).every((s) => handled.has(s.id))).toBe(true);
          return;
        }
        expect(result.dueAt.getTime()).toBeGreaterThanOrEqual(input.now.getTime());
        expect(isInSendWindow(result.dueAt, input.sequence.sendWindow, input.leadTimeZone)).toBe(true);
        if (input.sequence.frequencyCap) {
          expect(capHolds(result.dueAt, input.recentSends, input.sequence.frequencyCap)).toBe(true);
        }
        expect(input.state.completedStepIds).not.toContain(result.step.id);
        expect(input.sequence.steps[result.stepIndex]).toBe(result.step);
      }),
      { numRuns: 500 },
    );
  });

  it("walks a whole sequence once, in order, every send inside the window and the cap", () => {
    fc.assert(
      fc.property(scenario, fc.integer({ min: 0, max: 3_600_000 }), (input, sweepLag) => {
        let state: EnrollmentState = { enrolledAt: input.now.toISOString(), completedStepIds: [] };
        let now = input.now;
        const recentSends = [...input.recentSends];
        const sent: string[] = [];
        for (let i = 0; i <= input.sequence.steps.length; i++) {
          const result = planNextStep({ ...input, state, now, recentSends });
          if (result.done) {
            expect(result.reason).toBe("completed");
            break;
          }
          expect(isInSendWindow(result.dueAt, input.sequence.sendWindow, input.leadTimeZone)).toBe(true);
          if (input.sequence.frequencyCap) {
            expect(capHolds(result.dueAt, recentSends, input.sequence.frequencyCap)).toBe(true);
          }
          sent.push(result.step.id);
          recentSends.push(result.dueAt.toISOString());
          state = {
            ...state,
            lastStepId: result.step.id,
            lastSentAt: result.dueAt.toISOString(),
            completedStepIds: [...state.completedStepIds, result.step.id],
          };
          now = new Date(result.dueAt.getTime() + sweepLag);
        }
        expect(sent).toEqual(input.sequence.steps.map((s) => s.id));
      }),
      { numRuns: 200 },
    );
  });
});
