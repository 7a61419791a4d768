import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors";
import { parseSiteEvent } from "./site-events";
import { isUnsubscribeLink, SesEventDetail } from "./ses-events";

function issues(body: unknown) {
  try {
    parseSiteEvent(body);
  } catch (error) {
    if (error instanceof ValidationError) return error.issues;
    throw error;
  }
  return [];
}

describe("parseSiteEvent", () => {
  it("accepts a page view with its URL and title", () => {
    expect(parseSiteEvent({ token: "t", type: "page_view", url: "https://acme.example/pricing", title: "Pricing" })).toEqual({
      token: "t",
      type: "page_view",
      url: "https://acme.example/pricing",
      title: "Pricing",
    });
  });

  it("names every wrong field: a missing token, an unknown type, a URL that is not http(s), an extra field", () => {
    const found = issues({ type: "purchase", url: "javascript:alert(1)", price: 3 }).sort((a, b) => a.field.localeCompare(b.field));
    expect(found).toEqual([
      { field: "price", message: "is not a site event field (send token, type, url, title)" },
      { field: "token", message: "is required" },
      { field: "type", message: "must be one of page_view, download, webinar_attended" },
      { field: "url", message: "must be an absolute http(s) URL" },
    ]);
    expect(issues([1, 2])).toEqual([{ field: "body", message: expect.stringContaining("JSON object") }]);
  });

  it("names each unknown field on its own, so a client can find every one it sent", () => {
    const found = issues({ token: "t", type: "page_view", price: 3, "": 1 }).map((i) => i.field).sort();
    expect(found).toEqual(["", "price"]);
  });
});

describe("SES event records", () => {
  it("reads SES's documented bounce record: type, recipients and the tags as arrays", () => {
    const detail = SesEventDetail.parse({
      eventType: "Bounce",
      bounce: {
        bounceType: "Permanent",
        bounceSubType: "General",
        bouncedRecipients: [{ emailAddress: "recipient@example.com", action: "failed", status: "5.1.1", diagnosticCode: "smtp; 550 5.1.1 user unknown" }],
        timestamp: "2017-08-05T00:41:02.669Z",
        feedbackId: "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
        reportingMTA: "dsn; mta.example.com",
      },
      mail: {
        timestamp: "2017-08-05T00:40:02.012Z",
        source: "Sender Name <sender@example.com>",
        messageId: "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",
        destination: ["recipient@example.com"],
        tags: { "ses:configuration-set": ["ConfigSet"], lead: ["lead-1"] },
      },
    });
    expect(detail.bounce?.bounceType).toBe("Permanent");
    expect(detail.mail.tags.lead).toEqual(["lead-1"]);
  });

  it("recognises an unsubscribe link by its path", () => {
    expect(isUnsubscribeLink("https://api.acme.example/v1/unsubscribe?token=abc")).toBe(true);
    expect(isUnsubscribeLink("https://www.acme.example/pricing?from=/v1/unsubscribe")).toBe(false);
  });
});
