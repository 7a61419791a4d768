/**
 * The asynchronous side: one EventBridge rule per routing rule from the core (the same list the
 * local bus applies), each delivering `{ rule, event }` to its target's function, and the
 * schedules (sweeper every minute, republisher every five). Every target has a retry policy, a
 * dead-letter queue and alarms (asyncTarget).
 */
import { Duration } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import { Cron, type StackContext, use } from "sst/constructs";
import { type HandlerTarget, handlerRules, type RoutingRule, routingRules } from "@leadloop/core/routing/routing-rules";
import { ApiStack } from "./api-stack";
import { Core } from "./core-stack";
import { type AsyncTarget, asyncTarget } from "./leadloop-function";
import { type Capability, grant } from "./permissions";

interface TargetFunction {
  handler: string;
  capabilities: Capability[];
  /** Notifies reps: gets the teams' Slack webhook secrets (one per `slackWebhookEnv`). */
  slack?: boolean;
}

/**
 * The function behind each enroll rule. It sends double-opt-in confirmations but publishes
 * nothing (the confirmation link's route, in the API, announces the confirmed lead).
 */
const ENROLL: TargetFunction = { handler: "functions/enroll.handler", capabilities: ["table", "send-email"] };

/**
 * Functions for the handler rules. A rule whose target is not listed is not deployed yet; adding
 * engagement, handoff or feedback is one line here once its function exists.
 */
export const HANDLER_FUNCTIONS: Partial<Record<HandlerTarget, TargetFunction>> = {
  exit: { handler: "functions/exit.handler", capabilities: ["table"] },
  handoff: { handler: "functions/handoff.handler", capabilities: ["table", "publish", "send-email"], slack: true },
  feedback: { handler: "functions/feedback.handler", capabilities: ["table", "publish"] },
  report: { handler: "functions/report.handler", capabilities: ["table"] },
  engagement: { handler: "functions/engagement.handler", capabilities: ["table", "publish"] },
};

/** EventBridge retries a delivery that failed (throttled, no permission) for up to a day. */
const DELIVERY = { retryAttempts: 8, maxEventAge: Duration.hours(24) };

export function NurtureStack({ stack }: StackContext) {
  const core = use(Core);
  const { publicUrl } = use(ApiStack);
  const { config } = core.configSnapshot;
  // Only the functions that notify reps may read the teams' Slack webhooks.
  const slackSecrets = Object.values(core.slackSecrets);

  const functions = new Map<string, AsyncTarget>();
  const functionFor = (target: string, spec: TargetFunction): AsyncTarget => {
    let made = functions.get(target);
    if (!made) {
      const id = `${target[0]?.toUpperCase()}${target.slice(1)}`;
      made = asyncTarget(
        stack,
        id,
        core,
        { handler: spec.handler, timeout: 30, ...(spec.slack ? { bind: slackSecrets } : {}) },
        publicUrl,
      );
      grant(made.fn, core, spec.capabilities);
      functions.set(target, made);
    }
    return made;
  };

  const route = (rule: RoutingRule, target: AsyncTarget) => {
    const deployed = new events.Rule(stack, `Rule-${rule.name}`, {
      ruleName: `${stack.stage}-leadloop-${rule.name}`.slice(0, 64),
      description: `leadloop routing rule ${rule.name} (${rule.target})`,
      eventBus: core.bus,
      // Placeholder for CDK's validation; the exact pattern from the core replaces it below.
      eventPattern: { source: ["leadloop"] },
      targets: [
        new targets.LambdaFunction(target.fn, {
          ...DELIVERY,
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

  for (const rule of routingRules(config)) route(rule, functionFor("enroll", ENROLL));
  for (const rule of handlerRules()) {
    const spec = HANDLER_FUNCTIONS[rule.target];
    if (spec) route(rule, functionFor(rule.target, spec));
  }

  // The sweeper claims each step before sending, so two overlapping runs are safe; one at a time
  // keeps the SES send rate (maxSendsPerSecond) true across the account.
  const sweeper = asyncTarget(
    stack,
    "Sweeper",
    core,
    { handler: "functions/sweeper.handler", timeout: 60, reservedConcurrentExecutions: 1, retryAttempts: 0, maxEventAge: Duration.minutes(2) },
    publicUrl,
  );
  grant(sweeper.fn, core, ["table", "publish", "send-email"]);
  new Cron(stack, "SweepEveryMinute", {
    schedule: "rate(1 minute)",
    job: { function: sweeper.fn, cdk: { target: { deadLetterQueue: sweeper.deadLetters, retryAttempts: 2, maxEventAge: Duration.minutes(2) } } },
  });

  const republisher = asyncTarget(
    stack,
    "Republisher",
    core,
    { handler: "functions/republisher.handler", timeout: 60, reservedConcurrentExecutions: 1, retryAttempts: 0, maxEventAge: Duration.minutes(10) },
    publicUrl,
  );
  grant(republisher.fn, core, ["table", "publish"]);
  new Cron(stack, "RepublishEveryFiveMinutes", {
    schedule: "rate(5 minutes)",
    job: { function: republisher.fn, cdk: { target: { deadLetterQueue: republisher.deadLetters, retryAttempts: 2, maxEventAge: Duration.minutes(10) } } },
  });

  // Recycle dates are days: a quarter-hour run is prompt enough, and overlapping runs are safe.
  const recycler = asyncTarget(
    stack,
    "Recycler",
    core,
    { handler: "functions/recycler.handler", timeout: 60, reservedConcurrentExecutions: 1, retryAttempts: 0, maxEventAge: Duration.minutes(15) },
    publicUrl,
  );
  grant(recycler.fn, core, ["table", "publish"]);
  new Cron(stack, "RecycleEveryFifteenMinutes", {
    schedule: "rate(15 minutes)",
    job: { function: recycler.fn, cdk: { target: { deadLetterQueue: recycler.deadLetters, retryAttempts: 2, maxEventAge: Duration.minutes(15) } } },
  });

  // Claim windows are hours long: five minutes late is on time. Moves are conditional, so an
  // overlapping run is harmless; one at a time keeps the notices in order.
  const salesSla = asyncTarget(
    stack,
    "SalesSla",
    core,
    {
      handler: "functions/sales-sla.handler",
      timeout: 60,
      reservedConcurrentExecutions: 1,
      retryAttempts: 0,
      maxEventAge: Duration.minutes(5),
      bind: slackSecrets,
    },
    publicUrl,
  );
  grant(salesSla.fn, core, ["table", "publish", "send-email"]);
  new Cron(stack, "SalesSlaEveryFiveMinutes", {
    schedule: "cron(*/5 * * * ? *)",
    job: { function: salesSla.fn, cdk: { target: { deadLetterQueue: salesSla.deadLetters, retryAttempts: 2, maxEventAge: Duration.minutes(5) } } },
  });

  return { functions, sweeper, republisher, salesSla, recycler };
}
