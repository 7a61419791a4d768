/**
 * Feedback: the target of the `feedback` rule (`lead.closed`). The rep's outcome reaches marketing
 * once per closure: won leads become customers and start retention, not-now leads are scheduled
 * for their recycle date, lost and disqualified ones keep their reason. Redeliveries find the
 * closure already recorded and change nothing.
 */
import { applyOutcome } from "@leadloop/core/feedback/apply-outcome";
import { feedbackDeps } from "./lib/feedback-deps";
import { ruleTarget } from "./lib/rule-target";
import { useRuntime } from "./lib/runtime";

const deps = feedbackDeps(useRuntime());

export const handler = ruleTarget(async (event, _rule, { log }) => {
  const result = await applyOutcome(deps, event.detail);
  log.info("outcome", { outcome: event.detail.outcome, result });
});
