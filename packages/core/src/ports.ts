/**
 * Ports: what the use cases need from the outside world. Adapters implement them once per engine
 * (DynamoDB, SES, EventBridge; the local stack points the same adapters at local engines).
 * An AWS error never crosses a port: adapters translate it into the errors below.
 */
import type { CountedWindow } from "./client-limits";
import type { Consent, Lead, LeadScore, Profile, ProfileValue, Source, Stage } from "./lead";
import type { SubmissionTrust } from "./lead-merge";
import type { AbDecision, VariantFigures } from "./nurture/ab-test";

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
  /** What a merge into a known lead may overwrite (see lead-merge.ts); unproven when absent. */
  trust?: SubmissionTrust;
  /**
   * A stable key for this submission (an import row's): a known lead that already holds a
   * submission with this key is left as it is, so a repeated import adds nothing.
   */
  key?: string;
  at: string;
  /**
   * Whether this submission's `lead.captured` already reached the bus. False puts the lead on the
   * republisher's list, due at `announceBy` (default `at`), until a consumer of the event or the
   * republisher clears it (`markPublished`). For a merge, true leaves the flag as it was.
   */
  published: boolean;
  /** When the republisher may take the lead if nothing cleared it by then (see `published`). */
  announceBy?: string;
  /**
   * A client window counted in the same write as the submission (the email address's): when it is
   * full, nothing is stored and the store throws WindowFullError.
   */
  window?: CountedWindow;
}

export interface CaptureResult {
  lead: Lead;
  created: boolean;
  /** Fields this submission changed on a known lead, with their old values. */
  changed: Record<string, { from: ProfileValue | undefined; to: ProfileValue }>;
  /** The lead already held a submission with this record's key: nothing was written. */
  repeated?: boolean;
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
   * The id the lead of this address has, or will have once captured: stable, and not computable
   * from the address without the store's key. Lets a capture announce a new lead before storing it.
   */
  leadIdFor(email: string): string;
  /**
   * Stores a form submission exactly once per call: a new email creates the lead `leadIdFor`
   * names, a known one merges into it (new non-empty values win), never a second lead, even when
   * submissions of one address race. The submission itself is kept as a `form.submitted` activity.
   */
  captureSubmission(record: CaptureRecord): Promise<CaptureResult>;
  getLead(id: string): Promise<Lead | undefined>;
  getLeadByEmail(email: string): Promise<Lead | undefined>;
  /**
   * Records that `lead.captured` reached the bus for leads stored unpublished (the republisher, or
   * the scorer when the event reached it and the score did not move). Takes many ids at once so an
   * adapter can batch the writes. With `dueBy`, only an entry due at or before it is cleared: a
   * later submission's entry stays, as this announcement may not cover it.
   */
  markPublished(leadIds: string[], options?: { dueBy?: string }): Promise<void>;
  /** Leads whose `lead.captured` is not known to have reached the bus, due first; with `dueBy`, only those due by then. */
  listUnpublished(limit: number, dueBy?: string): Promise<Lead[]>;
  appendActivity(leadId: string, activity: NewActivity): Promise<Activity>;
  /** Newest first. */
  listActivities(leadId: string, options?: { limit?: number }): Promise<Activity[]>;
  /** Moves a lead to another stage and/or segment; returns the lead as it is now. */
  updateLead(leadId: string, patch: { stage?: Stage; segment?: string }, at: string): Promise<Lead | undefined>;
  getSuppression(email: string): Promise<Suppression | undefined>;
  /**
   * Where the address's suppressions would be, for a write to be conditional on there being none
   * (startEnrollment's `unlessSuppressed`): opaque here, understood by the store on the same table.
   */
  suppressionGuard(email: string): SuppressionGuard;
  /**
   * The suppressions of several addresses in strongly consistent reads, a hundred keys a request
   * (the sweeper checks a whole batch right before claiming it). Keyed by the address as given.
   */
  getSuppressions(emails: readonly string[]): Promise<Map<string, Suppression>>;
  suppress(suppression: Suppression): Promise<void>;

  // Double opt-in (see nurture/confirmation.ts for the rules these primitives serve).
  getConfirmation(leadId: string): Promise<ConfirmationState | undefined>;
  /**
   * Writes a lead's confirmation state if it is still at `expectedVersion` (0: none stored yet),
   * storing it at `expectedVersion + 1`; false when another writer got there first. The state is
   * in a sparse index at its `dueAt` while it has one.
   */
  saveConfirmation(state: ConfirmationState, expectedVersion: number): Promise<boolean>;
  /** Shards of the confirmation index (a due index: see due-index.ts). */
  readonly confirmationShards: number;
  /** One shard's confirmation states due at or before `upTo`, oldest first. */
  listConfirmationsDue(shard: number, upTo: string, limit: number): Promise<ConfirmationState[]>;

  // Scoring and qualification (see engagement/record-behaviour.ts for how they fit together).
  /**
   * Appends an activity the lead's score may count and moves the lead's behaviour sequence, so a
   * score computed before it cannot be saved over one that counts it. With a `key`, the activity
   * is stored once per key (a redelivered event is recognised): `created` is false the second time.
   */
  appendBehaviour(leadId: string, activity: NewActivity, options?: { key?: string }): Promise<{ activity: Activity; created: boolean }>;
  /** Reads the lead (consistently) and its newest activities of `types`, with what a score write is conditional on. */
  readForScoring(leadId: string, options: { types: readonly string[]; limit: number }): Promise<ScoringRead | undefined>;
  /**
   * Saves a score if the lead has not changed since `basis` was read; with `qualify`, also makes
   * the lead marketing-qualified (stage `mql`, `qualifiedAt`) if its stage still lets it qualify
   * (lifecycle.ts `qualifiableStages`: `lead` never qualified, or `recycled`). "stale" means:
   * re-read and try again. With `published`, the same write takes the lead off the republisher's
   * list (its `lead.captured` reached the bus; the entry read is the one cleared, as `basis`
   * pins the version every entry's writer moves).
   */
  saveScore(
    leadId: string,
    score: LeadScore,
    basis: ScoreBasis,
    qualify?: { at: string; announceUntil: string },
    options?: { published?: boolean },
  ): Promise<"saved" | "stale">;
  /**
   * Takes the right to announce a qualification (publish `lead.qualified`) until `until`: true
   * when it is still unannounced and nobody else holds the right.
   */
  claimAnnouncement(leadId: string, qualifiedAt: string, until: string, now: string): Promise<boolean>;
  /** Ends an announcement: done (never again), or given back for a later attempt. */
  settleAnnouncement(leadId: string, qualifiedAt: string, outcome: "announced" | "released"): Promise<void>;
  /** Qualifications made at or before `upTo` whose `lead.qualified` has not reached the bus yet, oldest first. */
  listUnannounced(upTo: string, limit: number): Promise<{ lead: Lead; qualifiedAt: string }[]>;

  // The outbox (see events-outbox.ts): events written with the state change they announce.
  /** Number of outbox shards; the republisher reads each. */
  readonly outboxShards: number;
  /** Outbox entries of one shard due at or before `upTo`, oldest first. */
  listPendingEvents(shard: number, upTo: string, limit: number): Promise<PendingEvent[]>;
  /** Takes an entry for one republisher until `until` (it is due again then); false when another took it. */
  claimPendingEvent(pending: PendingEvent, until: string): Promise<boolean>;
  /**
   * Stores entries on their own, outside any state change: for a producer that publishes first
   * and keeps only what the bus refused (its state change is redone, and the event announced
   * again, by a redelivery until the entry is stored). Storing the same key twice keeps one entry.
   */
  keepPendingEvents(pending: PendingEvent[]): Promise<void>;
  /** Removes entries whose events the bus accepted. */
  removePendingEvents(pending: Pick<PendingEvent, "leadId" | "key">[]): Promise<void>;
}

/**
 * An event in the outbox: stored in the same write as the state change it announces, so the
 * change and its announcement cannot be separated by a failed PutEvents or a dying process.
 */
export interface PendingEvent {
  leadId: string;
  /** Unique per lead and event (e.g. `lead.closed#<closedAt>`): the same event is stored once. */
  key: string;
  event: BusEvent;
  /** When the republisher may take it: after the producer's own attempt had its chance. */
  dueAt: string;
}

/** Where a lead's double opt-in stands: what was sent, what failed, when it must be looked at again. */
export interface ConfirmationState {
  leadId: string;
  /** As stored (0 before the first write); writes are conditional on it. */
  version: number;
  /** Confirmation emails SES accepted. */
  sends: number;
  /** Failed attempts since the last one SES accepted. */
  failures: number;
  lastSentAt?: string;
  /** While one sender holds the right to send; it lapses then (a crashed sender is retried). */
  sendingUntil?: string;
  /** When the confirmation job must look at it again (a retry, a lapsed claim, the expiry); none: never. */
  dueAt?: string;
  /** When the lead is deleted unless confirmed: the newest link's expiry. */
  expiresAt: string;
}

/** What a score was computed from; a score write is conditional on both. */
export interface ScoreBasis {
  version: number;
  /** Behaviour activities appended so far (0 before the first). */
  behaviourSeq: number;
}

export interface ScoringRead {
  lead: Lead;
  basis: ScoreBasis;
  /** Newest first. */
  activities: Activity[];
  /** A qualification whose `lead.qualified` has not reached the bus yet, and whether someone holds it. */
  unannounced?: { qualifiedAt: string; heldUntil?: string };
  /** When the lead's entry on the republisher's list (its `lead.captured` not known to be out) falls due. */
  unpublishedDue?: string;
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
  override readonly name: string = "MailerUnavailableError";
}

/**
 * The request may have reached the provider and the answer was lost (a timeout, a 5xx after the
 * request left): the email may or may not be out. A subclass of MailerUnavailableError, so a
 * caller that may send twice (a rep notice) retries as before; the sweeper, which sends each step
 * at most once, settles the step as uncertain instead.
 */
export class MailerUncertainError extends MailerUnavailableError {
  override readonly name = "MailerUncertainError";
}

/** The provider refused this message for good (bad address, unverified sender…): do not retry. */
export class MailRejectedError extends Error {
  override readonly name = "MailRejectedError";
}

// ---------------------------------------------------------------------------------------------
// Nurture: enrollments, their due index, and the messages sent

export type EnrollmentStatus = "active" | "ended";

export interface Enrollment {
  leadId: string;
  sequenceId: string;
  status: EnrollmentStatus;
  enrolledAt: string;
  /** The step handled last (sent or skipped) and when the sequence last sent. */
  lastStepId?: string;
  lastSentAt?: string;
  lastMessageId?: string;
  completedStepIds: string[];
  /** The step waiting to go out and when; present only while active (the sparse due index). */
  nextStepId?: string;
  dueAt?: string;
  /** Failed send attempts of the waiting step. */
  attempts: number;
  /** Set while a sweeper holds the step: the claim, its step and when the claim lapses. */
  sending?: { token: string; stepId: string; until: string };
  endedAt?: string;
  endReason?: string;
  /** How many times this lead (re)started the sequence. */
  runs: number;
  /**
   * This enrollment's nurture send times within its sequence's frequency-cap window, oldest
   * first: the cap counts them over the lead's enrollments, so a sweep reads enrollments, not
   * messages. Absent on enrollments written before it existed (the sweeper then reads messages).
   */
  recentSends?: string[];
}

/** What settling a claimed (or read) step writes: the step handled, then the next step or the end. */
export interface StepSettlement {
  handledStepId?: string;
  sentAt?: string;
  messageId?: string;
  next?: { stepId: string; dueAt: string };
  end?: { reason: string; at: string };
  attempts?: number;
  /** Replaces `recentSends` (the sweeper trims it to the cap's window). */
  recentSends?: string[];
  /** A history line written atomically with the settle (a skipped step, or a sent email's line). */
  activity?: NewActivity;
  /**
   * The email this step sent: recorded with the settle, and recorded even when the settle's
   * guard no longer holds, as the email went out either way.
   */
  message?: MessageRecord;
}

/**
 * One conditional write of a sweep's batch. The guard says which state it applies to: the
 * sweeper's own live claim (`token`), or the version the batch read (step `stepId` due at
 * `dueAt`, unclaimed or holding the lapsed claim `lapsed`, a per-step claim older sweepers wrote). The outcome settles it.
 */
export type StepWrite = {
  leadId: string;
  sequenceId: string;
  guard: { token: string } | { dueAt: string; stepId?: string; lapsed?: string };
  outcome: StepSettlement;
};

/** What taking a due shard's sweep lease found on it. */
export interface SweepLease {
  /** Steps a previous holder marked before sending and never cleared: they may have gone out. */
  inFlight: DueRef[];
}

export interface SweepLeaseChange {
  begin?: readonly DueRef[];
  done?: readonly DueRef[];
  until?: string;
  release?: boolean;
}

/** A due-index entry: enough to claim the enrollment it points at. */
export interface DueRef {
  leadId: string;
  sequenceId: string;
  /** The step waiting when the entry was read. */
  stepId: string;
  dueAt: string;
}

export interface MessageRecord {
  /** Our id, carried in the `message` tag. */
  messageId: string;
  /** The provider's id, which its events carry. */
  providerMessageId: string;
  leadId: string;
  kind: "nurture" | "confirmation" | "notification" | "follow-up";
  /** The form whose follow-up this is (kind follow-up). */
  formId?: string;
  sequenceId?: string;
  stepId?: string;
  /** The A/B variant of the step this lead was sent. */
  variantId?: string;
  sentAt: string;
  openedAt?: string;
  clickedAt?: string;
  bouncedAt?: string;
  complainedAt?: string;
}

/** What enrolling a lead or sending it a step checks, read from its partition in one request. */
export interface LeadNurtureState {
  lead: Lead | undefined;
  enrollments: Enrollment[];
  /**
   * The lead's nurture emails sent at or after `sentSince`, and every nurture email of the
   * sequence `sequenceId` (whatever its age: the step conditions look at the last one's opens and
   * clicks), oldest first.
   */
  messages: MessageRecord[];
}

/** An address's suppression records as a condition of a write (LeadStore.suppressionGuard). */
export interface SuppressionGuard {
  readonly kind: "suppression-guard";
}

/** Writes that go with starting an enrollment, in the same atomic write. */
export interface StartEnrollmentOptions {
  /** The start fails, with "suppressed", when the address is suppressed by then. */
  unlessSuppressed?: SuppressionGuard;
  /** Appended to the lead's history when (and only when) the enrollment starts. */
  activity?: NewActivity;
  /** The start fails when the lead is in one of these stages by then (or is gone). */
  unlessStageIn?: readonly string[];
}

export interface NurtureStore {
  /** Number of due-index shards; the sweeper queries each. */
  readonly shards: number;
  /**
   * The lead, its enrollments and the messages asked for, as of one strongly consistent read of
   * its partition.
   */
  readNurtureState(leadId: string, options?: { sentSince?: string; sequenceId?: string }): Promise<LeadNurtureState>;
  /**
   * A sweep's batch in strongly consistent reads, a hundred items a request: each lead with its
   * enrollments of the sequences named (no messages).
   */
  readLeads(leadIds: readonly string[], sequenceIds: readonly string[]): Promise<Map<string, LeadNurtureState>>;
  /**
   * Conditional writes of a sweep's batch, a hundred to a request (a transaction each, the only
   * batch of conditional writes DynamoDB has). Returns, per write, whether its guard held. A
   * settle carrying a sent email's record writes it with the settle, and on its own when the
   * guard failed.
   */
  writeSteps(writes: readonly StepWrite[]): Promise<boolean[]>;
  getEnrollment(leadId: string, sequenceId: string): Promise<Enrollment | undefined>;
  listEnrollments(leadId: string): Promise<Enrollment[]>;
  /**
   * Starts (or, after it ended, restarts) an enrollment with its first step due. Conditional:
   * returns false when another writer got there first (the enrollment exists and is active, or
   * changed since `previous` was read).
   */
  startEnrollment(enrollment: Enrollment, previous?: Enrollment, options?: StartEnrollmentOptions): Promise<boolean | "suppressed">;
  /** Due-index entries of one shard due at or before `now`, oldest first. */
  listDue(shard: number, now: string, limit: number): Promise<DueRef[]>;
  /**
   * Takes the sweep lease of a due shard for `owner` until `until`: one conditional write, which
   * fails (undefined) while another owner's lease is live at `now`. Returns the steps marked on
   * the lease and never cleared: a previous holder may have sent them.
   */
  takeSweepLease(shard: number, owner: string, until: string, now: string): Promise<SweepLease | undefined>;
  /**
   * One conditional write on a shard's lease, made only while it is `owner`'s (false otherwise):
   * marks `begin` as being sent, clears the marks of `done`, extends the lease to `until`, and
   * with `release` gives it up (the marks not cleared stay for the next holder).
   */
  updateSweepLease(shard: number, owner: string, change: SweepLeaseChange): Promise<boolean>;
  /** Ends an active enrollment (exit event, unsubscribe); no-op when already ended. */
  endEnrollment(leadId: string, sequenceId: string, reason: string, at: string): Promise<void>;
  recordMessage(message: MessageRecord): Promise<void>;
  getMessage(leadId: string, messageId: string): Promise<MessageRecord | undefined>;
  getMessageByProviderId(providerMessageId: string): Promise<MessageRecord | undefined>;
  /** Records an engagement time (first one wins) on a message. */
  markMessage(leadId: string, messageId: string, field: "openedAt" | "clickedAt" | "bouncedAt" | "complainedAt", at: string): Promise<void>;
  /** Send times of nurture emails to a lead since `since`, for the frequency cap. */
  recentSends(leadId: string, since: string): Promise<string[]>;
  /** The nurture email already on record for this step since `since` (the run's start), if any. */
  findSent(leadId: string, sequenceId: string, stepId: string, since: string): Promise<MessageRecord | undefined>;
  /** How the A/B test of a step ended, if it has. */
  getAbDecision(sequenceId: string, stepId: string): Promise<AbDecision | undefined>;
  /** Ends a step's A/B test; the first decision stands (false when one was there already). */
  endAbTest(decision: AbDecision): Promise<boolean>;
  /** Each variant's figures of a step so far, as the report counted them. */
  variantFigures(sequenceId: string, stepId: string): Promise<VariantFigures[]>;
}
