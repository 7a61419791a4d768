/**
 * The reps' /sales page in a real browser (Debian's chromium driven by playwright-core): sign in
 * with a pasted token or a `#token=` link, open the lead the notification links to, read why it
 * qualified, claim it and record the outcome. Skips only where Chromium is truly absent outside CI.
 */
import { mkdirSync } from "node:fs";
import { signHs256Token } from "@leadloop/api";
import type { LocalStack } from "@leadloop/local";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoLead, post, startTestStack } from "./local-stack";
import { browserTestsRun, launchChromium } from "./chromium";

const runs = browserTestsRun("the /sales browser test");
/** The page makes a few API calls per step on two shared cores: give each step time. */
const until = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: 10_000 });
const run = Math.random().toString(36).slice(2, 8);

let stack: LocalStack;
let browser: Browser;

beforeAll(async () => {
  if (!runs) return;
  stack = await startTestStack();
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** A US enterprise lead handed to enterprise-na, through scoring when it qualifies on its form. */
async function handedOffLead(lastName: string, on: LocalStack = stack): Promise<{ leadId: string; rep: string }> {
  const stack = on;
  const res = await post(`${stack.url}/v1/forms/demo-request/submissions`, demoLead(`${lastName.toLowerCase()}@page.example`, { lastName, country: "US", phone: "+1 555 0100" }));
  const { leadId } = (await res.json()) as { leadId: string };
  await stack.bus.drain();
  if (!stack.bus.history.some((e) => e["detail-type"] === "lead.qualified" && e.detail.leadId === leadId)) {
    await stack.bus.publish([
      {
        type: "lead.qualified",
        detail: { leadId, segment: "enterprise", score: 80, threshold: 60, qualifiedAt: stack.clock.now().toISOString(), country: "US", reasons: [{ rule: "senior-title", category: "fit", points: 20 }] },
      },
    ]);
    await stack.bus.drain();
  }
  const assigned = stack.bus.history.find((e) => e["detail-type"] === "lead.assigned" && e.detail.leadId === leadId);
  return { leadId, rep: String(assigned?.detail.rep) };
}

describe.skipIf(!runs)("/sales in a browser", () => {
  it("opens the notified lead from a token link, shows why it qualified, claims it and records a win", async () => {
    const { leadId, rep } = await handedOffLead(`Curie${run}`);
    const token = await signHs256Token({ email: rep, roles: ["rep"] }, stack.authSecret);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${stack.url}/sales?lead=${leadId}#token=${encodeURIComponent(token)}`);

    await until(() => page.locator("#lead-name").textContent()).toBe(`Ada Curie${run}`);
    // The token left the address bar (and so browser history and Referer headers).
    expect(page.url()).not.toContain("token=");
    expect(await page.locator("#unclaimed li").allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining(`Curie${run}`)]));
    expect(await page.locator("#reasons").textContent()).toMatch(/senior-title/);
    expect(await page.locator("#timeline").textContent()).toContain("Submitted the demo-request form");
    expect(await page.locator("#outcome").isVisible()).toBe(false);

    await page.locator("#claim").click();
    await until(() => page.locator("#banner").textContent()).toContain("Claimed");
    await until(() => page.locator("#claimed li").count()).toBe(1);
    await until(() => page.locator("#outcome").isVisible()).toBe(true);

    // The reason list follows the outcome; an empty reason is refused with the API's own words.
    await page.locator("#outcome-kind").selectOption("lost");
    expect(await page.locator("#reason option").allTextContents()).toContain("Chose a competitor");
    await page.locator("#outcome button[type=submit]").click();
    await until(() => page.locator("#banner").textContent()).toContain("a lost lead needs a reason");

    await page.locator("#outcome-kind").selectOption("won");
    await page.locator("#amount").fill("18000");
    mkdirSync(".leadloop/screenshots", { recursive: true });
    await page.screenshot({ path: ".leadloop/screenshots/sales.png", fullPage: true });
    await page.locator("#outcome button[type=submit]").click();
    await until(() => page.locator("#banner").textContent()).toContain("Outcome recorded: won");
    await until(() => page.locator("#status").textContent()).toContain("Closed: won");
    expect((await stack.store.getLead(leadId))?.stage).toBe("customer");
    await page.close();
  });

  it("signs in with a pasted token and signs out again", async () => {
    const { leadId, rep } = await handedOffLead(`Noether${run}`);
    const page = await browser.newPage();
    await page.goto(`${stack.url}/sales`);
    expect(await page.locator("#signin").isVisible()).toBe(true);
    await page.locator("#token").fill(await signHs256Token({ email: rep, roles: ["rep"] }, stack.authSecret));
    await page.locator("#signin button[type=submit]").click();
    await until(() => page.locator(`#unclaimed li[data-lead="${leadId}"]`).count()).toBe(1);
    expect(await page.locator("#who").textContent()).toContain(rep);
    await page.locator("#signout").click();
    expect(await page.locator("#signin").isVisible()).toBe(true);

    // A token that does not verify sends the rep back to sign in, with the reason.
    await page.locator("#token").fill("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bad");
    await page.locator("#signin button[type=submit]").click();
    await until(() => page.locator("#signin-error").textContent()).toMatch(/signature|token/i);
    await page.close();
  });

  it("says a claim is late by the stack's clock, not the browser's", async () => {
    // The stack's clock three days behind real time: the browser's date would call every claim late.
    const behind = await startTestStack({ clockStartAt: new Date(Date.now() - 3 * 86_400_000) });
    const page = await browser.newPage();
    try {
      const { leadId, rep } = await handedOffLead(`Lovelace${run}`, behind);
      const token = await signHs256Token({ email: rep, roles: ["rep"] }, behind.authSecret);
      await page.goto(`${behind.url}/sales#token=${encodeURIComponent(token)}`);
      const badge = page.locator(`#unclaimed li[data-lead="${leadId}"] .badge:not(.score)`);
      await until(() => badge.count()).toBe(1);
      expect(await badge.textContent()).toContain("claim by");
      expect(await badge.getAttribute("class")).toBe("badge");

      // Past the claim deadline on the stack's clock (a day covers every team's SLA), the same lead is late.
      behind.clock.advanceMs(86_400_000 + 60_000);
      await page.reload();
      await until(() => badge.getAttribute("class")).toBe("badge late");
    } finally {
      await page.close();
      await behind.stop();
    }
  });
});
