/**
 * claimLead: one rep holds a lead. The claim is a conditional write, so of two reps claiming at
 * once exactly one wins and the other gets ClaimConflictError naming the holder; claiming a lead
 * you already hold is a harmless repeat. `lead.claimed` is never lost: the claiming write leaves
 * the item in the SLA index as a reminder, cleared once the event reached the bus; the claim-SLA
 * check announces a claim whose reminder fell due, and an outcome recorded first carries it.
 */
import type { Principal } from "../auth-claims";
import { NotFoundError } from "../errors";
import { leadloopEvent } from "../events";
import { OUTBOX_GRACE_MS } from "../events-outbox";
import { findTeam, type SalesDeps } from "./sales-deps";
import { ClaimConflictError, SalesStateError } from "./sales-errors";
import type { Handoff, QueueItem } from "./sales-store";
import { isTeamRep } from "./team-assignment";

/** Who the principal is to the queue: their email (admins without one act as their subject). */
export function actorOf(principal: Principal): string {
  return principal.email ?? principal.subject;
}

export const isAdmin = (principal: Principal) => principal.roles.includes("admin");

/**
 * What a rep hears of a lead outside their teams' queues: exactly what they hear of a lead that
 * does not exist, so lead ids cannot be probed for who else is working what.
 */
export function notInQueue(leadId: string): NotFoundError {
  return new NotFoundError(`Lead ${leadId} has not been handed to sales (it is in no team's queue).`);
}

/** A rep may act on a lead only in a queue of a team they are on (admins on any). */
export function assertOnTeam(deps: SalesDeps, principal: Principal, item: QueueItem): void {
  if (isAdmin(principal)) return;
  const team = findTeam(deps, item.teamId);
  if (!(team && isTeamRep(team, principal.email))) throw notInQueue(item.leadId);
}

/** The lead's open hand-off, or the error a rep should see. */
export async function openHandoff(deps: Pick<SalesDeps, "sales">, leadId: string): Promise<Handoff & { item: QueueItem }> {
  const handoff = await deps.sales.getHandoff(leadId);
  if (!handoff) throw notInQueue(leadId);
  if (!handoff.item) {
    throw new SalesStateError(
      `Lead ${leadId} is already closed (${handoff.closed?.outcome ?? "closed"}${handoff.closed ? ` by ${handoff.closed.rep}` : ""}); it is back with marketing.`,
    );
  }
  return handoff as Handoff & { item: QueueItem };
}

export async function claimLead(deps: SalesDeps, principal: Principal, leadId: string): Promise<QueueItem> {
  const { item } = await openHandoff(deps, leadId);
  assertOnTeam(deps, principal, item);
  const me = actorOf(principal);
  const now = deps.clock.now();
  const at = now.toISOString();
  // The report counts claims: the claim holds its own reminder to announce `lead.claimed`.
  const result = await deps.sales.claim(item, me, at, new Date(now.getTime() + OUTBOX_GRACE_MS).toISOString());
  if (!result.claimed) {
    if (result.missing) throw new SalesStateError(`Lead ${leadId} was closed a moment ago; it is no longer in the queue.`);
    throw new ClaimConflictError(leadId, result.holder);
  }
  if (!result.already) {
    await deps.leads.appendActivity(leadId, { type: "lead.claimed", at, data: { teamId: item.teamId, rep: me } });
    await announceClaim(deps, result.item).catch((error: unknown) =>
      deps.log?.warn("lead.claimed not announced; the claim-SLA check will", { leadId, error: String(error) }),
    );
  }
  return result.item;
}

/** `lead.claimed` as the claimed item says it, so every announcement of one claim is the same event. */
export function claimedEvent(item: QueueItem) {
  return leadloopEvent("lead.claimed", { leadId: item.leadId, teamId: item.teamId, rep: String(item.claimedBy), claimedAt: String(item.claimedAt) });
}

/** Publishes `lead.claimed` and clears the claim's reminder; throws when the bus refused it (the reminder stays). */
export async function announceClaim(deps: Pick<SalesDeps, "sales" | "publisher">, item: QueueItem): Promise<void> {
  if (!(item.claimedBy && item.claimedAt)) return;
  await deps.publisher.publish([claimedEvent(item)]);
  await deps.sales.claimAnnounced(item, item.claimedAt);
}
