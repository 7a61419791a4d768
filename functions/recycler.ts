/**
 * The recycler, run every fifteen minutes: not-now leads whose recycle date has come go back to
 * nurture (`lead.recycled`). Each move is conditional, so an overlapping run is harmless, and a run
 * that died between the move and the announcement is completed by the next.
 */
import { recycleDueLeads } from "@leadloop/core/feedback/recycle-due-leads";
import { feedbackDeps } from "./lib/feedback-deps";
import { beginInvocation, useRuntime } from "./lib/runtime";

const runtime = useRuntime();
const deps = feedbackDeps(runtime);

export async function handler(_event?: unknown, context?: unknown) {
  beginInvocation(runtime.logger, context);
  const report = await recycleDueLeads(deps);
  if (report.due > 0) runtime.log.info("recycle", { ...report });
  return report;
}
