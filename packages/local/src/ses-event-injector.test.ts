import { allRules, loadConfigOrThrow, matchesPattern, SesEventDetail } from "@leadloop/core";
import { describe, expect, it } from "vitest";
import { firstLink, SES_ACTIONS, sesEngagementEvent } from "./ses-event-injector";

const email = {
  messageId: "0100018e-ses-message-id",
  from: "Acme Analytics <hello@acme-analytics.example>",
  to: ["grace@compilers.example"],
  subject: "Hello",
  headers: [{ name: "List-Unsubscribe", value: "<https://x.example/v1/unsubscribe?token=t>" }],
  sentAt: "2026-03-02T15:10:00.000Z",
};
const input = {
  email,
  tags: { lead: "lead-1", message: "msg-1", sequence: "enterprise-nurture", step: "welcome" },
  configurationSet: "leadloop-local",
  now: new Date("2026-03-02T16:00:00Z"),
};
const config = loadConfigOrThrow("config");

describe("sesEngagementEvent", () => {
  it("names each event as SES does on EventBridge", () => {
    const names = SES_ACTIONS.map((action) => {
      const event = sesEngagementEvent({ ...input, action, link: "https://x.example/" });
      return [event["detail-type"], (event.detail as { eventType: string }).eventType];
    });
    expect(names).toEqual([
      ["Email Opened", "Open"],
      ["Email Clicked", "Click"],
      ["Email Bounced", "Bounce"],
      ["Email Complaint Received", "Complaint"],
      ["Email Delivered", "Delivery"],
    ]);
  });

  it("carries the sender's tags and SES's own as arrays of strings, and reaches only the engagement rule", () => {
    const event = sesEngagementEvent({ ...input, action: "click", link: "https://x.example/pricing" });
    expect(event).toMatchObject({ source: "aws.ses", resources: ["arn:aws:ses:local:000000000000:configuration-set/leadloop-local"] });
    const detail = SesEventDetail.parse(event.detail);
    expect(detail.mail.tags).toMatchObject({ lead: ["lead-1"], message: ["msg-1"], "ses:configuration-set": ["leadloop-local"], "ses:from-domain": ["acme-analytics.example"] });
    expect(detail.mail.messageId).toBe(email.messageId);
    expect(detail.click).toMatchObject({ link: "https://x.example/pricing", timestamp: "2026-03-02T16:00:00.000Z" });
    const targets = allRules(config).filter((rule) => matchesPattern(rule.pattern, event)).map((rule) => rule.name);
    expect(targets.filter((t) => t !== "report")).toEqual(["engagement"]);
  });

  it("builds permanent and transient bounces and complaints naming the recipients", () => {
    const hard = SesEventDetail.parse(sesEngagementEvent({ ...input, action: "bounce" }).detail);
    expect(hard.bounce).toMatchObject({ bounceType: "Permanent", bouncedRecipients: [{ emailAddress: "grace@compilers.example" }] });
    const soft = SesEventDetail.parse(sesEngagementEvent({ ...input, action: "bounce", bounceType: "Transient" }).detail);
    expect(soft.bounce?.bounceType).toBe("Transient");
    const complaint = SesEventDetail.parse(sesEngagementEvent({ ...input, action: "complaint" }).detail);
    expect(complaint.complaint?.complainedRecipients).toEqual([{ emailAddress: "grace@compilers.example" }]);
  });
});

describe("firstLink", () => {
  it("follows the first link that is not the unsubscribe link", () => {
    const html = '<a href="https://x.example/v1/unsubscribe?token=a&amp;b=1">out</a> <a href="https://x.example/case-study?a=1&amp;b=2">read</a>';
    expect(firstLink(html, "")).toBe("https://x.example/case-study?a=1&b=2");
    expect(firstLink("no links", "")).toBeUndefined();
  });
});
