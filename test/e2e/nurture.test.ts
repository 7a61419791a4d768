import { isInSendWindow } from "@leadloop/core";
import type { LocalStack } from "@leadloop/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { post, startTestStack } from "./local-stack";

interface DevEmail {
  messageId: string;
  to: string[];
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
  sentAt: string;
  leadId?: string;
  sequenceId?: string;
  stepId?: string;
  virtualSentAt?: string;
}

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

async function capture(formId: string, body: Record<string, unknown>) {
  const res = await post(`${stack.url}/v1/forms/${formId}/submissions`, body);
  expect(res.status).toBe(202);
  await stack.bus.drain();
  return ((await res.json()) as { leadId: string }).leadId;
}

/** Below every MQL threshold: fit 30 at most plus 10 for the whitepaper. */
const whitepaper = (email: string, extra: Record<string, unknown>) => ({ email, firstName: "Ada", company: "Analytical Engines Ltd", consent: true, ...extra });

async function advance(by: string) {
  const res = await post(`${stack.url}/dev/clock/advance`, { by });
  expect(res.status).toBe(200);
}

/**
 * Moves the virtual clock in six-hour steps until `address` has `count` emails (or `days` pass):
 * whether the next send lands on a weekend depends on the real date the test runs.
 */
async function advanceUntil(address: string, count: number, days = 5): Promise<DevEmail[]> {
  for (let i = 0; i < days * 4; i++) {
    await advance("PT6H");
    const emails = await emailsTo(address);
    if (emails.length >= count) return emails;
  }
  return emailsTo(address);
}

async function emailsTo(address: string): Promise<DevEmail[]> {
  const res = await fetch(`${stack.url}/dev/emails?to=${encodeURIComponent(address)}`);
  return (await res.json()) as DevEmail[];
}

describe("nurture on the local stack", () => {
  it("sends the segment's first step with merge fields and one-click unsubscribe, and nothing after unsubscribing", async () => {
    const address = `ada.nurture@engines.example`;
    // A whitepaper download, not a demo request: a demo request from a VP crosses the MQL
    // threshold at once and goes to sales instead of nurture.
    const leadId = await capture("whitepaper", whitepaper(address, { title: "VP Engineering" }));
    expect((await stack.store.getLead(leadId))?.segment).toBe("enterprise");
    expect(await emailsTo(address)).toEqual([]);

    const [first, ...rest] = await advanceUntil(address, 1);
    expect(rest).toEqual([]);
    expect(first?.subject).toBe("Ada, welcome to Acme Analytics");
    expect(first?.sequenceId).toBe("enterprise-nurture");
    expect(first?.stepId).toBe("welcome");
    expect(first?.headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
    const link = /<(http[^>]+)>/.exec(first?.headers["List-Unsubscribe"] ?? "")?.[1];
    expect(link).toContain("/v1/unsubscribe?token=");
    expect(first?.html).toContain(link!.replace(/&/g, "&amp;"));
    expect(first?.text).toContain(link);
    expect(isInSendWindow(new Date(first!.virtualSentAt!), stack.config.sequences.find((s) => s.id === "enterprise-nurture")!.sendWindow, "America/New_York")).toBe(true);

    const page = await fetch(link!, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("@engines.example");
    expect(html).not.toContain(address);

    const oneClick = await fetch(link!, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(oneClick.status).toBe(200);
    await stack.bus.drain();
    expect(await stack.store.getSuppression(address)).toMatchObject({ reason: "unsubscribed" });
    expect(stack.bus.history.some((e) => e["detail-type"] === "lead.unsubscribed" && (e.detail as { leadId: string }).leadId === leadId)).toBe(true);

    await advance("P7D");
    await advance("P7D");
    expect(await emailsTo(address)).toHaveLength(1);
  });

  it("gives a lead of another segment that segment's sequence, inside its send window", async () => {
    const address = "sam.smb@smallco.example";
    await capture("whitepaper", whitepaper(address, { title: "Office manager" }));
    const [first] = await advanceUntil(address, 1);
    expect(first?.sequenceId).toBe("smb-nurture");
    expect(first?.subject).toBe("Welcome to Acme Analytics, Ada");
    const window = stack.config.sequences.find((s) => s.id === "smb-nurture")!.sendWindow;
    expect(isInSendWindow(new Date(first!.virtualSentAt!), window, "Europe/London")).toBe(true);
  });

  it("refuses a tampered unsubscribe link with a clear page", async () => {
    const res = await fetch(`${stack.url}/v1/unsubscribe?token=abc.def`, { headers: { accept: "text/html" } });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("This link does not work");
    const oneClick = await fetch(`${stack.url}/v1/unsubscribe?token=abc.def`, { method: "POST", body: "List-Unsubscribe=One-Click", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(oneClick.status).toBe(401);
    expect(oneClick.headers.get("content-type")).toContain("application/problem+json");
  });

  it("sends a double-opt-in confirmation first and nurture only after the link is followed", async () => {
    const address = "nina.news@gmail.com";
    const leadId = await capture("newsletter", { email: address, firstName: "Nina", consent: true });
    const [confirmation, ...others] = await emailsTo(address);
    expect(others).toEqual([]);
    const confirmLink = /(http[^\s"<]+\/v1\/confirm\?token=[^\s"<]+)/.exec(confirmation?.text ?? "")?.[1];
    expect(confirmLink).toBeTruthy();
    await advance("P1D");
    expect(await emailsTo(address)).toHaveLength(1);

    // The link shows a page; its button posts to the same URL (see double-opt-in.test.ts).
    const confirmed = await fetch(confirmLink!, { method: "POST" });
    expect(confirmed.status).toBe(200);
    await stack.bus.drain();
    expect((await stack.store.getLead(leadId))?.stage).toBe("lead");
    const after = await advanceUntil(address, 2);
    expect(after.length).toBe(2);
    expect(after[1]?.sequenceId).toBe("self-serve-nurture");
  });
});
