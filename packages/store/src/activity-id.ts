import { randomBytes } from "node:crypto";

/**
 * Activity ids sort by time: the ISO time (fixed width, so string order is time order), then a
 * random suffix so two activities in one millisecond never collide.
 */
export function newActivityId(at: string): string {
  const time = new Date(at);
  if (Number.isNaN(time.getTime())) throw new RangeError(`Not a time: ${at}`);
  return `${time.toISOString()}-${randomBytes(6).toString("hex")}`;
}
