/**
 * The A/B tests in the report: for every tested step in the config, each variant's sends, opens,
 * clicks, MQLs and wins, its rate on the step's metric, and a two-proportion z-test against the
 * first variant (the control); whether the test has ended, on what figures, and why. It reads a
 * fixed number of variant rows per step, never a lead.
 */
import type { AbMetric, LeadloopConfig, WinnerRule } from "../config/schema";
import { type AbDecision, leaderOf, METRIC_COUNTER, metricRate, twoProportionPValue, type VariantFigures } from "../nurture/ab-test";
import type { ReportStore } from "./report-store";

export interface AbVariantFigure extends VariantFigures {
  weight: number;
  subject: string;
  template: string;
  rates: { opens: number; clicks: number; mqls: number; wins: number };
  /** Two-sided p-value of this variant against the control on the test's metric; null for the control. */
  pValue: number | null;
}

export interface AbTestFigure {
  sequenceId: string;
  sequenceName: string;
  stepId: string;
  metric: AbMetric;
  rule: WinnerRule | null;
  status: "running" | "ended";
  /** The variant ahead on the metric, and its p-value against the runner-up. */
  leader: { variantId: string; pValue: number } | null;
  /** Set once the rule ended the test: from then on every lead gets the winner. */
  ended: (Pick<AbDecision, "winner" | "decidedAt" | "pValue" | "confidence"> & { reason: string }) | null;
  variants: AbVariantFigure[];
}

export interface AbTestReportDeps {
  config: Pick<LeadloopConfig, "sequences">;
  reports: Pick<ReportStore, "variantFigures" | "getAbDecision">;
}

const percent = (rate: number) => `${(rate * 100).toFixed(1)}%`;
const pText = (p: number) => (p < 0.001 ? "p < 0.001" : `p = ${p.toFixed(3)}`);

/** Why a test ended, in a sentence a marketer reads on the report. */
export function decisionReason(decision: AbDecision, rule: WinnerRule | undefined): string {
  const winner = decision.figures.find((f) => f.variantId === decision.winner);
  const lead = leaderOf(decision.figures, decision.metric);
  const runnerUp = lead?.runnerUp;
  const sends = Math.min(...decision.figures.map((f) => f.sent));
  return (
    `variant ${decision.winner} won on ${decision.metric}: ${winner ? percent(metricRate(winner, decision.metric)) : "?"} per send` +
    (runnerUp ? ` against ${percent(metricRate(runnerUp, decision.metric))} for ${runnerUp.variantId}` : "") +
    `, ${pText(decision.pValue)} (confidence ${decision.confidence}), every variant sent at least ${sends} times` +
    (rule ? ` (minimum ${rule.minSends})` : "")
  );
}

export async function buildAbTestReport(deps: AbTestReportDeps): Promise<{ tests: AbTestFigure[] }> {
  const steps = deps.config.sequences.flatMap((sequence) => sequence.steps.filter((s) => s.variants).map((step) => ({ sequence, step })));
  const tests = await Promise.all(
    steps.map(async ({ sequence, step }): Promise<AbTestFigure> => {
      const [figures, decision] = await Promise.all([deps.reports.variantFigures(sequence.id, step.id), deps.reports.getAbDecision(sequence.id, step.id)]);
      const metric = decision?.metric ?? step.winner?.metric ?? "clicks";
      const counter = METRIC_COUNTER[metric];
      const variants = (step.variants ?? []).map((v) => {
        const f = figures.find((x) => x.variantId === v.id) ?? { variantId: v.id, sent: 0, opened: 0, clicked: 0, mqls: 0, wins: 0 };
        return { ...f, weight: v.weight, subject: v.subject ?? step.subject, template: v.template ?? step.template };
      });
      const control = variants[0];
      const lead = leaderOf(variants, metric);
      return {
        sequenceId: sequence.id,
        sequenceName: sequence.name,
        stepId: step.id,
        metric,
        rule: step.winner ?? null,
        status: decision ? "ended" : "running",
        leader: lead && lead.leader.sent > 0 ? { variantId: lead.leader.variantId, pValue: lead.pValue } : null,
        ended: decision
          ? { winner: decision.winner, decidedAt: decision.decidedAt, pValue: decision.pValue, confidence: decision.confidence, reason: decisionReason(decision, step.winner) }
          : null,
        variants: variants.map((v, i) => ({
          ...v,
          rates: { opens: metricRate(v, "opens"), clicks: metricRate(v, "clicks"), mqls: metricRate(v, "mqls"), wins: metricRate(v, "wins") },
          pValue: i === 0 || !control ? null : twoProportionPValue(v[counter], v.sent, control[counter], control.sent),
        })),
      };
    }),
  );
  return { tests };
}
