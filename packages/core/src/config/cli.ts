/**
 * `npm run config:check [-- --dir <path>]`: checks the marketer-owned config and prints every
 * problem as `file:line:column  message  (what to write instead)`. Exit 0 when clean, 1 otherwise.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { pastBroadcastWarnings } from "./broadcast-warnings";
import { previousConditionShifts } from "./condition-drift";
import { loadConfig } from "./load";
import { formatProblem, type Problem } from "./problem";

/** Shifts of `previous:` conditions against the last commit; none outside a git checkout. */
function conditionWarnings(dir: string): Problem[] {
  const folder = join(dir, "sequences");
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((f) => /\.ya?ml$/.test(f))
    .flatMap((f) => {
      const committed = spawnSync("git", ["-C", dir, "show", `HEAD:./sequences/${f}`], { encoding: "utf8" });
      return previousConditionShifts({
        file: `${basename(dir)}/sequences/${f}`,
        current: readFileSync(join(folder, f), "utf8"),
        committed: committed.status === 0 ? committed.stdout : undefined,
      });
    });
}

function main(): number {
  let dir: string;
  try {
    const { values } = parseArgs({
      options: { dir: { type: "string", short: "d" }, help: { type: "boolean", short: "h" } },
      strict: true,
    });
    if (values.help) {
      console.log("usage: npm run config:check [-- --dir <config folder>]   (default: ./config)");
      return 0;
    }
    dir = resolve(values.dir ?? "config");
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\nusage: npm run config:check [-- --dir <config folder>]`);
    return 2;
  }

  const { config, problems } = loadConfig(dir);
  for (const problem of problems) console.log(formatProblem(problem));
  const warnings = [...conditionWarnings(dir), ...(config ? pastBroadcastWarnings(dir, config.broadcasts, new Date()) : [])];
  for (const warning of warnings) console.log(formatProblem(warning));
  if (warnings.length > 0) console.log("");
  if (problems.length > 0 || config === undefined) {
    const files = new Set(problems.map((p) => p.file)).size;
    console.log(
      `\n✗ ${problems.length} problem${problems.length === 1 ? "" : "s"} in ${files} file${files === 1 ? "" : "s"}. ` +
        "Fix them and run `npm run config:check` again; nothing ships until this is clean.",
    );
    return 1;
  }
  const steps = config.sequences.reduce((n, s) => n + s.steps.length, 0);
  console.log(
    `✓ config is valid: ${Object.keys(config.forms).length} forms, ${config.segments.segments.length} segment rules, ` +
      `${config.sequences.length} sequences (${steps} steps), ${config.broadcasts.length} broadcasts, ${config.teams.teams.length} sales teams, ` +
      `${Object.keys(config.templates).length} templates${config.webhooks ? `, ${config.webhooks.endpoints.length} webhook endpoints` : ""}.`,
  );
  return 0;
}

process.exitCode = main();
