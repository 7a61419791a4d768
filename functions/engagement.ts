/**
 * Engagement: the target of the `engagement` rule (SES's email events, forwarded from the default
 * bus) and the `score` rule (a lead captured, updated or recycled). Opens and clicks move the
 * score, bounces and complaints stop the mail, and a lead crossing its threshold is qualified
 * once. Every step is idempotent, so EventBridge's redeliveries and retries are safe.
 */
import { handleEngagementEvent } from "@leadloop/core/engagement/engagement-handler";
import { ruleTarget } from "./lib/rule-target";

export const handler = ruleTarget(async (event, _rule, { deps, log }) => {
  const outcome = await handleEngagementEvent(deps, event);
  log.info("engagement", { ...outcome });
});
