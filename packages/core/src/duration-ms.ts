/**
 * Fixed-length ISO 8601 durations (`P3D`, `PT4H`, `P1W`) for rolling windows where the calendar
 * does not matter (frequency caps, score decay, token lifetimes). Apart from duration.ts, whose
 * calendar arithmetic needs luxon, so the code that only measures windows (capture's scoring)
 * does not load a date library: a 74 KB share of the public API's bundle.
 */

export class InvalidDurationError extends Error {
  override readonly name = "InvalidDurationError";
  constructor(readonly value: string) {
    super(`"${value}" is not an ISO 8601 duration; write e.g. P3D (3 days), PT4H (4 hours) or P1W (1 week).`);
  }
}

const NUMBER = String.raw`(-?\d+(?:\.\d+)?)`;
const ISO_DURATION = new RegExp(
  String.raw`^-?P(?:${NUMBER}Y)?(?:${NUMBER}M)?(?:${NUMBER}W)?(?:${NUMBER}D)?(?:T(?:${NUMBER}H)?(?:${NUMBER}M)?(?:${NUMBER}S)?)?$`,
);

const SECOND = 1_000;
const DAY = 86_400 * SECOND;
/** Milliseconds per unit, in the match's group order: a week 7 days, a month 30, a year 365 (luxon's "casual" lengths). */
const UNIT_MS = [365 * DAY, 30 * DAY, 7 * DAY, DAY, 3_600 * SECOND, 60 * SECOND, SECOND];

/**
 * The duration's length in milliseconds, for rolling windows where the calendar does not matter.
 * A day is 24 hours, a week 7 days, a month 30 days and a year 365 days.
 */
export function durationMs(iso: string): number {
  const match = ISO_DURATION.exec(iso);
  if (!match) throw new InvalidDurationError(iso);
  const sign = iso.startsWith("-") ? -1 : 1;
  let total = 0;
  for (const [i, value] of match.slice(1).entries()) {
    if (value !== undefined) total += Number(value) * (UNIT_MS[i] ?? 0);
  }
  return sign * total;
}
