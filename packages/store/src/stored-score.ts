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
  return { ...score, reasons: score.reasons.map(encodeReason).join("|") };
}

/** Reads either shape: the compact one, or reasons as maps (items written before it). */
export function scoreFromItem(value: unknown): LeadScore | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const stored = value as Stored;
  const reasons =
    typeof stored.reasons === "string"
      ? stored.reasons === ""
        ? []
        : stored.reasons.split("|").map(decodeReason)
      : Array.isArray(stored.reasons)
        ? (stored.reasons as ScoreReason[])
        : [];
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
