/**
 * ISO 8601 durations as the config writes them (`P3D`, `PT4H`, `P1W`). Delays between steps are
 * calendar-aware ("P1D" means the same wall-clock time tomorrow, even across a DST change), while
 * rolling windows (frequency caps, score decay) need a fixed length in milliseconds.
 */
import { DateTime, Duration } from "luxon";
import { InvalidDurationError } from "./duration-ms";

export { durationMs, InvalidDurationError } from "./duration-ms";

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
