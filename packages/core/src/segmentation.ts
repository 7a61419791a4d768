/**
 * Files a lead into exactly one segment: the first segment rule (in file order) that matches,
 * else the form's segment hint, else the default. The same profile always lands in the same segment.
 */
import type { Segment } from "./config/schema";
import { evaluateCondition } from "./conditions";

export interface SegmentRules {
  segments: readonly Segment[];
  default: string;
  freeMailDomains?: readonly string[];
}

export interface SegmentExplanation {
  segment: string;
  /** Position of the matching rule in segments.yaml, or why no rule decided. */
  ruleIndex: number | "hint" | "default";
}

export function explainSegment(
  profile: Record<string, unknown>,
  rules: SegmentRules,
  hint?: string,
): SegmentExplanation {
  const ctx = { freeMailDomains: rules.freeMailDomains ?? [] };
  const ruleIndex = rules.segments.findIndex((s) => evaluateCondition(s.when, profile, ctx));
  const match = rules.segments[ruleIndex];
  if (match) return { segment: match.id, ruleIndex };
  if (hint) return { segment: hint, ruleIndex: "hint" };
  return { segment: rules.default, ruleIndex: "default" };
}

export function assignSegment(profile: Record<string, unknown>, rules: SegmentRules, hint?: string): string {
  return explainSegment(profile, rules, hint).segment;
}
