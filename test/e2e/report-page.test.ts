/**
 * The marketers' /reports page in a real browser (Debian's chromium driven by playwright-core):
 * sign in with a `#token=` link, see the funnel's figures and charts drawn from the local stack's
 * aggregates, filter by source, and be sent back to sign in with a token that lacks the role.
 * Saves a screenshot to .leadloop/screenshots/reports.png. Skips only where Chromium is truly
 * absent outside CI.
 */
import { mkdirSync } from "node:fs";
import { signHs256Token } from "@leadloop/api";
import type { LocalStack } from "@leadloop/local";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestStack } from "./local-stack";
import { browserTestsRun, launchChromium } from "./chromium";
import { seedFunnel } from "./report-events";

const runs = browserTestsRun("the /reports browser test");

let stack: LocalStack;
let browser: Browser;

beforeAll(async () => {
  if (!runs) return;
  stack = await startTestStack();
  for (let i = 0; i < 3; i++) await seedFunnel(stack);
  browser = await launchChromium();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe.skipIf(!runs)("/reports in Chromium", () => {
  it("shows the funnel with its charts, filters by source, and keeps the token out of the URL", async () => {
    const token = await signHs256Token({ email: "mia@acme.example", roles: ["marketing"] }, stack.authSecret);
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    const today = stack.clock.now().toISOString().slice(0, 10);
    const later = new Date(stack.clock.now().getTime() + 8 * 86_400_000).toISOString().slice(0, 10);
    await page.goto(`${stack.url}/reports?from=${today}&to=${later}#token=${token}`);
    await page.waitForSelector("body[data-loaded=true]", { timeout: 20_000 });
    expect(page.url()).not.toContain("token=");

    const tiles = await page.locator("#tiles .tile").allInnerTexts();
    expect(tiles[0]).toMatch(/Captured\s+12/i);
    expect(tiles[4]).toMatch(/Won\s+3/i);
    expect(tiles[5]).toContain("€72,000");
    // Chart.js drew on every canvas: each has a chart instance and non-blank pixels.
    // Runs in the page (a string: this project's TypeScript has no DOM types).
    const drawn = (await page.evaluate(`[...document.querySelectorAll("canvas")].map((canvas) => {
      const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
      return { id: canvas.id, chart: Boolean(window.Chart.getChart(canvas)), painted };
    })`)) as { id: string; chart: boolean; painted: number }[];
    const FUNNEL_CHARTS = ["funnel", "trend", "durations", "outcomes", "segments", "sources", "steps"];
    // The cohort and review charts below are covered by learning-page.test.ts.
    const funnelCharts = drawn.filter((d) => FUNNEL_CHARTS.includes(d.id));
    expect(funnelCharts.map((d) => d.id)).toEqual(FUNNEL_CHARTS);
    for (const canvas of funnelCharts) {
      expect(canvas.chart, canvas.id).toBe(true);
      expect(canvas.painted, canvas.id).toBeGreaterThan(500);
    }
    expect(await page.locator("#sequences").textContent()).toContain("report-nurture · welcome");
    expect(await page.locator("#by-source").textContent()).toContain("linkedin");

    mkdirSync(".leadloop/screenshots", { recursive: true });
    await page.screenshot({ path: ".leadloop/screenshots/reports.png", fullPage: true });

    await page.selectOption("#source", "google");
    await expect.poll(() => page.locator("#tiles .tile .value").first().textContent(), { timeout: 10_000 }).toBe("3");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("asks for another token when the one given lacks the role", async () => {
    const rep = await signHs256Token({ email: "dana.whitfield@acme-analytics.example", roles: ["rep"] }, stack.authSecret);
    const page = await browser.newPage();
    await page.goto(`${stack.url}/reports#token=${rep}`);
    await expect.poll(() => page.locator("#error").textContent(), { timeout: 10_000 }).toContain("marketing or admin");
    await page.close();
  });

  it("ends the default period today by the stack's clock, not the browser's", async () => {
    const ahead = await startTestStack({ clockStartAt: "2027-06-15T12:00:00Z" });
    const page = await browser.newPage();
    try {
      const token = await signHs256Token({ email: "mia@acme.example", roles: ["marketing"] }, ahead.authSecret);
      await page.goto(`${ahead.url}/reports#token=${token}`);
      await page.waitForSelector("body[data-loaded=true]", { timeout: 20_000 });
      expect(await page.locator("#to").inputValue()).toBe("2027-06-15");
      expect(await page.locator("#from").inputValue()).toBe("2027-05-17");
    } finally {
      await page.close();
      await ahead.stop();
    }
  });
});
