/**
 * Reliable events: an event a consumer needs for correctness (`lead.closed`, `lead.assigned`, a
 * tier change…) reaches the bus at least once, whatever PutEvents or the process does. It is
 * written to the outbox in the same store write as the state change it announces, so the two
 * cannot be separated; the producer then publishes it at once and removes the entry. Whatever is
 * left (the bus refused it, the process died in between) falls due after a grace period and
 * `republishEvents` publishes it. Consumers therefore take each event at least once, and they are
 * idempotent per event (a closure, an assignment and a tier change each carry their own key).
 */
import { sweepDueIndex } from "./due-index";
import type { Clock, EventPublisher, LeadStore, PendingEvent } from "./ports";
import type { EventType, TypedBusEvent } from "./events";

/** The producer's own publish gets this long before the republisher may take the entry. */
export const OUTBOX_GRACE_MS = 2 * 60_000;
/** A republisher holds an entry this long; if it dies, the entry is due again then. */
export const OUTBOX_LEASE_MS = 60_000;
const REPUBLISH_BATCH = 100;
const REPUBLISH_SHARD_WORKERS = 4;

interface OutboxLog {
  info?(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
}

/**
 * The outbox entry for an event about a lead, to hand to the store write of its state change.
 * `key` names the event once per lead (the same key twice is one entry).
 */
export function pendingEvent<T extends EventType>(leadId: string, key: string, event: TypedBusEvent<T>, at: Date): PendingEvent {
  return {
    leadId,
    key: `${event.type}#${key}`,
    event: { ...event, time: event.time ?? at.toISOString() },
    dueAt: new Date(at.getTime() + OUTBOX_GRACE_MS).toISOString(),
  };
}

/**
 * Publishes events whose outbox entries were just stored, and removes the entries. Never throws:
 * the state change is stored and its events are safe in the outbox, so a refused publish only
 * means the republisher announces them later.
 */
export async function announcePending(deps: { leads: LeadStore; publisher: EventPublisher; log?: OutboxLog }, pending: PendingEvent[]): Promise<boolean> {
  if (pending.length === 0) return true;
  try {
    await deps.publisher.publish(pending.map((p) => p.event));
  } catch (error) {
    deps.log?.warn("event not published; the republisher will announce it", {
      leadId: pending[0]?.leadId,
      types: pending.map((p) => p.event.type),
      error: String(error),
    });
    return false;
  }
  // Published; an entry left behind here is only announced once more, which consumers tolerate.
  await deps.leads.removePendingEvents(pending).catch((error: unknown) =>
    deps.log?.warn("announced event left in the outbox; it may be announced again", { leadId: pending[0]?.leadId, error: String(error) }),
  );
  return true;
}

/**
 * Publish first, keep what the bus refused: for a producer whose state change is redone, with its
 * event announced again, by a redelivery of what it handles until this returns (the hand-off,
 * whose lead moves to sales only afterwards). Costs no store write when the bus takes the events;
 * when it refuses them they are stored for the republisher, and when that fails too it throws, so
 * the delivery fails and is retried.
 */
export async function announceOrKeep(deps: { leads: LeadStore; publisher: EventPublisher; log?: OutboxLog }, pending: PendingEvent[]): Promise<void> {
  if (pending.length === 0) return;
  try {
    await deps.publisher.publish(pending.map((p) => p.event));
    return;
  } catch (error) {
    deps.log?.warn("event not published; kept for the republisher", {
      leadId: pending[0]?.leadId,
      types: pending.map((p) => p.event.type),
      error: String(error),
    });
  }
  await deps.leads.keepPendingEvents(pending);
}

export interface RepublishReport {
  /** Entries found due. */
  due: number;
  announced: number;
  /** Entries another republisher held. */
  lost: number;
  /** Entries the bus refused again; each is due again when its lease ends. */
  failed: number;
  /** Entries left for the next run because the deadline was near. */
  deferred: number;
}

/**
 * The outbox republisher, run on a schedule: every event whose producer did not get it onto the
 * bus is published now. Each entry is claimed first (a lease), so overlapping runs publish it
 * once; one refused again stays for a later run, after the others were tried.
 */
export async function republishEvents(
  deps: { leads: LeadStore; publisher: EventPublisher; clock: Clock; log?: OutboxLog },
  options: { deadline?: number; batch?: number } = {},
): Promise<RepublishReport> {
  const now = deps.clock.now();
  const report: RepublishReport = { due: 0, announced: 0, lost: 0, failed: 0, deferred: 0 };
  const until = new Date(now.getTime() + OUTBOX_LEASE_MS).toISOString();
  const swept = await sweepDueIndex(
    { shards: deps.leads.outboxShards, listDue: (shard, upTo, limit) => deps.leads.listPendingEvents(shard, upTo, limit) },
    async (pending: PendingEvent) => {
      if (!(await deps.leads.claimPendingEvent(pending, until))) {
        report.lost++;
        return;
      }
      await deps.publisher.publish([pending.event]);
      await deps.leads.removePendingEvents([pending]);
      report.announced++;
    },
    {
      upTo: now.toISOString(),
      batch: options.batch ?? REPUBLISH_BATCH,
      shardWorkers: REPUBLISH_SHARD_WORKERS,
      ...(options.deadline !== undefined ? { deadline: options.deadline } : {}),
      onError: (pending, error) =>
        deps.log?.warn("event still not published; it stays in the outbox", { leadId: pending.leadId, type: pending.event.type, error: String(error) }),
      onShardError: (shard, error) => deps.log?.warn("outbox shard not read; it is read again next run", { shard, error: String(error) }),
    },
  );
  report.due = swept.due;
  report.failed = swept.failed;
  report.deferred = swept.deferred;
  if (report.announced > 0) deps.log?.info?.("announced events the bus had not taken", { announced: report.announced });
  return report;
}
