/**
 * The nurture sweeper, run every minute by a schedule with reserved concurrency 1: sends every due
 * step once (the use case claims each step before sending, so an overlapping run is harmless).
 * Each send is logged with its lead's id by the runtime's mailer.
 */
import { sweepDueSteps } from "@leadloop/core/nurture/sweeper";
import { beginInvocation, useRuntime } from "./lib/runtime";

const runtime = useRuntime();

export async function handler(_event?: unknown, context?: unknown) {
  beginInvocation(runtime.logger, context);
  const report = await sweepDueSteps(runtime.deps);
  // Only a sweep that did something is worth a line; an idle minute would drown the log.
  if (report.due > 0) runtime.log.info("sweep", { ...report });
  return report;
}
