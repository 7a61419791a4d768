import { describe, expect, it } from "vitest";
import { type EventEnvelope, LeadloopEventType, REPORT_EVENTS, SES_REPORT_EVENTS } from "../routing/routing-rules";
import { planReportEvent, type ReportEvent, reportEventOf } from "./report-event";
import type { LeadReportState } from "./report-store";

const envelope = (type: string, detail: Record<string, unknown>, source = "leadloop", time = "2026-01-05T10:00:00Z"): EventEnvelope => ({
  id: `evt-${Math.random()}`,
  source,
  "detail-type": type,
  time,
  detail,
});

const ses = (type: string, tags: Record<string, string[]>, extra: Record<string, unknown> = {}) =>
  envelope(type, { eventType: type.split(" ")[1], mail: { messageId: "ses-1", tags }, ...extra }, "aws.ses");

const state = (patch: Partial<LeadReportState> = {}): LeadReportState => ({
  leadId: "L1",
  dims: { segment: "enterprise", source: "google", formId: "demo" },
  capturedAt: "2026-01-01T00:00:00.000Z",
  facts: ["captured"],
  version: 1,
  ...patch,
});

const plan = (event: EventEnvelope, known: Parameters<typeof planReportEvent>[1]) => {
  const parsed = reportEventOf(event);
  if (!parsed) throw new Error("not a report event");
  return planReportEvent(parsed, known);
};

describe("reportEventOf", () => {
  it("reads the contract's events and SES's tags", () => {
    expect(
      reportEventOf(envelope("lead.captured", { leadId: "L1", segment: "smb", formId: "ebook", source: { utm_source: " LinkedIn " } })),
    ).toMatchObject({ type: "captured", dims: { segment: "smb", source: "linkedin", formId: "ebook" } });
    expect(reportEventOf(envelope("lead.captured", { leadId: "L1", segment: "smb", formId: "ebook", source: {} }))).toMatchObject({
      dims: { source: "direct" },
    });
    expect(
      reportEventOf(ses("Email Opened", { lead: ["L1"], sequence: ["s"], step: ["a"], message: ["m1"] }, { open: { timestamp: "2026-01-06T08:00:00Z" } })),
    ).toEqual({ type: "email", counter: "opened", leadId: "L1", at: "2026-01-06T08:00:00.000Z", messageId: "m1", sequenceId: "s", stepId: "a" });
    expect(reportEventOf(ses("Email Delivered", { lead: ["L1"] }))).toBeUndefined();
    expect(reportEventOf(envelope("lead.closed", { leadId: "L1", outcome: "maybe" }))).toBeUndefined();
    expect(reportEventOf(envelope("lead.scored", { leadId: "L1", score: 40 }))).toBeUndefined();
  });

  it("counts no event its rule does not deliver: the rule's filter drops nothing the report would count", () => {
    // Every field any report event reads, so only the detail-type decides.
    const detail = {
      leadId: "L1",
      segment: "smb",
      formId: "ebook",
      source: {},
      messageId: "m1",
      activity: { type: "page_view" },
      teamId: "t",
      rep: "r",
      outcome: "won",
      mail: { messageId: "ses-1", tags: { lead: ["L1"], sequence: ["s"], step: ["a"], message: ["m1"] } },
    };
    const delivered = new Set<string>([...REPORT_EVENTS, ...SES_REPORT_EVENTS]);
    for (const type of LeadloopEventType.options) {
      expect(reportEventOf(envelope(type, detail)) !== undefined, type).toBe(delivered.has(type));
    }
    for (const type of ["Email Sent", "Email Delivered", "Email Opened", "Email Clicked", "Email Bounced", "Email Complaint", "Email Rendering Failure"]) {
      expect(reportEventOf(envelope(type, detail, "aws.ses")) !== undefined, type).toBe(delivered.has(type));
    }
  });
});

describe("planReportEvent", () => {
  it("counts a capture once", () => {
    const captured = envelope("lead.captured", { leadId: "L1", segment: "smb", formId: "ebook", source: {} });
    const first = plan(captured, {});
    expect(first?.increments.filter((i) => !i.kind.startsWith("cohort"))).toEqual([{ kind: "funnel", day: "2026-01-05", dims: { segment: "smb", source: "direct", formId: "ebook" }, add: { captured: 1 } }]);
    expect(plan(captured, { state: first?.state })).toBeUndefined();
  });

  it("counts a lead as engaged once, on its first open or click, and each message's open once", () => {
    const open = (message: string) => ses("Email Opened", { lead: ["L1"], sequence: ["nurture"], step: ["s1"], message: [message] });
    const first = plan(open("m1"), { state: state() });
    expect(first?.increments[0]).toMatchObject({ kind: "funnel", add: { engaged: 1 } });
    expect(first?.increments[1]).toMatchObject({ kind: "email", sequenceId: "nurture", stepId: "s1", add: { opened: 1 } });
    expect(plan(open("m1"), { state: first?.state })).toBeUndefined();
    const second = plan(open("m2"), { state: first?.state });
    expect(second?.increments.filter((i) => !i.kind.startsWith("cohort"))).toHaveLength(1);
    expect(second?.increments[0]).toMatchObject({ kind: "email", add: { opened: 1 } });
  });

  it("times each stage into a histogram bucket on the day of the later stage", () => {
    const mql = plan(envelope("lead.qualified", { leadId: "L1", qualifiedAt: "2026-01-01T05:00:00Z" }), { state: state() });
    expect(mql?.increments[0]).toEqual({
      kind: "funnel",
      day: "2026-01-01",
      dims: state().dims,
      add: { mql: 1, "h:capturedToMql:3": 1 }, // 5 h is in [4, 8)
    });
    const claim = plan(envelope("lead.claimed", { leadId: "L1", claimedAt: "2026-01-01T05:30:00Z" }), { state: mql?.state });
    expect(claim?.increments[0]?.add).toEqual({ claimed: 1, "h:mqlToClaimed:0": 1 });
    const lost = plan(envelope("lead.closed", { leadId: "L1", outcome: "lost", reason: "Price too high", closedAt: "2026-01-04T05:30:00Z" }), {
      state: claim?.state,
    });
    expect(lost?.increments[0]?.add).toEqual({ lost: 1, "lost:price-too-high": 1, "h:claimedToClosed:7": 1 }); // 72 h in [64, 128)
  });

  it("a won deal adds revenue and the sequences and steps the lead was sent before closing", () => {
    const messages = [
      { messageId: "m1", kind: "nurture", sequenceId: "nurture", stepId: "s1", sentAt: "2026-01-01T01:00:00.000Z" },
      { messageId: "m2", kind: "nurture", sequenceId: "nurture", stepId: "s2", sentAt: "2026-01-02T01:00:00.000Z" },
      { messageId: "m3", kind: "nurture", sequenceId: "nurture", stepId: "s2", sentAt: "2026-01-03T01:00:00.000Z" },
      { messageId: "m4", kind: "confirmation", sentAt: "2026-01-01T00:00:00.000Z" },
      { messageId: "m5", kind: "nurture", sequenceId: "later", stepId: "s1", sentAt: "2026-02-01T00:00:00.000Z" },
    ];
    const won = plan(envelope("lead.closed", { leadId: "L1", outcome: "won", amount: 5000, currency: "eur", closedAt: "2026-01-10T00:00:00Z" }), {
      state: state({ claimedAt: "2026-01-09T00:00:00.000Z" }),
      messages,
    });
    expect(won?.increments[0]?.add).toEqual({ won: 1, "revenue:EUR": 5000, "h:claimedToClosed:5": 1 });
    expect(won?.increments.slice(1).filter((i) => !i.kind.startsWith("cohort")).map((i) => (i.kind === "email" ? [i.sequenceId, i.stepId, i.add] : i))).toEqual([
      ["nurture", "*", { wonDeals: 1 }],
      ["nurture", "s1", { wonTouches: 1 }],
      ["nurture", "s2", { wonTouches: 1 }],
    ]);
  });

  it("attributes an unsubscribe to the last step sent before it", () => {
    const messages = [
      { messageId: "m1", kind: "nurture", sequenceId: "nurture", stepId: "s1", sentAt: "2026-01-01T01:00:00.000Z" },
      { messageId: "m2", kind: "nurture", sequenceId: "nurture", stepId: "s2", sentAt: "2026-01-03T01:00:00.000Z" },
    ];
    const unsub = plan(envelope("lead.unsubscribed", { leadId: "L1", segment: "enterprise" }, "leadloop", "2026-01-04T00:00:00Z"), { state: state(), messages });
    expect(unsub?.increments.filter((i) => !i.kind.startsWith("cohort"))).toEqual([{ kind: "email", day: "2026-01-04", dims: state().dims, sequenceId: "nurture", stepId: "s2", add: { unsubscribed: 1 } }]);
  });

  it("takes the cohort from the lead item when the report never saw the capture, and skips unknown leads", () => {
    const event = reportEventOf(envelope("lead.qualified", { leadId: "L9", qualifiedAt: "2026-01-02T00:00:00Z" })) as ReportEvent;
    expect(planReportEvent(event, {})).toBeUndefined();
    const fromLead = planReportEvent(event, { lead: { segment: "smb", source: "direct", formId: "ebook", capturedAt: "2026-01-01T00:00:00Z" } });
    expect(fromLead?.increments[0]).toMatchObject({ dims: { segment: "smb", source: "direct", formId: "ebook" }, add: { mql: 1, "h:capturedToMql:5": 1 } });
  });

  it("a recycled lead's next MQL is timed from the recycle, and counted again", () => {
    const first = state({ facts: ["captured", "mql#first"], qualifiedAt: "2026-01-02T00:00:00.000Z" });
    // Qualified again without a recycle (a rescoring): not a second MQL.
    expect(plan(envelope("lead.qualified", { leadId: "L1", qualifiedAt: "2026-01-20T00:00:00Z" }), { state: first })).toBeUndefined();
    const recycled = plan(envelope("lead.recycled", { leadId: "L1", recycledAt: "2026-03-01T00:00:00Z" }), { state: first });
    expect(recycled?.increments.filter((i) => !i.kind.startsWith("cohort"))).toEqual([]);
    const again = plan(envelope("lead.qualified", { leadId: "L1", qualifiedAt: "2026-03-01T02:00:00Z" }), { state: recycled?.state });
    expect(again?.increments[0]?.add).toEqual({ mql: 1, "h:capturedToMql:2": 1 });
  });
});

describe("the cohort row and the deal review", () => {
  const chain = (events: EventEnvelope[]) => {
    let known: Parameters<typeof planReportEvent>[1] = {};
    const increments: NonNullable<ReturnType<typeof plan>>["increments"] = [];
    let review: NonNullable<ReturnType<typeof plan>>["review"];
    for (const e of events) {
      const p = plan(e, known);
      if (!p) continue;
      increments.push(...p.increments);
      if (p.review) review = p.review;
      known = { state: p.state };
    }
    const sums: Record<string, Record<string, number>> = {};
    for (const i of increments) {
      if (i.kind !== "cohort") continue;
      const key = `${i.day}|${i.dims.team}|${i.dims.rep}|${i.dims.medium}|${i.dims.campaign}`;
      sums[key] ??= {};
      for (const [k, v] of Object.entries(i.add)) sums[key][k] = (sums[key][k] ?? 0) + v;
    }
    return { sums, review };
  };

  it("keeps a lead in one row of its capture day, under its rep once claimed, and reviews the closed deal", () => {
    const { sums, review } = chain([
      envelope("lead.captured", { leadId: "L1", segment: "smb", formId: "demo", source: { utm_source: "google", utm_medium: "CPC", utm_campaign: "q4" } }),
      envelope("lead.qualified", { leadId: "L1", qualifiedAt: "2026-01-05T11:00:00Z", score: 70, threshold: 60, reasons: [{ rule: "demo-requested", category: "engagement", points: 40 }, { rule: "senior-title", category: "fit", points: 20 }] }),
      envelope("lead.assigned", { leadId: "L1", teamId: "smb", rep: "lucia@x.example", queuedAt: "2026-01-05T11:00:00Z", claimBy: "2026-01-05T19:00:00Z" }),
      envelope("lead.claimed", { leadId: "L1", teamId: "smb", rep: "lucia@x.example", claimedAt: "2026-01-06T10:00:00Z" }),
      envelope("lead.closed", { leadId: "L1", teamId: "smb", rep: "lucia@x.example", outcome: "won", reason: "roi-case", amount: 900, closedAt: "2026-01-08T10:00:00Z", notes: { wentWell: "fast demo" } }),
    ]);
    const rows = Object.entries(sums).map(([k, v]) => [k, Object.fromEntries(Object.entries(v).filter(([, n]) => n !== 0))]);
    const live = rows.filter(([, v]) => Object.keys(v as object).length > 0);
    expect(live).toHaveLength(1);
    expect(live[0]?.[0]).toBe("2026-01-05|smb|lucia@x.example|cpc|q4");
    expect(live[0]?.[1]).toMatchObject({ captured: 1, engaged: 1, mql: 1, claimed: 1, closed: 1, won: 1, "o:won": 1 });
    expect(review).toMatchObject({
      leadId: "L1",
      outcome: "won",
      reason: "roi-case",
      notes: { wentWell: "fast demo" },
      score: 70,
      rules: ["demo-requested", "senior-title"],
      dims: { team: "smb", rep: "lucia@x.example", campaign: "q4" },
    });
  });

  it("a claim that arrives before the qualification still leaves every earlier stage counted once", () => {
    const { sums } = chain([
      envelope("lead.captured", { leadId: "L1", segment: "smb", formId: "demo", source: {} }),
      envelope("lead.claimed", { leadId: "L1", teamId: "smb", rep: "r", claimedAt: "2026-01-06T10:00:00Z" }),
      envelope("lead.qualified", { leadId: "L1", qualifiedAt: "2026-01-05T11:00:00Z", reasons: [] }),
    ]);
    const total: Record<string, number> = {};
    for (const v of Object.values(sums)) for (const [k, n] of Object.entries(v)) total[k] = (total[k] ?? 0) + n;
    expect(total).toMatchObject({ captured: 1, engaged: 1, mql: 1, claimed: 1 });
  });
});
