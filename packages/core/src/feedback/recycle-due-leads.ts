/**
 * recycleDueLeads: every not-now lead whose recycle date has come goes back to nurture once:
 * stage `recycled`, the segment its rules give (the shipped `recycle`), its engagement score reset
 * as scoring.yaml says, and `lead.recycled` on the bus, which enrolls it in its segment's sequence.
 * Overlapping runs are safe (the move is conditional); a run that crashes after the move and
 * before the announcement is finished by the next run, which finds the entry still in the index.
 */
import { segmentAtStage, type FeedbackDeps } from "./apply-outcome";
import type { RecycleRef } from "./feedback-store";

export interface RecycleReport {
  due: number;
  recycled: number;
  stale: number;
}

const BATCH = 100;

export async function recycleDueLeads(deps: FeedbackDeps, options: { batch?: number } = {}): Promise<RecycleReport> {
  const now = deps.clock.now().toISOString();
  const batch = options.batch ?? BATCH;
  const report: RecycleReport = { due: 0, recycled: 0, stale: 0 };
  for (let shard = 0; shard < deps.feedback.recycleShards; shard++) {
    const refs = await deps.feedback.listRecycleDue(shard, now, batch);
    report.due += refs.length;
    for (const ref of refs) await recycleOne(deps, ref, now, report);
  }
  return report;
}

async function recycleOne(deps: FeedbackDeps, ref: RecycleRef, now: string, report: RecycleReport): Promise<void> {
  let segment = ref.segment;
  let engagement: { mode: string; before?: number; after?: number } | undefined;
  if (ref.state === "scheduled") {
    const lead = await deps.leads.getLead(ref.leadId);
    if (!lead) {
      await deps.feedback.finishRecycle(ref);
      report.stale++;
      return;
    }
    segment = segmentAtStage(deps.config, lead, "recycled");
    const mode = deps.config.scoring.recycle.engagement;
    const result = await deps.feedback.recycleLead(ref, { segment, at: now, engagement: mode });
    if (result.kind === "taken") return;
    if (result.kind === "stale") {
      report.stale++;
      return;
    }
    engagement = { mode, ...(result.engagementBefore !== undefined ? { before: result.engagementBefore, after: result.engagementAfter } : {}) };
  }
  await deps.publisher.publish([
    {
      type: "lead.recycled",
      detail: {
        leadId: ref.leadId,
        segment: segment ?? "",
        stage: "recycled",
        recycleOn: ref.recycleAt,
        closedAt: ref.closedAt,
        ...(engagement ? { engagement } : {}),
      },
    },
  ]);
  await deps.feedback.finishRecycle(ref);
  report.recycled++;
  deps.log?.info("lead recycled", { leadId: ref.leadId, segment });
}
