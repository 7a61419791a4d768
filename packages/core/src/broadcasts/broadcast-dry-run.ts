/**
 * dryRunBroadcast: how many leads a broadcast would reach if it were sent now, and why the others
 * would not get it. It reads every lead through the same checks the send makes (audience, stage,
 * consent, suppression, frequency cap), and sends and writes nothing.
 */
import { UnknownBroadcastError } from "../errors";
import { exclusionAtSend, type BroadcastDeps } from "./send-broadcasts";
import { inAudience } from "./broadcast-audience";
import type { BroadcastTally, BroadcastState } from "./broadcast-store";

export interface BroadcastDryRun {
  broadcastId: string;
  /** Leads it would be sent to now. */
  recipients: number;
  /** Leads in the audience it would not be sent to, by reason. */
  excluded: Record<string, number>;
  /** Every lead read. */
  scanned: number;
}

export async function dryRunBroadcast(deps: BroadcastDeps, broadcastId: string): Promise<BroadcastDryRun> {
  const broadcast = deps.config.broadcasts.find((b) => b.id === broadcastId);
  if (!broadcast) throw new UnknownBroadcastError(broadcastId, deps.config.broadcasts.map((b) => b.id));
  const now = deps.clock.now();
  const result: BroadcastDryRun = { broadcastId, recipients: 0, excluded: {}, scanned: 0 };
  let cursor: string | undefined;
  do {
    const page = await deps.broadcasts.scanLeads(cursor, 500);
    result.scanned += page.leads.length;
    for (const lead of page.leads) {
      if (!inAudience(broadcast, lead, deps.config)) continue;
      const reason = await exclusionAtSend(deps, broadcast, lead, now);
      if (reason) result.excluded[reason] = (result.excluded[reason] ?? 0) + 1;
      else result.recipients++;
    }
    cursor = page.cursor;
  } while (cursor);
  return result;
}

export interface BroadcastProgress {
  broadcastId: string;
  status: BroadcastState["status"] | "not-started";
  queued: number;
  sent: number;
  skipped: number;
  uncertain: number;
  /** Queued and not settled yet. */
  remaining: number;
}

/** Where a broadcast is: queued so far, and what became of them (read from sharded tallies, never one hot counter). */
export async function broadcastProgress(deps: Pick<BroadcastDeps, "broadcasts" | "config">, broadcastId: string): Promise<BroadcastProgress> {
  if (!deps.config.broadcasts.some((b) => b.id === broadcastId)) {
    throw new UnknownBroadcastError(broadcastId, deps.config.broadcasts.map((b) => b.id));
  }
  const [state, tally] = await Promise.all([deps.broadcasts.getState(broadcastId), deps.broadcasts.tally(broadcastId)]);
  const settled = (t: BroadcastTally) => t.sent + t.skipped + t.uncertain;
  const queued = state?.queued ?? 0;
  return { broadcastId, status: state?.status ?? "not-started", queued, ...tally, remaining: Math.max(0, queued - settled(tally)) };
}
