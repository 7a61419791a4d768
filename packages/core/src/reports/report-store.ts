/**
 * The report's port: per-lead report state (the facts already counted, stage times) and the
 * sharded day aggregates. The DynamoDB adapter lives in @leadloop/store.
 */
import type { DealReview } from "../feedback/deal-review";
import type { AbDecision, VariantFigures } from "../nurture/ab-test";
import type { CohortState } from "./cohort";
import type { AggregateIncrement, AggregateRow, CohortRow, ReportDims } from "./report-aggregates";

/**
 * What the report remembers about one lead: its cohort, when it reached each stage of the current
 * cycle (a recycled lead starts a new one), and every fact already counted, so a redelivered event
 * adds nothing.
 */
export interface LeadReportState {
  leadId: string;
  dims: ReportDims;
  capturedAt: string;
  /** Set when a lead is recycled; its next MQL is timed from here. */
  cycleStartedAt?: string;
  engagedAt?: string;
  qualifiedAt?: string;
  claimedAt?: string;
  closedAt?: string;
  /** How far the lead got in the cohort of its capture day (cohort.ts). */
  cohort?: CohortState;
  /** What qualified it in the current cycle: the deal review and calibration read the rules. */
  qualification?: { score?: number; threshold?: number; rules: string[] };
  /** Keys of the facts counted, e.g. `captured`, `opened#<messageId>`, `mql#<qualifiedAt>`. */
  facts: string[];
  /** Optimistic lock: every commit moves it. */
  version: number;
}

/** A lead's cohort as the lead item tells it, for leads whose capture the report never saw. */
export interface LeadFacts extends ReportDims {
  capturedAt: string;
  medium?: string;
  campaign?: string;
}

export interface SentMessage {
  messageId: string;
  kind: string;
  sequenceId?: string;
  stepId?: string;
  variantId?: string;
  sentAt: string;
}

export interface ReportCommit {
  state: LeadReportState;
  /** The version read; undefined when the lead had no report state yet. */
  expectedVersion: number | undefined;
  increments: AggregateIncrement[];
  /** A closed deal's review, written in the same transaction. */
  review?: DealReview;
}

export interface ReportStore {
  /** Shards each day's aggregates are spread over; a reader queries every one. */
  readonly shards: number;
  getLeadReportState(leadId: string): Promise<LeadReportState | undefined>;
  getLeadFacts(leadId: string): Promise<LeadFacts | undefined>;
  listSentMessages(leadId: string): Promise<SentMessage[]>;
  /**
   * Writes the lead's new state and adds the increments, all or nothing, each increment on a
   * random shard. False when the state changed since it was read (another delivery got there).
   */
  commitReportEvent(commit: ReportCommit): Promise<boolean>;
  /** Every aggregate row of one day, from every shard (rows are not summed across shards). */
  readDay(day: string): Promise<AggregateRow[]>;
  /** Every cohort row of the leads captured on one day, from every shard. */
  readCohortDay(day: string): Promise<CohortRow[]>;
  /** Each A/B variant's figures of a step, summed over every shard. */
  variantFigures(sequenceId: string, stepId: string): Promise<VariantFigures[]>;
  /** How a step's A/B test ended, if it has. */
  getAbDecision(sequenceId: string, stepId: string): Promise<AbDecision | undefined>;
  /** Reviews of the deals closed on one day. */
  listReviews(day: string): Promise<DealReview[]>;
  /** One deal's review by lead and closing instant. */
  getReview(leadId: string, closedAt: string): Promise<DealReview | undefined>;
}
