/**
 * The republisher, run every five minutes: a lead stored while the bus refused its lead.captured
 * event is announced now, so no capture is lost to an EventBridge outage. Enrollment is idempotent,
 * so announcing a lead twice is harmless. Likewise a qualification whose lead.qualified never reached
 * the bus is announced now (hand-off takes each qualification once), and so is every event left
 * in the outbox (lead.closed, lead.assigned, tier changes) whose producer's publish failed.
 */
import { republishPending } from "@leadloop/core/capture";
import { republishEvents } from "@leadloop/core/events-outbox";
import { republishQualifications } from "@leadloop/core/engagement/record-behaviour";
import { beginInvocation, useRuntime } from "./lib/runtime";

const runtime = useRuntime();

export async function handler(_event?: unknown, context?: unknown) {
  beginInvocation(runtime.logger, context);
  const republished = await republishPending({ leads: runtime.deps.leads, publisher: runtime.deps.publisher });
  if (republished > 0) runtime.log.warn("republished leads the bus had not seen", { republished });
  const reannounced = await republishQualifications(runtime.deps);
  if (reannounced > 0) runtime.log.warn("announced qualifications the bus had not seen", { reannounced });
  const outbox = await republishEvents(runtime.deps, { deadline: deadlineOf(context) });
  return { republished, reannounced, outbox };
}

/** Lambda's remaining time, less a margin for the last writes; none outside Lambda. */
function deadlineOf(context: unknown): number | undefined {
  const remaining = (context as { getRemainingTimeInMillis?: () => number } | undefined)?.getRemainingTimeInMillis?.();
  return remaining === undefined ? undefined : Date.now() + remaining - 2_000;
}
