/**
 * The sales schedule, every five minutes: leads whose claim window closed move to the next rep
 * (or escalate), and rep notifications that failed get another try. Every move is conditional, so
 * an overlapping run is harmless.
 */
import { checkClaimSlas } from "@leadloop/core/sales/claim-sla";
import { retryNotifications } from "@leadloop/core/sales/handoff-notification";
import { salesDeps } from "./lib/sales-deps";
import { beginInvocation, useRuntime } from "./lib/runtime";

const runtime = useRuntime();
const deps = salesDeps(runtime);

export async function handler(_event?: unknown, context?: unknown) {
  beginInvocation(runtime.logger, context);
  const sla = await checkClaimSlas(deps);
  const notifications = await retryNotifications(deps);
  if (sla.overdue + notifications.owed > 0) runtime.log.info("sales schedule", { ...sla, owedNotifications: notifications.owed, notified: notifications.notified });
  return { sla, notifications };
}
