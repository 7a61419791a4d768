/**
 * Enrollment: the target of every `enroll-<sequence>` rule. The rule names the sequence; the event
 * (lead.captured, lead.updated, lead.recycled) names the lead. Enrolling twice changes nothing, so
 * EventBridge's at-least-once delivery and retries are safe.
 */
import { enrollLead } from "@leadloop/core/nurture/enroll";
import { ruleTarget } from "./lib/rule-target";

export const handler = ruleTarget(async (event, rule, { deps, log }) => {
  if (rule.target !== "enroll") throw new Error(`enroll got the ${rule.target} rule ${rule.name}`);
  const leadId = event.detail.leadId;
  if (typeof leadId !== "string") {
    log.warn("event names no lead; nothing to enroll", { detail: event.detail });
    return;
  }
  // A lead not stored yet throws LeadNotYetStoredError while the event is fresh: the async
  // invocation's retries deliver it again once the capture has stored the lead.
  const result = await enrollLead(deps, { leadId, sequenceId: rule.sequenceId, eventTime: event.time });
  log.info("enrollment", { sequenceId: rule.sequenceId, result });
});
