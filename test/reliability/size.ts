/**
 * The one knob every reliability suite reads: `npm test` runs the short version, and
 * `npm run reliability:<name>` sets RELIABILITY_FULL=1 for the full one.
 */
export const FULL = process.env.RELIABILITY_FULL === "1";

export function sized<T>(short: T, full: T): T {
  return FULL ? full : short;
}

/** A suite's figures, printed as one block so a run's output can be pasted into the README. */
export function printFigures(suite: string, figures: Record<string, string | number>): void {
  const width = Math.max(...Object.keys(figures).map((k) => k.length));
  const lines = Object.entries(figures).map(([k, v]) => `  ${k.padEnd(width)}  ${v}`);
  console.log(`\n[reliability:${suite}] ${FULL ? "full" : "short"} run\n${lines.join("\n")}\n`);
}
