import type { Stage } from "./lifecycle";
import type { DecayBasis, ScoreReason } from "./scoring";

/**
 * The lead as every use case sees it: one per person, identified by a random id and deduplicated
 * on the normalised email address.
 */

/** Profile values as forms collect them. */
export type ProfileValue = string | number | boolean;
export type Profile = Record<string, ProfileValue>;

/** Where a lead came from: the first and the most recent touch are both kept. */
export interface Source {
  formId: string;
  at: string;
  utm_source?: string;
  utm_medium?: string;
  utm_campaign?: string;
  utm_term?: string;
  utm_content?: string;
  referrer?: string;
  landingPage?: string;
}

export const UTM_KEYS = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"] as const;

/**
 * The person's answer to a form's consent question: what sending decides on (follow-ups,
 * broadcasts). The lead carries only this; the full record is its submission's (Consent).
 */
export interface ConsentAnswer {
  formId: string;
  given: boolean;
  at: string;
}

/** What the person agreed to, recorded as shown: wording, time, network address, browser. */
export interface Consent extends ConsentAnswer {
  text: string;
  ip: string;
  userAgent: string;
}

/** The stages live with the rest of the lifecycle (lifecycle.ts). */
export type { Stage };

export interface Lead {
  id: string;
  email: string;
  profile: Profile;
  segment: string;
  stage: Stage;
  forms: string[];
  firstTouch: Source;
  lastTouch: Source;
  /**
   * The answers only: the proof (wording, address, browser) is kept in the submission activity
   * that carried it (listActivities, export), so the lead item stays small.
   */
  consents: ConsentAnswer[];
  createdAt: string;
  updatedAt: string;
  /** False while a submission's `lead.captured` is not known to have reached its consumer; the republisher sends those left behind. */
  published: boolean;
  /** The latest score and why; absent until the lead was first scored. */
  score?: LeadScore;
  /** When the lead last became marketing-qualified (stage `mql`). */
  qualifiedAt?: string;
}

/** A lead's stored score: fit plus engagement as of `scoredAt`, with the threshold it was held against. */
export interface LeadScore {
  fit: number;
  engagement: number;
  total: number;
  threshold: number;
  /** Largest effect first; the points add up to `total`. */
  reasons: ScoreReason[];
  scoredAt: string;
  /**
   * What decay needs to bring this score to a later instant: every reader shows and compares
   * `decayedAsOf(score, now)`, never the stored figures of an idle lead as they were.
   */
  decay?: DecayBasis;
}

/**
 * Normalises an address for deduplication: trimmed, Unicode NFC, lower-cased. Two submissions
 * whose addresses normalise alike are one person.
 */
export function normaliseEmail(email: string): string {
  return email.trim().normalize("NFC").toLowerCase();
}

/**
 * Merges a new submission into a known profile: new non-empty values win; empty values never
 * erase what we knew. Returns the merged profile and the fields whose value changed, with the
 * old value (the activity history keeps those).
 */
export function mergeProfile(
  known: Profile,
  incoming: Profile,
): { profile: Profile; changed: Record<string, { from: ProfileValue | undefined; to: ProfileValue }> } {
  const profile: Profile = { ...known };
  const changed: Record<string, { from: ProfileValue | undefined; to: ProfileValue }> = {};
  for (const [key, value] of Object.entries(incoming)) {
    if (value === "" || value === undefined || value === null) continue;
    if (known[key] !== value) changed[key] = { from: known[key], to: value };
    profile[key] = value;
  }
  return { profile, changed };
}

/** Drops empty values, so a blank optional field never overwrites what a lead told us before. */
export function nonEmpty(profile: Record<string, ProfileValue | undefined | null>): Profile {
  const out: Profile = {};
  for (const [key, value] of Object.entries(profile)) {
    if (value === "" || value === undefined || value === null) continue;
    out[key] = value;
  }
  return out;
}
