/**
 * The registry of handlers and jobs: every rule target on the bus and every scheduled job, once.
 * The Lambda entry points (functions/), the SST stacks (rules, schedules, IAM) and the local stack
 * (bus subscriptions and the timer) are all generated from this list, so they cannot drift: a
 * handler written here runs the same in AWS and on a laptop, and an entry dropped here is gone
 * everywhere at once. Adding a job is one entry in `JOBS`.
 */
import { type BroadcastStore, runBroadcasts } from "./broadcasts/index";
import { recycleDueLeads } from "./feedback/recycle-due-leads";
import { applyOutcome, type FeedbackDeps } from "./feedback/apply-outcome";
import { republishPending } from "./capture";
import { handleEngagementEvent } from "./engagement/engagement-handler";
import { republishQualifications } from "./engagement/record-behaviour";
import type { LeadRecordStore } from "./data-ops/lead-records";
import { dueLag } from "./due-index";
import { republishEvents } from "./events-outbox";
import { settleConfirmations } from "./nurture/confirmation";
import { enrollLead, exitEnrollments, type NurtureDeps } from "./nurture/enroll";
import { sendFollowUp } from "./nurture/follow-up";
import { sweepDueSteps } from "./nurture/sweeper";
import { recordReportEvent, type ReportDeps } from "./reports/record-report-event";
import { settleExpiredPoints } from "./rewards/expire-points";
import type { RewardsDeps } from "./rewards/ledger-booking";
import { allRules, type EventEnvelope, type RoutingRule } from "./routing/routing-rules";
import type { LeadloopConfig } from "./config/schema";
import { checkClaimSlas } from "./sales/claim-sla";
import { handOff } from "./sales/handoff";
import { retryNotifications } from "./sales/handoff-notification";
import type { SalesDeps } from "./sales/sales-deps";
import { deliverWebhooks, retryWebhooks, type WebhookDeps } from "./integrations/webhooks";

/**
 * What a function may do in AWS beyond logging; infra turns each into IAM statements (or, for
 * `slack`, binds the teams' webhook secrets). Locally every port is there anyway.
 */
export type Capability = "table" | "publish" | "send-email" | "slack" | "webhooks";

/** The port bundles the use cases take; an entry names the ones it needs, and only those are built. */
export interface RegistryPorts {
  nurture: NurtureDeps;
  sales: SalesDeps;
  feedback: FeedbackDeps;
  reports: ReportDeps;
  /** What erasing a lead deletes (an unconfirmed lead is deleted when its link expires). */
  records: LeadRecordStore;
  /** Broadcasts' run state, recipients and tallies. */
  broadcasts: BroadcastStore;
  /** Outgoing webhooks: deliveries, the endpoints' URLs and keys, the HTTP sender. */
  webhooks: WebhookDeps;
  /** Customers' points ledgers and accounts, with what the tier-change email needs. */
  rewards: RewardsDeps;
}
export type PortName = keyof RegistryPorts;

/** A use case's result, logged by whoever ran it; `worked` counts the items it acted on. */
export interface RunReport {
  [key: string]: unknown;
}

interface EntryBase<P extends PortName> {
  /** Stable: it names the Lambda (functions/<name>.ts), its logical id and its dead-letter queue. */
  name: string;
  ports: readonly P[];
  capabilities: readonly Capability[];
  /** The function's timeout in AWS. */
  timeoutSeconds: number;
}

export interface HandlerEntry<P extends PortName = PortName> extends EntryBase<P> {
  kind: "handler";
  /** Receives every rule of `allRules` with this target (one per sequence for `enroll`). */
  target: RoutingRule["target"];
  /** A thrown error means "retry me" (the delivery policy decides how often, then dead-letters it). */
  handle(ports: Pick<RegistryPorts, P>, event: EventEnvelope, rule: RoutingRule): Promise<RunReport>;
  /** Runs on every bus event: its result is not worth a log line each time. */
  quiet?: boolean;
}

export interface JobEntry<P extends PortName = PortName> extends EntryBase<P> {
  kind: "job";
  /** How often the schedule fires in AWS, in minutes. Locally the clock runs every job at each due moment. */
  everyMinutes: number;
  /**
   * One run over what is due now. `more` says a run stopped at its batch size with work left: the
   * local clock runs it again at once, while in AWS the next scheduled run takes the rest.
   */
  run(ports: Pick<RegistryPorts, P>, options: JobRunOptions): Promise<JobRunResult>;
  /**
   * For a job that sweeps a due index: how late it is after a run (the age in seconds of the oldest
   * entry still due, see `dueLag`). The Lambda wiring publishes it as a metric the stage alarms on.
   */
  lag?(ports: Pick<RegistryPorts, P>): Promise<number>;
}

export interface JobRunResult {
  worked: number;
  more?: boolean;
  /**
   * Some of what was due could not be handled (a store failure); it stays due and the next run
   * takes it. In AWS that is the next scheduled run; locally the clock runs the job again a
   * minute later, as that cron run would.
   */
  incomplete?: boolean;
  report: RunReport;
}

export interface JobRunOptions {
  /**
   * Real time (epoch ms) by which the run must have finished: in AWS the invocation's remaining
   * time less a margin; locally none. Jobs that sweep a due index take no entry they cannot finish.
   */
  deadline?: number;
}

export type RegistryEntry = HandlerEntry | JobEntry;

const withDeadline = (options: JobRunOptions) => (options.deadline !== undefined ? { deadline: options.deadline } : {});

const leadIdOf = (event: EventEnvelope): string | undefined =>
  typeof event.detail.leadId === "string" ? event.detail.leadId : undefined;

/**
 * Pins each entry's port names to its function's argument type, and keeps them in the entry's type:
 * the entry's Lambda wiring (`lambdaFor`) is then checked to build exactly those ports.
 */
const handler = <P extends PortName>(entry: Omit<HandlerEntry<P>, "kind">): HandlerEntry<P> => ({ kind: "handler", ...entry });
const job = <P extends PortName>(entry: Omit<JobEntry<P>, "kind">): JobEntry<P> => ({ kind: "job", ...entry });

// Sends double-opt-in confirmations but publishes nothing (the confirmation route announces).
export const enrollEntry = /* @__PURE__ */ handler({
  name: "enroll",
  target: "enroll",
  ports: ["nurture"],
  capabilities: ["table", "send-email"],
  timeoutSeconds: 30,
  async handle({ nurture }, event, rule) {
    if (rule.target !== "enroll") throw new Error(`enroll got the ${rule.target} rule ${rule.name}`);
    const leadId = leadIdOf(event);
    if (!leadId) return { skipped: "event names no lead" };
    // A lead not stored yet throws LeadNotYetStoredError while the event is fresh: the delivery
    // policy's retries bring it back once the capture has stored the lead.
    const result = await enrollLead(nurture, { leadId, sequenceId: rule.sequenceId, eventTime: event.time });
    return { sequenceId: rule.sequenceId, result };
  },
});

// The `engagement` rule (SES's events) and the `score` rule (lead captured, updated, recycled).
export const engagementEntry = /* @__PURE__ */ handler({
  name: "engagement",
  target: "engagement",
  ports: ["nurture"],
  capabilities: ["table", "publish"],
  timeoutSeconds: 30,
  async handle({ nurture }, event) {
    return { ...(await handleEngagementEvent(nurture, event)) };
  },
});

export const handoffEntry = /* @__PURE__ */ handler({
  name: "handoff",
  target: "handoff",
  ports: ["sales"],
  capabilities: ["table", "publish", "send-email", "slack"],
  timeoutSeconds: 30,
  async handle({ sales }, event) {
    const result = await handOff(sales, event.detail);
    return result.status === "assigned"
      ? { status: result.status, leadId: result.item.leadId, teamId: result.item.teamId, rep: result.item.rep, notified: result.notified }
      : { status: result.status };
  },
});

// A form's follow-up email; the message id derived from the submission makes a redelivery send nothing.
export const followUpEntry = /* @__PURE__ */ handler({
  name: "follow-up",
  target: "follow-up",
  ports: ["nurture"],
  capabilities: ["table", "send-email"],
  timeoutSeconds: 30,
  async handle({ nurture }, event) {
    const leadId = leadIdOf(event);
    if (!leadId) return { skipped: "event names no lead" };
    if (event["detail-type"] === "lead.captured") {
      const formId = typeof event.detail.formId === "string" ? event.detail.formId : undefined;
      if (!formId || !nurture.config.forms[formId]?.followUp) return { skipped: "the form has no follow-up" };
      const submission = typeof event.detail.submittedAt === "string" ? event.detail.submittedAt : event.id;
      return { result: await sendFollowUp(nurture, { leadId, formId, submission, eventTime: event.time }) };
    }
    // Confirmed: the follow-up the double opt-in held back, for the form the lead confirmed.
    const lead = await nurture.leads.getLead(leadId);
    if (!lead) return { skipped: "no such lead" };
    return { result: await sendFollowUp(nurture, { leadId, formId: lead.lastTouch.formId, submission: "confirmed" }) };
  },
});

export const feedbackEntry = /* @__PURE__ */ handler({
  name: "feedback",
  target: "feedback",
  ports: ["feedback"],
  capabilities: ["table", "publish"],
  timeoutSeconds: 30,
  async handle({ feedback }, event) {
    return { outcome: event.detail.outcome, result: await applyOutcome(feedback, event.detail) };
  },
});

export const exitEntry = /* @__PURE__ */ handler({
  name: "exit",
  target: "exit",
  ports: ["nurture"],
  capabilities: ["table"],
  timeoutSeconds: 30,
  quiet: true,
  async handle({ nurture }, event) {
    const leadId = leadIdOf(event);
    if (!leadId) return { skipped: "event names no lead" };
    return { ended: await exitEnrollments(nurture, { leadId, event: event["detail-type"] }) };
  },
});

export const reportEntry = /* @__PURE__ */ handler({
  name: "report",
  target: "report",
  ports: ["reports"],
  capabilities: ["table"],
  timeoutSeconds: 30,
  quiet: true,
  async handle({ reports }, event) {
    return { outcome: await recordReportEvent(reports, event) };
  },
});

// Stores each subscribed endpoint's delivery and tries it once; webhook-retries takes the rest.
export const webhooksEntry = /* @__PURE__ */ handler({
  name: "webhooks",
  target: "webhooks",
  ports: ["webhooks"],
  capabilities: ["table", "webhooks"],
  timeoutSeconds: 30,
  async handle({ webhooks }, event) {
    return { ...(await deliverWebhooks(webhooks, event)) };
  },
});

/**
 * The targets of `allRules`, each one function in AWS. Each entry is exported on its own too: its
 * Lambda (functions/<name>.ts) imports just that entry, so its bundle carries only that use case.
 */
export const HANDLERS: readonly HandlerEntry[] = [enrollEntry, engagementEntry, handoffEntry, followUpEntry, feedbackEntry, exitEntry, reportEntry, webhooksEntry];

// A lead whose lead.captured no consumer saw within the grace is announced now; enrolling twice is harmless.
export const republisherEntry = /* @__PURE__ */ job({
  name: "republisher",
  ports: ["nurture"],
  capabilities: ["table", "publish"],
  timeoutSeconds: 60,
  everyMinutes: 5,
  async run({ nurture }) {
    const republished = await republishPending({ leads: nurture.leads, publisher: nurture.publisher, clock: nurture.clock });
    return { worked: republished, report: { republished } };
  },
});

// Recycle dates are days: a quarter-hour run is prompt enough, and each move is conditional.
export const recyclerEntry = /* @__PURE__ */ job({
  name: "recycler",
  ports: ["feedback"],
  capabilities: ["table", "publish"],
  timeoutSeconds: 60,
  everyMinutes: 15,
  async run({ feedback }, options) {
    const report = await recycleDueLeads(feedback, withDeadline(options));
    return { worked: report.due, report: { ...report } };
  },
});

// Sweeps each due shard under a lease, so overlapping runs are safe; one at a time (reserved
// concurrency 1, see infra) keeps the SES send rate true across the account.
export const sweeperEntry = /* @__PURE__ */ job({
  name: "sweeper",
  ports: ["nurture"],
  capabilities: ["table", "publish", "send-email"],
  timeoutSeconds: 60,
  everyMinutes: 1,
  async run({ nurture }, options) {
    const report = await sweepDueSteps(nurture, withDeadline(options));
    return { worked: report.due, more: report.due >= nurture.settings.batchSize, incomplete: report.failed > 0, report: { ...report } };
  },
  lag: ({ nurture }) => dueLag(nurture.nurture, (ref) => ref.dueAt, nurture.clock.now().toISOString()),
});

// One job for every broadcast: queues each audience page by page when its time comes, then
// sends to the recipients due, each claimed first. After the nurture sweep, so a lead's
// sequence step and a broadcast due at the same moment are both judged by the same cap.
export const broadcastsEntry = /* @__PURE__ */ job({
  name: "broadcasts",
  ports: ["nurture", "broadcasts"],
  capabilities: ["table", "publish", "send-email"],
  timeoutSeconds: 120,
  everyMinutes: 1,
  async run({ nurture, broadcasts }, options) {
    const report = await runBroadcasts({ ...nurture, broadcasts }, withDeadline(options));
    return {
      worked: report.due + report.queued,
      more: report.queueing || report.due >= nurture.settings.batchSize,
      incomplete: report.failed > 0,
      report: { ...report },
    };
  },
});

// Claim windows are hours long: five minutes late is on time. A reassignment notifies the next rep;
// a claim whose lead.claimed its request did not get onto the bus is announced.
export const claimSlaEntry = /* @__PURE__ */ job({
  name: "claim-sla",
  ports: ["sales"],
  capabilities: ["table", "publish", "send-email", "slack"],
  timeoutSeconds: 60,
  everyMinutes: 5,
  async run({ sales }, options) {
    const report = await checkClaimSlas(sales, withDeadline(options));
    return { worked: report.overdue + report.announced, incomplete: report.failed > 0, report: { ...report } };
  },
});

// A rep notice that failed (SES or Slack down) gets another try until it is delivered or given up.
export const notificationRetriesEntry = /* @__PURE__ */ job({
  name: "notification-retries",
  ports: ["sales"],
  // "publish": a retried hand-off may announce lead.assigned, which it could not before.
  capabilities: ["table", "publish", "send-email", "slack"],
  timeoutSeconds: 60,
  everyMinutes: 5,
  async run({ sales }, options) {
    const report = await retryNotifications(sales, withDeadline(options));
    return { worked: report.owed, incomplete: report.failed > 0, report: { ...report } };
  },
});

// Events written to the outbox with their state change (lead.closed, a reassignment's
// lead.assigned, tier changes) or kept there when the bus refused them are announced now. Every
// five minutes, with the other republishers (one function): an event the bus refused reaches it
// within the outbox's grace (2 minutes) and one run, as a lead.captured or lead.qualified does.
export const outboxRepublisherEntry = /* @__PURE__ */ job({
  name: "outbox-republisher",
  ports: ["nurture"],
  capabilities: ["table", "publish"],
  timeoutSeconds: 60,
  everyMinutes: 5,
  async run({ nurture }, options) {
    const report = await republishEvents(nurture, withDeadline(options));
    return { worked: report.due, report: { ...report } };
  },
});

// Double opt-in: a confirmation email that failed is sent again, and a lead whose link expired unconfirmed is deleted.
export const confirmationsEntry = /* @__PURE__ */ job({
  name: "confirmations",
  ports: ["nurture", "records"],
  capabilities: ["table", "send-email"],
  timeoutSeconds: 60,
  everyMinutes: 5,
  async run({ nurture, records }, options) {
    const report = await settleConfirmations({ ...nurture, records }, withDeadline(options));
    return { worked: report.due, report: { ...report } };
  },
});

// Webhook deliveries whose receiver failed are tried again with back-off, for a day.
export const webhookRetriesEntry = /* @__PURE__ */ job({
  name: "webhook-retries",
  ports: ["webhooks"],
  capabilities: ["table", "webhooks"],
  timeoutSeconds: 60,
  everyMinutes: 1,
  async run({ webhooks }, options) {
    const report = await retryWebhooks(webhooks, withDeadline(options));
    return { worked: report.due, incomplete: report.deferred > 0, report: { ...report } };
  },
});

// Points lapse on their date: each account whose next expiry came is settled, and a customer
// who drops a tier gets the tier-change email. Expiry dates are days: a quarter hour is prompt.
export const pointsExpiryEntry = /* @__PURE__ */ job({
  name: "points-expiry",
  ports: ["rewards"],
  capabilities: ["table", "publish", "send-email"],
  timeoutSeconds: 60,
  everyMinutes: 15,
  async run({ rewards }, options) {
    const report = await settleExpiredPoints(rewards, withDeadline(options));
    return { worked: report.due, incomplete: report.failed > 0, report: { ...report } };
  },
});

// A qualification whose lead.qualified every retry failed to publish is announced now.
export const qualificationRepublisherEntry = /* @__PURE__ */ job({
  name: "qualification-republisher",
  ports: ["nurture"],
  capabilities: ["table", "publish"],
  timeoutSeconds: 60,
  everyMinutes: 5,
  async run({ nurture }) {
    const reannounced = await republishQualifications(nurture);
    return { worked: reannounced, report: { reannounced } };
  },
});

/**
 * The scheduled jobs, in the order the local clock runs them at each moment: announcements first
 * (so enrollments exist), recycling before the sweep (a recycled lead's first step is then waiting
 * for it), the sweep, then the sales side, then qualifications the bus never saw.
 */
export const JOBS: readonly JobEntry[] = [republisherEntry, recyclerEntry, sweeperEntry, broadcastsEntry, claimSlaEntry, notificationRetriesEntry, outboxRepublisherEntry, confirmationsEntry, webhookRetriesEntry, pointsExpiryEntry, qualificationRepublisherEntry];

/**
 * What cron invokes in AWS: each schedule is one function on one rate, running its jobs together
 * (each its own run, one failing never stopping the others). Jobs of the same cadence, ports'
 * kind and capabilities share one, so a tick costs one invocation however many jobs it runs; the
 * rest keep a function of their own (the sweeper and the broadcasts send for most of their
 * minute, the webhook retries hold the endpoints' secrets, the others differ in what they may do).
 * Locally the clock runs every job at each due moment, so a schedule changes nothing there.
 */
export interface JobSchedule<P extends PortName = PortName> {
  /** Names the function (functions/<name>.ts): the job's own name for a schedule of one job. */
  name: string;
  jobs: readonly JobEntry<P>[];
  /** Every job of a schedule runs at this cadence (`scheduled` refuses jobs that differ). */
  everyMinutes: number;
}

/** A schedule at its jobs' own cadence, which they must share. */
function scheduled<P extends PortName>(name: string, jobs: readonly [JobEntry<P>, ...JobEntry<P>[]]): JobSchedule<P> {
  const everyMinutes = jobs[0].everyMinutes;
  const other = jobs.find((job) => job.everyMinutes !== everyMinutes);
  if (other) throw new Error(`Schedule ${name} runs every ${everyMinutes} minutes, but its job ${other.name} every ${other.everyMinutes}.`);
  return { name, jobs, everyMinutes };
}

const alone = (entry: JobEntry): JobSchedule => scheduled(entry.name, [entry]);

/** The three republishers: announcements the bus refused (captures, the outbox, qualifications). */
export const republishersSchedule = /* @__PURE__ */ scheduled("republishers", [republisherEntry, outboxRepublisherEntry, qualificationRepublisherEntry]);

/** The sales queue's checks: claim windows that closed, rep notifications owed. */
export const salesChecksSchedule = /* @__PURE__ */ scheduled("sales-checks", [claimSlaEntry, notificationRetriesEntry]);

// Each call is marked pure, as the entries are: a function's bundle keeps only the jobs it runs.
export const SCHEDULES: readonly JobSchedule[] = [
  /* @__PURE__ */ alone(sweeperEntry),
  /* @__PURE__ */ alone(broadcastsEntry),
  /* @__PURE__ */ alone(webhookRetriesEntry),
  republishersSchedule,
  salesChecksSchedule,
  /* @__PURE__ */ alone(confirmationsEntry),
  /* @__PURE__ */ alone(recyclerEntry),
  /* @__PURE__ */ alone(pointsExpiryEntry),
];

/** The schedule that runs a job (every job is in exactly one, a registry test pins it). */
export function scheduleOf(entry: JobEntry): JobSchedule {
  const schedule = SCHEDULES.find((s) => s.jobs.includes(entry));
  if (!schedule) throw new UnknownEntryError(entry.name);
  return schedule;
}

export const REGISTRY: readonly RegistryEntry[] = /* @__PURE__ */ (HANDLERS as readonly RegistryEntry[]).concat(JOBS);

export class UnknownEntryError extends Error {
  override readonly name = "UnknownEntryError";
  constructor(readonly entryName: string) {
    super(`No handler or job named "${entryName}" in the registry (packages/core/src/registry.ts); known: ${REGISTRY.map((e) => e.name).join(", ")}.`);
  }
}

/**
 * The entry of a function (functions/<name>.ts): its handler or job, or for a schedule of several
 * jobs (named after none of them) its first job, whose trigger, the schedule, the function shares.
 */
export function registryEntry(name: string): RegistryEntry {
  const entry = REGISTRY.find((e) => e.name === name) ?? SCHEDULES.find((s) => s.name === name)?.jobs[0];
  if (!entry) throw new UnknownEntryError(name);
  return entry;
}

/** The handler of a rule target. Every target of `allRules` has one (a registry test pins it). */
export function handlerFor(target: RoutingRule["target"]): HandlerEntry | undefined {
  return HANDLERS.find((h) => h.target === target);
}

/** A handler's trigger: the routing rules that deliver to it. */
export function rulesOf(entry: HandlerEntry, config: Pick<LeadloopConfig, "sequences">): RoutingRule[] {
  return allRules(config).filter((rule) => rule.target === entry.target);
}

/** The schedule expression EventBridge Scheduler / a CloudWatch rule understands. */
export function scheduleExpression(entry: Pick<JobEntry, "everyMinutes">): string {
  return `rate(${entry.everyMinutes} ${entry.everyMinutes === 1 ? "minute" : "minutes"})`;
}
