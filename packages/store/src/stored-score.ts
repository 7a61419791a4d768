/**
 * A lead's score as the lead item holds it. The reasons are written one short string each
 * (`f:rule:points` or `e:rule:points:count`) instead of a map of four named attributes: a score
 * with a dozen reasons stays a few hundred bytes, so the lead item stays under 1 KB and every write
 * of it is 1 WRU. Rule ids are slugs (config's `Slug`), so ":" never occurs in one.
 */
import type { LeadScore, ScoreReason } from "@leadloop/core";

type Stored = Omit<LeadScore, "reasons"> & { reasons?: unknown };

const CATEGORY = { fit: "f", engagement: "e" } as const;

export function storedScore(score: LeadScore): Stored {
  return { ...score, reasons: score.reasons.map(encodeReason) };
}

/** Reads either shape: the compact one, or reasons as maps (items written before it). */
export function scoreFromItem(value: unknown): LeadScore | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const stored = value as Stored;
  const reasons = Array.isArray(stored.reasons) ? stored.reasons.map((r) => (typeof r === "string" ? decodeReason(r) : (r as ScoreReason))) : [];
  return { ...stored, reasons } as LeadScore;
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
