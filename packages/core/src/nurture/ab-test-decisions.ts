/**
 * The A/B tests' outcomes as one sweep sees them: read once per tested step and run, and judged
 * against the step's winner rule when still open. The first decision written stands, so two
 * sweepers judging at once still agree on the winner.
 */
import type { Sequence, Step } from "../config/schema";
import { type AbDecision, judgeAbTest } from "./ab-test";
import type { NurtureDeps } from "./enroll";

export type AbTestDecisions = (sequence: Sequence, step: Step) => Promise<AbDecision | undefined>;

export function abTestDecisions(deps: Pick<NurtureDeps, "nurture" | "clock" | "log">): AbTestDecisions {
  const known = new Map<string, Promise<AbDecision | undefined>>();
  const decide = async (sequence: Sequence, step: Step): Promise<AbDecision | undefined> => {
    const decided = await deps.nurture.getAbDecision(sequence.id, step.id);
    if (decided || !step.winner || !step.variants) return decided;
    const figures = await deps.nurture.variantFigures(sequence.id, step.id);
    const decision = judgeAbTest(step, step.winner, figures, { sequenceId: sequence.id, now: deps.clock.now() });
    if (!decision) return undefined;
    if (await deps.nurture.endAbTest(decision)) {
      deps.log?.info("A/B test ended", { sequenceId: sequence.id, stepId: step.id, winner: decision.winner, metric: decision.metric, pValue: decision.pValue });
      return decision;
    }
    return deps.nurture.getAbDecision(sequence.id, step.id);
  };
  return (sequence, step) => {
    if (!step.variants) return Promise.resolve(undefined);
    const key = `${sequence.id}#${step.id}`;
    let pending = known.get(key);
    if (!pending) {
      pending = decide(sequence, step);
      // A failed read is tried again by the next item rather than remembered.
      pending.catch(() => known.delete(key));
      known.set(key, pending);
    }
    return pending;
  };
}
