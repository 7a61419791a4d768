/**
 * handOff: a qualified lead lands in exactly one team's queue once per qualification, with one
 * rep, and that rep hears about it. The queue item is written (conditionally, keyed by team,
 * qualification time and lead) before anyone is told, so a failed notification or a redelivered
 * event never loses or doubles a hand-off; the per-team turn counter keeps concurrent hand-offs
 * fair. `lead.assigned` is published before the lead moves to sales, and kept in the outbox only
 * when the bus refuses it: until the lead has moved, a redelivery announces it again (consumers take
 * each event at least once), so the queue item needs no transaction with an outbox entry.
 */
import { durationMs } from "../duration-ms";
import { FIRST_RETRY_AFTER_MS, notifyQueueItem } from "./handoff-notification";
import { leadloopEvent } from "../events";
import { announceOrKeep, pendingEvent } from "../events-outbox";
import type { SalesDeps } from "./sales-deps";
import { QualifiedEventDetail } from "./sales-events";
import type { QueueItem } from "./sales-store";
import { chooseTeam, repForTurn } from "./team-assignment";

export type HandoffResult =
  | { status: "assigned"; item: QueueItem; notified: boolean }
  | { status: "duplicate"; item?: QueueItem }
  | { status: "no-team" | "no-lead" };

export async function handOff(deps: SalesDeps, event: unknown): Promise<HandoffResult> {
  const detail = QualifiedEventDetail.parse(event);
  const lead = await deps.leads.getLead(detail.leadId);
  if (!lead) {
    deps.log?.warn("qualified lead not found; nothing to hand off", { leadId: detail.leadId });
    return { status: "no-lead" };
  }
  const now = deps.clock.now();
  const at = now.toISOString();
  const profileCountry = typeof lead.profile.country === "string" ? lead.profile.country : undefined;
  const country = detail.country ?? profileCountry;
  const team = chooseTeam(deps.config.teams.teams, detail.segment, country);
  if (!team) {
    deps.log?.warn("no team works this segment and country; lead not handed off", { leadId: lead.id, segment: detail.segment, country });
    await deps.leads.appendActivity(lead.id, { type: "handoff.unassigned", at, data: { segment: detail.segment, country: country ?? null } });
    return { status: "no-team" };
  }

  const ref = { teamId: team.id, qualifiedAt: detail.qualifiedAt, leadId: lead.id };
  // A redelivered event must not take a second turn (that would skew the rotation), but it may
  // follow a delivery that wrote the item and failed before the lead moved to sales: finish that.
  const existing = await deps.sales.getQueueItem(ref);
  if (existing) {
    if (lead.stage === "mql" && lead.qualifiedAt === detail.qualifiedAt) {
      await deps.sales.pointToHandoff(existing);
      await announceOrKeep(deps, [assignedEvent(existing, now)]);
      await recordAssignment(deps, lead.id, existing, true);
    }
    return { status: "duplicate", item: existing };
  }
  // A lead already waiting in (or held from) a queue is not handed off twice: a new qualification
  // counts only once the last hand-off closed (a recycle).
  const open = await deps.sales.getHandoff(lead.id);
  if (open?.item) return { status: "duplicate", item: open.item };

  const rep = repForTurn(team, await deps.sales.nextTurn(team.id));
  const item: QueueItem = {
    ...ref,
    segment: detail.segment,
    ...(country ? { country } : {}),
    score: detail.score,
    threshold: detail.threshold,
    reasons: detail.reasons,
    rep: rep.email,
    repName: rep.name,
    assignedAt: at,
    claimBy: new Date(now.getTime() + durationMs(team.claimSla)).toISOString(),
    misses: 0,
    notifyAttempts: 0,
    notifyAfter: new Date(now.getTime() + FIRST_RETRY_AFTER_MS).toISOString(),
  };
  if (!(await deps.sales.createHandoff(item))) return { status: "duplicate" };

  // Announced before the lead moves to sales: a delivery that stops before that is redelivered and
  // announces it again (above), so it is never lost, and costs no outbox write when the bus takes it.
  await announceOrKeep(deps, [assignedEvent(item, now)]);
  await recordAssignment(deps, lead.id, item, false);
  const notified = (await notifyQueueItem(deps, item)) === "notified";
  return { status: "assigned", item, notified };
}

/** `lead.assigned` as the queue item says it, so a redelivery announces the same event. */
function assignedEvent(item: QueueItem, now: Date) {
  return pendingEvent(
    item.leadId,
    `${item.teamId}#${item.qualifiedAt}#0`,
    leadloopEvent("lead.assigned", { leadId: item.leadId, teamId: item.teamId, rep: item.rep, queuedAt: item.assignedAt, claimBy: item.claimBy }),
    now,
  );
}

/**
 * The queued lead's own record of its hand-off: the assignment in its history, then the move to
 * `sales`. The stage moves last, so a failure part-way leaves the lead in `mql` with its item
 * queued, which is how a redelivery knows to run this again; `retried` looks for the history
 * entry first, so a retry never writes it twice. `lead.assigned` was announced (or kept in the
 * outbox) before this runs.
 */
async function recordAssignment(deps: SalesDeps, leadId: string, item: QueueItem, retried: boolean): Promise<void> {
  const at = item.assignedAt;
  const recorded = retried && (await deps.leads.listActivities(leadId, { limit: 50 })).some((a) => a.type === "lead.assigned" && a.at === at);
  if (!recorded) {
    await deps.leads.appendActivity(leadId, {
      type: "lead.assigned",
      at,
      data: { teamId: item.teamId, rep: item.rep, repName: item.repName, claimBy: item.claimBy, score: item.score },
    });
  }
  await deps.leads.updateLead(leadId, { stage: "sales" }, at);
}
