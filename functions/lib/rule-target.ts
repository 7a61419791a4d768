/**
 * How EventBridge calls a leadloop function: every rule's target input is
 * `{ "rule": "<rule name>", "event": <the whole event> }` (an input transformer the stacks set up),
 * so a handler gets the same `(event, rule)` pair the local bus passes to its handlers. The rule
 * is looked up in the same list the stacks deployed (allRules on the config snapshot).
 */
import { allRules, EventEnvelope, type RoutingRule } from "@leadloop/core/routing/routing-rules";
import * as z from "@leadloop/core/zod-mini";
import { beginInvocation, type MailerFor, type Runtime, useRuntime } from "./runtime";

export const RuleTargetInput = z.object({ rule: z.string().check(z.minLength(1)), event: EventEnvelope });
export type RuleTargetInput = z.infer<typeof RuleTargetInput>;

export type RuleHandler = (event: EventEnvelope, rule: RoutingRule, runtime: Runtime) => Promise<void>;

/** The rule named in a target input is not in this deployment's config snapshot. */
export class UnknownRuleError extends Error {
  override readonly name = "UnknownRuleError";
  constructor(readonly ruleName: string) {
    super(`No routing rule named "${ruleName}" in this deployment's config; the stacks and the functions are out of step: redeploy.`);
  }
}

export function ruleTarget(handle: RuleHandler, mailerFor: MailerFor): (input: unknown, context?: unknown) => Promise<void> {
  let rules: Map<string, RoutingRule> | undefined;
  return async (input, context) => {
    const runtime = await useRuntime(mailerFor);
    rules ??= new Map(allRules(runtime.config).map((rule) => [rule.name, rule]));
    // A malformed input is a wiring defect: throwing sends it to the dead-letter queue to inspect.
    const { rule: name, event } = RuleTargetInput.parse(input);
    const rule = rules.get(name);
    if (!rule) throw new UnknownRuleError(name);
    const leadId = typeof event.detail.leadId === "string" ? event.detail.leadId : undefined;
    beginInvocation(runtime.logger, context, leadId);
    runtime.logger.appendKeys({ rule: rule.name, eventType: event["detail-type"], eventId: event.id });
    await handle(event, rule, runtime);
  };
}
