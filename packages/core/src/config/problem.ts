/**
 * A mistake in the marketer-owned config, located precisely enough for an editor to jump to it.
 * `file` is relative to the config folder's parent (e.g. `config/sequences/smb.yaml`), so the
 * printed `file:line:column` is clickable from the repository root.
 */
export interface Problem {
  file: string;
  /** 1-based */
  line: number;
  /** 1-based */
  column: number;
  message: string;
  /** what to write instead */
  hint?: string;
}

/** `config/forms.yaml:12:7  message  (hint)` */
export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}:${p.column}  ${p.message}${p.hint ? `  (${p.hint})` : ""}`;
}

export function compareProblems(a: Problem, b: Problem): number {
  return a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.message.localeCompare(b.message);
}

/** The config cannot be used; every problem found is listed, not just the first. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: Problem[]) {
    super(
      `${problems.length} problem${problems.length === 1 ? "" : "s"} in the config:\n${problems.map(formatProblem).join("\n")}`,
    );
  }
}
