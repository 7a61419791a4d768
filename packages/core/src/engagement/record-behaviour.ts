/**
 * recordBehaviour / rescoreLead: every activity re-scores its lead, and a lead crossing its MQL
 * threshold is qualified exactly once per qualification, however many activities race. The
 * score is saved with a write conditional on what it was computed from (a racing activity makes
 * it re-read), and the qualification rides on that same write, allowed only where the lifecycle
 * says (lifecycle.ts: a new lead once, a recycled one on engagement after its recycle date, a
 * parked not-now lead never); whoever wins that write alone announces `lead.qualified`.
 * An announcement that failed is retried by the next scoring of the lead (a redelivered event),
 * and, should every retry fail too, by the republisher (`republishQualifications`).
 */
import type { LeadloopConfig } from "../config/schema";
import { sweepDueIndex } from "../due-index";
import { leadloopEvent } from "../events";
import type { Lead, LeadScore } from "../lead";
import { type Activity, type Clock, type EventPublisher, type LeadStore, type NewActivity, StoreUnavailableError } from "../ports";
import { mayQualify, QUALIFIED_STAGE } from "../lifecycle";
import { isQualifying, SCORING_WINDOW, scoreDiffers, scoreStoredLead, scoredTypes, scoringReadTypes, topReasons } from "./lead-scoring";

export interface EngagementDeps {
  config: LeadloopConfig;
  leads: LeadStore;
  publisher: EventPublisher;
  clock: Clock;
  log?: { info(m: string, e?: Record<string, unknown>): void; warn(m: string, e?: Record<string, unknown>): void };
}

export interface RescoreResult {
  /** False when there is no such lead (erased, or a forged id). */
  found: boolean;
  score?: LeadScore;
  previousTotal?: number;
  /** This call qualified the lead (and announced it). */
  qualified: boolean;
}

/** How long a claim to announce a qualification holds before another scorer may take it over. */
const ANNOUNCE_LEASE_MS = 60_000;
const MAX_ATTEMPTS = 25;
/** The republisher leaves a qualification this long to the scorer that made it (and its retries). */
const REANNOUNCE_GRACE_MS = 2 * ANNOUNCE_LEASE_MS;

/**
 * Appends the activity (once per `key`, when given) and re-scores the lead. A redelivered event
 * appends nothing new but still re-scores, so a delivery that died half-way is completed.
 */
export async function recordBehaviour(
  deps: EngagementDeps,
  input: { leadId: string; activity: NewActivity; key?: string },
): Promise<RescoreResult & { activity?: Activity; duplicate: boolean }> {
  const { activity, created } = await deps.leads.appendBehaviour(input.leadId, input.activity, input.key ? { key: input.key } : {});
  if (!(scoredTypes(deps.config) as string[]).includes(activity.type)) {
    // Nothing scores this kind of activity: the score cannot have moved.
    return { found: true, qualified: false, activity, duplicate: !created };
  }
  const result = await rescoreLead(deps, input.leadId);
  return { ...result, activity, duplicate: !created };
}

/** What the lead did on the site that is being scored: `lead.scored` names it, and the report counts it as web engagement. */
export interface SiteActivity {
  type: string;
  at: string;
}

/**
 * `cause.announcedBy`: a `lead.captured` for the lead reached the bus, announcing its submissions
 * whose republisher entries fall due by then; the lead's entry, if one of those, is cleared in the
 * score's write (or on its own when the score did not move).
 */
export async function rescoreLead(
  deps: EngagementDeps,
  leadId: string,
  cause?: { activity?: SiteActivity; announcedBy?: string },
): Promise<RescoreResult> {
  const types = scoringReadTypes(deps.config);
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const read = await deps.leads.readForScoring(leadId, { types, limit: SCORING_WINDOW });
    if (!read) return { found: false, qualified: false };
    const { lead } = read;
    const now = deps.clock.now();
    const { score, earnedSinceRecycle } = scoreStoredLead(lead, read.activities, deps.config, now);
    const previousTotal = lead.score?.total;
    // The lifecycle decides: a parked (not-now) lead never qualifies, a recycled one only on
    // engagement after its recycle date. The saving write re-checks the stage atomically.
    const qualify = mayQualify(lead, { reachesThreshold: isQualifying(score), engagementSinceRecycle: earnedSinceRecycle });
    const announcedBy = cause?.announcedBy;
    const clears = announcedBy !== undefined && read.unpublishedDue !== undefined && read.unpublishedDue <= announcedBy;

    if (!qualify && !scoreDiffers(lead.score, score)) {
      if (clears) await deps.leads.markPublished([leadId], { dueBy: announcedBy });
      if (read.unannounced) await announce(deps, lead, read.unannounced, now, false);
      return { found: true, score: lead.score, ...(previousTotal !== undefined ? { previousTotal } : {}), qualified: false };
    }

    const at = now.toISOString();
    const until = new Date(now.getTime() + ANNOUNCE_LEASE_MS).toISOString();
    const saved = await deps.leads.saveScore(leadId, score, read.basis, qualify ? { at, announceUntil: until } : undefined, clears ? { published: true } : {});
    if (saved === "stale") {
      await pause(attempt);
      continue;
    }

    try {
      await publishScored(deps, lead, score, previousTotal, cause?.activity);
      const qualified = { ...lead, score, ...(qualify ? { qualifiedAt: at, stage: QUALIFIED_STAGE } : {}) };
      if (qualify) await announce(deps, qualified, { qualifiedAt: at }, now, true);
      else if (read.unannounced) await announce(deps, qualified, read.unannounced, now, false);
    } catch (error) {
      // The qualifying write took the right to announce: a failure before the announcement must
      // give it back, or the redelivered event finds it held and the lead never reaches sales.
      if (qualify) await releaseAnnouncement(deps, leadId, at);
      throw error;
    }
    return { found: true, score, ...(previousTotal !== undefined ? { previousTotal } : {}), qualified: qualify };
  }
  throw new StoreUnavailableError(`Gave up scoring lead ${leadId} after ${MAX_ATTEMPTS} attempts: its activities kept changing.`);
}

async function publishScored(deps: EngagementDeps, lead: Lead, score: LeadScore, previousTotal: number | undefined, activity: SiteActivity | undefined): Promise<void> {
  const leadId = lead.id;
  if (score.total !== (previousTotal ?? 0)) {
    await deps.publisher.publish([
      leadloopEvent("lead.scored", {
        leadId,
        segment: lead.segment,
        score: score.total,
        fit: score.fit,
        engagement: score.engagement,
        threshold: score.threshold,
        previousScore: previousTotal ?? 0,
        ...(activity ? { activity: { type: activity.type, at: activity.at } } : {}),
      }),
    ]);
  }
}

/**
 * Publishes `lead.qualified`. The scorer that qualified the lead already holds the right (it came
 * with the qualifying write); anyone else must claim it, so two scorers never both announce.
 */
async function announce(
  deps: EngagementDeps,
  lead: Lead,
  pending: { qualifiedAt: string; heldUntil?: string },
  now: Date,
  held: boolean,
): Promise<boolean> {
  if (!held) {
    const until = new Date(now.getTime() + ANNOUNCE_LEASE_MS).toISOString();
    if (!(await deps.leads.claimAnnouncement(lead.id, pending.qualifiedAt, until, now.toISOString()))) return false;
  }
  const score = lead.score;
  try {
    await deps.publisher.publish([qualifiedEvent(deps.config, lead, pending.qualifiedAt)]);
  } catch (error) {
    // Give the right back at once, so the retried delivery can announce without waiting the lease out.
    await releaseAnnouncement(deps, lead.id, pending.qualifiedAt);
    throw error;
  }
  await deps.leads.settleAnnouncement(lead.id, pending.qualifiedAt, "announced");
  deps.log?.info("lead qualified", { leadId: lead.id, score: score?.total, qualifiedAt: pending.qualifiedAt });
  return true;
}

function qualifiedEvent(config: LeadloopConfig, lead: Lead, qualifiedAt: string) {
  const country = lead.profile.country;
  const score = lead.score;
  return leadloopEvent("lead.qualified", {
    leadId: lead.id,
    segment: lead.segment,
    score: score?.total ?? 0,
    threshold: score?.threshold ?? config.scoring.threshold,
    qualifiedAt,
    ...(typeof country === "string" && country ? { country } : {}),
    reasons: topReasons(score?.reasons ?? []),
  });
}

/**
 * The republisher's half: announces qualifications still unannounced after a grace period, e.g.
 * when the publish and every retry of the scorer that made them failed and no later activity
 * scored the lead again. Claims each first, so it never races a scorer announcing the same one;
 * hand-off takes a repeated `lead.qualified` once per qualification anyway. Returns how many it
 * announced; a failed one stays listed for the next run, after the others were tried.
 */
export async function republishQualifications(
  deps: Pick<EngagementDeps, "config" | "leads" | "publisher" | "clock" | "log">,
  options: number | { limit?: number; deadline?: number } = {},
): Promise<number> {
  const { limit = 100, deadline } = typeof options === "number" ? { limit: options } : options;
  const now = deps.clock.now();
  let announced = 0;
  // The store lists the unannounced index over all its shards at once, oldest first.
  await sweepDueIndex(
    { shards: 1, listDue: (_shard, upTo, batch) => deps.leads.listUnannounced(upTo, batch) },
    async ({ lead, qualifiedAt }: { lead: Lead; qualifiedAt: string }) => {
      if (await announce(deps, lead, { qualifiedAt }, now, false)) announced++;
    },
    { upTo: new Date(now.getTime() - REANNOUNCE_GRACE_MS).toISOString(), batch: limit, ...(deadline !== undefined ? { deadline } : {}) },
  );
  return announced;
}

/**
 * Gives the right to announce back. Tried a few times: a right left held outlives the bus's
 * redeliveries, and the lead would wait in `mql` for its next activity to be announced.
 */
async function releaseAnnouncement(deps: EngagementDeps, leadId: string, qualifiedAt: string): Promise<void> {
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      await deps.leads.settleAnnouncement(leadId, qualifiedAt, "released");
      return;
    } catch {
      await pause(attempt);
    }
  }
}

/** Full jitter, so racing scorers spread out instead of colliding again in step. */
function pause(attempt: number): Promise<void> {
  const ceiling = Math.min(200, 5 * 2 ** Math.min(attempt, 6));
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}
