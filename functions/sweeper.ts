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
  // Claim only what can be sent before the invocation times out (less a margin for the last writes).
  const remaining = (context as { getRemainingTimeInMillis?: () => number } | undefined)?.getRemainingTimeInMillis?.();
  const report = await sweepDueSteps(runtime.deps, remaining === undefined ? {} : { deadline: Date.now() + remaining - 3_000 });
  // Only a sweep that did something is worth a line; an idle minute would drown the log.
  if (report.due > 0) runtime.log.info("sweep", { ...report });
  return report;
}
