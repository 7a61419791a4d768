import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { formatMeasuredCost, MEASURED_COST_FILE, MeasuredCost } from "@leadloop/core/simulation/measured-cost";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function simulate(args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile("npx", ["tsx", "packages/local/src/simulate-cli.ts", ...args], { cwd: root }, (error, stdout, stderr) => {
      done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** A copy of the shipped config with every MQL threshold raised by 20 points. */
function stricterConfig(): string {
  const dir = join(mkdtempSync(join(tmpdir(), "leadloop-simulate-")), "stricter");
  cpSync(join(root, "config"), dir, { recursive: true });
  const file = join(dir, "scoring.yaml");
  const scoring = parse(readFileSync(file, "utf8")) as { threshold: number; segmentThresholds?: Record<string, number> };
  scoring.threshold += 20;
  for (const segment of Object.keys(scoring.segmentThresholds ?? {})) {
    if (scoring.segmentThresholds) scoring.segmentThresholds[segment] = (scoring.segmentThresholds[segment] ?? 0) + 20;
  }
  writeFileSync(file, stringify(scoring));
  return dir;
}

describe("npm run simulate", () => {
  it("takes --compare as the candidate, reading from the current config to the changed one", async () => {
    const other = stricterConfig();
    const run = await simulate(["--leads", "200", "--days", "14", "--seeds", "1", "--compare", other]);
    expect(run.stderr).toBe(""); // no progress bar when stderr is not a terminal
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n")[0]).toBe(`Comparison: config → ${other} (200 synthetic leads, 14 days, seed 1)`);
    // Fewer leads reach the raised thresholds: the candidate's column is the smaller one.
    const mqls = /^MQLs +(\d+) +(\d+) +−\d+/m.exec(run.stdout);
    expect(Number(mqls?.[2])).toBeLessThan(Number(mqls?.[1]));
  });

  it("prints a single forecast with its cost estimate", async () => {
    const run = await simulate(["--leads", "100", "--days", "7"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Forecast for config: 100 leads over 7 days");
    expect(run.stdout).toMatch(/AWS cost estimate/);
    // Beside the estimate, the one measured figure the READMEs quote (docs/cost.json).
    const measured = MeasuredCost.parse(JSON.parse(readFileSync(join(root, MEASURED_COST_FILE), "utf8")));
    expect(run.stdout).toContain(`Measured by npm run bench:cost (${measured.leads} leads, ${measured.measuredAt.slice(0, 10)}): ${formatMeasuredCost(measured)}`);
  });

  it("compares --base with --candidate, differences first with a range over several seeds, forecasts only with --verbose", async () => {
    const candidate = stricterConfig();
    const run = await simulate(["--leads", "150", "--days", "10", "--seeds", "2", "--base", "config", "--candidate", candidate]);
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n")[0]).toBe(`Comparison: config → ${candidate} (150 synthetic leads, 10 days, seeds 1–2)`);
    expect(run.stdout).not.toContain("Forecast for");
    // Raising every threshold by 20 points loses MQLs under every seed: a real change, not noise.
    expect(run.stdout).toMatch(/^MQLs +\d+ +\d+ +−\d+ +−\d+ … −\d+ +every seed$/m);
    // Rows that moved under no seed are left out.
    expect(run.stdout).not.toMatch(/^leads captured/m);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines.length).toBeLessThan(60);

    const verbose = await simulate(["--leads", "50", "--days", "5", "--seeds", "1", "--candidate", candidate, "--verbose"]);
    expect(verbose.code).toBe(0);
    expect(verbose.stdout.split("\n")[0]).toMatch(/^Comparison: config → /);
    expect(verbose.stdout).toContain("Forecast for config");
    expect(verbose.stdout).toContain(`Forecast for ${candidate}`);
  }, 120_000);

  it("prints the forecast as JSON with --json", async () => {
    const run = await simulate(["--leads", "50", "--days", "7", "--json", "--seed", "3"]);
    expect(run.code).toBe(0);
    const forecast = JSON.parse(run.stdout) as { leads: { captured: number }; emails: { perDay: unknown[] } };
    expect(forecast.leads.captured).toBe(50);
    expect(forecast.emails.perDay).toHaveLength(7);
  });

  it("names a bad option and what to write instead, and exits 1", async () => {
    const [typo, percent, leads] = await Promise.all([
      simulate(["--open-rat", "0.3"]),
      simulate(["--open-rate", "30"]),
      simulate(["--leads", "many"]),
    ]);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain("unknown option --open-rat: did you mean --open-rate?");

    expect(percent.code).toBe(1);
    expect(percent.stderr).toContain("--open-rate must be a share between 0 and 1");
    expect(percent.stderr).toContain("--open-rate 30%");

    expect(leads.code).toBe(1);
    expect(leads.stderr).toContain('--leads must be a whole number (got "many"): write e.g. --leads 1000');
  });

  it("prints config problems as file:line:col and exits 1", async () => {
    const broken = stricterConfig();
    const file = join(broken, "scoring.yaml");
    writeFileSync(file, readFileSync(file, "utf8").replace(/^threshold: \d+/m, "threshold: high"));
    const run = await simulate(["--leads", "10", "--days", "2", "--config", broken]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/stricter\/scoring\.yaml:\d+:\d+ {2}threshold/);
    expect(run.stdout).toBe("");
  });
});

describe("simulate --rates", () => {
  it("names each mistake in the rates file at its line, with what to write", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "leadloop-rates-")), "rates.yaml");
    writeFileSync(file, "templates:\n  smb-pricing: { open: 0.1, click: 0.3 }\nsteps:\n  pricing: { open: 0.5, click: 0.1 }\n");
    const run = await simulate(["--rates", file, "--leads", "50", "--days", "3"]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/rates\.yaml:2:\d+ .*click/);
    expect(run.stderr).toMatch(/rates\.yaml:4:\d+ .*smb-nurture\/pricing/);
  });

  it("gives a template its own rates, so its copy change shows in the forecast", async () => {
    const dir = mkdtempSync(join(tmpdir(), "leadloop-rates-"));
    writeFileSync(join(dir, "none.yaml"), "templates:\n  smb-welcome: { open: 0, click: 0 }\n");
    writeFileSync(join(dir, "all.yaml"), "templates:\n  smb-welcome: { open: 1, click: 1 }\n");
    const opened = async (rates: string) => {
      const run = await simulate(["--rates", join(dir, rates), "--leads", "300", "--days", "5", "--json"]);
      expect(run.code, run.stderr).toBe(0);
      const forecast = JSON.parse(run.stdout) as { emails: { bySequence: { sequenceId: string; steps: { stepId: string; opened: number; sent: number }[] }[] } };
      return forecast.emails.bySequence.find((s) => s.sequenceId === "smb-nurture")?.steps.find((s) => s.stepId === "welcome");
    };
    const [none, all] = [await opened("none.yaml"), await opened("all.yaml")];
    expect(none?.sent).toBeGreaterThan(0);
    expect(none?.opened).toBe(0);
    expect(all?.opened).toBeGreaterThan(0);
  });
});
