import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { endpointsFor, resolveWebhookTargets, signWebhook, webhookSecretNames } from "../integrations/webhooks";
import { loadConfig } from "./load";

const shippedConfig = fileURLToPath(new URL("../../../../config", import.meta.url));
const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

function copyWith(webhooksYaml: string): string {
  const parent = mkdtempSync(join(tmpdir(), "leadloop-webhooks-"));
  temps.push(parent);
  const dir = join(parent, "config");
  cpSync(shippedConfig, dir, { recursive: true });
  writeFileSync(join(dir, "webhooks.yaml"), webhooksYaml);
  return dir;
}

describe("config/webhooks.yaml", () => {
  it("loads the shipped endpoints, whose URLs and keys are variable names, never values", () => {
    const { config, problems } = loadConfig(shippedConfig);
    expect(problems).toEqual([]);
    expect(config?.webhooks?.endpoints.map((e) => [e.id, e.events])).toEqual([
      ["crm", ["lead.qualified", "lead.assigned", "lead.closed"]],
      ["shop", ["customer.purchase", "customer.tier_changed"]],
    ]);
    expect(readFileSync(join(shippedConfig, "webhooks.yaml"), "utf8")).not.toMatch(/https?:\/\/(?!\/)[^\s…]*\.[a-z]/);
    expect(webhookSecretNames(config?.webhooks?.endpoints ?? [])).toEqual(["WEBHOOK_CRM_SECRET", "WEBHOOK_CRM_URL", "WEBHOOK_SHOP_SECRET", "WEBHOOK_SHOP_URL"]);
  });

  it("names an unknown event, a URL written in place of a variable and a broken filter at their lines", () => {
    const dir = copyWith(
      [
        "endpoints:",
        "  - id: crm",
        "    urlEnv: https://crm.example/hooks",
        "    secretEnv: WEBHOOK_CRM_SECRET",
        "    events: [lead.qualified, lead.won]",
        "    filter: { segment: enterprise }",
        "",
      ].join("\n"),
    );
    const { config, problems } = loadConfig(dir);
    expect(config).toBeUndefined();
    const mine = problems.filter((p) => p.file === "config/webhooks.yaml").map((p) => `${p.line}: ${p.message} ${p.hint ?? ""}`);
    expect(mine.some((m) => m.startsWith("3: ") && m.includes("environment variable"))).toBe(true);
    expect(mine.some((m) => m.startsWith("5: ") && m.includes("lead.qualified"))).toBe(true);
    expect(mine.some((m) => m.startsWith("6: ") && m.includes("content filter"))).toBe(true);
  });
});

describe("webhook targets, filters and signatures", () => {
  const crm = { id: "crm", urlEnv: "CRM_URL", secretEnv: "CRM_KEY", events: ["lead.closed" as const], filter: { outcome: ["won"] } };

  it("takes endpoints whose variables are set, skips unset or `none` ones, and refuses a bad URL or short key naming the variable", () => {
    const key = "k".repeat(32);
    expect(resolveWebhookTargets([crm], (n) => ({ CRM_URL: "https://crm.example/h", CRM_KEY: key })[n])).toEqual({ targets: { crm: { url: "https://crm.example/h", secret: key } }, missing: [] });
    expect(resolveWebhookTargets([crm], () => undefined)).toEqual({ targets: {}, missing: ["crm"] });
    expect(resolveWebhookTargets([crm], () => "none").missing).toEqual(["crm"]);
    expect(() => resolveWebhookTargets([crm], (n) => ({ CRM_URL: "ftp://x", CRM_KEY: key })[n])).toThrow(/CRM_URL is not an http\(s\) URL/);
    expect(() => resolveWebhookTargets([crm], (n) => ({ CRM_URL: "https://x.example", CRM_KEY: "short" })[n])).toThrow(/CRM_KEY is shorter than 32/);
  });

  it("sends an event only to endpoints that take its type and whose filter matches", () => {
    expect(endpointsFor([crm], "lead.closed", { outcome: "won" }).map((e) => e.id)).toEqual(["crm"]);
    expect(endpointsFor([crm], "lead.closed", { outcome: "lost" })).toEqual([]);
    expect(endpointsFor([crm], "lead.qualified", { outcome: "won" })).toEqual([]);
  });

  it("signs t.body with HMAC-SHA256 (the test vector a receiver can check its code against)", () => {
    expect(signWebhook("secret", 1_700_000_000, '{"a":1}')).toBe("t=1700000000,v1=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686");
  });
});
