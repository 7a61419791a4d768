/**
 * Ports: what the use cases need from the outside world. Adapters implement them once per engine
 * (DynamoDB, SES, EventBridge; the local stack points the same adapters at local engines).
 * An AWS error never crosses a port: adapters translate it into the errors below.
 */
import type { Consent, Lead, Profile, ProfileValue, Source, Stage } from "./lead";

/** Time is injected, so tests and the local stack can move it. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

// ---------------------------------------------------------------------------------------------
// Leads

export interface CaptureRecord {
  formId: string;
  /** Normalised (see normaliseEmail). */
  email: string;
  /** The submitted values, empty ones already dropped, email excluded. */
  profile: Profile;
  source: Source;
  consent?: Consent;
  /**
   * Decides the segment from the merged profile (new leads and merges alike). It is called with
   * the merged profile plus the lead's `email` and `stage` as fields, since segment rules may
   * test those (e.g. `stage: customer`).
   */
  segmentOf: (profile: Profile) => string;
  /** Stage of a lead created by this submission. */
  initialStage: Stage;
  at: string;
}

export interface CaptureResult {
  lead: Lead;
  created: boolean;
  /** Fields this submission changed on a known lead, with their old values. */
  changed: Record<string, { from: ProfileValue | undefined; to: ProfileValue }>;
}

export interface Activity {
  leadId: string;
  /** Sortable: the time, then a random suffix. */
  id: string;
  type: string;
  at: string;
  data: Record<string, unknown>;
}

export type NewActivity = Omit<Activity, "leadId" | "id">;

export type SuppressionReason = "unsubscribed" | "bounced" | "complained" | "erased" | "manual";

export interface Suppression {
  email: string;
  reason: SuppressionReason;
  at: string;
}

export interface LeadStore {
  /**
   * Stores a form submission exactly once per call: a new email creates a lead, a known one
   * merges into it (new non-empty values win), never a second lead, even when submissions of
   * one address race. The submission itself is kept as a `form.submitted` activity.
   */
  captureSubmission(record: CaptureRecord): Promise<CaptureResult>;
  getLead(id: string): Promise<Lead | undefined>;
  getLeadByEmail(email: string): Promise<Lead | undefined>;
  /**
   * Records that `lead.captured` reached the bus for these leads. Takes many ids at once so an
   * adapter can batch the writes (e.g. BatchWriteItem deletes of outbox items).
   */
  markPublished(leadIds: string[]): Promise<void>;
  /** Leads whose `lead.captured` never reached the bus, oldest first. */
  listUnpublished(limit: number): Promise<Lead[]>;
  appendActivity(leadId: string, activity: NewActivity): Promise<Activity>;
  /** Newest first. */
  listActivities(leadId: string, options?: { limit?: number }): Promise<Activity[]>;
  getSuppression(email: string): Promise<Suppression | undefined>;
  suppress(suppression: Suppression): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Events

export interface BusEvent<D extends Record<string, unknown> = Record<string, unknown>> {
  /** The event name of the contract, e.g. `lead.captured` (EventBridge's detail-type). */
  type: string;
  detail: D;
  /** Defaults to `leadloop`. */
  source?: string;
  time?: string;
}

export interface EventPublisher {
  /** Resolves only when every event was accepted; otherwise throws PublishError. */
  publish(events: BusEvent[]): Promise<void>;
}

export class PublishError extends Error {
  override readonly name = "PublishError";
}

/** A store operation failed for a reason worth retrying (throttling, a timeout, a 5xx). */
export class StoreUnavailableError extends Error {
  override readonly name = "StoreUnavailableError";
}

// ---------------------------------------------------------------------------------------------
// Email

export interface OutgoingEmail {
  to: string;
  from: string;
  replyTo?: string;
  subject: string;
  html: string;
  text: string;
  /** Extra headers, e.g. List-Unsubscribe (RFC 8058). */
  headers: Record<string, string>;
  /** Attribution tags carried into SES events (lead, sequence, step, message). */
  tags: Record<string, string>;
}

export interface Mailer {
  /** Sends one email; resolves with the provider's message id. */
  send(email: OutgoingEmail): Promise<{ messageId: string }>;
}

/** Sending failed for a reason that passes (throttling, a 5xx, a timeout): try again later. */
export class MailerUnavailableError extends Error {
  override readonly name = "MailerUnavailableError";
}

/** The provider refused this message for good (bad address, unverified sender…): do not retry. */
export class MailRejectedError extends Error {
  override readonly name = "MailRejectedError";
}
