/**
 * ISO 8601 durations as the config writes them (`P3D`, `PT4H`, `P1W`). Delays between steps are
 * calendar-aware ("P1D" means the same wall-clock time tomorrow, even across a DST change), while
 * rolling windows (frequency caps, score decay) need a fixed length in milliseconds.
 */
import { DateTime, Duration } from "luxon";

export class InvalidDurationError extends Error {
  override readonly name = "InvalidDurationError";
  constructor(readonly value: string) {
    super(`"${value}" is not an ISO 8601 duration; write e.g. P3D (3 days), PT4H (4 hours) or P1W (1 week).`);
  }
}

export class InvalidTimeZoneError extends Error {
  override readonly name = "InvalidTimeZoneError";
  constructor(readonly zone: string) {
    super(`"${zone}" is not an IANA time zone such as Europe/Berlin or America/New_York.`);
  }
}

export function parseDuration(iso: string): Duration {
  const duration = Duration.fromISO(iso);
  if (!duration.isValid) throw new InvalidDurationError(iso);
  return duration;
}

/**
 * `at` plus the duration, with days, weeks, months and years counted on the calendar of `zone`
 * (default UTC) so wall-clock time survives DST changes; hours, minutes and seconds are elapsed time.
 * A result that would fall into a spring-forward gap moves forward by the size of the gap.
 */
export function addDuration(at: Date, iso: string, zone = "UTC"): Date {
  const start = DateTime.fromJSDate(at, { zone });
  if (!start.isValid) throw new InvalidTimeZoneError(zone);
  return start.plus(parseDuration(iso)).toJSDate();
}

/**
 * The duration's length in milliseconds, for rolling windows where the calendar does not matter.
 * A day is 24 hours, a week 7 days, a month 30 days and a year 365 days.
 */
export function durationMs(iso: string): number {
  return parseDuration(iso).toMillis();
}
