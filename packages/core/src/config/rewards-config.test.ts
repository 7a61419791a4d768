import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "./load";

const shippedConfig = fileURLToPath(new URL("../../../../config", import.meta.url));
const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

function copyWith(edit: (dir: string) => void): string {
  const parent = mkdtempSync(join(tmpdir(), "leadloop-rewards-"));
  temps.push(parent);
  const dir = join(parent, "config");
  cpSync(shippedConfig, dir, { recursive: true });
  edit(dir);
  return dir;
}

function replaceIn(dir: string, file: string, from: string, to: string): void {
  const text = readFileSync(join(dir, file), "utf8");
  if (!text.includes(from)) throw new Error(`test setup: ${file} does not contain ${from}`);
  writeFileSync(join(dir, file), text.replace(from, to));
}

describe("config/rewards.yaml", () => {
  it("loads the shipped rewards: rates per currency, tiers lowest first, expiry and the tier email", () => {
    const { config, problems } = loadConfig(shippedConfig);
    expect(problems).toEqual([]);
    expect(config?.rewards?.pointsPerUnit).toMatchObject({ USD: 1, EUR: 1.1 });
    expect(config?.rewards?.tiers.map((t) => [t.id, t.threshold])).toEqual([
      ["member", 0],
      ["silver", 500],
      ["gold", 2000],
      ["platinum", 5000],
    ]);
    expect(config?.rewards?.expiry).toBe("P365D");
    expect(config?.rewards?.tierChangeTemplate).toBe("points-statement");
  });

  it("is optional: without the file there are no rewards and no problem", () => {
    const dir = copyWith((d) => rmSync(join(d, "rewards.yaml")));
    const { config, problems } = loadConfig(dir);
    expect(problems).toEqual([]);
    expect(config?.rewards).toBeUndefined();
  });

  it("names an unknown tier-change template at its line, with a suggestion", () => {
    const dir = copyWith((d) => replaceIn(d, "rewards.yaml", "tierChangeTemplate: points-statement", "tierChangeTemplate: points-statment"));
    const { config, problems } = loadConfig(dir);
    expect(config).toBeUndefined();
    expect(problems).toEqual([
      expect.objectContaining({
        file: "config/rewards.yaml",
        message: "unknown template `points-statment`",
        hint: expect.stringContaining("points-statement"),
      }),
    ]);
  });

  it("refuses tiers out of order and a rate that is not positive", () => {
    const dir = copyWith((d) => {
      replaceIn(d, "rewards.yaml", "threshold: 2000", "threshold: 400");
      replaceIn(d, "rewards.yaml", "USD: 1", "USD: 0");
    });
    const messages = loadConfig(dir).problems.map((p) => `${p.file} ${p.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^config\/rewards\.yaml .*lowest threshold to the highest/),
        expect.stringMatching(/^config\/rewards\.yaml pointsPerUnit\.USD/),
      ]),
    );
  });

  it("loads the catalogue: each reward's id, name, cost and limits", () => {
    const { config } = loadConfig(shippedConfig);
    expect(config?.rewards?.catalogue.map((r) => [r.id, r.points, r.limits ?? null])).toEqual([
      ["free-shipping", 200, { perPeriod: 2, period: "P30D" }],
      ["ten-off", 500, null],
      ["onboarding-session", 1500, { perCustomer: 1 }],
    ]);
  });

  it("refuses a period limit without its period and a cost that is not whole, each at its line", () => {
    const dir = copyWith((d) => {
      replaceIn(d, "rewards.yaml", "limits: { perPeriod: 2, period: P30D }", "limits: { perPeriod: 2 }");
      replaceIn(d, "rewards.yaml", "points: 1500", "points: 15.5");
    });
    const problems = loadConfig(dir).problems.map((p) => ({ at: `${p.file}:${p.line}`, message: p.message }));
    const text = readFileSync(join(dir, "rewards.yaml"), "utf8").split("\n");
    const lineOf = (needle: string) => text.findIndex((l) => l.includes(needle)) + 1;
    expect(problems).toEqual([
      { at: `config/rewards.yaml:${lineOf("limits: { perPeriod: 2 }")}`, message: expect.stringContaining("perPeriod and period go together") },
      { at: `config/rewards.yaml:${lineOf("points: 15.5")}`, message: expect.stringContaining("whole number") },
    ]);
  });

  it("refuses a reward id listed twice, at the second one", () => {
    const dir = copyWith((d) => replaceIn(d, "rewards.yaml", "  - id: ten-off", "  - id: free-shipping"));
    const text = readFileSync(join(dir, "rewards.yaml"), "utf8").split("\n");
    const second = text.findLastIndex((l) => l.includes("- id: free-shipping")) + 1;
    expect(loadConfig(dir).problems.map((p) => ({ at: `${p.file}:${p.line}`, message: p.message }))).toEqual([
      { at: `config/rewards.yaml:${second}`, message: expect.stringContaining("free-shipping is listed twice") },
    ]);
  });

  it("requires an unsubscribe link in the tier-change template, as in every marketing email", () => {
    const dir = copyWith((d) => replaceIn(d, "templates/points-statement.txt.liquid", "Unsubscribe: {{ unsubscribe_url }}", ""));
    const problems = loadConfig(dir).problems;
    expect(problems).toEqual([
      expect.objectContaining({
        file: "config/templates/points-statement.txt.liquid",
        message: expect.stringContaining("unsubscribe link"),
      }),
    ]);
  });
});
