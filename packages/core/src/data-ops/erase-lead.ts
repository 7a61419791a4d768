/**
 * eraseLead (GDPR right to erasure): after it returns, nothing is held on the person except a
 * keyed hash of their address marked "erased", so no email is ever sent to it again; a later
 * submission from the address starts a new lead that nurture never mails.
 */
import type { LeadloopConfig } from "../config/schema";
import { NotFoundError } from "../errors";
import type { Clock, LeadStore } from "../ports";
import type { LeadRecordStore } from "./lead-records";

export interface DataOpsDeps {
  config: LeadloopConfig;
  leads: LeadStore;
  records: LeadRecordStore;
  clock: Clock;
}

/** 404: the API maps NotFoundError; the message tells an admin why the id may be unknown. */
export function unknownLead(leadId: string): NotFoundError {
  return new NotFoundError(`There is no lead "${leadId}": it was never captured, or it has been erased already.`);
}

export function teamIdsOf(config: LeadloopConfig): string[] {
  return config.teams.teams.map((team) => team.id);
}

export async function eraseLead(deps: DataOpsDeps, leadId: string): Promise<{ deleted: number }> {
  const lead = await deps.leads.getLead(leadId);
  if (!lead) throw unknownLead(leadId);
  // Suppress first: if the erase stops halfway, the address is already never mailed again, and
  // the lead item (deleted last) lets the admin simply repeat the request.
  await deps.leads.suppress({ email: lead.email, reason: "erased", at: deps.clock.now().toISOString() });
  const deleted = await deps.records.erase(lead, { teamIds: teamIdsOf(deps.config) });
  return { deleted };
}
