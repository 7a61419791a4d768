/**
 * Who may receive a broadcast: the audience rule (segments and/or a condition) picks the leads,
 * and the same rules every marketing email obeys pick out those it may go to: the lifecycle's
 * stage policy (which also leaves out double-opt-in leads not yet confirmed), consent, the
 * suppression list and the cross-sequence frequency cap. The dry run and the send both ask this,
 * so the count a marketer is shown is the count that is sent.
 */
import { evaluateCondition } from "../conditions";
import type { Broadcast, FrequencyCap, LeadloopConfig } from "../config/schema";
import type { Lead } from "../lead";
import { mayNurture } from "../lifecycle";

export type Exclusion = "stage" | "consent" | "suppressed" | "frequency-cap";

/** Whether the lead is in the broadcast's audience at all (before the rules of sending). */
export function inAudience(broadcast: Broadcast, lead: Lead, config: Pick<LeadloopConfig, "segments">): boolean {
  const { segments, when } = broadcast.audience;
  if (segments && !segments.includes(lead.segment)) return false;
  if (when) {
    const profile = { ...lead.profile, email: lead.email, segment: lead.segment, stage: lead.stage, ...(lead.score ? { score: lead.score.total } : {}) };
    if (!evaluateCondition(when, profile, { freeMailDomains: config.segments.freeMailDomains })) return false;
  }
  return true;
}

/** The lead's latest answer on the consent the broadcast asks for: it must be a yes. */
export function consentGiven(broadcast: Broadcast, lead: Lead): boolean {
  const forms = broadcast.audience.consentForms;
  const answers = lead.consents.filter((c) => !forms || forms.includes(c.formId)).sort((a, b) => a.at.localeCompare(b.at));
  return answers.at(-1)?.given === true;
}

/** Checks that need no reads beyond the lead: they run while the audience is queued and again at the send. */
export function staticExclusion(broadcast: Broadcast, lead: Lead): Exclusion | undefined {
  if (!mayNurture(lead.stage)) return "stage";
  if (!consentGiven(broadcast, lead)) return "consent";
  return undefined;
}

/** The cap that applies: the broadcast's own, else the one of the sequence that nurtures the lead's segment. */
export function capFor(broadcast: Broadcast, lead: Lead, config: Pick<LeadloopConfig, "sequences">): FrequencyCap | undefined {
  return broadcast.frequencyCap ?? config.sequences.find((s) => s.segment === lead.segment)?.frequencyCap;
}
