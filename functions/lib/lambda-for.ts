/**
 * Every Lambda but the API is one registry entry (packages/core/src/registry.ts) run by this
 * wiring: `export const handler = lambdaFor("enroll")`. It builds the ports the entry names, once
 * per container, and nothing else (the Slack webhook secrets only for an entry that needs them).
 * A rule target gets its zod-parsed `{ rule, event }` input through `ruleTarget`; a scheduled job
 * runs once over what is due now; a stream consumer gets the table's changes in batches (stream-target).
 */
import { type PortName, type RegistryEntry, type RegistryPorts, registryEntry } from "@leadloop/core/registry";
import { DynamoBroadcastStore } from "@leadloop/store/dynamo-broadcast-store";
import { DynamoLeadRecords } from "@leadloop/store/dynamo-lead-records";
import { DynamoReportStore } from "@leadloop/store/dynamo-report-store";
import { DynamoRewardsStore } from "@leadloop/store/dynamo-rewards-store";
import { feedbackDeps } from "./feedback-deps";
import { publishDueLag } from "./job-metrics";
import { ruleTarget, UnknownRuleError } from "./rule-target";
import { beginInvocation, type Runtime, useRuntime } from "./runtime";
import { salesDeps } from "./sales-deps";
import { sesMailer } from "./ses";
import { handleStreamBatch } from "./stream-target";
import { webhookDeps } from "./webhook-deps";

const BUILDERS: { [P in PortName]: (runtime: Runtime) => RegistryPorts[P] } = {
  nurture: (runtime) => runtime.deps,
  sales: (runtime) => salesDeps(runtime),
  feedback: (runtime) => feedbackDeps(runtime),
  reports: (runtime) => ({ reports: new DynamoReportStore({ client: runtime.client, tableName: runtime.env.TABLE_NAME }) }),
  records: (runtime) => new DynamoLeadRecords({ client: runtime.client, tableName: runtime.env.TABLE_NAME }),
  broadcasts: (runtime) => new DynamoBroadcastStore({ client: runtime.client, tableName: runtime.env.TABLE_NAME }),
  rewards: (runtime) => ({ ...runtime.deps, rewards: new DynamoRewardsStore({ client: runtime.client, tableName: runtime.env.TABLE_NAME }) }),
  webhooks: (runtime) => webhookDeps(runtime),
};

/** Margin left for a job's last writes before Lambda's timeout. */
const DEADLINE_MARGIN_MS = 3_000;

/** Lambda's remaining time as a deadline, less the margin; none outside Lambda. */
export function deadlineOf(context: unknown, now = Date.now()): number | undefined {
  const remaining = (context as { getRemainingTimeInMillis?: () => number } | undefined)?.getRemainingTimeInMillis?.();
  return remaining === undefined ? undefined : now + remaining - DEADLINE_MARGIN_MS;
}

/** The ports an entry names, built from the container's runtime. */
export function portsFor(entry: RegistryEntry, runtime: Runtime): RegistryPorts {
  return Object.fromEntries(entry.ports.map((name) => [name, BUILDERS[name](runtime)])) as unknown as RegistryPorts;
}

export type LambdaHandler = (input: unknown, context?: unknown) => Promise<unknown>;

export function lambdaFor(name: string): LambdaHandler {
  const entry = registryEntry(name);
  // Built on the first invocation, with the runtime (whose secrets are read then), and kept.
  let ports: RegistryPorts | undefined;
  if (entry.kind === "handler") {
    return ruleTarget(async (event, rule, runtime) => {
      // A rule of another target delivered here means the stacks and this code disagree.
      if (rule.target !== entry.target) throw new UnknownRuleError(rule.name);
      ports ??= portsFor(entry, runtime);
      const result = await entry.handle(ports, event, rule);
      runtime.log.info(entry.name, { ...result });
    }, sesMailer);
  }
  if (entry.kind === "stream") {
    return async (input, context) => {
      const runtime = await useRuntime(sesMailer);
      ports ??= portsFor(entry, runtime);
      beginInvocation(runtime.logger, context);
      const { response, report } = await handleStreamBatch(entry, ports, input);
      runtime.log.info(entry.name, report);
      return response;
    };
  }
  return async (_event, context) => {
    const runtime = await useRuntime(sesMailer);
    ports ??= portsFor(entry, runtime);
    beginInvocation(runtime.logger, context);
    const deadline = deadlineOf(context);
    const { worked, report } = await entry.run(ports, deadline === undefined ? {} : { deadline });
    // A lag that cannot be read must not fail the run that already did its work: the missing
    // data point is what the lag alarm treats as breaching.
    if (entry.lag) {
      await entry.lag(ports).then(
        (seconds) => publishDueLag(entry.name, seconds),
        (error: unknown) => runtime.log.warn("due lag not measured", { job: entry.name, error: String(error) }),
      );
    }
    // Only a run that did something is worth a line; an idle minute would drown the log.
    if (worked > 0) runtime.log.info(entry.name, { ...report });
    return report;
  };
}
