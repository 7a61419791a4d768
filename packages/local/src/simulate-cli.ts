/**
 * `npm run simulate [-- --leads 1000 --days 30 --seed 1 --config config …]` runs the config over
 * synthetic leads and prints the forecast; `--base config --candidate ../changed` runs both under
 * several seeds and prints what the change moves, with its range, so a marketer sees what a change
 * will do before it ships and whether it is more than noise. Exit 0 on success; 1 for a bad
 * option or a config with problems, each named with what to write instead.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type Forecast,
  forecastJourneys,
  formatProblem,
  InvalidSimulationOptionsError,
  type LeadloopConfig,
  loadConfig,
  PersonaKind,
  resolveSimulationOptions,
  type SimulationOptions,
  type SimulationOptionsInput,
} from "@leadloop/core";
import { suggest } from "@leadloop/core/config/did-you-mean";
import { parseYamlSource } from "@leadloop/core/config/yaml-source";
import { zodProblems } from "@leadloop/core/config/zod-problems";
import { EmailRatesFile } from "@leadloop/core/simulation/email-rates";
import { formatForecast, formatSeededComparison } from "@leadloop/core/simulation/forecast-report";
import { formatMeasuredCost, formatMeasuredCostWithSes, MEASURED_COST_FILE, MeasuredCost } from "@leadloop/core/simulation/measured-cost";

type NumericKey = {
  [K in keyof SimulationOptions]-?: SimulationOptions[K] extends number ? K : never;
}[keyof SimulationOptions];

interface NumericFlag {
  key: NumericKey;
  kind: "whole" | "rate" | "number";
  example: string;
}

const NUMERIC_FLAGS: Record<string, NumericFlag> = {
  leads: { key: "leads", kind: "whole", example: "1000" },
  days: { key: "days", kind: "whole", example: "30" },
  seed: { key: "seed", kind: "whole", example: "1" },
  "open-rate": { key: "openRate", kind: "rate", example: "0.35" },
  "click-rate": { key: "clickRate", kind: "rate", example: "0.05" },
  "page-view-rate": { key: "pageViewRate", kind: "rate", example: "0.25" },
  "webinar-rate": { key: "webinarRate", kind: "rate", example: "0.03" },
  "unsubscribe-rate": { key: "unsubscribeRate", kind: "rate", example: "0.004" },
  "bounce-rate": { key: "bounceRate", kind: "rate", example: "0.01" },
  "confirm-rate": { key: "confirmRate", kind: "rate", example: "0.6" },
  "claim-miss-rate": { key: "claimMissRate", kind: "rate", example: "0.1" },
  "win-rate": { key: "winRate", kind: "rate", example: "0.2" },
  "not-now-rate": { key: "notNowRate", kind: "rate", example: "0.25" },
  "purchase-rate": { key: "purchaseRate", kind: "rate", example: "0.2" },
  "sales-cycle-days": { key: "salesCycleDays", kind: "number", example: "14" },
};
const STRING_FLAGS = ["config", "base", "candidate", "compare", "start", "segment-mix", "seeds", "rates"] as const;
const BOOLEAN_FLAGS = ["json", "help", "verbose"] as const;
const ALL_FLAGS = [...Object.keys(NUMERIC_FLAGS), ...STRING_FLAGS, ...BOOLEAN_FLAGS];
/** Seeds a comparison runs under unless --seeds says otherwise: enough to show a range. */
const DEFAULT_SEEDS = 5;

const USAGE = `usage: npm run simulate [-- options]

  --config <dir>          config folder to simulate (default: config); --base is the same
  --candidate <dir>       a changed config folder: prints what it changes against --base
                          (default: config), with the range over several seeds
  --compare <dir>         the same as --candidate
  --seeds <n>             seeds a comparison runs under, from --seed on (default 5)
  --verbose               with --candidate, also print both full forecasts
  --leads <n>             synthetic leads (default 1000)
  --days <n>              simulated days (default 30)
  --seed <n>              same seed, same forecast (default 1)
  --start <instant>       first instant, e.g. 2025-03-03T00:00:00Z (default 2025-01-06, a Monday)
  --segment-mix <mix>     weights of kinds of people, e.g. executive=0.2,manager=0.3,practitioner=0.3,freelancer=0.1,student=0.1
  --open-rate, --click-rate, --unsubscribe-rate, --bounce-rate   per delivered email (0..1 or 30%)
  --rates <file>          open and click rates per template or step (YAML: templates: { smb-pricing: { open: 0.5, click: 0.1 } }, steps: { smb-nurture/pricing: … })
  --page-view-rate, --webinar-rate                                per lead per week
  --confirm-rate          double-opt-in confirmations
  --claim-miss-rate, --win-rate, --not-now-rate, --sales-cycle-days   sales after the hand-off
  --purchase-rate         per customer per week
  --json                  print the forecast(s) as JSON
`;

const MORE = "(npm run simulate -- --help lists every option)";

class UsageError extends Error {
  override readonly name = "UsageError";
}

interface CliArgs {
  config: string;
  candidate?: string;
  seeds: number;
  json: boolean;
  help: boolean;
  verbose: boolean;
  options: SimulationOptionsInput;
}

function parseCliArgs(argv: readonly string[]): CliArgs {
  const args: CliArgs = { config: "config", seeds: DEFAULT_SEEDS, json: false, help: false, verbose: false, options: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (!arg.startsWith("--")) {
      throw new UsageError(`unexpected argument "${arg}": options start with --, e.g. --leads 1000 or --compare ${arg}`);
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);

    if ((BOOLEAN_FLAGS as readonly string[]).includes(name)) {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value: write just --${name}`);
      if (name === "json") args.json = true;
      else if (name === "verbose") args.verbose = true;
      else args.help = true;
      continue;
    }
    const known = name in NUMERIC_FLAGS || (STRING_FLAGS as readonly string[]).includes(name);
    if (!known) {
      const hint = suggest(name, ALL_FLAGS, "options are");
      throw new UsageError(`unknown option --${name}${hint ? `: ${hint.replace(/`([^`]+)`/g, "--$1")}` : ""}`);
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) {
        throw new UsageError(`--${name} needs a value, e.g. --${name} ${exampleFor(name)}`);
      }
      value = next;
      i++;
    }
    const numeric = NUMERIC_FLAGS[name];
    if (numeric) {
      args.options[numeric.key] = parseNumber(name, numeric, value);
    } else if (name === "config" || name === "base") args.config = value;
    else if (name === "compare" || name === "candidate") args.candidate = value;
    else if (name === "seeds") {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1 || n > 20) throw new UsageError(`--seeds must be a whole number from 1 to 20 (got "${value}"): write e.g. --seeds 5`);
      args.seeds = n;
    }
    else if (name === "start") args.options.start = value;
    else if (name === "segment-mix") args.options.segmentMix = parseMix(value);
    else if (name === "rates") args.options.emailRates = readRatesFile(value);
  }
  return args;
}

/** The --rates file, or a UsageError listing each problem as file:line:column. */
export function readRatesFile(path: string): EmailRatesFile {
  if (!existsSync(path)) throw new UsageError(`--rates ${path}: no such file; write e.g. --rates rates.yaml`);
  const source = parseYamlSource(path, readFileSync(path, "utf8"));
  const parsed = EmailRatesFile.safeParse(source.data ?? {});
  const problems = [...source.syntaxProblems, ...(parsed.success ? [] : zodProblems(source, EmailRatesFile, parsed.error.issues))];
  if (problems.length > 0 || !parsed.success) {
    throw new UsageError(
      `${problems.map(formatProblem).join("\n")}\n(the file looks like: templates: { smb-pricing: { open: 0.5, click: 0.1 } } and/or steps: { smb-nurture/pricing: { open: 0.6, click: 0.2 } })`,
    );
  }
  return parsed.data;
}

function exampleFor(name: string): string {
  const numeric = NUMERIC_FLAGS[name];
  if (numeric) return numeric.example;
  return { config: "config", base: "config", candidate: "../other-config", compare: "../other-config", seeds: "5", start: "2025-03-03T00:00:00Z", "segment-mix": "executive=0.2,student=0.1", rates: "rates.yaml" }[name] ?? "…";
}

function parseNumber(name: string, flag: NumericFlag, raw: string): number {
  const text = raw.trim();
  if (flag.kind === "rate") {
    const isPercent = text.endsWith("%");
    const n = Number(isPercent ? text.slice(0, -1) : text);
    const rate = isPercent ? n / 100 : n;
    if (text === "" || !Number.isFinite(n) || rate < 0 || rate > 1) {
      throw new UsageError(
        `--${name} must be a share between 0 and 1 (got "${raw}"): write e.g. --${name} ${flag.example}` +
          (Number.isFinite(n) && n > 1 && !isPercent ? ` or --${name} ${n}%` : ""),
      );
    }
    return rate;
  }
  const n = Number(text);
  if (text === "" || !Number.isFinite(n) || (flag.kind === "whole" && !Number.isInteger(n)) || n < 0) {
    const what = flag.kind === "whole" ? "a whole number" : "a number";
    throw new UsageError(`--${name} must be ${what} (got "${raw}"): write e.g. --${name} ${flag.example}`);
  }
  return n;
}

function parseMix(raw: string): Partial<Record<PersonaKind, number>> {
  const mix: Partial<Record<PersonaKind, number>> = {};
  const kinds = PersonaKind.options;
  for (const part of raw.split(",").filter((p) => p.trim() !== "")) {
    const [kind = "", weight = ""] = part.split("=").map((s) => s.trim());
    const parsedKind = PersonaKind.safeParse(kind);
    if (!parsedKind.success) {
      const hint = suggest(kind, kinds, "kinds are");
      throw new UsageError(`--segment-mix: unknown kind "${kind}"${hint ? `: ${hint}` : ""}`);
    }
    const n = Number(weight);
    if (weight === "" || !Number.isFinite(n) || n < 0) {
      throw new UsageError(`--segment-mix: "${part}" needs a weight of 0 or more, e.g. ${kind}=0.2`);
    }
    mix[parsedKind.data] = n;
  }
  if (Object.keys(mix).length === 0) {
    throw new UsageError(`--segment-mix needs kind=weight pairs, e.g. --segment-mix ${kinds.map((k) => `${k}=0.2`).join(",")}`);
  }
  return mix;
}

function flagOf(key: string): string {
  const entry = Object.entries(NUMERIC_FLAGS).find(([, f]) => f.key === key);
  if (entry) return `--${entry[0]}`;
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function load(dir: string, flag: "--config" | "--candidate"): LeadloopConfig | undefined {
  if (!existsSync(resolve(dir)) || !statSync(resolve(dir)).isDirectory()) {
    console.error(`${flag} ${dir}: no such folder; write ${flag} <folder holding forms.yaml, scoring.yaml, …>, e.g. ${flag} config`);
    return undefined;
  }
  const { config, problems } = loadConfig(resolve(dir));
  if (config && problems.length === 0) return config;
  console.error(`✗ ${dir}: ${problems.length} problem${problems.length === 1 ? "" : "s"} in the config; fix them first (npm run config:check):`);
  for (const problem of problems) console.error(formatProblem(problem));
  return undefined;
}

/** A plain bar on stderr, redrawn in place; nothing at all when stderr is not a terminal. */
function progressBar(label: string): { update: (done: number, total: number) => void; finish: () => void } {
  const stream = process.stderr;
  if (!stream.isTTY) return { update: () => {}, finish: () => {} };
  let shown = -1;
  const width = 30;
  return {
    update(done, total) {
      const pct = Math.floor((done / total) * 100);
      if (pct === shown) return;
      shown = pct;
      const filled = Math.round((done / total) * width);
      stream.write(`\r${label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(pct).padStart(3)}%`);
    },
    finish() {
      stream.write("\r\x1b[K");
    },
  };
}

function run(config: LeadloopConfig, options: SimulationOptions, label: string): Forecast {
  const bar = progressBar(`simulating ${label}`);
  try {
    return forecastJourneys(config, options, { onProgress: bar.update });
  } finally {
    bar.finish();
  }
}

const REPOSITORY_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/**
 * The measured figure beside the forecast's estimate: the estimate follows this config's volumes,
 * the figure is what `npm run bench:cost` measured for one reference journey, the same one the
 * READMEs quote (docs/cost.json).
 */
function measuredCostLine(root = REPOSITORY_ROOT): string {
  const file = join(root, MEASURED_COST_FILE);
  if (!existsSync(file)) return `Measured cost: none yet (${MEASURED_COST_FILE} is missing; npm run bench:cost writes it)`;
  const parsed = MeasuredCost.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!parsed.success) return `Measured cost: ${MEASURED_COST_FILE} is not what npm run bench:cost writes; run it again`;
  const cost = parsed.data;
  return (
    `Measured by npm run bench:cost (${cost.leads} leads, ${cost.measuredAt.slice(0, 10)}): ${formatMeasuredCost(cost)}, ${formatMeasuredCostWithSes(cost)}, ` +
    `for ${cost.journey} (${MEASURED_COST_FILE})`
  );
}

function main(argv: readonly string[]): number {
  let args: CliArgs;
  let options: SimulationOptions;
  try {
    args = parseCliArgs(argv);
    if (args.help) {
      console.log(USAGE);
      return 0;
    }
    options = resolveSimulationOptions(args.options);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n${MORE}`);
      return 1;
    }
    if (error instanceof InvalidSimulationOptionsError) {
      for (const issue of error.issues) console.error(`${flagOf(issue.option)}: ${issue.message}`);
      console.error(MORE);
      return 1;
    }
    throw error;
  }

  const config = load(args.config, "--config");
  const candidate = args.candidate === undefined ? undefined : load(args.candidate, "--candidate");
  if (!config || (args.candidate !== undefined && !candidate)) return 1;

  if (!candidate || args.candidate === undefined) {
    const forecast = run(config, options, args.config);
    console.log(args.json ? JSON.stringify(forecast, null, 2) : `${formatForecast(forecast, `Forecast for ${args.config}`)}\n\n${measuredCostLine()}`);
    return 0;
  }
  const labels = [args.config, args.candidate] as const;
  const runs = Array.from({ length: args.seeds }, (_, i) => {
    const seeded = { ...options, seed: options.seed + i };
    return [run(config, seeded, `${labels[0]} (seed ${seeded.seed})`), run(candidate, seeded, `${labels[1]} (seed ${seeded.seed})`)] as const;
  });
  if (args.json) {
    console.log(JSON.stringify(runs.map(([base, changed]) => ({ seed: base.options.seed, base, candidate: changed })), null, 2));
    return 0;
  }
  console.log(formatSeededComparison(runs, labels));
  const [first] = runs;
  if (args.verbose && first) {
    console.log(`\n\n${formatForecast(first[0], `Forecast for ${labels[0]}`)}`);
    console.log(`\n\n${formatForecast(first[1], `Forecast for ${labels[1]}`)}`);
  }
  return 0;
}

// `npm run simulate | head` closes the pipe early; that is the reader's choice, not a failure.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
  process.exit(process.exitCode ?? 0);
});
process.exitCode = main(process.argv.slice(2));
