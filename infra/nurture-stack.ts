/**
 * The asynchronous side, generated from the registry (packages/core/src/registry.ts): one function
 * per entry, one EventBridge rule per routing rule of each handler (the same list the local bus
 * applies), each delivering `{ rule, event }` under the rule's delivery policy, and one schedule
 * per job. An entry added to the registry is deployed with no edit here; one dropped is gone.
 * Every target has a retry policy, a dead-letter queue and alarms (asyncTarget).
 */
import { Duration } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Cron, type StackContext, use } from "sst/constructs";
import { DEFAULT_DELIVERY, deliveryPolicy, type RoutingRule } from "@leadloop/core/routing/routing-rules";
import { HANDLERS, JOBS, type RegistryEntry, rulesOf, scheduleExpression } from "@leadloop/core/registry";
import { ApiStack } from "./api-stack";
import { Core } from "./core-stack";
import { type AsyncTarget, asyncTarget, queueAgeAlarm } from "./leadloop-function";
import { acceptQueueEventSource } from "./nag";
import { type Capability, grant, portsTableAccess } from "./permissions";

/** Deliveries of a queued event before it moves to the dead-letter queue. */
export const BATCH_RECEIVE_COUNT = 5;

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

  const functionFor = (entry: RegistryEntry, async: { retryAttempts: number; maxEventAge: Duration }, reserved?: number): AsyncTarget => {
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

  const route = (rule: RoutingRule, target: AsyncTarget, queue?: sqs.Queue) => {
    const policy = deliveryPolicy(rule);
    // The same (event, rule) pair the local bus passes to its handlers.
    const input = events.RuleTargetInput.fromObject({ rule: rule.name, event: events.EventField.fromPath("$") });
    const delivery = { retryAttempts: policy.retryAttempts, maxEventAge: Duration.seconds(policy.maxEventAgeSeconds), deadLetterQueue: target.deadLetters };
    const deployed = new events.Rule(stack, `Rule-${rule.name}`, {
      ruleName: `${stack.stage}-leadloop-${rule.name}`.slice(0, 64),
      description: `leadloop routing rule ${rule.name} (${rule.target})`,
      eventBus: core.bus,
      // Placeholder for CDK's validation; the exact pattern from the core replaces it below.
      eventPattern: { source: ["leadloop"] },
      targets: [queue ? new targets.SqsQueue(queue, { ...delivery, message: input }) : new targets.LambdaFunction(target.fn, { ...delivery, event: input })],
    });
    // The core's pattern verbatim: CDK's typed EventPattern cannot say `$or`, and any rewriting
    // would be a place for local and cloud routing to drift.
    (deployed.node.defaultChild as events.CfnRule).eventPattern = rule.pattern;
  };

  /**
   * A batched entry's rules feed a queue the function reads in batches (registry `batch`): a
   * message that keeps failing moves to the function's dead-letter queue, which alarms.
   */
  const batchQueue = (entry: RegistryEntry & { kind: "handler" }, target: AsyncTarget): sqs.Queue => {
    const batch = entry.batch as NonNullable<typeof entry.batch>;
    const queue = new sqs.Queue(stack, `${functionId(entry)}Queue`, {
      // Lambda's advice: six times the function's timeout, so a batch being handled is not handed out again.
      visibilityTimeout: Duration.seconds(6 * entry.timeoutSeconds),
      retentionPeriod: Duration.days(4),
      enforceSSL: true,
      deadLetterQueue: { queue: target.deadLetters, maxReceiveCount: BATCH_RECEIVE_COUNT },
    });
    // A batch waits at most its window; a quarter hour means the function keeps failing.
    queueAgeAlarm(stack, functionId(entry), queue, 15 * 60, core.alarmTopic);
    const source = new SqsEventSource(queue, {
      batchSize: batch.size,
      maxBatchingWindow: Duration.seconds(batch.windowSeconds),
      maxConcurrency: Math.max(2, batch.concurrency),
      reportBatchItemFailures: true,
    });
    target.fn.addEventSource(source);
    for (const child of target.fn.node.children) if (child instanceof lambda.EventSourceMapping) acceptQueueEventSource(child);
    return queue;
  };

  const functions = new Map<string, AsyncTarget>();
  for (const entry of HANDLERS) {
    // Lambda's own async retries are one policy for the function, whatever rule delivered.
    const made = functionFor(entry, {
      retryAttempts: DEFAULT_DELIVERY.asyncRetryAttempts,
      maxEventAge: Duration.seconds(DEFAULT_DELIVERY.asyncMaxEventAgeSeconds),
    });
    functions.set(entry.name, made);
    const queue = entry.batch ? batchQueue(entry, made) : undefined;
    for (const rule of rulesOf(entry, config)) route(rule, made, queue);
  }

  // A job runs one at a time (reserved concurrency 1: each claims its work, so overlap would be
  // safe, but one sweeper keeps the SES send rate true across the account). A missed run is not
  // retried by Lambda: the next scheduled run takes the same due work.
  for (const entry of JOBS) {
    const period = Duration.minutes(Math.max(entry.everyMinutes, 1));
    const made = functionFor(entry, { retryAttempts: 0, maxEventAge: period }, 1);
    functions.set(entry.name, made);
    new Cron(stack, `${functionId(entry)}Schedule`, {
      schedule: scheduleExpression(entry) as `rate(${string})`,
      job: { function: made.fn, cdk: { target: { deadLetterQueue: made.deadLetters, retryAttempts: 2, maxEventAge: period } } },
    });
  }

  return { functions };
}
