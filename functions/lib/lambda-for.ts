/**
 * Every Lambda but the HTTP ones is one registry entry (packages/core/src/registry.ts) run by
 * this wiring: `export const handler = lambdaFor(enrollEntry, { nurture: nurturePorts }, sesMailer)`.
 * The function imports its entry alone, the builders of the ports that entry names (the types
 * check the set) and the SES mailer only if the entry may send email (else `noEmail`), so its
 * bundle carries only that use case, those stores and the clients it uses. It builds the ports
 * once per container, and nothing else (the Slack webhook secrets only for an entry that needs
 * them). A rule target gets its zod-parsed `{ rule, event }` input through `ruleTarget`; a
 * scheduled job runs once over what is due now.
 */
import type { HandlerEntry, JobEntry, JobSchedule, PortName, RegistryPorts } from "@leadloop/core/registry";
import { publishDueLag } from "./job-metrics";
import type { PortBuilders } from "./registry-ports";
import { ruleTarget, UnknownRuleError } from "./rule-target";
import { beginInvocation, type MailerFor, type Runtime, useRuntime } from "./runtime";

/** Margin left for a job's last writes before Lambda's timeout. */
const DEADLINE_MARGIN_MS = 3_000;

/** Lambda's remaining time as a deadline, less the margin; none outside Lambda. */
export function deadlineOf(context: unknown, now = Date.now()): number | undefined {
  const remaining = (context as { getRemainingTimeInMillis?: () => number } | undefined)?.getRemainingTimeInMillis?.();
  return remaining === undefined ? undefined : now + remaining - DEADLINE_MARGIN_MS;
}

/** The ports an entry names, built from the container's runtime. */
export function portsFor<P extends PortName>(entry: { ports: readonly P[] }, builders: PortBuilders<P>, runtime: Runtime): Pick<RegistryPorts, P> {
  return Object.fromEntries(entry.ports.map((name) => [name, builders[name](runtime)])) as Pick<RegistryPorts, P>;
}

export type LambdaHandler = (input: unknown, context?: unknown) => Promise<unknown>;

export function lambdaFor<P extends PortName>(entry: HandlerEntry<P> | JobEntry<P>, builders: PortBuilders<P>, mailerFor: MailerFor): LambdaHandler {
  // Built on the first invocation, with the runtime (whose secrets are read then), and kept.
  let ports: Pick<RegistryPorts, P> | undefined;
  if (entry.kind === "handler") {
    return ruleTarget(async (event, rule, runtime) => {
      // A rule of another target delivered here means the stacks and this code disagree.
      if (rule.target !== entry.target) throw new UnknownRuleError(rule.name);
      ports ??= portsFor(entry, builders, runtime);
      const result = await entry.handle(ports, event, rule);
      runtime.log.info(entry.name, { ...result });
    }, mailerFor);
  }
  return async (_event, context) => {
    const runtime = await useRuntime(mailerFor);
    ports ??= portsFor(entry, builders, runtime);
    beginInvocation(runtime.logger, context);
    return runJob(entry, ports, runtime, deadlineOf(context));
  };
}

async function runJob<P extends PortName>(entry: JobEntry<P>, ports: Pick<RegistryPorts, P>, runtime: Runtime, deadline: number | undefined) {
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
}

/**
 * A schedule of several jobs (registry `SCHEDULES`): one invocation runs each of them, side by
 * side under the same deadline. One failing never stops the others; the invocation fails after
 * all ran, naming those that failed, so its dead-letter queue and alarms see it as a job's would.
 */
export function lambdaForSchedule<P extends PortName>(schedule: Pick<JobSchedule, "name"> & { jobs: readonly JobEntry<P>[] }, builders: PortBuilders<P>, mailerFor: MailerFor): LambdaHandler {
  const ports = new Map<string, Pick<RegistryPorts, P>>();
  return async (_event, context) => {
    const runtime = await useRuntime(mailerFor);
    beginInvocation(runtime.logger, context);
    const deadline = deadlineOf(context);
    const runs = await Promise.allSettled(
      schedule.jobs.map((entry) => {
        const built = ports.get(entry.name) ?? portsFor(entry, builders, runtime);
        ports.set(entry.name, built);
        return runJob(entry, built, runtime, deadline);
      }),
    );
    const failed = schedule.jobs.filter((_, i) => runs[i]?.status === "rejected");
    if (failed.length > 0) {
      const errors = runs.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
      throw new AggregateError(errors, `${schedule.name}: ${failed.map((j) => j.name).join(", ")} failed; the next run takes what they left`);
    }
    return Object.fromEntries(schedule.jobs.map((entry, i) => [entry.name, (runs[i] as PromiseFulfilledResult<unknown>).value]));
  };
}
