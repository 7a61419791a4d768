/** Logs for the local stack: one line each, warnings and errors always, info when asked. */
import type { AppLogger } from "@leadloop/api";

export function consoleLogger(level: "info" | "warn" | "error" | "silent" = "info"): AppLogger {
  const order = { info: 0, warn: 1, error: 2, silent: 3 };
  const line = (lvl: "info" | "warn" | "error", message: string, extra?: Record<string, unknown>) => {
    if (order[lvl] < order[level]) return;
    const tail = extra && Object.keys(extra).length > 0 ? ` ${JSON.stringify(extra)}` : "";
    (lvl === "info" ? console.log : console.error)(`[${lvl}] ${message}${tail}`);
  };
  return {
    info: (m, e) => line("info", m, e),
    warn: (m, e) => line("warn", m, e),
    error: (m, e) => line("error", m, e),
  };
}
