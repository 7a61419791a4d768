/**
 * Every leadloop Lambda is built the same way: Node.js 22, ESM, minified, the AWS SDK bundled,
 * structured JSON logs, the stage's settings in its environment and its secrets and sender bound
 * through SST Config (read on first use), and an alarm on its Errors. Asynchronous targets also get a retry
 * policy and a dead-letter queue with an alarm (see `asyncTarget`).
 */
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as iam from "aws-cdk-lib/aws-iam";
import * as destinations from "aws-cdk-lib/aws-lambda-destinations";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as sns from "aws-cdk-lib/aws-sns";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { type Config, Function as SstFunction, type FunctionProps, type Stack } from "sst/constructs";
import { BUNDLE_ALIAS, BUNDLE_EXTERNAL, BUNDLE_TARGET, LAMBDA_RUNTIME } from "./bundling";
import { CONFIG_SNAPSHOT_NAME } from "./config-snapshot";
import type { Core } from "./core-stack";
import { acceptDeadLetterQueue } from "./nag";

type CoreOutputs = ReturnType<typeof Core>;

export interface LeadloopFunctionOptions {
  handler: string;
  /**
   * Ships the marketers' config snapshot beside the bundle (default: yes). Every function built on
   * functions/lib/runtime.ts reads it at start-up, so only a function that does not may say false.
   */
  config?: boolean;
  timeout?: number;
  memorySize?: number;
  reservedConcurrentExecutions?: number;
  /** Extra environment (e.g. PUBLIC_URL for functions in the API's own stack). */
  environment?: Record<string, string>;
  /** SST secrets this function reads besides the ones every function does (see `BOUND_TO_EVERY_FUNCTION`). */
  bind?: Config.Secret[];
  /** npm packages installed beside the bundle instead of bundled (files the code reads at run time). */
  install?: string[];
}

/**
 * What every function's runtime reads at start-up (functions/lib/runtime.ts builds the lead store,
 * the token signer and the mailer's From for all of them): LEAD_ID_KEY also keys the erased-address
 * suppression check every send and every capture makes.
 */
export const BOUND_TO_EVERY_FUNCTION = ["TOKEN_SIGNING_KEY", "LEAD_ID_KEY", "SENDER"] as const;

/**
 * How long every log group keeps its lines: the functions' logs and the API's access log (which
 * holds callers' addresses and user agents). Long enough to investigate an incident or a lead's
 * complaint, short enough that personal data does not pile up.
 */
export const LOG_RETENTION_NAME = "one_month" satisfies Lowercase<keyof typeof logs.RetentionDays>;
export const LOG_RETENTION = logs.RetentionDays.ONE_MONTH;

export function functionEnvironment(core: CoreOutputs, publicUrl: string | undefined): Record<string, string> {
  const { settings } = core;
  return {
    TABLE_NAME: core.table.tableName,
    EVENT_BUS_NAME: core.bus.eventBusName,
    SES_CONFIGURATION_SET: core.configurationSetName,
    POWERTOOLS_SERVICE_NAME: "leadloop",
    POWERTOOLS_LOG_LEVEL: "INFO",
    ...(publicUrl ? { PUBLIC_URL: publicUrl } : {}),
    ...(settings.LEADLOOP_UNSUBSCRIBE_MAILTO ? { UNSUBSCRIBE_MAILTO: settings.LEADLOOP_UNSUBSCRIBE_MAILTO } : {}),
  };
}

export function leadloopFunctionProps(
  stack: Stack,
  id: string,
  core: CoreOutputs,
  options: LeadloopFunctionOptions,
  publicUrl: string | undefined,
): FunctionProps {
  // An explicit log group, not `logRetention`: that one adds a custom resource whose role may
  // change the retention of every log group in the account ("*").
  const logGroup = new logs.LogGroup(stack, `${id}Logs`, {
    retention: LOG_RETENTION,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  // Its own role instead of Lambda's default, which carries the managed AWSLambdaBasicExecutionRole
  // (create any log group, write to every one in the account): this one writes to its own group
  // only. The group exists before the function, so it never needs logs:CreateLogGroup.
  const role = new iam.Role(stack, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
    description: `leadloop ${id}: writes its own log group; the rest is granted per capability (infra/permissions.ts)`,
  });
  role.addToPolicy(new iam.PolicyStatement({ actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [logGroup.logGroupArn] }));
  return {
    role,
    handler: options.handler,
    runtime: LAMBDA_RUNTIME,
    architecture: "arm_64",
    // X-Ray would need xray:PutTraceSegments on "*" (it has no resource-level permissions); the
    // logs' leadId correlation follows a lead across functions instead.
    tracing: "disabled",
    timeout: options.timeout ?? 10,
    memorySize: options.memorySize ?? 512,
    logGroup,
    nodejs: {
      format: "esm",
      minify: true,
      // The AWS SDK is bundled too (infra/bundling.ts says why); SST resolves `module,main`.
      install: options.install ?? [],
      esbuild: { external: BUNDLE_EXTERNAL, target: BUNDLE_TARGET, alias: BUNDLE_ALIAS },
      // Lambda does not read source maps unless told to (which slows every cold start).
      sourcemap: false,
    },
    ...(options.config === false ? {} : { copyFiles: [{ from: core.configSnapshot.file, to: CONFIG_SNAPSHOT_NAME }] }),
    environment: { ...functionEnvironment(core, publicUrl), ...options.environment },
    bind: [...BOUND_TO_EVERY_FUNCTION.map((name) => core.secrets[name]), ...(options.bind ?? [])],
    ...(options.reservedConcurrentExecutions ? { reservedConcurrentExecutions: options.reservedConcurrentExecutions } : {}),
  };
}

/** An alarm that fires as soon as `metric` is above zero, and tells the alarm topic. */
function anyAboveZeroAlarm(stack: Stack, id: string, description: string, metric: cloudwatch.IMetric, topic: sns.ITopic): cloudwatch.Alarm {
  const alarm = new cloudwatch.Alarm(stack, id, {
    alarmDescription: description,
    metric,
    threshold: 0,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  alarm.addAlarmAction(new actions.SnsAction(topic));
  return alarm;
}

/** Alarms when the function reports any error in a five-minute period. */
export function errorsAlarm(stack: Stack, id: string, fn: SstFunction, topic: sns.ITopic): cloudwatch.Alarm {
  return anyAboveZeroAlarm(
    stack,
    `${id}Errors`,
    `leadloop ${id}: the function reported errors; see its logs`,
    fn.metricErrors({ period: Duration.minutes(5), statistic: "Sum" }),
    topic,
  );
}

/** Alarms as soon as a dead-letter queue holds a message: each one is an event a lead missed. */
export function deadLetterAlarm(stack: Stack, id: string, queue: sqs.Queue, topic: sns.ITopic): cloudwatch.Alarm {
  return anyAboveZeroAlarm(
    stack,
    `${id}DeadLettersAlarm`,
    `leadloop ${id}: events could not be handled and wait in ${id}'s dead-letter queue`,
    queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: "Maximum" }),
    topic,
  );
}

export interface AsyncTarget {
  fn: SstFunction;
  deadLetters: sqs.Queue;
}

/**
 * A function invoked asynchronously (by a rule or a schedule). Failures are caught twice, and both
 * land in the same queue: EventBridge's target dead-letter queue takes events it could not deliver
 * (throttled, no permission), Lambda's on-failure destination takes events whose handler kept
 * throwing after its retries.
 */
export function asyncTarget(
  stack: Stack,
  id: string,
  core: CoreOutputs,
  options: LeadloopFunctionOptions & { retryAttempts?: number; maxEventAge?: Duration },
  publicUrl: string | undefined,
): AsyncTarget {
  const deadLetters = new sqs.Queue(stack, `${id}DeadLetters`, {
    retentionPeriod: Duration.days(14),
    enforceSSL: true,
  });
  acceptDeadLetterQueue(deadLetters);
  const fn = new SstFunction(stack, id, {
    ...leadloopFunctionProps(stack, id, core, options, publicUrl),
    retryAttempts: options.retryAttempts ?? 2,
    maxEventAge: options.maxEventAge ?? Duration.hours(6),
    onFailure: new destinations.SqsDestination(deadLetters),
  });
  errorsAlarm(stack, id, fn, core.alarmTopic);
  deadLetterAlarm(stack, id, deadLetters, core.alarmTopic);
  return { fn, deadLetters };
}
