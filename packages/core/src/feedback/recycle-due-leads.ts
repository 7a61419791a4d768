/**
 * recycleDueLeads: every parked not-now lead whose recycle date has come goes back to nurture
 * once: stage `recycled`, the segment its rules give (the shipped `recycle`), its engagement score
 * reset as scoring.yaml says, and `lead.recycled` on the bus, which enrolls it in its segment's
 * sequence. Only a lead the lifecycle lets recycle moves: never one in a sales queue.
 * Overlapping runs are safe (the move is conditional); a run that crashes after the move and
 * before the announcement is finished by the next run, which finds the entry still in the index.
 */
import { sweepDueIndex } from "../due-index";
import { leadloopEvent } from "../events";
import type { Stage } from "../lead";
import { mayRecycle, STAGES, stageAfter, stageAfterOutcome } from "../lifecycle";
import { segmentAtStage, type FeedbackDeps } from "./apply-outcome";
import type { RecycleRef } from "./feedback-store";
import { recycledScore } from "./score-reset";

export interface RecycleReport {
  due: number;
  recycled: number;
  stale: number;
}

const BATCH = 100;
/** Where a parked not-now lead goes on its date. */
const RECYCLED = stageAfter(stageAfterOutcome("not-now"), "recycle-date");
const RECYCLE_FROM: Stage[] = [...STAGES.filter(mayRecycle), ...(RECYCLED ? [RECYCLED] : [])];

export async function recycleDueLeads(deps: FeedbackDeps, options: { batch?: number; deadline?: number } = {}): Promise<RecycleReport> {
  const now = deps.clock.now().toISOString();
  const report: RecycleReport = { due: 0, recycled: 0, stale: 0 };
  // An entry that fails (the bus refused lead.recycled) stays in the index for the next run,
  // after the others were tried; the run then reports the failure.
  const swept = await sweepDueIndex(
    { shards: deps.feedback.recycleShards, listDue: (shard, upTo, limit) => deps.feedback.listRecycleDue(shard, upTo, limit) },
    (ref: RecycleRef) => recycleOne(deps, ref, now, report),
    { upTo: now, batch: options.batch ?? BATCH, ...(options.deadline !== undefined ? { deadline: options.deadline } : {}) },
  );
  report.due = swept.due;
  return report;
}

async function recycleOne(deps: FeedbackDeps, ref: RecycleRef, now: string, report: RecycleReport): Promise<void> {
  let segment = ref.segment;
  let stage: Stage | undefined = RECYCLED;
  let engagement: { mode: string; before?: number; after?: number } | undefined;
  if (ref.state === "scheduled") {
    const lead = await deps.leads.getLead(ref.leadId);
    if (!lead) {
      await deps.feedback.finishRecycle(ref);
      report.stale++;
      return;
    }
    // Only a parked lead comes back; one that moved on (or sits in a sales queue) is left alone.
    // One already `recycled` goes through the conditional move again, which the entry's state
    // settles: an overlapping run got there first (taken), or it was parked as `recycled` before
    // the lifecycle had a not-now stage, and is recycled properly now.
    stage = lead.stage === RECYCLED ? RECYCLED : stageAfter(lead.stage, "recycle-date");
    if (!stage) {
      await deps.feedback.finishRecycle(ref);
      report.stale++;
      deps.log?.info("recycle date reached, but the lead is no longer parked; left where it is", { leadId: lead.id, stage: lead.stage });
      return;
    }
    segment = segmentAtStage(deps.config, lead, stage);
    const mode = deps.config.scoring.recycle.engagement;
    const result = await deps.feedback.recycleLead(ref, {
      stage,
      segment,
      at: now,
      engagement: mode,
      fromStages: RECYCLE_FROM,
      rescore: (score) => recycledScore(score, mode, now, deps.config.scoring.decay),
    });
    if (result.kind === "taken") return;
    if (result.kind === "stale") {
      report.stale++;
      return;
    }
    engagement = { mode, ...(result.engagementBefore !== undefined ? { before: result.engagementBefore, after: result.engagementAfter } : {}) };
  }
  await deps.publisher.publish([
    leadloopEvent("lead.recycled", {
      leadId: ref.leadId,
      segment: segment ?? "",
      stage: stage ?? "recycled",
      recycleOn: ref.recycleAt,
      closedAt: ref.closedAt,
      ...(engagement ? { engagement } : {}),
    }),
  ]);
  await deps.feedback.finishRecycle(ref);
  report.recycled++;
  deps.log?.info("lead recycled", { leadId: ref.leadId, segment });
}
