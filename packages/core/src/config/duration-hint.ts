/**
 * Turns what a marketer naturally writes ("3 days", "4 hours", "1 week") into the ISO 8601
 * duration the config needs, for the hint next to the error.
 */

const UNITS: ReadonlyArray<[RegExp, "Y" | "Mo" | "W" | "D" | "H" | "Mi" | "S"]> = [
  [/^(y|yrs?|years?)$/, "Y"],
  [/^(mo|mos|months?)$/, "Mo"],
  [/^(w|wks?|weeks?)$/, "W"],
  [/^(d|days?)$/, "D"],
  [/^(h|hrs?|hours?)$/, "H"],
  [/^(m|mins?|minutes?)$/, "Mi"],
  [/^(s|secs?|seconds?)$/, "S"],
];

const WORDS: Record<string, number> = { a: 1, an: 1, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7 };

/** The ISO 8601 form of a human duration, or undefined if it does not read as one. */
export function toIsoDuration(input: string): string | undefined {
  const text = input.trim().toLowerCase();
  if (/^p/.test(text)) {
    const upper = text.toUpperCase();
    return /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/.test(upper) ? upper : undefined;
  }
  const parts = new Map<string, number>();
  const token = /(\d+|[a-z]+)\s*([a-z]+)\s*(?:,|\band\b)?\s*/gy;
  let matched = 0;
  for (let m = token.exec(text); m !== null; m = token.exec(text)) {
    matched = token.lastIndex;
    const [, amountText = "", unitText = ""] = m;
    const amount = /^\d+$/.test(amountText) ? Number(amountText) : WORDS[amountText];
    const unit = UNITS.find(([pattern]) => pattern.test(unitText))?.[1];
    if (amount === undefined || unit === undefined || parts.has(unit)) return undefined;
    parts.set(unit, amount);
  }
  if (matched !== text.length || parts.size === 0) return undefined;
  // ISO 8601 does not mix weeks with other units, so weeks become days when anything else is there.
  const weeks = parts.get("W");
  if (weeks !== undefined && parts.size > 1) {
    parts.delete("W");
    parts.set("D", (parts.get("D") ?? 0) + weeks * 7);
  }
  const date = [["Y", "Y"], ["Mo", "M"], ["W", "W"], ["D", "D"]] as const;
  const time = [["H", "H"], ["Mi", "M"], ["S", "S"]] as const;
  const datePart = date.map(([k, s]) => (parts.has(k) ? `${parts.get(k)}${s}` : "")).join("");
  const timePart = time.map(([k, s]) => (parts.has(k) ? `${parts.get(k)}${s}` : "")).join("");
  return `P${datePart}${timePart ? `T${timePart}` : ""}`;
}
