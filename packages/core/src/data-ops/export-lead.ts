/**
 * exportLead (GDPR right of access): everything held on a person, in one JSON document: the lead,
 * its whole activity history, enrollments, emails sent, every consent it gave, suppression, sales
 * queue items and reward ledger.
 */
import type { Consent, Lead } from "../lead";
import type { Activity, Suppression } from "../ports";
import type { DataOpsDeps } from "./erase-lead";
import { teamIdsOf, unknownLead } from "./erase-lead";
import type { HeldItem } from "./lead-records";

export interface LeadExport {
  exportedAt: string;
  lead: Lead;
  /** Every consent ever recorded, as the submissions that carried it recorded it, oldest first. */
  consents: Consent[];
  /** Oldest first. */
  activities: Activity[];
  enrollments: HeldItem[];
  messages: HeldItem[];
  suppression: Suppression | null;
  salesQueue: HeldItem[];
  ledger: HeldItem[];
  /** Items keyed by the address in clear, as stored. */
  addressItems: HeldItem[];
  other: HeldItem[];
}

function isConsent(value: unknown): value is Consent {
  return typeof value === "object" && value !== null && "given" in value && "text" in value && "at" in value;
}

export async function exportLead(deps: DataOpsDeps, leadId: string): Promise<LeadExport> {
  const lead = await deps.leads.getLead(leadId);
  if (!lead) throw unknownLead(leadId);
  const [activities, held, suppression] = await Promise.all([
    deps.leads.listActivities(leadId),
    deps.records.collect(lead, { teamIds: teamIdsOf(deps.config) }),
    deps.leads.getSuppression(lead.email),
  ]);
  const oldestFirst = [...activities].reverse();

  const consents = new Map<string, Consent>();
  const keep = (c: Consent) => consents.set(`${c.at}|${c.formId}|${c.given}|${c.text}`, c);
  // The records are the submissions' (the lead keeps only the answers, each from one of them).
  for (const activity of oldestFirst) if (isConsent(activity.data.consent)) keep(activity.data.consent);

  return {
    exportedAt: deps.clock.now().toISOString(),
    lead,
    consents: [...consents.values()].sort((a, b) => a.at.localeCompare(b.at)),
    activities: oldestFirst,
    enrollments: held.enrollments,
    messages: held.messages,
    suppression: suppression ?? null,
    salesQueue: held.salesQueue,
    ledger: held.ledger,
    addressItems: held.addressItems,
    other: held.other,
  };
}
