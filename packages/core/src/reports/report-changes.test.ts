import { describe, expect, it } from "vitest";
import { reportEventsOfChange, type TableChange } from "./report-changes";

const leadId = "lead-1";
const lead = {
  pk: `LEAD#${leadId}`,
  sk: "LEAD",
  entity: "lead",
  id: leadId,
  segment: "enterprise",
  stage: "lead",
  createdAt: "2026-01-05T10:00:00.000Z",
  firstTouch: { formId: "demo-request", utm_source: "google", utm_medium: "cpc", utm_campaign: "q1" },
};
const change = (c: TableChange["change"], newImage?: Record<string, unknown>, oldImage?: Record<string, unknown>): TableChange => ({
  id: "seq-1",
  change: c,
  ...(newImage ? { newImage } : {}),
  ...(oldImage ? { oldImage } : {}),
});
const message = { pk: `LEAD#${leadId}`, sk: "MSG#m-1", type: "message", leadId, messageId: "m-1", kind: "nurture", sequenceId: "s", stepId: "welcome", variantId: "b", sentAt: "2026-01-05T11:00:00.000Z" };

describe("reportEventsOfChange: each fact the report counts, from the item its producer writes", () => {
  it("a new lead item is its capture, with the first touch's dimensions", () => {
    expect(reportEventsOfChange(change("INSERT", lead))).toEqual([
      {
        type: "captured",
        leadId,
        at: lead.createdAt,
        dims: { segment: "enterprise", source: "google", formId: "demo-request" },
        medium: "cpc",
        campaign: "q1",
      },
    ]);
    // A merge or a score update is no second capture.
    expect(reportEventsOfChange(change("MODIFY", { ...lead, segment: "smb" }, lead))).toEqual([]);
  });

  it("the lead item's qualification, when qualifiedAt is set or moves, with the score's top rules", () => {
    const qualified = {
      ...lead,
      stage: "mql",
      qualifiedAt: "2026-01-06T00:00:00.000Z",
      score: { total: 80, threshold: 60, reasons: [{ rule: "title", category: "fit", points: 30 }, { rule: "demo", category: "engagement", points: 50 }] },
    };
    expect(reportEventsOfChange(change("MODIFY", qualified, lead))).toEqual([
      { type: "qualified", leadId, at: "2026-01-06T00:00:00.000Z", rules: ["demo", "title"], score: 80, threshold: 60 },
    ]);
    // Any later write of the lead keeps qualifiedAt: not another MQL.
    expect(reportEventsOfChange(change("MODIFY", { ...qualified, stage: "sales" }, qualified))).toEqual([]);
  });

  it("a nurture message is a send; its open, click and bounce marks are those events, once each", () => {
    expect(reportEventsOfChange(change("INSERT", message))).toEqual([
      { type: "email", counter: "sent", leadId, at: message.sentAt, messageId: "m-1", sequenceId: "s", stepId: "welcome", variantId: "b" },
    ]);
    const opened = { ...message, openedAt: "2026-01-05T12:00:00.000Z" };
    expect(reportEventsOfChange(change("MODIFY", opened, message))).toEqual([
      { type: "email", counter: "opened", leadId, at: opened.openedAt, messageId: "m-1", sequenceId: "s", stepId: "welcome", variantId: "b" },
    ]);
    const clicked = { ...opened, clickedAt: "2026-01-05T12:01:00.000Z" };
    expect(reportEventsOfChange(change("MODIFY", clicked, opened)).map((e) => e.type === "email" && e.counter)).toEqual(["clicked"]);
    // A follow-up is no nurture send, but its open is the lead's engagement; a rep's notice is neither.
    const followUp = { ...message, kind: "follow-up", sequenceId: undefined, stepId: undefined, variantId: undefined };
    expect(reportEventsOfChange(change("INSERT", followUp))).toEqual([]);
    expect(reportEventsOfChange(change("MODIFY", { ...followUp, openedAt: "2026-01-05T12:00:00.000Z" }, followUp)).map((e) => e.type)).toEqual(["email"]);
    expect(reportEventsOfChange(change("MODIFY", { ...message, kind: "notification", openedAt: "x" }, { ...message, kind: "notification" }))).toEqual([]);
  });

  it("web, unsubscribe and recycle activities; other activities and removals count nothing", () => {
    const act = (type: string) => ({ pk: `LEAD#${leadId}`, sk: `ACT#a-${type}`, entity: "activity", leadId, id: `a-${type}`, type, at: "2026-01-07T00:00:00.000Z", data: {} });
    expect(reportEventsOfChange(change("INSERT", act("web.page_view")))).toEqual([{ type: "web-activity", leadId, at: "2026-01-07T00:00:00.000Z", key: "a-web.page_view" }]);
    expect(reportEventsOfChange(change("INSERT", act("email.unsubscribed")))).toEqual([{ type: "unsubscribed", leadId, at: "2026-01-07T00:00:00.000Z" }]);
    expect(reportEventsOfChange(change("INSERT", act("lead.recycled")))).toEqual([{ type: "recycled", leadId, at: "2026-01-07T00:00:00.000Z" }]);
    expect(reportEventsOfChange(change("INSERT", act("email.sent")))).toEqual([]);
    expect(reportEventsOfChange(change("REMOVE", undefined, lead))).toEqual([]);
  });

  it("a sales event is read from the outbox entry written with its state change", () => {
    const outbox = (type: string, detail: Record<string, unknown>) => ({
      pk: `LEAD#${leadId}`,
      sk: `OUTBOX#${type}#k`,
      entity: "pending-event",
      leadId,
      key: `${type}#k`,
      event: { type, detail: { leadId, ...detail }, time: "2026-01-08T00:00:00.000Z" },
      dueAt: "2026-01-08T00:05:00.000Z",
    });
    expect(reportEventsOfChange(change("INSERT", outbox("lead.claimed", { teamId: "t", rep: "r", claimedAt: "2026-01-08T00:00:00.000Z" })))).toEqual([
      { type: "claimed", leadId, at: "2026-01-08T00:00:00.000Z", teamId: "t", rep: "r" },
    ]);
    expect(reportEventsOfChange(change("INSERT", outbox("lead.closed", { outcome: "lost", reason: "price", closedAt: "2026-01-09T00:00:00.000Z" })))).toMatchObject([
      { type: "closed", outcome: "lost", reason: "price" },
    ]);
    // The republisher moving the entry's due time is no second event; tier changes are not the report's.
    expect(reportEventsOfChange(change("MODIFY", outbox("lead.claimed", {}), outbox("lead.claimed", {})))).toEqual([]);
    expect(reportEventsOfChange(change("INSERT", outbox("customer.tier_changed", {})))).toEqual([]);
  });
});
