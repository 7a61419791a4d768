/**
 * The metrics a scheduled job publishes after each run, as CloudWatch embedded metric format
 * (Powertools Metrics writes one JSON line to the log; CloudWatch turns it into a metric, so no
 * PutMetricData call and no permission for one). Core computes the figures; this only emits them.
 * The names are shared with infra, whose alarms and dashboard read exactly these metrics.
 */
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";

/** The namespace of leadloop's own metrics; each stage's are told apart by the `stage` dimension. */
export const METRICS_NAMESPACE = "leadloop";
export const METRICS_SERVICE = "leadloop";
/** The age in seconds of the oldest entry a due-index job left due after its run. */
export const DUE_LAG_METRIC = "DueLagSeconds";

/** The dimensions of a job's due lag, as its alarm must name them to match. */
export function dueLagDimensions(stage: string, job: string): Record<string, string> {
  return { service: METRICS_SERVICE, stage, job };
}

/** Emits one job run's due lag as one EMF line on stdout. */
export function publishDueLag(job: string, seconds: number, stage = process.env.SST_STAGE ?? "local"): void {
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE, defaultDimensions: { stage } });
  metrics.addDimension("job", job);
  metrics.addMetric(DUE_LAG_METRIC, MetricUnit.Seconds, seconds);
  metrics.publishStoredMetrics();
}
