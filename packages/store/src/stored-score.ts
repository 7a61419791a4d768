/**
 * A lead's score as the lead item holds it. The reasons are one string, a short entry each
 * (`f:rule:points` or `e:rule:points:count`, joined by `|`) instead of a list of maps of four named
 * attributes: a score with a dozen reasons stays a few hundred bytes, so the lead item stays under
 * 1 KB and every write of it is 1 WRU. Rule ids are slugs (config's `Slug`): no ":" nor "|".
 */
import type { LeadScore, ScoreReason } from "@leadloop/core";

type Stored = Omit<LeadScore, "reasons"> & { reasons?: unknown };

const CATEGORY = { fit: "f", engagement: "e" } as const;

export function storedScore(score: LeadScore): Stored {
  return { ...score, reasons: storedReasons(score.reasons) };
}

/** Reasons as one short string (the queue item and hand-off pointer keep them so too, under 1 KB). */
export function storedReasons(reasons: readonly ScoreReason[]): string {
  return reasons.map(encodeReason).join("|");
}

/** Reads either shape of stored reasons: the compact string, or a list of maps (items written before it). */
export function reasonsFromItem(value: unknown): ScoreReason[] {
  if (typeof value === "string") return value === "" ? [] : value.split("|").map(decodeReason);
  return Array.isArray(value) ? (value as ScoreReason[]) : [];
}

/** Reads either shape: the compact one, or reasons as maps (items written before it). */
export function scoreFromItem(value: unknown): LeadScore | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const stored = value as Stored;
  return { ...stored, reasons: reasonsFromItem(stored.reasons) } as LeadScore;
}

function encodeReason(reason: ScoreReason): string {
  const head = `${CATEGORY[reason.category]}:${reason.rule}:${reason.points}`;
  return reason.count === undefined ? head : `${head}:${reason.count}`;
}

function decodeReason(text: string): ScoreReason {
  const [category, rule = "", points = "0", count] = text.split(":");
  return {
    rule,
    category: category === "f" ? "fit" : "engagement",
    points: Number(points),
    ...(count !== undefined ? { count: Number(count) } : {}),
  };
}
