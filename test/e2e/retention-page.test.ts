/**
 * The retention card on /reports in a real browser (Debian's chromium driven by playwright-core):
 * purchases, repeat purchases and points by tier, the figures worked out by hand from what the
 * test books through HTTP, and the points chart drawn. Saves a screenshot to
 * .leadloop/screenshots/retention.png. Skips only where Chromium is truly absent outside CI.
 */
import { mkdirSync } from "node:fs";
import { signHs256Token } from "@leadloop/api";
import type { LocalStack } from "@leadloop/local";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { post, startTestStack } from "./local-stack";
import { browserTestsRun, launchChromium } from "./chromium";

const runs = browserTestsRun("the retention browser test");

let stack: LocalStack;
let browser: Browser;

beforeAll(async () => {
  if (!runs) return;
  stack = await startTestStack();
  browser = await launchChromium();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe.skipIf(!runs)("retention on /reports in Chromium", () => {
  it("shows purchases, repeat purchases and points by tier, and draws the points chart", { timeout: 120_000 }, async () => {
    const shop = await signHs256Token({ email: "shop@acme.example", roles: ["integration"] }, stack.authSecret);
    const res = await post(`${stack.url}/v1/forms/whitepaper/submissions`, { email: `page.${Date.now()}@engines.example`, firstName: "Ada", company: "Engines", title: "Office manager", consent: true });
    const { leadId } = (await res.json()) as { leadId: string };
    await stack.bus.drain();
    await stack.bus.publish([{ type: "lead.closed", detail: { leadId, teamId: "enterprise-east", rep: "rep@acme.example", outcome: "won", closedAt: stack.clock.now().toISOString() } }]);
    await stack.bus.drain();
    const auth = { authorization: `Bearer ${shop}` };
    // 400 as a member (first), 300 as a member (repeat) → 700 silver; ten-off (500) redeemed in silver.
    expect((await post(`${stack.url}/v1/customers/${leadId}/purchases`, { purchaseId: "p-1", amount: 400, currency: "USD" }, auth)).status).toBe(201);
    expect((await post(`${stack.url}/v1/customers/${leadId}/purchases`, { purchaseId: "p-2", amount: 300, currency: "USD" }, auth)).status).toBe(201);
    expect((await post(`${stack.url}/v1/customers/${leadId}/redemptions`, { redemptionId: "r-1", rewardId: "ten-off" }, auth)).status).toBe(201);

    const token = await signHs256Token({ email: "mia@acme.example", roles: ["marketing"] }, stack.authSecret);
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    const today = stack.clock.now().toISOString().slice(0, 10);
    await page.goto(`${stack.url}/reports?from=${today}&to=${today}#token=${token}`);
    await page.waitForSelector("body[data-learning=true]", { timeout: 30_000 });

    const rows = (await page.locator("#retention tr").allInnerTexts()).map((r) => r.split("\t").map((c) => c.trim()));
    expect(rows[0]).toEqual(["Tier", "Purchases", "Repeat", "Repeat rate", "Points earned", "Redemptions", "Points redeemed", "Taken back", "Lapsed"]);
    expect(rows.find((r) => r[0] === "Member")).toEqual(["Member", "2", "1", "50%", "700", "0", "0", "0", "0"]);
    expect(rows.find((r) => r[0] === "Silver")).toEqual(["Silver", "0", "0", "–", "0", "1", "500", "0", "0"]);
    expect(rows.find((r) => r[0] === "All tiers")).toEqual(["All tiers", "2", "1", "50%", "700", "1", "500", "0", "0"]);
    const drawn = (await page.evaluate(`(() => {
      const canvas = document.getElementById("retention-points");
      const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
      return { chart: Boolean(window.Chart.getChart(canvas)), painted };
    })()`)) as { chart: boolean; painted: number };
    expect(drawn.chart).toBe(true);
    expect(drawn.painted).toBeGreaterThan(500);

    mkdirSync(".leadloop/screenshots", { recursive: true });
    await page.locator("#retention").scrollIntoViewIfNeeded();
    await page.screenshot({ path: ".leadloop/screenshots/retention.png" });
    expect(errors).toEqual([]);
    await page.close();
  });
});
