/**
 * A/B tests of a step's subject or content. A lead's variant is a pure function of its id and the
 * step's id, weighted: the sweeper, the preview, the simulator and a resend after a crash all pick
 * the same one. Once the step's winner rule holds (every variant sent at least `minSends` times and
 * the leader ahead of the runner-up at the rule's confidence), the test ends for good and every
 * later lead gets the winner.
 */
import { createHash } from "node:crypto";
import type { AbMetric, Step, StepVariant, WinnerRule } from "../config/schema";

/** What one variant has earned: per email sent, opened and clicked; per lead it reached, MQLs and wins. */
export interface VariantFigures {
  variantId: string;
  sent: number;
  opened: number;
  clicked: number;
  mqls: number;
  wins: number;
}

/** How a test ended, kept so that the winner never changes afterwards. */
export interface AbDecision {
  sequenceId: string;
  stepId: string;
  winner: string;
  metric: AbMetric;
  /** Two-sided p-value of the leader against the runner-up when the test ended. */
  pValue: number;
  confidence: number;
  decidedAt: string;
  /** Each variant's figures when it ended. */
  figures: VariantFigures[];
}

/** The counter a metric reads. */
export const METRIC_COUNTER: Record<AbMetric, Exclude<keyof VariantFigures, "variantId" | "sent">> = {
  opens: "opened",
  clicks: "clicked",
  mqls: "mqls",
  wins: "wins",
};

/** The lead's variant of a step: a hash of lead and step id, spread over the variants' weights. */
export function assignVariant(leadId: string, step: Pick<Step, "id" | "variants">): StepVariant | undefined {
  const variants = step.variants;
  if (!variants || variants.length === 0) return undefined;
  const total = variants.reduce((sum, v) => sum + v.weight, 0);
  const hash = createHash("sha256").update(`${leadId}#${step.id}`).digest();
  const point = (hash.readUInt32BE(0) / 2 ** 32) * total;
  let below = 0;
  for (const variant of variants) {
    below += variant.weight;
    if (point < below) return variant;
  }
  return variants.at(-1);
}

/** The variant a lead gets now: the winner once the test has ended, else its own assignment. */
export function variantFor(leadId: string, step: Pick<Step, "id" | "variants">, decision: Pick<AbDecision, "winner"> | undefined): StepVariant | undefined {
  if (!step.variants) return undefined;
  const winner = decision ? step.variants.find((v) => v.id === decision.winner) : undefined;
  return winner ?? assignVariant(leadId, step);
}

/** A step's content as a variant changes it: its own subject or template where the variant names one. */
export function variantContent(step: Pick<Step, "template" | "subject">, variant: StepVariant | undefined): { template: string; subject: string } {
  return { template: variant?.template ?? step.template, subject: variant?.subject ?? step.subject };
}

/** The standard normal CDF (Abramowitz and Stegun 7.1.26, error below 1.5e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/**
 * Two-sided p-value of a two-proportion z-test (pooled): how likely a gap this large is if both
 * rates were the same. 1 when either side has no sends or neither has any successes.
 */
export function twoProportionPValue(successesA: number, trialsA: number, successesB: number, trialsB: number): number {
  if (trialsA <= 0 || trialsB <= 0) return 1;
  const pooled = (successesA + successesB) / (trialsA + trialsB);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / trialsA + 1 / trialsB));
  if (se === 0) return 1;
  const z = (successesA / trialsA - successesB / trialsB) / se;
  return Math.min(1, 2 * (1 - normalCdf(Math.abs(z))));
}

export const metricRate = (f: VariantFigures, metric: AbMetric): number => (f.sent > 0 ? f[METRIC_COUNTER[metric]] / f.sent : 0);

/** The leader and runner-up on a metric, and the p-value between them. */
export function leaderOf(figures: VariantFigures[], metric: AbMetric): { leader: VariantFigures; runnerUp: VariantFigures; pValue: number } | undefined {
  const ranked = [...figures].sort((a, b) => metricRate(b, metric) - metricRate(a, metric) || a.variantId.localeCompare(b.variantId));
  const [leader, runnerUp] = ranked;
  if (!leader || !runnerUp) return undefined;
  const counter = METRIC_COUNTER[metric];
  return { leader, runnerUp, pValue: twoProportionPValue(leader[counter], leader.sent, runnerUp[counter], runnerUp.sent) };
}

/** Whether the rule ends the test on these figures, and with which winner. */
export function judgeAbTest(
  step: Pick<Step, "id" | "variants">,
  rule: WinnerRule,
  figures: VariantFigures[],
  context: { sequenceId: string; now: Date },
): AbDecision | undefined {
  const variants = step.variants ?? [];
  const all = variants.map((v) => figures.find((f) => f.variantId === v.id) ?? { variantId: v.id, sent: 0, opened: 0, clicked: 0, mqls: 0, wins: 0 });
  if (all.length < 2 || all.some((f) => f.sent < rule.minSends)) return undefined;
  const lead = leaderOf(all, rule.metric);
  if (!lead || metricRate(lead.leader, rule.metric) === metricRate(lead.runnerUp, rule.metric)) return undefined;
  if (lead.pValue > 1 - rule.confidence) return undefined;
  return {
    sequenceId: context.sequenceId,
    stepId: step.id,
    winner: lead.leader.variantId,
    metric: rule.metric,
    pValue: lead.pValue,
    confidence: rule.confidence,
    decidedAt: context.now.toISOString(),
    figures: all,
  };
}
