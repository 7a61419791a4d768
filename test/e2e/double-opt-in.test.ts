/**
 * Double opt-in never strands a lead: a confirmation that SES failed to take is sent later, a
 * second submission sends it again, an unconfirmed lead is deleted when its link expires, and only
 * a person pressing the page's button confirms (a link scanner's GET does not). On the local
 * stack, through the capture route, the confirm page and the virtual clock.
 */
import type { LocalStack, StackAdapters } from "@leadloop/local";
import { MailerUnavailableError, type Mailer, type OutgoingEmail } from "@leadloop/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { post, startTestStack } from "./local-stack";

interface DevEmail {
  subject: string;
  text: string;
}

const run = Math.random().toString(36).slice(2, 8);
/** Addresses whose next send SES refuses as throttled, as a real SES does now and then. */
const failNext = new Map<string, number>();

/** SES, with a transient refusal for the addresses in failNext: the real emulator otherwise. */
function flaky(inner: Mailer): Mailer {
  return {
    send: async (email: OutgoingEmail) => {
      const left = failNext.get(email.to) ?? 0;
      if (left > 0) {
        failNext.set(email.to, left - 1);
        throw new MailerUnavailableError("Throttling: Maximum sending rate exceeded");
      }
      return inner.send(email);
    },
  };
}

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack({ wrapAdapters: (bare: StackAdapters) => ({ mailer: flaky(bare.mailer) }) });
});
afterAll(async () => {
  await stack?.stop();
});

async function subscribe(email: string): Promise<{ leadId: string }> {
  const res = await post(`${stack.url}/v1/forms/newsletter/submissions`, { email, firstName: "Nina", consent: true });
  expect(res.status).toBe(202);
  await stack.bus.drain();
  return (await res.json()) as { leadId: string };
}

async function confirmations(address: string): Promise<DevEmail[]> {
  const res = await fetch(`${stack.url}/dev/emails?to=${encodeURIComponent(address)}`);
  return ((await res.json()) as DevEmail[]).filter((e) => e.text.includes("/v1/confirm?token="));
}

const linkIn = (email: DevEmail | undefined) => /(http[^\s"<]+\/v1\/confirm\?token=[^\s"<]+)/.exec(email?.text ?? "")?.[1];

async function advance(by: string): Promise<void> {
  expect((await post(`${stack.url}/dev/clock/advance`, { by })).status).toBe(200);
  await stack.bus.drain();
}

describe("double opt-in", () => {
  it("sends the confirmation later when SES refused it for a moment", async () => {
    const address = `throttled.${run}@example.org`;
    failNext.set(address, 1);
    const { leadId } = await subscribe(address);
    expect(await confirmations(address)).toHaveLength(0);
    await advance("PT10M");
    expect(await confirmations(address)).toHaveLength(1);
    expect((await stack.store.getLead(leadId))?.stage).toBe("pending-confirmation");
  });

  it("sends it again when the person submits the form again", async () => {
    const address = `twice.${run}@example.org`;
    await subscribe(address);
    expect(await confirmations(address)).toHaveLength(1);
    await advance("PT1H");
    await subscribe(address);
    expect(await confirmations(address)).toHaveLength(2);
  });

  it("confirms only when the page's button is pressed, not when the link is fetched", async () => {
    const address = `scanned.${run}@example.org`;
    const { leadId } = await subscribe(address);
    const link = linkIn((await confirmations(address))[0]);
    expect(link).toBeTruthy();

    // A mail scanner (or a person) opens the link: a page with a button, nothing confirmed.
    const page = await fetch(link!, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toMatch(/<form method="post" action="\/v1\/confirm\?token=[^"]+"><button type="submit">/);
    await stack.bus.drain();
    expect((await stack.store.getLead(leadId))?.stage).toBe("pending-confirmation");

    const pressed = await fetch(link!, { method: "POST", headers: { accept: "text/html" } });
    expect(pressed.status).toBe(200);
    expect(await pressed.text()).toContain("Subscription confirmed");
    await stack.bus.drain();
    expect((await stack.store.getLead(leadId))?.stage).toBe("lead");
  });

  it("deletes a lead that never confirmed once its link expired; the person can subscribe again", async () => {
    const address = `never.${run}@example.org`;
    const { leadId } = await subscribe(address);
    const link = linkIn((await confirmations(address))[0]);
    await advance("P6D");
    expect(await stack.store.getLead(leadId)).toBeDefined();
    await advance("P2D");
    expect(await stack.store.getLead(leadId)).toBeUndefined();
    expect(await stack.store.getSuppression(address)).toBeUndefined();
    const expired = await fetch(link!, { method: "POST", headers: { accept: "text/html" } });
    expect(expired.status).toBe(400);
    expect(await expired.text()).toContain("This link has expired.");

    const again = await subscribe(address);
    expect(again.leadId).toBe(leadId);
    expect((await stack.store.getLead(leadId))?.stage).toBe("pending-confirmation");
    expect(await confirmations(address)).toHaveLength(2);
  });
});
