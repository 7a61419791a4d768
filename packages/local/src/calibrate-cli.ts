/**
 * `npm run calibrate [-- --from YYYY-MM-DD --to YYYY-MM-DD --min-deals 20 --capacity 15 --config config
 * --write <dir> --url http://127.0.0.1:3000 --json]`: reads the deal reviews of the period from the
 * running stack (a short-lived marketing token signed by the stack's own secret), and prints, for
 * each scoring rule, its lift on won versus lost and disqualified deals with a 95% Wilson interval;
 * the MQL threshold per segment that fits the reps' capacity; and the unified diff of
 * config/scoring.yaml applying it. `--write <dir>` copies the config folder there with the
 * suggestion applied, for `npm run simulate -- --base config --candidate <dir>`. Exit 1 with the
 * reason when there are too few closed deals, the stack is unreachable or an option is wrong.
 */
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { signHs256Token } from "@leadloop/api";
import { type Calibration, calibrateScoring, loadConfig, NotEnoughDealsError, type ReviewList } from "@leadloop/core";
import { localAuthSecret } from "./local-secrets";
import { table } from "./report-cli";
import { findRunningStack } from "./stack-file";

const USAGE = `Usage: npm run calibrate -- [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--min-deals 20] [--capacity 15]
                            [--config config] [--write <dir>] [--url http://127.0.0.1:3000] [--json]

Defaults: the last 90 days, at least 20 closed deals, 15 hand-offs per rep a week.`;

const DEFAULTS = { days: 90, minDeals: 20, capacity: 15 };

const pct = (r: number | null) => (r === null ? "–" : `${(r * 100).toFixed(1)}%`);

export function formatCalibration(c: Calibration): string {
  const rules = table(
    ["Rule", "Deals", "Won", "Lost+disq.", "Win rate", "95% interval", "Lift", "Bad fit", "Wrong contact"],
    c.rules.map((r) => [
      r.rule,
      String(r.deals),
      String(r.won),
      String(r.lostOrDisqualified),
      pct(r.winRate),
      r.interval ? `${pct(r.interval.low)}–${pct(r.interval.high)}` : "–",
      r.lift === null ? "–" : r.lift.toFixed(2),
      String(r.badFit),
      String(r.wrongContact),
    ]),
  );
  const thresholds = table(
    ["Segment", "Now", "Suggested", "MQLs/week", "Capacity/week", "Why"],
    c.thresholds.map((t) => [t.segment, String(t.current), String(t.suggested), String(t.weeklyMqls), String(t.weeklyCapacity), t.why]),
  );
  return [
    `Closed deals: ${c.closed.total} (won ${c.closed.won}, lost ${c.closed.lost}, disqualified ${c.closed.disqualified}); win rate ${pct(c.winRate)}`,
    rules,
    thresholds,
    c.diff === "" ? "No change to config/scoring.yaml suggested." : c.diff.trimEnd(),
  ].join("\n\n");
}

const isDay = (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s) && Number.isFinite(Date.parse(`${s}T00:00:00Z`));

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

export async function runCalibrate(argv: string[], env: NodeJS.ProcessEnv, io: CliIo, now = new Date()): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        from: { type: "string" },
        to: { type: "string" },
        "min-deals": { type: "string" },
        capacity: { type: "string" },
        config: { type: "string", default: "config" },
        write: { type: "string" },
        url: { type: "string", default: findRunningStack(env).url },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (error) {
    io.err(`${(error as Error).message}\n${USAGE}\n`);
    return 1;
  }
  if (values.help) {
    io.err(`${USAGE}\n`);
    return 0;
  }
  const to = (values.to as string | undefined) ?? now.toISOString().slice(0, 10);
  const from = (values.from as string | undefined) ?? new Date(Date.parse(`${to}T00:00:00Z`) - (DEFAULTS.days - 1) * 86_400_000).toISOString().slice(0, 10);
  for (const [flag, day] of [["--from", from], ["--to", to]] as const) {
    if (!isDay(day)) {
      io.err(`${flag} ${day}: write a date as YYYY-MM-DD, e.g. 2026-01-31\n`);
      return 1;
    }
  }
  const whole = (flag: string, fallback: number): number | undefined => {
    const raw = values[flag] as string | undefined;
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (Number.isInteger(n) && n > 0) return n;
    io.err(`--${flag} ${raw}: write a whole number greater than 0, e.g. ${fallback}\n`);
    return undefined;
  };
  const minDeals = whole("min-deals", DEFAULTS.minDeals);
  const capacity = whole("capacity", DEFAULTS.capacity);
  if (minDeals === undefined || capacity === undefined) return 1;

  const configDir = resolve(values.config as string);
  const { config, problems } = loadConfig(configDir);
  if (!config || problems.length > 0) {
    io.err(`The config in ${configDir} has problems; run npm run config:check to see them.\n`);
    return 1;
  }
  const scoringPath = join(configDir, "scoring.yaml");
  const scoringYaml = existsSync(scoringPath) ? readFileSync(scoringPath, "utf8") : undefined;

  const token = await signHs256Token({ email: "calibrate-cli@leadloop.local", roles: ["marketing"], ttl: "5m" }, localAuthSecret(findRunningStack(env).dataDir, env));
  const url = `${(values.url as string).replace(/\/$/, "")}/v1/reports/reviews?${new URLSearchParams({ from, to })}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  } catch {
    io.err(`Could not reach ${values.url} (from ${findRunningStack(env).from}): is the local stack running (npm start)? Otherwise set PORT or LEADLOOP_URL to its address.\n`);
    return 1;
  }
  const body = (await res.json().catch(() => ({}))) as ReviewList & { detail?: string };
  if (!res.ok) {
    io.err(`Reading the deal reviews failed (${res.status}): ${body.detail ?? "no detail"}\n`);
    return 1;
  }
  let calibration: Calibration;
  try {
    const weeks = ((Date.parse(to) - Date.parse(from)) / 86_400_000 + 1) / 7;
    calibration = calibrateScoring({ config, ...(scoringYaml !== undefined ? { scoringYaml } : {}), reviews: body.reviews, weeks, capacityPerRepPerWeek: capacity, minDeals });
  } catch (error) {
    if (error instanceof NotEnoughDealsError) {
      io.err(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
  io.out(values.json ? `${JSON.stringify({ period: { from, to }, ...calibration }, null, 2)}\n` : `Calibration ${from} to ${to}\n\n${formatCalibration(calibration)}\n`);
  const write = values.write as string | undefined;
  if (write) {
    const target = resolve(write);
    if (target === configDir) {
      io.err(`--write ${write} is the config folder itself; name another folder, e.g. --write ../config-calibrated\n`);
      return 1;
    }
    cpSync(configDir, target, { recursive: true });
    writeFileSync(join(target, "scoring.yaml"), calibration.suggestedScoringYaml);
    io.err(`Wrote the suggested config to ${target}; compare it with: npm run simulate -- --base ${values.config} --candidate ${write}\n`);
  }
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runCalibrate(process.argv.slice(2), process.env, { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
      process.exit(2);
    },
  );
}
