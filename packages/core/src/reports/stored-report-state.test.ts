import { describe, expect, it } from "vitest";
import type { EventEnvelope } from "../routing/routing-rules";
import { planReportEvent, reportEventOf } from "./report-event";
import type { LeadReportState } from "./report-store";
import { reportStateFromStored, storedReportState } from "./stored-report-state";

let n = 0;
const ev = (type: string, at: string, detail: Record<string, unknown>, source = "leadloop"): EventEnvelope => ({
  id: `e${++n}`,
  source,
  "detail-type": type,
  time: at,
  detail: { leadId: "L1", ...detail },
});
const owner = (rep: string) => ({ teamId: "enterprise-emea", rep });
const tags = (message: string) => ({ mail: { tags: { lead: ["L1"], message: [message], sequence: ["nurture"], step: ["s1"] } } });

/** A lead's whole life: nurture, engagement, qualification, a change of rep, not now, recycled, won. */
const LIFE = [
  ev("lead.captured", "2026-11-02T23:30:00.000Z", { segment: "enterprise", formId: "whitepaper", source: { utm_source: "linkedin", utm_campaign: "q4" } }),
  ev("email.sent", "2026-11-03T09:00:00.000Z", { messageId: "m1", sequenceId: "nurture", stepId: "s1" }),
  ev("Email Opened", "2026-11-03T10:00:00.000Z", tags("m1"), "aws.ses"),
  ev("lead.scored", "2026-11-03T11:00:00.000Z", { score: 40, activity: { type: "page.viewed" } }),
  ev("lead.qualified", "2026-11-04T09:00:00.000Z", { qualifiedAt: "2026-11-04T09:00:00.000Z", score: 80, threshold: 60, reasons: [{ rule: "senior-title" }] }),
  ev("lead.assigned", "2026-11-04T09:00:01.000Z", { ...owner("sophie.martin@acme-analytics.example"), queuedAt: "2026-11-04T09:00:01.000Z" }),
  ev("lead.claimed", "2026-11-04T12:00:00.000Z", { ...owner("jonas.berg@acme-analytics.example"), claimedAt: "2026-11-04T12:00:00.000Z" }),
  ev("lead.closed", "2026-11-05T12:00:00.000Z", { ...owner("jonas.berg@acme-analytics.example"), outcome: "not-now", closedAt: "2026-11-05T12:00:00.000Z" }),
  ev("lead.recycled", "2027-01-05T00:00:00.000Z", { recycledAt: "2027-01-05T00:00:00.000Z" }),
  ev("lead.qualified", "2027-01-06T09:00:00.000Z", { qualifiedAt: "2027-01-06T09:00:00.000Z", score: 70, threshold: 60, reasons: [] }),
  ev("lead.assigned", "2027-01-06T09:00:01.000Z", { ...owner("sophie.martin@acme-analytics.example"), queuedAt: "2027-01-06T09:00:01.000Z" }),
  ev("lead.claimed", "2027-01-06T10:00:00.000Z", { ...owner("sophie.martin@acme-analytics.example"), claimedAt: "2027-01-06T10:00:00.000Z" }),
  ev("lead.closed", "2027-01-08T10:00:00.000Z", { ...owner("sophie.martin@acme-analytics.example"), outcome: "won", amount: 5000, currency: "EUR", closedAt: "2027-01-08T10:00:00.000Z" }),
];

function statesOf(events: EventEnvelope[], start?: LeadReportState): LeadReportState[] {
  const states: LeadReportState[] = [];
  let state = start;
  for (const envelope of events) {
    const event = reportEventOf(envelope);
    if (!event) throw new Error(`not a report event: ${envelope["detail-type"]}`);
    const plan = planReportEvent(event, { ...(state ? { state } : {}), messages: [] });
    if (!plan) throw new Error(`${envelope["detail-type"]} counted nothing`);
    state = { ...plan.state, version: (state?.version ?? 0) + 1 };
    states.push(state);
  }
  return states;
}

/** As a DynamoDB item holds it: JSON, no undefined. */
const stored = (state: LeadReportState) => JSON.parse(JSON.stringify(storedReportState(state)));

describe("the report state as stored", () => {
  it("reads back exactly the state written, at every step of a lead's life", () => {
    for (const state of statesOf(LIFE)) expect(reportStateFromStored("L1", stored(state))).toEqual(state);
  });

  it("leaves out what the rest of the state says: the cohort's capture day, time, segment, form and source, and first-cycle stage times", () => {
    const states = statesOf(LIFE);
    const firstClaim = states[6] as LeadReportState;
    const kept = stored(firstClaim);
    expect(kept.leadId).toBeUndefined();
    expect(kept.cohort).toEqual({ dims: { medium: "none", campaign: "q4", team: "enterprise-emea", rep: "jonas.berg@acme-analytics.example" } });
    expect(JSON.stringify(kept).length).toBeLessThan(JSON.stringify(firstClaim).length - 200);
    // After the recycle the cohort keeps its first MQL and claim, which the state no longer holds.
    const won = stored(states.at(-1) as LeadReportState);
    expect(won.cohort).toMatchObject({ mqlAt: "2026-11-04T09:00:00.000Z", claimedAt: "2026-11-04T12:00:00.000Z", outcome: "won" });
    // Captured at 23:30 UTC: the cohort day is the capture's UTC day, derived again.
    expect(reportStateFromStored("L1", won).cohort?.day).toBe("2026-11-02");
  });

  it("reads a state stored whole, before any of it was left out, as it is", () => {
    for (const state of statesOf(LIFE)) {
      const whole = JSON.parse(JSON.stringify(state));
      expect(reportStateFromStored("L1", whole)).toEqual(state);
    }
  });
});
