/**
 * How a batched registry entry is called in AWS: its rules put `{ "rule", "event" }` (the same input
 * a rule target gets) on its queue, and the queue's event source hands the function a batch of
 * those messages. The answer names the messages to deliver again (ReportBatchItemFailures): the
 * others leave the queue, and a message that keeps failing moves to the dead-letter queue.
 */
import type { BatchDelivery, RegistryPorts } from "@leadloop/core/registry";
import { allRules, type RoutingRule } from "@leadloop/core/routing/routing-rules";
import * as z from "zod";
import { RuleTargetInput, UnknownRuleError } from "./rule-target";
import { beginInvocation, type MailerFor, type Runtime, useRuntime } from "./runtime";

const SqsBatch = z.object({ Records: z.array(z.object({ messageId: z.string().min(1), body: z.string() })) });

export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

export function queueTarget(
  target: RoutingRule["target"],
  batch: BatchDelivery,
  portsOf: (runtime: Runtime) => RegistryPorts,
  name: string,
  mailerFor: MailerFor,
): (input: unknown, context?: unknown) => Promise<SqsBatchResponse> {
  let rules: Map<string, RoutingRule> | undefined;
  return async (input, context) => {
    const runtime = await useRuntime(mailerFor);
    rules ??= new Map(allRules(runtime.config).map((rule) => [rule.name, rule]));
    beginInvocation(runtime.logger, context);
    const { Records } = SqsBatch.parse(input);
    const failures: string[] = [];
    const deliveries: { messageId: string; event: RuleTargetInput["event"]; rule: RoutingRule }[] = [];
    for (const record of Records) {
      // A message that is not a rule's input, or names a rule of another target, is a wiring
      // defect: failing it moves it to the dead-letter queue to inspect, the batch goes on.
      try {
        const { rule: ruleName, event } = RuleTargetInput.parse(JSON.parse(record.body));
        const rule = rules.get(ruleName);
        if (!rule) throw new UnknownRuleError(ruleName);
        if (rule.target !== target) throw new Error(`the rule ${ruleName} targets ${rule.target}, not ${target}: the stacks and the functions are out of step; redeploy`);
        deliveries.push({ messageId: record.messageId, event, rule });
      } catch (error) {
        runtime.log.error(`${name}: a queued message is not a rule's input`, { messageId: record.messageId, error: String(error) });
        failures.push(record.messageId);
      }
    }
    if (deliveries.length > 0) {
      const { failed, report } = await batch.handleBatch(portsOf(runtime), deliveries);
      const again = new Set(failed);
      for (const d of deliveries) if (again.has(d.event.id)) failures.push(d.messageId);
      runtime.log.info(name, { ...report });
    }
    return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}
