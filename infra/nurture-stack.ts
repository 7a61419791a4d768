/**
 * The asynchronous side, generated from the registry (packages/core/src/registry.ts): one function
 * per entry, one EventBridge rule per routing rule of each handler (the same list the local bus
 * applies), each delivering `{ rule, event }` under the rule's delivery policy, and one function
 * and rate per schedule of jobs (registry `SCHEDULES`). An entry added to the registry is deployed with no edit here; one dropped is gone.
 * Every target has a retry policy, a dead-letter queue and alarms (asyncTarget).
 */
import { Duration } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import { Cron, type StackContext, use } from "sst/constructs";
import { DEFAULT_DELIVERY, deliveryPolicy, type RoutingRule } from "@leadloop/core/routing/routing-rules";
import { HANDLERS, type RegistryEntry, rulesOf, SCHEDULES, scheduleExpression } from "@leadloop/core/registry";
import { ApiStack } from "./api-stack";
import { Core } from "./core-stack";
import { type AsyncTarget, asyncTarget } from "./leadloop-function";
import { type Capability, grant, portsTableAccess } from "./permissions";

/** The construct id of an entry's function: `claim-sla` → `ClaimSla`. */
export const functionId = (entry: Pick<RegistryEntry, "name">): string =>
  entry.name.replace(/(^|-)([a-z])/g, (_m, _dash, letter: string) => letter.toUpperCase());

export function NurtureStack({ stack }: StackContext) {
  const core = use(Core);
  const { publicUrl } = use(ApiStack);
  const { config } = core.configSnapshot;
  // Only the functions that notify reps may read the teams' Slack webhooks.
  const slackSecrets = Object.values(core.slackSecrets);
  // Only the webhook functions may read the endpoints' URLs and signing keys.
  const webhookSecrets = Object.values(core.webhookSecrets);

  const functionFor = (entry: Pick<RegistryEntry, "name" | "ports" | "capabilities" | "timeoutSeconds">, async: { retryAttempts: number; maxEventAge: Duration }, reserved?: number): AsyncTarget => {
    const made = asyncTarget(
      stack,
      functionId(entry),
      core,
      {
        handler: `functions/${entry.name}.handler`,
        timeout: entry.timeoutSeconds,
        ...(reserved ? { reservedConcurrentExecutions: reserved } : {}),
        ...(entry.capabilities.includes("slack") ? { bind: slackSecrets } : {}),
        ...(entry.capabilities.includes("webhooks") ? { bind: webhookSecrets } : {}),
        ...async,
      },
      publicUrl,
    );
    grant(
      made.fn,
      core,
      entry.capabilities.filter((c): c is Capability => c !== "slack" && c !== "webhooks"),
      portsTableAccess(entry.ports),
    );
    return made;
  };

  const route = (rule: RoutingRule, target: AsyncTarget) => {
    const policy = deliveryPolicy(rule);
    const deployed = new events.Rule(stack, `Rule-${rule.name}`, {
      ruleName: `${stack.stage}-leadloop-${rule.name}`.slice(0, 64),
      description: `leadloop routing rule ${rule.name} (${rule.target})`,
      eventBus: core.bus,
      // Placeholder for CDK's validation; the exact pattern from the core replaces it below.
      eventPattern: { source: ["leadloop"] },
      targets: [
        new targets.LambdaFunction(target.fn, {
          retryAttempts: policy.retryAttempts,
          maxEventAge: Duration.seconds(policy.maxEventAgeSeconds),
          deadLetterQueue: target.deadLetters,
          // The same (event, rule) pair the local bus passes to its handlers.
          event: events.RuleTargetInput.fromObject({ rule: rule.name, event: events.EventField.fromPath("$") }),
        }),
      ],
    });
    // The core's pattern verbatim: CDK's typed EventPattern cannot say `$or`, and any rewriting
    // would be a place for local and cloud routing to drift.
    (deployed.node.defaultChild as events.CfnRule).eventPattern = rule.pattern;
  };

  const functions = new Map<string, AsyncTarget>();
  for (const entry of HANDLERS) {
    // Lambda's own async retries are one policy for the function, whatever rule delivered.
    const made = functionFor(entry, {
      retryAttempts: DEFAULT_DELIVERY.asyncRetryAttempts,
      maxEventAge: Duration.seconds(DEFAULT_DELIVERY.asyncMaxEventAgeSeconds),
    });
    functions.set(entry.name, made);
    for (const rule of rulesOf(entry, config)) route(rule, made);
  }

  // A schedule's function runs one at a time (reserved concurrency 1: each job claims its work,
  // so overlap would be safe, but one sweeper keeps the SES send rate true across the account). A
  // missed run is not retried by Lambda: the next scheduled run takes the same due work. A
  // schedule of several jobs gets what each of them needs, and no more.
  for (const schedule of SCHEDULES) {
    const entry = {
      name: schedule.name,
      ports: [...new Set(schedule.jobs.flatMap((job) => job.ports))],
      capabilities: [...new Set(schedule.jobs.flatMap((job) => job.capabilities))],
      timeoutSeconds: Math.max(...schedule.jobs.map((job) => job.timeoutSeconds)),
    };
    const period = Duration.minutes(Math.max(schedule.everyMinutes, 1));
    const made = functionFor(entry, { retryAttempts: 0, maxEventAge: period }, 1);
    functions.set(entry.name, made);
    new Cron(stack, `${functionId(entry)}Schedule`, {
      schedule: scheduleExpression(schedule) as `rate(${string})`,
      job: { function: made.fn, cdk: { target: { deadLetterQueue: made.deadLetters, retryAttempts: 2, maxEventAge: period } } },
    });
  }

  return { functions };
}
