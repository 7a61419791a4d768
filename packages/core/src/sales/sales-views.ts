/**
 * What reps read: their queue (their teams' unclaimed leads and their own claims) and a lead's
 * page (profile, score with its reasons, hand-off state, timeline). Reps see only their teams'
 * leads; marketing and admins see every lead.
 */
import type { Principal } from "../auth-claims";
import type { Reason } from "../config/schema";
import { NotFoundError } from "../errors";
import type { Lead } from "../lead";
import type { Activity } from "../ports";
import { actorOf, isAdmin } from "./claim";
import { describeActivity, strongestReasons } from "./handoff-notification";
import { findTeam, type SalesDeps } from "./sales-deps";
import type { ScoreReason } from "../scoring";
import { currentScore } from "../engagement/lead-scoring";
import type { Closure, QueueItem } from "./sales-store";
import { isTeamRep } from "./team-assignment";

export interface QueueEntry {
  leadId: string;
  teamId: string;
  teamName: string;
  name: string;
  email: string;
  company?: string;
  title?: string;
  country?: string;
  segment: string;
  score: number;
  threshold: number;
  topReasons: ScoreReason[];
  qualifiedAt: string;
  rep: string;
  repName: string;
  claimBy: string;
  claimedBy?: string;
  claimedAt?: string;
  escalated: boolean;
  mine: boolean;
}

export interface SalesQueue {
  rep: string;
  teams: { id: string; name: string }[];
  unclaimed: QueueEntry[];
  claimed: QueueEntry[];
}

const text = (v: unknown) => (typeof v === "string" && v ? v : undefined);

function entry(deps: Pick<SalesDeps, "config" | "clock">, item: QueueItem, lead: Lead | undefined, me: string): QueueEntry {
  const profile = lead?.profile ?? {};
  const name = [text(profile.firstName), text(profile.lastName)].filter(Boolean).join(" ");
  const company = text(profile.company);
  const title = text(profile.title);
  const country = item.country ?? text(profile.country);
  return {
    leadId: item.leadId,
    teamId: item.teamId,
    teamName: findTeam(deps, item.teamId)?.name ?? item.teamId,
    name: name || lead?.email || item.leadId,
    email: lead?.email ?? "",
    ...(company ? { company } : {}),
    ...(title ? { title } : {}),
    ...(country ? { country } : {}),
    segment: item.segment,
    // The score as it stands now (decay is computed at read); the one it qualified with otherwise.
    score: lead?.score ? currentScore(lead.score, deps.config, deps.clock.now()).total : item.score,
    threshold: item.threshold,
    topReasons: strongestReasons(item.reasons, 3),
    qualifiedAt: item.qualifiedAt,
    rep: item.rep,
    repName: item.repName,
    claimBy: item.claimBy,
    ...(item.claimedBy ? { claimedBy: item.claimedBy } : {}),
    ...(item.claimedAt ? { claimedAt: item.claimedAt } : {}),
    escalated: Boolean(item.escalatedAt),
    mine: item.claimedBy === me,
  };
}

export async function listQueue(deps: SalesDeps, principal: Principal): Promise<SalesQueue> {
  const me = actorOf(principal);
  const teams = deps.config.teams.teams.filter((t) => isAdmin(principal) || isTeamRep(t, principal.email));
  const items = new Map<string, QueueItem>();
  for (const team of teams) {
    for (const item of await deps.sales.listTeamQueue(team.id)) {
      if (!item.claimedBy || item.claimedBy === me) items.set(`${item.teamId}#${item.leadId}`, item);
    }
  }
  for (const item of await deps.sales.listRepClaims(me)) items.set(`${item.teamId}#${item.leadId}`, item);
  const entries = await Promise.all([...items.values()].map(async (item) => entry(deps, item, await deps.leads.getLead(item.leadId), me)));
  entries.sort((a, b) => a.qualifiedAt.localeCompare(b.qualifiedAt));
  return {
    rep: me,
    teams: teams.map((t) => ({ id: t.id, name: t.name })),
    unclaimed: entries.filter((e) => !e.claimedBy),
    claimed: entries.filter((e) => e.claimedBy),
  };
}

export interface LeadView {
  lead: Pick<Lead, "id" | "email" | "profile" | "segment" | "stage" | "createdAt" | "updatedAt" | "firstTouch" | "lastTouch" | "forms">;
  /** The score as it stands (or as it qualified, before scoring kept one on the lead), largest reason first. */
  score?: { value: number; threshold: number; qualifiedAt?: string; scoredAt?: string; reasons: ScoreReason[] };
  handoff?: {
    teamId: string;
    teamName: string;
    rep?: string;
    repName?: string;
    claimBy?: string;
    claimedBy?: string;
    claimedAt?: string;
    escalated: boolean;
    misses: number;
    closed?: Closure;
  };
  timeline: (Activity & { summary: string })[];
  /** What the outcome form offers (from config/teams.yaml). */
  reasonCodes: { lost: Reason[]; disqualified: Reason[] };
}

const byPoints = (reasons: readonly ScoreReason[]) => [...reasons].sort((a, b) => Math.abs(b.points) - Math.abs(a.points));

export async function viewLead(deps: SalesDeps, principal: Principal, leadId: string): Promise<LeadView> {
  const lead = await deps.leads.getLead(leadId);
  if (!lead) throw new NotFoundError(`There is no lead ${leadId}.`);
  const handoff = await deps.sales.getHandoff(leadId);
  const team = handoff ? findTeam(deps, handoff.teamId) : undefined;
  const seesAll = principal.roles.includes("admin") || principal.roles.includes("marketing");
  if (!seesAll && !(team && isTeamRep(team, principal.email))) {
    // As if it did not exist: a rep learns nothing of other teams' leads from their ids.
    throw new NotFoundError(`There is no lead ${leadId}.`);
  }
  const activities = await deps.leads.listActivities(leadId, { limit: 50 });
  const item = handoff?.item;
  const score = lead.score ? currentScore(lead.score, deps.config, deps.clock.now()) : undefined;
  return {
    lead: {
      id: lead.id,
      email: lead.email,
      profile: lead.profile,
      segment: lead.segment,
      stage: lead.stage,
      forms: lead.forms,
      firstTouch: lead.firstTouch,
      lastTouch: lead.lastTouch,
      createdAt: lead.createdAt,
      updatedAt: lead.updatedAt,
    },
    ...(score
      ? {
          score: {
            value: score.total,
            threshold: score.threshold,
            ...(lead.qualifiedAt ? { qualifiedAt: lead.qualifiedAt } : {}),
            scoredAt: score.scoredAt,
            reasons: byPoints(score.reasons),
          },
        }
      : handoff
        ? { score: { value: handoff.score, threshold: handoff.threshold, qualifiedAt: handoff.qualifiedAt, reasons: byPoints(handoff.reasons) } }
        : {}),
    ...(handoff
      ? {
          handoff: {
            teamId: handoff.teamId,
            teamName: team?.name ?? handoff.teamId,
            ...(item
              ? {
                  rep: item.rep,
                  repName: item.repName,
                  claimBy: item.claimBy,
                  ...(item.claimedBy ? { claimedBy: item.claimedBy, claimedAt: item.claimedAt } : {}),
                }
              : {}),
            escalated: Boolean(item?.escalatedAt),
            misses: item?.misses ?? 0,
            ...(handoff.closed ? { closed: handoff.closed } : {}),
          },
        }
      : {}),
    timeline: activities.map((a) => ({ ...a, summary: describeActivity(a) })),
    reasonCodes: { lost: deps.config.teams.lostReasons, disqualified: deps.config.teams.disqualifiedReasons },
  };
}
