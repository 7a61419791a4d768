/**
 * Score calibration: what closed deals say about the scoring config. For each scoring rule, the
 * win rate of closed deals it helped qualify against the win rate of all of them (its lift), with
 * counts and a Wilson interval; the reps' bad-fit and wrong-contact verdicts beside it; per
 * segment, the MQL threshold that keeps the hand-offs within the reps' weekly capacity; and the
 * change to config/scoring.yaml as a unified diff. Not-now deals are neither won nor lost yet, so
 * they count in neither. It refuses to suggest anything from fewer than `minDeals` closed deals.
 */
import { parseDocument, stringify } from "yaml";
import type { LeadloopConfig } from "../config/schema";
import type { DealReview, QualityFlag } from "../feedback/deal-review";
import { NotEnoughDealsError } from "./calibration-errors";
import { unifiedDiff } from "./unified-diff";
import { wilsonInterval } from "./wilson";

export interface CalibrationInput {
  config: Pick<LeadloopConfig, "scoring" | "teams">;
  /** config/scoring.yaml as the marketer wrote it (comments kept in the suggestion); the loaded config when absent. */
  scoringYaml?: string;
  reviews: (DealReview & { quality?: QualityFlag })[];
  /** Weeks the reviews span, to turn deals into a weekly rate. */
  weeks: number;
  /** Hand-offs one rep can work in a week. */
  capacityPerRepPerWeek: number;
  minDeals: number;
}

export interface RuleCalibration {
  rule: string;
  category: "fit" | "behaviour";
  points: number;
  /** Closed deals (won, lost, disqualified) whose qualification this rule added to. */
  deals: number;
  won: number;
  lostOrDisqualified: number;
  winRate: number | null;
  interval: { low: number; high: number } | null;
  /** winRate over the overall win rate; null without deals. */
  lift: number | null;
  badFit: number;
  wrongContact: number;
}

export interface ThresholdSuggestion {
  segment: string;
  current: number;
  suggested: number;
  /** Hand-offs per week at the current threshold (closed deals of the segment ÷ weeks). */
  weeklyMqls: number;
  weeklyCapacity: number;
  /** Hand-offs per week the suggested threshold would have let through. */
  weeklyMqlsAtSuggested: number;
  why: string;
}

export interface Calibration {
  closed: { won: number; lost: number; disqualified: number; total: number };
  winRate: number;
  rules: RuleCalibration[];
  thresholds: ThresholdSuggestion[];
  /** config/scoring.yaml with the suggestion applied, and the diff from the current one ("" when none). */
  suggestedScoringYaml: string;
  diff: string;
}

const round = (n: number, places = 4) => Math.round(n * 10 ** places) / 10 ** places;

export function calibrateScoring(input: CalibrationInput): Calibration {
  const deals = input.reviews.filter((r) => r.outcome !== "not-now");
  const won = deals.filter((r) => r.outcome === "won").length;
  const lost = deals.filter((r) => r.outcome === "lost").length;
  const disqualified = deals.filter((r) => r.outcome === "disqualified").length;
  if (deals.length < input.minDeals) throw new NotEnoughDealsError(deals.length, input.minDeals);
  const baseline = won / deals.length;

  const scoring = input.config.scoring;
  const ruleList = [
    ...scoring.fit.map((r) => ({ rule: r.id, category: "fit" as const, points: r.points })),
    ...scoring.behaviour.map((r) => ({ rule: r.id, category: "behaviour" as const, points: r.points })),
  ];
  const rules = ruleList.map((r): RuleCalibration => {
    const withRule = deals.filter((d) => d.rules.includes(r.rule));
    const w = withRule.filter((d) => d.outcome === "won").length;
    const winRate = withRule.length > 0 ? w / withRule.length : null;
    const interval = wilsonInterval(w, withRule.length);
    return {
      ...r,
      deals: withRule.length,
      won: w,
      lostOrDisqualified: withRule.length - w,
      winRate: winRate === null ? null : round(winRate),
      interval: interval ? { low: round(interval.low), high: round(interval.high) } : null,
      lift: winRate === null || baseline === 0 ? null : round(winRate / baseline, 2),
      badFit: withRule.filter((d) => d.quality?.verdict === "bad-fit").length,
      wrongContact: withRule.filter((d) => d.quality?.verdict === "wrong-contact").length,
    };
  });

  const thresholds = suggestThresholds(input);
  const scoringYaml = input.scoringYaml ?? stringify(input.config.scoring);
  const doc = parseDocument(scoringYaml);
  for (const t of thresholds) {
    if (t.suggested === t.current) continue;
    doc.setIn(["segmentThresholds", t.segment], t.suggested);
  }
  const suggestedScoringYaml = thresholds.some((t) => t.suggested !== t.current) ? doc.toString() : scoringYaml;
  return {
    closed: { won, lost, disqualified, total: deals.length },
    winRate: round(baseline),
    rules: rules.sort((a, b) => b.deals - a.deals || a.rule.localeCompare(b.rule)),
    thresholds,
    suggestedScoringYaml,
    diff: unifiedDiff("config/scoring.yaml", scoringYaml, suggestedScoringYaml),
  };
}

/**
 * Each segment's capacity is its teams' reps × capacity per rep (a team working several segments
 * splits its reps among them). When the segment's hand-offs exceed it, the threshold rises to the
 * lowest qualifying score that fits; closed deals say nothing about leads below the threshold, so
 * it is never lowered from them.
 */
function suggestThresholds(input: CalibrationInput): ThresholdSuggestion[] {
  const { scoring, teams } = input.config;
  const weeks = Math.max(1, input.weeks);
  const segments = [...new Set(input.reviews.map((r) => r.dims.segment))].sort();
  return segments.map((segment) => {
    const current = scoring.segmentThresholds?.[segment] ?? scoring.threshold;
    const reps = teams.teams
      .filter((t) => t.segments.includes(segment))
      .reduce((sum, t) => sum + t.reps.length / Math.max(1, t.segments.length), 0);
    const weeklyCapacity = round(reps * input.capacityPerRepPerWeek, 1);
    const scores = input.reviews
      .filter((r) => r.dims.segment === segment)
      .map((r) => r.score ?? current)
      .sort((a, b) => a - b);
    const weekly = (n: number) => round(n / weeks, 1);
    const weeklyMqls = weekly(scores.length);
    if (weeklyMqls <= weeklyCapacity) {
      return { segment, current, suggested: current, weeklyMqls, weeklyCapacity, weeklyMqlsAtSuggested: weeklyMqls, why: "within the reps' capacity: keep it" };
    }
    const allowed = Math.floor(weeklyCapacity * weeks);
    // The lowest qualifying score whose hand-offs fit (ties move together); above them all if none does.
    const fitting = [...new Set(scores)].find((s) => s >= current && scores.filter((x) => x >= s).length <= allowed);
    const suggested = Math.ceil(fitting ?? (scores.at(-1) ?? current) + 1);
    const through = scores.filter((s) => s >= suggested).length;
    return {
      segment,
      current,
      suggested,
      weeklyMqls,
      weeklyCapacity,
      weeklyMqlsAtSuggested: weekly(through),
      why: `${weeklyMqls} hand-offs a week exceed the capacity of ${weeklyCapacity}: raise it so the best-scoring leads fit`,
    };
  });
}
