/**
 * When a broadcast goes out: one instant for everyone, or a local time of day read in each
 * lead's own time zone. A local-time broadcast starts expanding at the earliest instant any time
 * zone reaches that time (UTC+14), so no lead's moment has passed by the time it is queued.
 */
import { DateTime } from "luxon";
import type { Broadcast } from "../config/schema";
import { durationMs } from "../duration-ms";

/** The furthest-ahead offset in use (Kiribati's Line Islands): the first place a local time arrives. */
const EARLIEST_OFFSET_MS = 14 * 3_600_000;

/** The instant the broadcast's audience is first queued. */
export function broadcastStartAt(broadcast: Pick<Broadcast, "sendAt">): Date {
  const sendAt = broadcast.sendAt;
  if (typeof sendAt === "string") return new Date(sendAt);
  const wall = DateTime.fromISO(`${sendAt.date}T${sendAt.localTime}`, { zone: "UTC" });
  return new Date(wall.toMillis() - EARLIEST_OFFSET_MS);
}

/** After this the broadcast is no longer started at all: a stale newsletter is worse than none. */
export function broadcastLatestStart(broadcast: Pick<Broadcast, "sendAt" | "lateBy">): Date {
  const sendAt = broadcast.sendAt;
  const last = typeof sendAt === "string" ? new Date(sendAt) : broadcastLocalAt(broadcast, "Etc/GMT+12");
  return new Date(last.getTime() + durationMs(broadcast.lateBy));
}

/** When the broadcast is due for one lead (`zone`: the lead's time zone, if known). */
export function broadcastLocalAt(broadcast: Pick<Broadcast, "sendAt">, zone: string | undefined): Date {
  const sendAt = broadcast.sendAt;
  if (typeof sendAt === "string") return new Date(sendAt);
  const known = zone && DateTime.local({ zone }).isValid ? zone : sendAt.timezone;
  return DateTime.fromISO(`${sendAt.date}T${sendAt.localTime}`, { zone: known }).toJSDate();
}
