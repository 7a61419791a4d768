/**
 * checkClaimSlas: a lead nobody claims in time does not rot. Each unclaimed item whose claim
 * window closed moves to the next rep (both are told) with a fresh window; once the team's
 * `maxMisses` windows have passed it goes to the escalation contact instead. Every move is a
 * conditional write on the rep and deadline read, so two checkers never move a lead twice. A
 * claimed item still in the index is a claim whose `lead.claimed` may not have reached the bus:
 * it is announced (again: consumers take an event at least once) once its reminder falls due.
 */
import { sweepDueIndex } from "../due-index";
import { durationMs } from "../duration-ms";
import { FIRST_RETRY_AFTER_MS, formatTime, notifyQueueItem, sendNotice } from "./handoff-notification";
import { leadloopEvent } from "../events";
import { announcePending, pendingEvent } from "../events-outbox";
import { announceClaim } from "./claim";
import { findTeam, type SalesDeps } from "./sales-deps";
import type { QueueItem, QueueRef } from "./sales-store";
import { nextRepAfter } from "./team-assignment";

export interface SlaReport {
  overdue: number;
  reassigned: number;
  escalated: number;
  /** Items another checker (or a claim) changed first. */
  lost: number;
  /** Claims whose `lead.claimed` the claiming request did not get onto the bus, announced now. */
  announced: number;
  /** Shards or items whose check failed (a store outage); each is overdue again at the next run. */
  failed: number;
}

/** `options` may be the batch size alone (the older signature). */
export async function checkClaimSlas(deps: SalesDeps, options: number | { limit?: number; deadline?: number } = {}): Promise<SlaReport> {
  const { limit = 100, deadline } = typeof options === "number" ? { limit: options } : options;
  const report: SlaReport = { overdue: 0, reassigned: 0, escalated: 0, lost: 0, announced: 0, failed: 0 };
  const now = deps.clock.now();
  await sweepDueIndex(
    { shards: deps.sales.slaShards, listDue: (shard, upTo, batch) => deps.sales.listOverdue(shard, upTo, batch) },
    async (ref: QueueRef) => {
      const item = await deps.sales.getQueueItem(ref);
      // A claim's reminder that fell due: its request did not announce it (the bus refused, or it died).
      if (item?.claimedBy && item.announceClaimAt !== undefined) {
        if (item.announceClaimAt > now.toISOString()) return;
        await announceClaim(deps, item);
        report.announced++;
        return;
      }
      if (!item || item.claimedBy || item.escalatedAt || item.claimBy > now.toISOString()) return;
      report.overdue++;
      const outcome = await missed(deps, item, now);
      report[outcome]++;
    },
    {
      upTo: now.toISOString(),
      batch: limit,
      ...(deadline !== undefined ? { deadline } : {}),
      // One shard or item failing must not stop the others (nor the jobs run after this one): it
      // stays due and the next run takes it again.
      onError: (ref, error) => {
        report.failed++;
        deps.log?.warn("claim SLA not checked; it stays overdue", { leadId: ref.leadId, error: String(error) });
      },
      onShardError: (shard, error) => {
        report.failed++;
        deps.log?.warn("claim SLA not checked; it stays overdue", { shard, error: String(error) });
      },
    },
  );
  return report;
}

async function missed(deps: SalesDeps, item: QueueItem, now: Date): Promise<"reassigned" | "escalated" | "lost"> {
  const at = now.toISOString();
  const team = findTeam(deps, item.teamId);
  const misses = item.misses + 1;
  const lead = await deps.leads.getLead(item.leadId);
  const who = lead ? [lead.profile.firstName, lead.profile.lastName].filter(Boolean).join(" ") || lead.email : item.leadId;
  const from = { rep: item.rep, claimBy: item.claimBy };

  if (!team || misses >= team.maxMisses) {
    if (!(await deps.sales.escalate(item, from, misses, at))) return "lost";
    await deps.leads.appendActivity(item.leadId, { type: "lead.escalated", at, data: { teamId: item.teamId, rep: item.rep, misses } });
    if (team) {
      await tell(deps, item.leadId, team.escalation.email, `Escalation: ${who} has not been claimed`, [
        `Hi ${team.escalation.name ?? "there"}, the lead ${who} qualified for ${team.name} but nobody claimed it in ${misses} claim window(s) of ${team.claimSla}.`,
        `It was last with ${item.repName} <${item.rep}>. Please see that someone on the team claims it.`,
      ]);
    }
    return "escalated";
  }

  const next = nextRepAfter(team, item.rep);
  const to = {
    rep: next.email,
    repName: next.name,
    claimBy: new Date(now.getTime() + durationMs(team.claimSla)).toISOString(),
    misses,
    assignedAt: at,
    notifyAfter: new Date(now.getTime() + FIRST_RETRY_AFTER_MS).toISOString(),
  };
  const assigned = pendingEvent(
    item.leadId,
    `${item.teamId}#${item.qualifiedAt}#${misses}`,
    leadloopEvent("lead.assigned", { leadId: item.leadId, teamId: item.teamId, rep: next.email, queuedAt: at, claimBy: to.claimBy }),
    now,
  );
  if (!(await deps.sales.reassign(item, from, to, [assigned]))) return "lost";
  await deps.leads.appendActivity(item.leadId, {
    type: "lead.reassigned",
    at,
    data: { teamId: item.teamId, from: item.rep, rep: next.email, misses, claimBy: to.claimBy },
  });
  await tell(deps, item.leadId, item.rep, `Lead moved on: ${who}`, [
    `Hi ${item.repName}, the lead ${who} was not claimed by ${formatTime(item.claimBy)}, so it has moved to ${next.name}.`,
  ]);
  await announcePending(deps, [assigned]);
  const moved: QueueItem = { ...item, ...to, notifyAttempts: 0 };
  delete moved.emailedAt;
  delete moved.chattedAt;
  delete moved.notifiedAt;
  await notifyQueueItem(deps, moved, { reassignedFrom: item.repName });
  return "reassigned";
}

/** Notices are best effort: the move is already stored, and the new rep's email is retried on its own. */
async function tell(deps: SalesDeps, leadId: string, to: string, subject: string, lines: string[]): Promise<void> {
  await sendNotice(deps, to, subject, lines, leadId).catch((error: unknown) =>
    deps.log?.warn("sales notice not sent", { leadId, to, error: String(error) }),
  );
}
