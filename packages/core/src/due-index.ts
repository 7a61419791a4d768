/**
 * The due index: work that falls due later (a nurture step, a recycle date, a claim deadline, an
 * owed notification, an event waiting for the bus) is an entry in a sparse, sharded index sorted
 * by due time, and a scheduled job sweeps it. `sweepDueIndex` is that sweep, written once: every
 * entry due in the shards is offered to the job once per sweep, shards and entries a few at a
 * time, one entry's failure never stops the others, and no entry is taken once the deadline
 * leaves no time to finish it, so a run cut short by its timeout leaves nothing half-done.
 *
 * What an entry means, and how it is claimed, acted on and settled, stays with each job (its
 * `handle`); a store only answers "what is due in this shard" (`listDue`).
 */

/** One sparse, sharded index as a store exposes it. */
export interface DueIndex<Ref> {
  readonly shards: number;
  /** Entries of one shard due at or before `upTo`, oldest first. */
  listDue(shard: number, upTo: string, limit: number): Promise<Ref[]>;
}

/** A handler resolving this ends the sweep after the entries already in hand (it saw its deadline coming). */
export const STOP_SWEEP = "stop";

export interface DueSweepOptions<Ref> {
  /** The index's "now" (the injected clock): entries due at or before it are swept. */
  upTo: string;
  /** Entries read per shard and sweep. */
  batch: number;
  /** Shards to sweep; default all. */
  shards?: number[];
  /** Shards swept at once; default 1. */
  shardWorkers?: number;
  /** Entries of one shard in hand at once; default 1. */
  itemsPerShard?: number;
  /**
   * Real time (epoch ms) by which the sweep must have finished, e.g. from Lambda's
   * `getRemainingTimeInMillis`. No entry is taken later than `deadline - itemBudgetMs`, nor
   * when it and the entries in hand would not all finish by the deadline at the cost learned.
   */
  deadline?: number;
  /**
   * Real time one entry needs from being taken to being settled, at least; default 1 s. The sweep
   * learns what entries really cost as they finish (a slow or throttled table can need more) and
   * takes an entry only if it and those in hand fit before the deadline.
   */
  itemBudgetMs?: number;
  /** Real time, injected for tests. */
  nowMs?: () => number;
  /**
   * Called for an entry whose handling threw; it stays in the index for the next sweep. Without
   * it, the sweep finishes the other entries and then throws the first error.
   */
  onError?: (ref: Ref, error: unknown) => void;
  /** Likewise for a shard that could not be read; the other shards are swept all the same. */
  onShardError?: (shard: number, error: unknown) => void;
}

export interface DueSweepReport {
  /** Entries read from the index. */
  due: number;
  handled: number;
  failed: number;
  /** Entries read but left for the next sweep because the deadline was near. */
  deferred: number;
  /** Whether the sweep ended early (deadline or a job's `stop`). */
  stopped: boolean;
}

export const DEFAULT_ITEM_BUDGET_MS = 1_000;

export async function sweepDueIndex<Ref>(
  index: DueIndex<Ref>,
  handle: (ref: Ref) => Promise<unknown>,
  options: DueSweepOptions<Ref>,
): Promise<DueSweepReport> {
  const report: DueSweepReport = { due: 0, handled: 0, failed: 0, deferred: 0, stopped: false };
  const nowMs = options.nowMs ?? Date.now;
  const floor = options.itemBudgetMs ?? DEFAULT_ITEM_BUDGET_MS;
  // What one entry costs the table, learned from the entries finished: each one's time over the
  // entries in hand with it (where the table serves one request at a time, as DynamoDB Local or a
  // throttled partition does, k entries in hand each take k times as long). An entry is taken
  // only if it and those in hand fit before the deadline, and never on less than the floor.
  let perEntryMs = 0;
  let inHand = 0;
  const timeLeft = () => options.deadline === undefined || nowMs() + Math.max(floor, (inHand + 1) * perEntryMs) <= options.deadline;
  const queue = [...(options.shards ?? Array.from({ length: index.shards }, (_, i) => i))];
  let firstError: { error: unknown } | undefined;
  // With a deadline, the first entry runs alone, so the cost is known before a full set of
  // entries is taken on the guess (a sweep that starts late in its run would otherwise take them
  // all at once and end after the deadline).
  let probe: Promise<void> | undefined;

  const take = async (ref: Ref) => {
    const startedAt = nowMs();
    const sharing = ++inHand;
    try {
      if ((await handle(ref)) === STOP_SWEEP) {
        // The job declined this entry (it could not finish it in time): it stays due.
        report.stopped = true;
        report.deferred++;
      } else report.handled++;
    } catch (error) {
      report.failed++;
      if (options.onError) options.onError(ref, error);
      else firstError ??= { error };
    } finally {
      inHand--;
      perEntryMs = Math.max(perEntryMs, (nowMs() - startedAt) / sharing);
    }
  };

  const worker = async () => {
    for (let shard = queue.shift(); shard !== undefined && !report.stopped; shard = queue.shift()) {
      if (!timeLeft()) {
        report.stopped = true;
        break;
      }
      let due: Ref[];
      try {
        due = await index.listDue(shard, options.upTo, options.batch);
      } catch (error) {
        report.failed++;
        if (options.onShardError) options.onShardError(shard, error);
        else firstError ??= { error };
        continue;
      }
      report.due += due.length;
      let next = 0;
      const lane = async () => {
        for (let i = next++; i < due.length; i = next++) {
          if (probe) await probe;
          if (report.stopped || !timeLeft()) {
            report.stopped = true;
            report.deferred += due.length - i;
            // The other lanes stop too; what they had not taken is counted here once.
            next = due.length;
            return;
          }
          if (options.deadline !== undefined && !probe) {
            probe = take(due[i] as Ref);
            await probe;
          } else await take(due[i] as Ref);
        }
      };
      await Promise.all(Array.from({ length: Math.min(options.itemsPerShard ?? 1, due.length) }, lane));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.shardWorkers ?? 1, queue.length)) }, worker));
  if (firstError) throw firstError.error;
  return report;
}

/**
 * Runs a key's items (e.g. one lead's, one per sequence in any shard) one after another within a
 * sweep, so each sees what the one before it wrote.
 */
export function oneAtATimePer<Ref, R>(keyOf: (ref: Ref) => string, run: (ref: Ref) => Promise<R>): (ref: Ref) => Promise<R> {
  const tails = new Map<string, Promise<unknown>>();
  return (ref) => {
    const key = keyOf(ref);
    const done = (tails.get(key) ?? Promise.resolve()).then(() => run(ref));
    const tail = done.then(
      () => undefined,
      () => undefined,
    );
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return done;
  };
}

/**
 * How late the sweep is: the age in seconds of the oldest entry due at or before `upTo` across the
 * shards (0 when nothing is due). Entries are read one per shard, oldest first, so it costs one
 * query per shard whatever the backlog. An operator alarms on it: a sweeper that is failing,
 * throttled or outpaced shows here long before a lead notices a late email.
 */
export async function dueLag<Ref>(index: DueIndex<Ref>, dueAtOf: (ref: Ref) => string, upTo: string): Promise<number> {
  const now = Date.parse(upTo);
  let oldest = now;
  for (let shard = 0; shard < index.shards; shard++) {
    const [first] = await index.listDue(shard, upTo, 1);
    if (first !== undefined) oldest = Math.min(oldest, Date.parse(dueAtOf(first)));
  }
  return Math.max(0, Math.round((now - oldest) / 1000));
}
