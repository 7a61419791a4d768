/**
 * The marketer's /preview and /journeys pages in a real browser (Debian's chromium driven by
 * playwright-core), on the local stack where they need no token: pick a step, see its subject,
 * headers, HTML (in a sandboxed iframe) and text, send a test that lands in the SES emulator; and
 * see each sequence drawn with the leads captured through the public form route at their step.
 * A visitor's markup in a real lead's name is shown as text, never run. A broadcast's dry run,
 * from its button on /preview, counts the confirmed subscribers captured through the form route.
 * Saves screenshots to .leadloop/screenshots/preview.png, journeys.png and dry-run.png. Skips only where Chromium is truly absent
 * outside CI.
 */
import { mkdirSync } from "node:fs";
import { randomUUID } from "node:crypto";
import type { LocalStack } from "@leadloop/local";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { post, startTestStack } from "./local-stack";
import { browserTestsRun, launchChromium } from "./chromium";

const runs = browserTestsRun("the /preview and /journeys browser tests");

let stack: LocalStack;
let browser: Browser;

beforeAll(async () => {
  if (!runs) return;
  stack = await startTestStack({ tickEveryMs: 3_600_000 });
  browser = await launchChromium();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function capture(formId: string, body: Record<string, unknown>): Promise<string> {
  const res = await post(`${stack.url}/v1/forms/${formId}/submissions`, body);
  expect(res.status).toBe(202);
  await stack.bus.drain();
  return ((await res.json()) as { leadId: string }).leadId;
}

const unique = (name: string) => `${name}.${randomUUID().slice(0, 8)}@contoso-preview.example`;

describe.skipIf(!runs)("/preview and /journeys in Chromium", () => {
  it("renders a step for a real lead side by side and sends a test that lands in the SES emulator", async () => {
    // A visitor typed markup as their name: the page and the email show it as text.
    const leadId = await capture("whitepaper", { email: unique("lin"), firstName: "<img src=x onerror=alert(1)>Lin", company: "Contoso", title: "Analyst", consent: true });
    const page = await browser.newPage({ viewport: { width: 1440, height: 1100 } });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    page.on("dialog", (dialog) => {
      errors.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
    await page.goto(`${stack.url}/preview`);
    await page.waitForSelector("body[data-loaded=true]", { timeout: 20_000 });
    const labels = await page.locator("#items button").allInnerTexts();
    expect(labels).toContain("SMB nurture · welcome");
    expect(labels.length).toBeGreaterThanOrEqual(stack.config.sequences.reduce((n, s) => n + s.steps.length, 0));

    await page.fill("#lead-id", leadId);
    await page.click('#items button[data-item="step:smb-nurture/welcome"]');
    await page.waitForSelector('body[data-rendered="step:smb-nurture/welcome"]', { timeout: 10_000 });
    expect(await page.locator('[data-header="Subject"]').textContent()).toBe("Welcome to Acme Analytics, <img src=x onerror=alert(1)>Lin");
    expect(await page.locator('[data-header="From"]').textContent()).toContain("Acme Analytics");
    expect(await page.locator('[data-header="List-Unsubscribe-Post"]').textContent()).toBe("List-Unsubscribe=One-Click");
    expect(await page.locator('[data-header="List-Unsubscribe"]').textContent()).toContain("/v1/unsubscribe?token=");
    expect(await page.locator("#text").textContent()).toContain("Lin");
    // The HTML part sits in a sandboxed iframe, never inline.
    expect(await page.locator("iframe#html").getAttribute("sandbox")).toBe("");
    const frame = page.frameLocator("iframe#html");
    expect(await frame.locator("body").textContent()).toContain("<img src=x onerror=alert(1)>Lin");
    expect(await frame.locator('img[src="x"]').count()).toBe(0);
    expect(await page.locator("main img").count()).toBe(0);

    const tester = unique("marketer");
    await page.fill("#to", tester);
    await page.click("#test button");
    await expect.poll(() => page.locator("#sent").textContent(), { timeout: 10_000 }).toContain(`Test sent to ${tester}`);
    const emails = (await (await fetch(`${stack.url}/dev/emails?to=${encodeURIComponent(tester)}`)).json()) as { subject: string; headers: Record<string, string> }[];
    expect(emails.map((e) => e.subject)).toEqual(["[Test] Welcome to Acme Analytics, <img src=x onerror=alert(1)>Lin"]);
    expect(emails[0]?.headers["X-Leadloop-Test"]).toBe("true");

    mkdirSync(".leadloop/screenshots", { recursive: true });
    await page.screenshot({ path: ".leadloop/screenshots/preview.png", fullPage: true });

    // A bad address is refused with the API's own words, not a crash.
    await page.fill("#to", "");
    await page.evaluate(`document.getElementById("to").type = "text"`);
    await page.fill("#to", "not-an-address");
    await page.click("#test button");
    await expect.poll(() => page.locator("#sent").textContent(), { timeout: 10_000 }).toContain("to:");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("draws each sequence with the leads captured through the form route at their step", async () => {
    for (let i = 0; i < 2; i++) await capture("whitepaper", { email: unique(`smb${i}`), firstName: "Sam", company: "Contoso", title: "Analyst", consent: true });
    // Double opt-in: this lead waits for its confirmation, in no sequence yet.
    await capture("newsletter", { email: unique("pat"), firstName: "Pat", consent: true });

    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    await page.goto(`${stack.url}/journeys`);
    await page.waitForSelector("body[data-loaded=true]", { timeout: 20_000 });
    const sequences = await page.locator("section.journey").evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-sequence")));
    expect(sequences).toEqual(stack.config.sequences.map((s) => s.id));
    const smb = page.locator('section[data-sequence="smb-nurture"]');
    // The first capture test's lead and these two wait for the SMB welcome.
    expect(await smb.locator('[data-waiting="welcome"]').textContent()).toBe("3");
    expect(await smb.locator('[data-waiting="quick-start"]').textContent()).toBe("0");
    expect(await smb.textContent()).toContain("only if the previous email was clicked");
    expect(await smb.textContent()).toContain("3 per 7 days");
    expect(await smb.textContent()).toContain("Europe/London");
    for (const sequence of stack.config.sequences.filter((q) => q.id !== "smb-nurture")) {
      expect(await page.locator(`section[data-sequence="${sequence.id}"] [data-total]`).textContent(), sequence.id).toBe("0");
    }
    expect(await smb.locator("[data-total]").textContent()).toBe("3");
    await page.screenshot({ path: ".leadloop/screenshots/journeys.png", fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("runs a broadcast's dry run from /preview and shows the audience it would reach", async () => {
    const broadcast = stack.config.broadcasts[0]!;
    // Two subscribers confirm the newsletter's double opt-in through the link they were emailed; a third does not.
    for (const name of ["noor", "omar", "una"]) {
      const address = unique(name);
      await capture("newsletter", { email: address, firstName: name, consent: true });
      if (name === "una") continue;
      const emails = (await (await fetch(`${stack.url}/dev/emails?to=${encodeURIComponent(address)}`)).json()) as { text: string }[];
      const link = /(http\S+\/v1\/confirm\?token=\S+)/.exec(emails.map((e) => e.text).join("\n"))?.[1];
      expect(link, address).toBeDefined();
      expect((await fetch(link!, { method: "POST", headers: { accept: "text/html" } })).status).toBe(200);
      await stack.bus.drain();
    }
    const expected = (await (await post(`${stack.url}/v1/broadcasts/${broadcast.id}/dry-run`, {})).json()) as { recipients: number };
    expect(expected.recipients).toBe(2);

    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    await page.goto(`${stack.url}/preview`);
    await page.waitForSelector("body[data-loaded=true]", { timeout: 20_000 });
    // A sequence step has no dry run; a broadcast has.
    expect(await page.locator("#dry").isHidden()).toBe(true);
    await page.click(`#items button[data-item="broadcast:${broadcast.id}"]`);
    await page.waitForSelector(`body[data-rendered="broadcast:${broadcast.id}"]`, { timeout: 10_000 });
    await page.click("#dry-run");
    await page.waitForSelector(`body[data-dry-run="${broadcast.id}"]`, { timeout: 20_000 });
    expect(await page.locator("#audience").getAttribute("data-recipients")).toBe("2");
    const shown = await page.locator("#audience").textContent();
    expect(shown).toContain("2 recipients if sent now");
    // The unconfirmed subscribers are counted out by their stage.
    expect(shown).toMatch(/not sent to .*\d+ stage/);
    mkdirSync(".leadloop/screenshots", { recursive: true });
    await page.screenshot({ path: ".leadloop/screenshots/dry-run.png", fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });
});

