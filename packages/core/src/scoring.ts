/**
 * Scores a lead on who it is (fit) and what it does (engagement), as of a given "now", and says
 * why: every point in the total is accounted for by one reason. Pure and deterministic.
 */
import type { ActivityType, BehaviourRule, FitRule, ScoringFile } from "./config/schema";
import { evaluateCondition } from "./conditions";
import { durationMs } from "./duration";

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
}

export class InvalidActivityTimeError extends Error {
  override readonly name = "InvalidActivityTimeError";
  constructor(readonly at: string) {
    super(`Activity time "${at}" is not an ISO 8601 instant.`);
  }
}

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
  const past = input.activities
    .map((a) => ({ activity: a, ms: instantMs(a.at) }))
    .filter((a) => a.ms <= nowMs);

  let engagement = 0;
  let lastActiveMs: number | undefined;
  for (const rule of scoring.behaviour) {
    const matched = past.filter((a) => behaviourMatches(rule, a.activity));
    if (matched.length === 0) continue;
    for (const a of matched) lastActiveMs = Math.max(lastActiveMs ?? a.ms, a.ms);
    const points = capPoints(rule.points * matched.length, rule.cap);
    engagement += points;
    reasons.push({ rule: rule.id, category: "engagement", points, count: matched.length });
  }

  if (scoring.decay && lastActiveMs !== undefined) {
    const periods = idlePeriods(nowMs - lastActiveMs, scoring.decay);
    const decayed = decayEngagement(engagement, periods, scoring.decay.percent);
    if (decayed !== engagement) {
      reasons.push({ rule: "decay", category: "engagement", points: decayed - engagement, count: periods });
      engagement = decayed;
    }
  }

  reasons.sort((a, b) => Math.abs(b.points) - Math.abs(a.points));
  const total = fit + engagement;
  const threshold = scoring.segmentThresholds?.[input.segment] ?? scoring.threshold;
  return { fit, engagement, total, threshold, qualified: total >= threshold, reasons };
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

/**
 * Idleness fades interest but never forgives: only positive engagement decays, so an idle lead
 * that unsubscribed does not creep back up. Rounding is half away from zero.
 */
function decayEngagement(engagement: number, periods: number, percent: number): number {
  if (engagement <= 0 || periods === 0) return engagement;
  const factor = (1 - percent / 100) ** periods;
  // Settle float noise first ((1 - 10/100) is not exact), so 45 × 0.9 = 40.5 rounds to 41.
  return Math.round(Number((engagement * factor).toFixed(9)));
}
