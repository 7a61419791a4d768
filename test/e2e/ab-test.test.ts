/**
 * An A/B test of a nurture step on the local stack, through the public path: leads captured over
 * HTTP, the virtual clock moved until the tested step goes out, opens and clicks injected as SES
 * events, one lead qualified by its behaviour and won by a rep; then the report API shows each
 * variant's figures with the z-test, the next sweep ends the test by its winner rule, later leads
 * get the winner, and the A/B card on /reports shows it in Chromium.
 */
import { randomUUID } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signHs256Token } from "@leadloop/api";
import { type AbTestFigure, assignVariant, type StepVariant } from "@leadloop/core";
import type { LocalStack } from "@leadloop/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { post, startTestStack } from "./local-stack";
import { browserTestsRun, launchChromium } from "./chromium";

const run = randomUUID().slice(0, 8);
const VARIANT_B_SUBJECT = "Five minutes to your first dashboard";
const VARIANT_B_MARK = "The short version";

/** The welcome step under test, as written into the copied config below. */
const WELCOME: { id: string; variants: StepVariant[] } = {
  id: "welcome",
  variants: [
    { id: "a", weight: 1 },
    { id: "b", weight: 1, subject: VARIANT_B_SUBJECT, template: "smb-welcome-short" },
  ],
};

interface DevEmail {
  messageId: string;
  to: string[];
  subject: string;
  html: string;
  leadId?: string;
  sequenceId?: string;
  stepId?: string;
  variantId?: string;
}

let stack: LocalStack;
let configDir: string;
const leads: { leadId: string; token: string; address: string }[] = [];

const marketingToken = () => signHs256Token({ email: "mia@acme.example", roles: ["marketing"] }, stack.authSecret);
async function abTests(): Promise<AbTestFigure[]> {
  const res = await fetch(`${stack.url}/v1/reports/ab-tests`, { headers: { authorization: `Bearer ${await marketingToken()}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { tests: AbTestFigure[] }).tests;
}
const welcomeTest = async () => (await abTests()).find((t) => t.sequenceId === "smb-nurture" && t.stepId === "welcome");

async function capture(i: number) {
  const address = `reader${i}.${run}@smallco${i}.example`;
  const res = await post(`${stack.url}/v1/forms/whitepaper/submissions`, { email: address, firstName: `Rae${i}`, company: `Small Co ${i}`, title: "Analyst", consent: true });
  expect(res.status).toBe(202);
  const body = (await res.json()) as { leadId: string; token: string };
  return { ...body, address };
}

async function welcomeEmails(): Promise<DevEmail[]> {
  const all = (await (await fetch(`${stack.url}/dev/emails`)).json()) as DevEmail[];
  return all.filter((e) => e.sequenceId === "smb-nurture" && e.stepId === "welcome");
}

/** Moves the clock until every one of these leads has its welcome (send windows vary with the real date). */
async function welcomesFor(addresses: string[]): Promise<DevEmail[]> {
  for (let i = 0; i < 24; i++) {
    await stack.bus.drain();
    const emails = (await welcomeEmails()).filter((e) => addresses.some((a) => e.to.includes(a)));
    if (emails.length === addresses.length) return emails;
    expect((await post(`${stack.url}/dev/clock/advance`, { by: "PT6H" })).status).toBe(200);
  }
  throw new Error("the welcome emails did not all go out");
}

const inject = async (messageId: string, action: "open" | "click") => expect((await post(`${stack.url}/dev/emails/${messageId}/${action}`, {})).status).toBe(202);

beforeAll(async () => {
  configDir = mkdtempSync(join(tmpdir(), "leadloop-ab-"));
  cpSync("config", configDir, { recursive: true });
  const sequence = join(configDir, "sequences", "smb.yaml");
  const yaml = readFileSync(sequence, "utf8");
  const withTest = yaml.replace(
    '    subject: "Welcome to Acme Analytics, {{ lead.firstName | default: \\"there\\" }}"\n',
    `    subject: "Welcome to Acme Analytics, {{ lead.firstName | default: \\"there\\" }}"
    variants:
      - { id: a, weight: 1 }
      - { id: b, weight: 1, subject: "${VARIANT_B_SUBJECT}", template: smb-welcome-short }
    winner: { metric: clicks, minSends: 3, confidence: 0.95 }
`,
  );
  expect(withTest).not.toBe(yaml);
  writeFileSync(sequence, withTest);
  for (const ext of ["html", "txt"]) {
    const source = readFileSync(join(configDir, "templates", `smb-welcome.${ext}.liquid`), "utf8");
    writeFileSync(join(configDir, "templates", `smb-welcome-short.${ext}.liquid`), `${VARIANT_B_MARK}\n${source}`);
  }
  stack = await startTestStack({ configDir });
  for (let i = 0; i < 20; i++) leads.push(await capture(i));
}, 240_000);
afterAll(async () => {
  await stack?.stop();
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

describe("A/B test of a step on the local stack", () => {
  let expected: { a: number; b: number };
  let emails: DevEmail[];

  it("sends each lead the variant its id picks, with the variant's subject and template", async () => {
    emails = await welcomesFor(leads.map((l) => l.address));
    expected = { a: 0, b: 0 };
    for (const lead of leads) {
      const variant = assignVariant(lead.leadId, WELCOME)?.id as string;
      expected[variant as "a" | "b"] += 1;
      const email = emails.find((e) => e.to.includes(lead.address));
      expect(email?.variantId).toBe(variant);
      if (variant === "b") {
        expect(email?.subject).toBe(VARIANT_B_SUBJECT);
        expect(email?.html).toContain(VARIANT_B_MARK);
      } else {
        expect(email?.subject).toMatch(/^Welcome to Acme Analytics, Rae\d+$/);
        expect(email?.html).not.toContain(VARIANT_B_MARK);
      }
    }
    // Twenty leads over two even weights: both variants are in the test (a split this uneven has odds under 1 in 2,000).
    expect(expected.a).toBeGreaterThanOrEqual(3);
    expect(expected.b).toBeGreaterThanOrEqual(3);

    const test = await welcomeTest();
    expect(test).toMatchObject({ status: "running", metric: "clicks", ended: null, rule: { metric: "clicks", minSends: 3, confidence: 0.95 } });
    expect(test?.variants.map((v) => [v.variantId, v.sent, v.opened, v.clicked])).toEqual([
      ["a", expected.a, 0, 0],
      ["b", expected.b, 0, 0],
    ]);
  }, 120_000);

  it("attributes opens, clicks, an MQL and a win to the variant the lead was sent, with a z-test against the control", async () => {
    // Everyone opens; only variant b's readers click.
    for (const email of emails) await inject(email.messageId, "open");
    const bEmails = emails.filter((e) => e.variantId === "b");
    for (const email of bEmails) await inject(email.messageId, "click");
    await stack.bus.drain();
    // One b reader goes on to qualify (20 fit + whitepaper + open 2 + click 5 + pricing 30 + webinar 20 ≥ 60), and a rep wins the deal.
    const buyer = leads.find((l) => bEmails[0]?.to.includes(l.address));
    expect(buyer).toBeDefined();
    for (const body of [
      { type: "page_view", url: "https://www.acme-analytics.example/pricing" },
      { type: "page_view", url: "https://www.acme-analytics.example/pricing/teams" },
      { type: "webinar_attended" },
    ]) {
      expect((await post(`${stack.url}/v1/events`, { token: buyer?.token, ...body })).status).toBe(202);
    }
    await stack.bus.drain();
    const assigned = stack.bus.history.find((e) => e["detail-type"] === "lead.assigned" && e.detail.leadId === buyer?.leadId);
    expect(assigned, "the buyer was qualified and handed to sales").toBeDefined();
    const rep = String(assigned?.detail.rep);
    const repCall = async (path: string, body?: unknown) => {
      const token = await signHs256Token({ email: rep, roles: ["rep"] }, stack.authSecret);
      const res = await fetch(`${stack.url}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      expect(res.status, await res.clone().text()).toBe(200);
    };
    await repCall(`/v1/sales/leads/${buyer?.leadId}/claim`);
    await repCall(`/v1/sales/leads/${buyer?.leadId}/outcome`, { outcome: "won", amount: 9000, currency: "EUR", reason: "product-fit" });
    await stack.bus.drain();

    const test = await welcomeTest();
    const [a, b] = test?.variants ?? [];
    expect(a).toMatchObject({ variantId: "a", sent: expected.a, opened: expected.a, clicked: 0, mqls: 0, wins: 0, pValue: null });
    expect(b).toMatchObject({ variantId: "b", sent: expected.b, opened: expected.b, clicked: expected.b, mqls: 1, wins: 1 });
    expect(b?.rates.clicks).toBe(1);
    // Every b reader clicked and no a reader did: far past 95 % confidence for any split of 20 with 3 or more on each side.
    expect(b?.pValue).toBeLessThan(0.05);
    expect(test?.leader?.variantId).toBe("b");
    // No tested step has been due since: the test is judged by the sweep that next sends it.
    expect(test?.status).toBe("running");
  }, 120_000);

  it("ends the test by its rule when the step is next due, and every later lead gets the winner", async () => {
    const later: typeof leads = [];
    // Capture until one lead whose own assignment is the losing variant a (each has even odds).
    for (let i = 100; i < 116 && !later.some((l) => assignVariant(l.leadId, WELCOME)?.id === "a"); i++) later.push(await capture(i));
    expect(later.some((l) => assignVariant(l.leadId, WELCOME)?.id === "a")).toBe(true);
    const sent = await welcomesFor(later.map((l) => l.address));
    for (const email of sent) {
      expect(email.variantId).toBe("b");
      expect(email.subject).toBe(VARIANT_B_SUBJECT);
    }

    const test = await welcomeTest();
    expect(test?.status).toBe("ended");
    expect(test?.ended?.winner).toBe("b");
    expect(test?.ended?.pValue).toBeLessThan(0.05);
    expect(test?.ended?.reason).toContain("variant b won on clicks");
    expect(test?.ended?.reason).toMatch(/p [<=] 0\.0\d+/);
    expect(test?.variants.find((v) => v.variantId === "b")?.sent).toBe(expected.b + later.length);
    expect(test?.variants.find((v) => v.variantId === "a")?.sent).toBe(expected.a);
  }, 120_000);

  it("shows the A/B card on /reports in Chromium", async () => {
    if (!browserTestsRun("the A/B card browser check")) return;
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(String(error)));
      await page.goto(`${stack.url}/reports#token=${await marketingToken()}`);
      await page.waitForSelector("body[data-learning=true]", { timeout: 60_000 }).catch(async (error: unknown) => {
        throw new Error(`${String(error)}; page errors: ${errors.join(" | ")}; shown: ${await page.locator("#error, #learn-error, #signin-error").allTextContents()}`);
      });
      const card = page.locator('#ab-tests .ab-test[data-step="smb-nurture/welcome"]');
      await expect.poll(() => card.count()).toBe(1);
      const heading = await card.locator("h3").textContent();
      expect(heading).toContain("ended: variant b won on clicks");
      expect(heading).toContain("every lead now gets b");
      const rowB = await card.locator('tr.ab-variant[data-variant="b"]').textContent();
      expect(rowB).toContain("b (winner)");
      expect(rowB).toContain(VARIANT_B_SUBJECT);
      expect(rowB).toMatch(/p [<=] 0\.0\d+/);
      expect(await card.locator('tr.ab-variant[data-variant="a"]').textContent()).toContain("control");
      mkdirSync(".leadloop/screenshots", { recursive: true });
      await card.screenshot({ path: ".leadloop/screenshots/ab-test.png" });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
