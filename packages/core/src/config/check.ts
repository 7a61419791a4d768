/**
 * What `npm run config:check` decides and prints, as one function: the CLI prints it, and the
 * local stack's config watcher runs the same check before it swaps an edited config in, so a
 * broken edit is reported in exactly the words the marketer would get from the CLI.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { pastBroadcastWarnings } from "./broadcast-warnings";
import { previousConditionShifts } from "./condition-drift";
import { loadConfig } from "./load";
import { formatProblem, type Problem } from "./problem";
import type { LeadloopConfig } from "./schema";

export interface ConfigCheck {
  /** Present only when the config has no problems (warnings allowed). */
  config: LeadloopConfig | undefined;
  problems: Problem[];
  warnings: Problem[];
  /** The lines config:check prints, summary last. */
  output: string;
}

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

export function checkConfig(folder: string, now: Date = new Date()): ConfigCheck {
  const dir = resolve(folder);
  const { config, problems } = loadConfig(dir);
  const lines = problems.map(formatProblem);
  const warnings = [...conditionWarnings(dir), ...(config ? pastBroadcastWarnings(dir, config.broadcasts, now) : [])];
  lines.push(...warnings.map(formatProblem));
  if (warnings.length > 0) lines.push("");
  if (problems.length > 0 || config === undefined) {
    const files = new Set(problems.map((p) => p.file)).size;
    lines.push(
      `\n✗ ${problems.length} problem${problems.length === 1 ? "" : "s"} in ${files} file${files === 1 ? "" : "s"}. ` +
        "Fix them and run `npm run config:check` again; nothing ships until this is clean.",
    );
    return { config: undefined, problems, warnings, output: lines.join("\n") };
  }
  const steps = config.sequences.reduce((n, s) => n + s.steps.length, 0);
  lines.push(
    `✓ config is valid: ${Object.keys(config.forms).length} forms, ${config.segments.segments.length} segment rules, ` +
      `${config.sequences.length} sequences (${steps} steps), ${config.broadcasts.length} broadcasts, ${config.teams.teams.length} sales teams, ` +
      `${Object.keys(config.templates).length} templates.`,
  );
  return { config, problems, warnings, output: lines.join("\n") };
}
