/**
 * A deal review: what the weekly cradle-to-grave meeting looks at for one closed deal. It is
 * written once per closure (a recycled lead that closes again gets a second one), in the same
 * commit as the report counters, from what the report already knows of the lead: its cohort and
 * dimensions, when it reached each stage, the rules that qualified it and the rep's notes. The
 * lead's full path (every form, email and page) is read from its timeline when a review is opened.
 */
import * as z from "../zod-mini";
import type { CohortDims, CohortOutcome } from "../reports/cohort";

const NOTES_RULE = 'must be {"wentWell": "…", "toImprove": "…"} (each plain text of at most 2000 characters) or one such text';
/** One of the rep's notes: plain text, shown escaped, never a template. */
export const NoteText = z.string(NOTES_RULE).check(z.trim(), z.maxLength(2000, NOTES_RULE));

/** What the rep says went well and what to improve. */
export const DealNotes = z.strictObject(
  {
    wentWell: z.optional(NoteText).check(z.describe("what went well")),
    toImprove: z.optional(NoteText).check(z.describe("what to do better next time")),
  },
  NOTES_RULE,
);

/** The notes as a rep writes them: the two notes, or one text for what went well. */
export const DealNotesInput = z.union([NoteText, DealNotes], NOTES_RULE);
export type DealNotes = z.infer<typeof DealNotes>;

export interface DealReview {
  leadId: string;
  closedAt: string;
  outcome: CohortOutcome;
  reason?: string;
  amount?: number;
  currency?: string;
  notes?: DealNotes;
  dims: CohortDims;
  capturedAt: string;
  engagedAt?: string;
  qualifiedAt?: string;
  claimedAt?: string;
  /** The score and threshold when the lead qualified, and the scoring rules that added to it. */
  score?: number;
  threshold?: number;
  rules: string[];
  emails: { sent: number; opened: number; clicked: number };
  webActivities: number;
}

/** A rep's verdict on a lead's quality, for marketing. */
export const QUALITY_VERDICTS = ["good-fit", "bad-fit", "wrong-contact"] as const;
export type QualityVerdict = (typeof QUALITY_VERDICTS)[number];

export interface QualityFlag {
  leadId: string;
  verdict: QualityVerdict;
  reason?: string;
  rep: string;
  at: string;
}

/** Hours between two instants, one decimal; null when either is missing. */
export function stageHours(from: string | undefined, to: string | undefined): number | null {
  if (!from || !to) return null;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) ? Math.round(Math.max(0, ms / 3_600_000) * 10) / 10 : null;
}

/** Time in each stage of one deal, for its review. */
export function reviewStageHours(review: DealReview) {
  const mql = review.qualifiedAt;
  return {
    capturedToEngaged: stageHours(review.capturedAt, review.engagedAt ?? mql),
    engagedToMql: stageHours(review.engagedAt ?? mql, mql),
    mqlToClaimed: stageHours(mql, review.claimedAt),
    claimedToClosed: stageHours(review.claimedAt ?? mql, review.closedAt),
  };
}
