/**
 * The engagement handler's one entry point, for the Lambda and the local bus alike: SES events
 * (source `aws.ses`) are attributed and recorded; a captured or updated lead is scored, so a lead
 * whose fit alone crosses the threshold qualifies without waiting for a click. The scorer takes
 * every `lead.captured` (one rule, no filter), so it is the one that takes a captured lead off the
 * republisher's list: the event reached the bus (capture.ts).
 */
import { captureAnnounceBy } from "../capture-grace";
import { LEAD_NOT_YET_STORED_GRACE_MS, LeadNotYetStoredError } from "../nurture/enroll";
import { BUS_SOURCE, type EventEnvelope, SES_SOURCE } from "../routing/routing-rules";
import { rescoreLead } from "./record-behaviour";
import { handleSesEvent, type SesEventDeps, type SesEventOutcome } from "./ses-events";

export type EngagementOutcome = SesEventOutcome | { kind: "scored"; leadId: string; total?: number; qualified: boolean };

export async function handleEngagementEvent(deps: SesEventDeps, event: EventEnvelope): Promise<EngagementOutcome> {
  if (event.source === SES_SOURCE) return handleSesEvent(deps, event);
  const leadId = event.detail.leadId;
  if (event.source !== BUS_SOURCE || typeof leadId !== "string") return { kind: "ignored", reason: "not an event about a lead" };
  // A lead.captured announces the submission it names and every earlier one: their entries go.
  const submittedAt = event["detail-type"] === "lead.captured" ? event.detail.submittedAt : undefined;
  const result = await rescoreLead(deps, leadId, typeof submittedAt === "string" ? { announcedBy: captureAnnounceBy(submittedAt) } : undefined);
  if (!result.found) {
    // A capture announces a new lead just before storing it: while the event is recent, ask
    // for another delivery rather than dropping the lead's first score.
    if (deps.clock.now().getTime() - Date.parse(event.time) < LEAD_NOT_YET_STORED_GRACE_MS) throw new LeadNotYetStoredError(leadId);
    return { kind: "ignored", reason: `no lead ${leadId}` };
  }
  return { kind: "scored", leadId, ...(result.score ? { total: result.score.total } : {}), qualified: result.qualified };
}
