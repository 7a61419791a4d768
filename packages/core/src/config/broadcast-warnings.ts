/**
 * Warnings (not errors) about broadcasts: one whose send time has passed will not go out as
 * written, or, past its `lateBy`, not at all; the marketer should know before shipping it.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { broadcastLatestStart } from "../broadcasts/broadcast-schedule";
import type { Problem } from "./problem";
import type { Broadcast } from "./schema";
import { parseYamlSource } from "./yaml-source";

export function pastBroadcastWarnings(dir: string, broadcasts: readonly Broadcast[], now: Date): Problem[] {
  const folder = join(dir, "broadcasts");
  if (!existsSync(folder)) return [];
  const warnings: Problem[] = [];
  for (const fileName of readdirSync(folder).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    const file = `${basename(dir)}/broadcasts/${fileName}`;
    const source = parseYamlSource(file, readFileSync(join(folder, fileName), "utf8"));
    const id = (source.data as { id?: unknown } | undefined)?.id;
    const broadcast = broadcasts.find((b) => b.id === id);
    if (!broadcast) continue;
    const sendAt = broadcast.sendAt;
    const firstSend = typeof sendAt === "string" ? new Date(sendAt) : new Date(`${sendAt.date}T${sendAt.localTime}:00Z`);
    if (firstSend > now) continue;
    const late = broadcastLatestStart(broadcast) < now;
    warnings.push({
      file,
      ...source.positionOf(["sendAt"]),
      message: late
        ? `warning: sendAt is in the past beyond lateBy (${broadcast.lateBy}), so this broadcast will not be sent`
        : "warning: sendAt is in the past, so this broadcast goes out as soon as it ships",
      hint: "set sendAt to a future time, or remove the file if it was sent already",
    });
  }
  return warnings;
}
