/**
 * What an operator watches, one CloudWatch dashboard per stage, and the alarms that page them
 * through the stage's alarm topic: SES reputation (SES reviews, then pauses, an account past its
 * bounce or complaint threshold), the API's 5xx answers and p99 latency, DynamoDB throttles on the
 * table and each index, dead-letter depth, and sweeper lag (the age of the oldest nurture step
 * still due after a sweep, which the sweeper publishes as an embedded metric).
 */
import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import { type StackContext, use } from "sst/constructs";
import { TABLE_INDEXES } from "@leadloop/store/table";
import { DUE_LAG_METRIC, dueLagDimensions, METRICS_NAMESPACE } from "../functions/lib/job-metrics";
import { ApiStack } from "./api-stack";
import { Core } from "./core-stack";
import { NurtureStack } from "./nurture-stack";

/**
 * Where the alarms fire. SES puts an account under review at a 5% bounce rate and 0.1% complaint
 * rate (and may pause sending at 10% and 0.5%): alarming at half of each leaves time to act.
 */
export const ALARM_THRESHOLDS = {
  sesBounceRate: 0.025,
  sesComplaintRate: 0.0005,
  api5xxPerFiveMinutes: 5,
  apiP99LatencyMs: 3_000,
  /** The sweeper runs every minute: ten minutes late means it is failing, throttled or outpaced. */
  sweeperLagSeconds: 600,
} as const;

/** The registry job whose lag is alarmed on. */
export const LAGGING_JOB = "sweeper";

export function MonitoringStack({ stack, app }: StackContext) {
  const core = use(Core);
  const { api } = use(ApiStack);
  const { functions } = use(NurtureStack);
  const five = Duration.minutes(5);
  const notify = new actions.SnsAction(core.alarmTopic);

  const alarm = (id: string, description: string, metric: cloudwatch.IMetric, threshold: number, missing = cloudwatch.TreatMissingData.NOT_BREACHING) => {
    const made = new cloudwatch.Alarm(stack, id, {
      alarmDescription: `leadloop ${app.stage}: ${description}`,
      metric,
      threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: missing,
    });
    made.addAlarmAction(notify);
    made.addOkAction(notify);
    return made;
  };

  // Account-wide figures (SES has one reputation per account and region), published hourly-ish.
  const ses = (metricName: string) =>
    new cloudwatch.Metric({ namespace: "AWS/SES", metricName, statistic: "Maximum", period: Duration.hours(1) });
  const bounceRate = ses("Reputation.BounceRate");
  const complaintRate = ses("Reputation.ComplaintRate");
  alarm("SesBounceRate", "SES bounce rate is past half of SES's review threshold; stop imports and check list hygiene", bounceRate, ALARM_THRESHOLDS.sesBounceRate);
  alarm("SesComplaintRate", "SES complaint rate is past half of SES's review threshold; check what was sent to whom", complaintRate, ALARM_THRESHOLDS.sesComplaintRate);

  const http = api.cdk.httpApi;
  const serverErrors = http.metricServerError({ period: five, statistic: "Sum" });
  const latency = http.metricLatency({ period: five, statistic: "p99" });
  alarm("Api5xx", "the API answered 5xx; see the ApiFunction, StaffApiFunction and ReportsApiFunction logs", serverErrors, ALARM_THRESHOLDS.api5xxPerFiveMinutes);
  alarm("ApiLatencyP99", "the API's p99 latency is high", latency, ALARM_THRESHOLDS.apiP99LatencyMs);

  // On-demand tables throttle per table and per index (a hot key, or past the account's limits).
  const table = core.table.cdk.table;
  // Ids are unique per graph: reads and writes share the throttles widget.
  const throttles = (metricName: string, id: string) => {
    const parts: Record<string, cloudwatch.IMetric> = {
      [`${id}t`]: new cloudwatch.Metric({ namespace: "AWS/DynamoDB", metricName, dimensionsMap: { TableName: table.tableName }, statistic: "Sum", period: five }),
    };
    TABLE_INDEXES.forEach((index, i) => {
      parts[`${id}i${i}`] = new cloudwatch.Metric({
        namespace: "AWS/DynamoDB",
        metricName,
        dimensionsMap: { TableName: table.tableName, GlobalSecondaryIndexName: index.indexName },
        statistic: "Sum",
        period: five,
      });
    });
    return new cloudwatch.MathExpression({ expression: Object.keys(parts).join(" + "), usingMetrics: parts, label: `${metricName} (table and indexes)`, period: five });
  };
  const readThrottles = throttles("ReadThrottleEvents", "r");
  const writeThrottles = throttles("WriteThrottleEvents", "w");
  alarm("TableReadThrottles", "DynamoDB throttled reads on the table or an index", readThrottles, 0);
  alarm("TableWriteThrottles", "DynamoDB throttled writes on the table or an index", writeThrottles, 0);

  // No data point means no sweep finished: that is lag too.
  const lag = new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: DUE_LAG_METRIC,
    dimensionsMap: dueLagDimensions(app.stage, LAGGING_JOB),
    statistic: "Maximum",
    period: five,
  });
  alarm("SweeperLag", "nurture steps are waiting past their due time (or no sweep finished); see the sweeper's logs", lag, ALARM_THRESHOLDS.sweeperLagSeconds, cloudwatch.TreatMissingData.BREACHING);

  // Dead-letter depth: each queue keeps its own alarm (leadloop-function.ts); here they are drawn together.
  const deadLetters = [...functions.entries()].map(([name, target]) =>
    target.deadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: "Maximum", label: name }),
  );
  deadLetters.push(core.sesDeadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: "Maximum", label: "ses-forward" }));

  const dashboard = new cloudwatch.Dashboard(stack, "Dashboard", { dashboardName: `leadloop-${app.stage}`.slice(0, 255) });
  const graph = (title: string, left: cloudwatch.IMetric[], threshold?: number) =>
    new cloudwatch.GraphWidget({ title, left, width: 8, ...(threshold === undefined ? {} : { leftAnnotations: [{ value: threshold, label: "alarm" }] }) });
  dashboard.addWidgets(
    graph("SES bounce rate", [bounceRate], ALARM_THRESHOLDS.sesBounceRate),
    graph("SES complaint rate", [complaintRate], ALARM_THRESHOLDS.sesComplaintRate),
    graph("Sweeper lag (s)", [lag], ALARM_THRESHOLDS.sweeperLagSeconds),
  );
  dashboard.addWidgets(
    graph("API 5xx", [serverErrors], ALARM_THRESHOLDS.api5xxPerFiveMinutes),
    graph("API p99 latency (ms)", [latency], ALARM_THRESHOLDS.apiP99LatencyMs),
    graph("DynamoDB throttles", [readThrottles, writeThrottles]),
  );
  dashboard.addWidgets(new cloudwatch.GraphWidget({ title: "Dead-letter depth", left: deadLetters, width: 24 }));

  stack.addOutputs({ Dashboard: dashboard.dashboardName });
  return { dashboard };
}
