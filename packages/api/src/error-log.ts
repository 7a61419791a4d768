/**
 * What an error log line may say about an error: its name and code (and its causes'), and where it
 * was thrown. Never its message: a store's or a provider's message can echo the item it refused,
 * and with it the lead's name, company or address.
 */
export interface ErrorSummary extends Record<string, unknown> {
  error: string;
  code?: string;
  causes?: string[];
  /** Stack frames only; the first line of a stack is the message. */
  at?: string[];
}

const nameOf = (e: unknown) => (e instanceof Error ? e.name : typeof e);
const codeOf = (e: unknown) => {
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === "string" || typeof code === "number" ? String(code) : undefined;
};

export function errorSummary(error: unknown): ErrorSummary {
  const summary: ErrorSummary = { error: nameOf(error) };
  const code = codeOf(error);
  if (code) summary.code = code;
  const causes: string[] = [];
  let cause = (error as { cause?: unknown } | undefined)?.cause;
  for (let depth = 0; cause !== undefined && depth < 5; depth++) {
    const causeCode = codeOf(cause);
    causes.push(causeCode && causeCode !== nameOf(cause) ? `${nameOf(cause)} (${causeCode})` : nameOf(cause));
    cause = (cause as { cause?: unknown }).cause;
  }
  if (causes.length > 0) summary.causes = causes;
  const frames = error instanceof Error ? (error.stack ?? "").split("\n").filter((line) => /^\s+at /.test(line)) : [];
  if (frames.length > 0) summary.at = frames.slice(0, 8).map((line) => line.trim());
  return summary;
}
