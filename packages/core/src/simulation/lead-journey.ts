/**
 * One lead's way through the lifecycle as the simulator plays it, in memory: the same stage moves
 * (lifecycle.ts), the same scoring of the lead's activities and the same qualification decision
 * (engagement/lead-scoring.ts) as production, so a forecast cannot drift from what the deployed
 * loop would do. What people do is drawn elsewhere (journey-simulator.ts) or scripted
 * (scripted-journeys.ts); this only says what it does to the lead.
 */
import type { LeadloopConfig } from "../config/schema";
import { isQualifying, RECYCLED_ACTIVITY, scoreStoredLead, type LeadScoring } from "../engagement/lead-scoring";
import { recycleInstant } from "../feedback/closed-event";
import type { Profile } from "../lead";
import { type LifecycleOutcome, mayQualify, QUALIFIED_STAGE, type Stage, stageAfter, stageAfterOutcome, stageAtCapture } from "../lifecycle";
import type { Activity } from "../ports";
import type { ScoredActivity } from "../scoring";
import { assignSegment } from "../segmentation";

export interface JourneyPerson {
  email: string;
  profile: Profile;
}

export class LeadJourney {
  stage: Stage = stageAtCapture(false);
  segment = "";
  qualifiedAt?: string;
  everQualified = false;
  suppressed = false;
  /** For a parked not-now lead: when the recycler takes it back. */
  recycleAt?: number;
  readonly activities: Activity[] = [];

  constructor(
    private readonly config: LeadloopConfig,
    readonly person: JourneyPerson,
  ) {}

  capture(now: number, formId: string): void {
    const form = this.config.forms[formId];
    this.stage = stageAtCapture(Boolean(form?.doubleOptIn));
    this.segment = this.#segmentAt(this.stage, form?.segmentHint);
    this.#push({ type: "form.submitted", at: iso(now), formId });
  }

  /** The double-opt-in click; false when there was nothing to confirm. */
  confirm(): boolean {
    const next = stageAfter(this.stage, "confirmed");
    if (!next) return false;
    this.stage = next;
    return true;
  }

  record(activity: ScoredActivity): void {
    this.#push(activity);
  }

  /** The lead's score now, as production computes it from the stored activities. */
  score(now: number): LeadScoring {
    return scoreStoredLead(
      { email: this.person.email, profile: this.person.profile, segment: this.segment, stage: this.stage, ...(this.qualifiedAt ? { qualifiedAt: this.qualifiedAt } : {}) },
      this.activities,
      this.config,
      new Date(now),
    );
  }

  /** Rescores as production does after each activity; true when this made the lead an MQL. */
  rescore(now: number): boolean {
    const { score, earnedSinceRecycle } = this.score(now);
    if (!mayQualify(this, { reachesThreshold: isQualifying(score), engagementSinceRecycle: earnedSinceRecycle })) return false;
    this.stage = QUALIFIED_STAGE;
    this.qualifiedAt = iso(now);
    this.everQualified = true;
    return true;
  }

  /** The hand-off put it in a team's queue. */
  assign(): void {
    this.stage = stageAfter(this.stage, "assigned") ?? this.stage;
  }

  /** The rep's outcome; a not-now lead is parked until the start of `recycleOn` (UTC). */
  close(outcome: LifecycleOutcome, recycleOn?: string): void {
    this.stage = stageAfterOutcome(outcome);
    if (outcome === "won") this.segment = this.#segmentAt(this.stage);
    this.recycleAt = outcome === "not-now" && recycleOn ? Date.parse(recycleInstant(recycleOn)) : undefined;
  }

  /** What the recycler does when it runs at `now`: true when the lead came back to nurture. */
  recycleIfDue(now: number): boolean {
    if (this.recycleAt === undefined || now < this.recycleAt) return false;
    this.recycleAt = undefined;
    const next = stageAfter(this.stage, "recycle-date");
    if (!next) return false;
    this.stage = next;
    this.segment = this.#segmentAt(next);
    this.activities.push({ leadId: "", id: `${iso(now)}-r`, type: RECYCLED_ACTIVITY, at: iso(now), data: {} });
    return true;
  }

  unsubscribe(now: number): void {
    this.suppressed = true;
    this.#push({ type: "email.unsubscribed", at: iso(now) });
    // Leaving marketing email ends nurture, not a sales conversation or a customer relationship.
    this.stage = stageAfter(this.stage, "unsubscribed") ?? this.stage;
  }

  bounce(now: number): void {
    this.suppressed = true;
    this.#push({ type: "email.bounced", at: iso(now) });
  }

  #segmentAt(stage: Stage, hint?: string): string {
    return assignSegment({ ...this.person.profile, email: this.person.email, stage }, this.config.segments, hint);
  }

  #push(activity: ScoredActivity): void {
    const data = { ...(activity.url ? { url: activity.url } : {}), ...(activity.formId ? { formId: activity.formId } : {}) };
    this.activities.push({ leadId: "", id: `${activity.at}-${this.activities.length}`, type: activity.type, at: activity.at, data });
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
