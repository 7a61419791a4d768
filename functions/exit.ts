/**
 * Nurture exit: a lead that qualified, unsubscribed or closed leaves every running sequence that
 * lists that event in `exitOn`. Ending an ended enrollment is a no-op, so redelivery is safe.
 */
import { exitEnrollments } from "@leadloop/core/nurture/enroll";
import { ruleTarget } from "./lib/rule-target";

export const handler = ruleTarget(async (event, _rule, { deps, log }) => {
  const leadId = event.detail.leadId;
  if (typeof leadId !== "string") {
    log.warn("event names no lead; nothing to end", { detail: event.detail });
    return;
  }
  const ended = await exitEnrollments(deps, { leadId, event: event["detail-type"] });
  log.info("enrollments ended", { ended });
});
