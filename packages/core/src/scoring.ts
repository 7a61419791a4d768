/**
 * Scores a lead on who it is (fit) and what it does (engagement), as of a given "now", and says
 * why: every point in the total is accounted for by one reason. Pure and deterministic.
 */
import type { ActivityType, BehaviourRule, FitRule, ScoringFile } from "./config/schema";
import { evaluateCondition } from "./conditions";
import { durationMs } from "./duration-ms";

export interface ScoredActivity {
  type: ActivityType;
  /** ISO 8601 instant. */
  at: string;
  url?: string;
  formId?: string;
}

export interface ScoreReason {
  /** A fit or behaviour rule id, or "decay" for points lost to idleness. */
  rule: string;
  category: "fit" | "engagement";
  points: number;
  /** Activities the rule counted, or idle periods for decay. */
  count?: number;
}

export interface Score {
  fit: number;
  engagement: number;
  total: number;
  threshold: number;
  qualified: boolean;
  /** Largest effect first; the points add up to `total`. */
  reasons: ScoreReason[];
  /** Points earned by activities after `reset.at` (all of them without a reset); before decay. */
  earnedSinceReset: number;
  /** What decay at a later instant needs (decayedAsOf); absent when nothing decays. */
  decay?: DecayBasis;
}

/**
 * Engagement as it stood at the latest scored activity, carried forward by decay: the unrounded
 * points, the instant idleness is measured from and the idle periods already taken off. With it
 * a stored score can be brought to any later instant without reading the activities again.
 */
export interface DecayBasis {
  since: string;
  periods: number;
  engagement: number;
}

export interface ScoringRules {
  threshold: number;
  segmentThresholds?: Record<string, number>;
  fit: readonly FitRule[];
  behaviour: readonly BehaviourRule[];
  decay?: ScoringFile["decay"];
}

export interface ScoreInput {
  profile: Record<string, unknown>;
  activities: readonly ScoredActivity[];
  segment: string;
  now: Date;
  /** Extra free-mail domains from segments.yaml, for `emailDomain` fit rules. */
  freeMailDomains?: readonly string[];
  /**
   * A recycle: at `at`, the engagement standing is multiplied by `keep` (0 reset, 0.5 halve,
   * 1 keep). With 0, earlier activities are left out altogether, so no reason names them.
   */
  reset?: { at: string; keep: number };
}

export class InvalidActivityTimeError extends Error {
  override readonly name = "InvalidActivityTimeError";
  constructor(readonly at: string) {
    super(`Activity time "${at}" is not an ISO 8601 instant.`);
  }
}

/**
 * Engagement is a running standing, folded over the activities in time order: each idle gap
 * longer than `decay.after` takes `percent` off per whole `every`, and a new activity adds its
 * points to what is left (its rule capped on what is left too). So idleness really costs points
 * and new activity never brings decayed ones back. Only a positive standing decays, and it
 * decays as a whole, so decay never flips the sign or forgives an unsubscribe.
 */
export function scoreLead(input: ScoreInput, scoring: ScoringRules): Score {
  const reasons: ScoreReason[] = [];
  const ctx = { freeMailDomains: input.freeMailDomains ?? [] };

  let fit = 0;
  for (const rule of scoring.fit) {
    if (!evaluateCondition(rule.when, input.profile, ctx)) continue;
    fit += rule.points;
    reasons.push({ rule: rule.id, category: "fit", points: rule.points });
  }

  // Activities after "now" have not happened yet as far as this score is concerned.
  const nowMs = input.now.getTime();
  const resetMs = input.reset ? instantMs(input.reset.at) : undefined;
  const keep = input.reset?.keep ?? 1;
  const scored = input.activities
    .map((a) => ({ activity: a, ms: instantMs(a.at), rules: scoring.behaviour.filter((rule) => behaviourMatches(rule, a)) }))
    .filter((a) => a.ms <= nowMs && a.rules.length > 0 && !(keep === 0 && resetMs !== undefined && a.ms <= resetMs))
    .sort((a, b) => a.ms - b.ms);

  const fold = new EngagementFold(scoring);
  let resetDone = resetMs === undefined || keep === 0 || resetMs > nowMs;
  let earnedSinceReset = 0;
  for (const { ms, rules } of scored) {
    if (!resetDone && resetMs !== undefined && ms > resetMs) {
      fold.reset(resetMs, keep);
      resetDone = true;
    }
    const earned = fold.add(ms, rules);
    if (resetMs === undefined || ms > resetMs) earnedSinceReset += Math.max(0, earned);
  }
  if (!resetDone && resetMs !== undefined) fold.reset(resetMs, keep);
  fold.decayTo(nowMs);

  const engagement = roundPoints(fold.standing);
  let accounted = 0;
  for (const rule of scoring.behaviour) {
    const earned = fold.earned.get(rule.id);
    if (!earned) continue;
    const points = roundPoints(earned.points);
    accounted += points;
    reasons.push({ rule: rule.id, category: "engagement", points, count: earned.count });
  }
  if (fold.recycled !== 0) {
    const points = roundPoints(fold.recycled);
    accounted += points;
    if (points !== 0) reasons.push({ rule: "recycled", category: "engagement", points });
  }
  if (engagement !== accounted) reasons.push({ rule: "decay", category: "engagement", points: engagement - accounted, count: fold.periods });

  reasons.sort((a, b) => Math.abs(b.points) - Math.abs(a.points));
  const total = fit + engagement;
  const threshold = scoring.segmentThresholds?.[input.segment] ?? scoring.threshold;
  return {
    fit,
    engagement,
    total,
    threshold,
    qualified: total >= threshold,
    reasons,
    earnedSinceReset,
    ...(scoring.decay && fold.since !== undefined ? { decay: { since: new Date(fold.since).toISOString(), periods: fold.gapPeriods, engagement: fold.standing } } : {}),
  };
}

/** What a score said at `scoredAt`, brought forward to `now` by decay alone (no new activity). */
export function decayedAsOf<S extends { fit: number; engagement: number; total: number; reasons: ScoreReason[]; decay?: DecayBasis | undefined }>(
  score: S,
  now: Date,
  decay: ScoringFile["decay"] | undefined,
): S {
  const basis = score.decay;
  if (!decay || !basis) return score;
  const periods = idlePeriods(now.getTime() - Date.parse(basis.since), decay);
  if (periods <= basis.periods) return score;
  const standing = decayStanding(basis.engagement, periods - basis.periods, decay.percent);
  const engagement = roundPoints(standing);
  if (engagement === score.engagement) return score;
  const others = score.reasons.filter((r) => r.rule !== "decay");
  const accounted = others.filter((r) => r.category === "engagement").reduce((sum, r) => sum + r.points, 0);
  const previous = score.reasons.find((r) => r.rule === "decay")?.count ?? 0;
  const reasons = [...others];
  if (engagement !== accounted) reasons.push({ rule: "decay", category: "engagement", points: engagement - accounted, count: previous + periods - basis.periods });
  reasons.sort((a, b) => Math.abs(b.points) - Math.abs(a.points));
  return { ...score, engagement, total: score.fit + engagement, reasons, decay: { since: basis.since, periods, engagement: standing } };
}

/** The running engagement standing of scoreLead, one rule's share kept apart for its cap. */
class EngagementFold {
  readonly earned = new Map<string, { points: number; count: number }>();
  readonly #byRule = new Map<string, number>();
  since: number | undefined;
  /** Idle periods of the current gap already taken off. */
  gapPeriods = 0;
  /** Idle periods taken off in all. */
  periods = 0;
  /** Points the recycle took off (negative) or kept. */
  recycled = 0;

  constructor(private readonly scoring: ScoringRules) {}

  get standing(): number {
    let sum = 0;
    for (const points of this.#byRule.values()) sum += points;
    return sum;
  }

  decayTo(ms: number): void {
    const decay = this.scoring.decay;
    if (!decay || this.since === undefined) return;
    const periods = idlePeriods(ms - this.since, decay);
    const extra = periods - this.gapPeriods;
    if (extra <= 0) return;
    this.gapPeriods = periods;
    this.periods += extra;
    const total = this.standing;
    if (total <= 0) return;
    // The points lost come off the rules that earned points, each in proportion to its share:
    // a penalty is never forgiven, and a capped rule gets back only room it really lost.
    const lost = total - decayStanding(total, extra, decay.percent);
    let positive = 0;
    for (const points of this.#byRule.values()) if (points > 0) positive += points;
    for (const [rule, points] of this.#byRule) if (points > 0) this.#byRule.set(rule, points - lost * (points / positive));
  }

  /** Adds one activity's points (every rule it matches); returns what it added. */
  add(ms: number, rules: readonly BehaviourRule[]): number {
    this.decayTo(ms);
    let added = 0;
    for (const rule of rules) {
      const before = this.#byRule.get(rule.id) ?? 0;
      const after = capPoints(before + rule.points, rule.cap);
      // A rule already at its cap in the points' direction adds nothing, and never takes back.
      const gained = rule.points >= 0 ? Math.max(0, after - before) : Math.min(0, after - before);
      this.#byRule.set(rule.id, before + gained);
      const earned = this.earned.get(rule.id) ?? { points: 0, count: 0 };
      this.earned.set(rule.id, { points: earned.points + gained, count: earned.count + 1 });
      added += gained;
    }
    this.since = ms;
    this.gapPeriods = 0;
    return added;
  }

  reset(ms: number, keep: number): void {
    this.decayTo(ms);
    const before = this.standing;
    for (const [rule, points] of this.#byRule) this.#byRule.set(rule, points * keep);
    this.recycled += this.standing - before;
  }
}

function instantMs(at: string): number {
  const ms = Date.parse(at);
  if (Number.isNaN(ms)) throw new InvalidActivityTimeError(at);
  return ms;
}

/** The cap bounds the rule's total in the direction of its points. */
function capPoints(points: number, cap: number | undefined): number {
  if (cap === undefined) return points;
  return points >= 0 ? Math.min(points, cap) : Math.max(points, -cap);
}

export function behaviourMatches(rule: BehaviourRule, activity: ScoredActivity): boolean {
  if (activity.type !== rule.on) return false;
  if (rule.url !== undefined && (activity.url === undefined || !urlMatches(rule.url, activity.url))) return false;
  if (rule.form !== undefined && activity.formId !== rule.form) return false;
  return true;
}

/**
 * `*` matches any run of characters; case is ignored. A pattern is tried against the whole URL
 * and, for an absolute URL, against its path and query, so marketers can write `/pricing*`.
 */
export function urlMatches(pattern: string, url: string): boolean {
  const glob = new RegExp(
    `^${pattern
      .split("*")
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
    "i",
  );
  if (glob.test(url)) return true;
  try {
    const parsed = new URL(url);
    return glob.test(parsed.pathname + parsed.search) || glob.test(parsed.pathname);
  } catch {
    return false;
  }
}

/** Whole `every` periods elapsed after the first `after` of idleness. */
function idlePeriods(idleMs: number, decay: NonNullable<ScoringFile["decay"]>): number {
  const afterMs = durationMs(decay.after);
  const everyMs = durationMs(decay.every);
  if (idleMs <= afterMs || everyMs <= 0) return 0;
  return Math.floor((idleMs - afterMs) / everyMs);
}

/** A positive standing after `periods` idle periods; a negative or zero one does not decay. */
function decayStanding(standing: number, periods: number, percent: number): number {
  if (standing <= 0 || periods <= 0) return standing;
  return standing * (1 - percent / 100) ** periods;
}

/**
 * Whole points, half away from zero. Float noise is settled first ((1 - 10/100) is not exact),
 * so 45 × 0.9 = 40.5 rounds to 41.
 */
function roundPoints(points: number): number {
  const settled = Number(points.toFixed(9));
  return Math.sign(settled) * Math.round(Math.abs(settled));
}
