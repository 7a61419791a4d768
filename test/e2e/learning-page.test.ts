/**
 * The cohort funnel and the deal reviews on /reports in a real browser (Debian's chromium driven
 * by playwright-core): bars of whole-lead counts against the previous period, the reviews of the
 * period's closed deals with their reasons, one deal's path on a click, and calibration refusing
 * with its reason when there are too few deals. Saves .leadloop/screenshots/learning.png. Skips
 * only where Chromium is truly absent outside CI.
 */
import { mkdirSync } from "node:fs";
import { signHs256Token } from "@leadloop/api";
import type { LocalStack } from "@leadloop/local";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestStack } from "./local-stack";
import { browserTestsRun, launchChromium } from "./chromium";
import { seedFunnel } from "./report-events";

const runs = browserTestsRun("the cohort and reviews browser test");

let stack: LocalStack;
let browser: Browser;

beforeAll(async () => {
  if (!runs) return;
  stack = await startTestStack();
  for (let i = 0; i < 2; i++) await seedFunnel(stack);
  browser = await launchChromium();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const painted = `(id) => {
  const canvas = document.getElementById(id);
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) n++;
  return { chart: Boolean(window.Chart.getChart(canvas)), n };
}`;

describe.skipIf(!runs)("cohorts and deal reviews on /reports in Chromium", () => {
  it("draws the cohort funnel, lists the reviews, opens one deal's path and explains a refused calibration", async () => {
    const token = await signHs256Token({ email: "mia@acme.example", roles: ["marketing"] }, stack.authSecret);
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    const today = stack.clock.now().toISOString().slice(0, 10);
    const later = new Date(stack.clock.now().getTime() + 8 * 86_400_000).toISOString().slice(0, 10);
    await page.goto(`${stack.url}/reports?from=${today}&to=${later}#token=${token}`);
    await page.waitForSelector("body[data-learning=true]", { timeout: 20_000 });

    // Two seeded funnels of four leads: three opened an email and the fourth qualified on fit (so
    // it went through engaged at once): 8 engaged; 6 qualified, 4 claimed and closed, 2 won.
    expect(await page.locator("#cohort-change").textContent()).toBe(
      "Captured 8 (+8) · Engaged 8 (+8) · MQL 6 (+6) · Claimed 4 (+4) · Closed 4 (+4) · Won 2 (+2)",
    );
    for (const id of ["cohort-funnel", "cohort-weeks", "review-reasons"]) {
      const drawn = (await page.evaluate(`(${painted})(${JSON.stringify(id)})`)) as { chart: boolean; n: number };
      expect(drawn.chart, id).toBe(true);
      expect(drawn.n, id).toBeGreaterThan(500);
    }
    // Bars of whole leads: the y axis ticks are integers.
    const ticks = (await page.evaluate(`window.Chart.getChart(document.getElementById("cohort-funnel")).scales.y.ticks.map((t) => t.value)`)) as number[];
    expect(ticks.every((t) => Number.isInteger(t))).toBe(true);
    expect(await page.locator("#cohort-table").textContent()).toContain("enterprise");

    expect(await page.locator("#review-summary").textContent()).toContain("4 deals: won 2, lost 2, disqualified 0, not now 0");
    expect(await page.locator("tr.review").count()).toBe(4);
    await page.selectOption("#cohort-dim", "source");
    await expect.poll(() => page.locator("#cohort-table").textContent(), { timeout: 10_000 }).toContain("linkedin");

    await page.locator("tr.review").first().click();
    await page.waitForSelector("#deal:not([hidden])");
    expect(await page.locator("#deal-title").textContent()).toMatch(/^Deal .+: (won|lost)/);
    expect(await page.locator("#deal-path li").count()).toBeGreaterThan(0);

    mkdirSync(".leadloop/screenshots", { recursive: true });
    await page.screenshot({ path: ".leadloop/screenshots/learning.png", fullPage: true });

    await page.click("#calibrate");
    await expect.poll(() => page.locator("#calibration").textContent(), { timeout: 10_000 }).toContain("needs at least 20 won, lost or disqualified deals");
    await page.selectOption("#review-outcome", "won");
    await page.click("#review-filters button");
    await expect.poll(() => page.locator("tr.review").count(), { timeout: 10_000 }).toBe(2);
    expect(errors).toEqual([]);
    await page.close();
  });
});
