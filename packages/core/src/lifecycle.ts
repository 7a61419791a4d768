/**
 * The lead's lifecycle in one place: its stages, the move each event and each rep outcome may
 * make, and what each stage allows (nurture, scoring up, qualification, recycling, going to
 * sales). Every use case (and the simulator) asks this module; none keeps its own list of stages,
 * so production, the local stack and the forecast cannot disagree on what a stage means.
 *
 * The one rule that needed a stage of its own: a lead a rep closed as not-now belongs to
 * marketing until its recycle date, whatever it does (stage `not-now`); on that date it becomes
 * `recycled`, and goes back to sales only on engagement after that date, never on fit alone.
 */

export const STAGES = [
  "pending-confirmation",
  "lead",
  "mql",
  "sales",
  "customer",
  "not-now",
  "recycled",
  "lost",
  "disqualified",
  "unsubscribed",
] as const;
export type Stage = (typeof STAGES)[number];

/** The stage a qualifying score moves a lead to, from any stage it may qualify from. */
export const QUALIFIED_STAGE: Stage = "mql";

/** The rep's outcome of a hand-off (`POST /v1/sales/leads/{id}/outcome`, `lead.closed`). */
export type LifecycleOutcome = "won" | "lost" | "disqualified" | "not-now";

/** Who the lead belongs to at a stage; nobody's once it has left the funnel. */
export type Owner = "marketing" | "sales" | "none";

export interface StagePolicy {
  owner: Owner;
  /** Nurture sequences may enroll it and send to it. */
  nurture: boolean;
  /** Sequences that exit on `lead.qualified` do not take it (it is with sales, or on its way). */
  withSales: boolean;
  /**
   * May it become marketing-qualified: `first` only if it never qualified, `after-recycle` only
   * on engagement after its recycle date, `never` not at all.
   */
  qualifies: "first" | "after-recycle" | "never";
  /** May the recycler move it back to nurture on its recycle date. */
  recycles: boolean;
  /** Does an unsubscribe move it to `unsubscribed` (marketing's leads), or is it left alone. */
  leavesOnUnsubscribe: boolean;
  /** Does the lead still browse the site and attend webinars (what the simulator draws). */
  prospect: boolean;
}

const POLICY: Readonly<Record<Stage, StagePolicy>> = {
  // Waiting for the double-opt-in click: only the confirmation email goes out.
  "pending-confirmation": { owner: "marketing", nurture: false, withSales: false, qualifies: "never", recycles: false, leavesOnUnsubscribe: true, prospect: false },
  lead: { owner: "marketing", nurture: true, withSales: false, qualifies: "first", recycles: false, leavesOnUnsubscribe: true, prospect: true },
  mql: { owner: "sales", nurture: true, withSales: true, qualifies: "never", recycles: false, leavesOnUnsubscribe: false, prospect: true },
  sales: { owner: "sales", nurture: true, withSales: true, qualifies: "never", recycles: false, leavesOnUnsubscribe: false, prospect: true },
  // Retention programs are nurture too; a customer is never "qualified" again.
  customer: { owner: "marketing", nurture: true, withSales: false, qualifies: "never", recycles: false, leavesOnUnsubscribe: false, prospect: false },
  // Parked: the rep and the buyer agreed on a date. No sequence, no qualification until then.
  "not-now": { owner: "marketing", nurture: false, withSales: false, qualifies: "never", recycles: true, leavesOnUnsubscribe: true, prospect: true },
  recycled: { owner: "marketing", nurture: true, withSales: false, qualifies: "after-recycle", recycles: false, leavesOnUnsubscribe: true, prospect: true },
  lost: { owner: "none", nurture: false, withSales: false, qualifies: "never", recycles: false, leavesOnUnsubscribe: false, prospect: false },
  disqualified: { owner: "none", nurture: false, withSales: false, qualifies: "never", recycles: false, leavesOnUnsubscribe: false, prospect: false },
  unsubscribed: { owner: "none", nurture: false, withSales: false, qualifies: "never", recycles: false, leavesOnUnsubscribe: false, prospect: false },
};

/** What a stage allows. An unknown stage (data written by an older version) allows nothing. */
export function stagePolicy(stage: string): StagePolicy {
  return (POLICY as Record<string, StagePolicy | undefined>)[stage] ?? POLICY.lost;
}

export function isStage(value: unknown): value is Stage {
  return typeof value === "string" && (STAGES as readonly string[]).includes(value);
}

/** The stage a rep's outcome puts the lead in; sales and marketing's feedback both ask this. */
export function stageAfterOutcome(outcome: LifecycleOutcome): Stage {
  switch (outcome) {
    case "won":
      return "customer";
    case "lost":
      return "lost";
    case "disqualified":
      return "disqualified";
    case "not-now":
      return "not-now";
  }
}

/** The stage a new lead starts in. */
export function stageAtCapture(doubleOptIn: boolean): Stage {
  return doubleOptIn ? "pending-confirmation" : "lead";
}

/** Lifecycle events other than a rep's outcome, and the stage each leads to from where it may. */
export type LifecycleEvent = "confirmed" | "qualified" | "assigned" | "recycle-date" | "unsubscribed";

/**
 * The move an event makes from `stage`, or undefined when the event does not move a lead in that
 * stage (a confirmation of a confirmed lead, an unsubscribe from a customer).
 */
export function stageAfter(stage: Stage, event: LifecycleEvent): Stage | undefined {
  const policy = stagePolicy(stage);
  switch (event) {
    case "confirmed":
      return stage === "pending-confirmation" ? stageAtCapture(false) : undefined;
    case "qualified":
      return policy.qualifies === "never" ? undefined : QUALIFIED_STAGE;
    case "assigned":
      return stage === "mql" ? "sales" : undefined;
    case "recycle-date":
      return policy.recycles ? "recycled" : undefined;
    case "unsubscribed":
      return policy.leavesOnUnsubscribe ? "unsubscribed" : undefined;
  }
}

/** May nurture sequences enroll this lead and send to it. */
export function mayNurture(stage: Stage): boolean {
  return stagePolicy(stage).nurture;
}

/** Is the lead waiting for its double-opt-in click: its one email is the confirmation. */
export function awaitsConfirmation(stage: Stage): boolean {
  return stageAfter(stage, "confirmed") !== undefined;
}

/** Is the lead with sales (or on its way there): sequences that exit on qualifying leave it alone. */
export function isWithSales(stage: Stage): boolean {
  return stagePolicy(stage).withSales;
}

/** May the recycler move this lead back to nurture. Never a lead in a sales queue. */
export function mayRecycle(stage: Stage): boolean {
  return stagePolicy(stage).recycles;
}

/** What the qualification decision needs to know about the lead's score. */
export interface QualificationEvidence {
  /** The score has reached the lead's threshold. */
  reachesThreshold: boolean;
  /** Points earned by what the lead did after its latest recycle date (0 if never recycled). */
  engagementSinceRecycle: number;
}

/**
 * May this score make the lead marketing-qualified now. From `lead` only once; from `recycled`
 * only on engagement after the recycle date, so a lead whose fit alone clears the threshold is
 * not sent back to sales the moment it is recycled.
 */
export function mayQualify(lead: { stage: Stage; qualifiedAt?: string | undefined }, evidence: QualificationEvidence): boolean {
  if (!evidence.reachesThreshold) return false;
  switch (stagePolicy(lead.stage).qualifies) {
    case "first":
      return lead.qualifiedAt === undefined;
    case "after-recycle":
      return evidence.engagementSinceRecycle > 0;
    case "never":
      return false;
  }
}

/** Stages from which the store's qualifying write may move a lead (it re-checks them atomically). */
export function qualifiableStages(): { first: Stage[]; afterRecycle: Stage[] } {
  return {
    first: STAGES.filter((s) => POLICY[s].qualifies === "first"),
    afterRecycle: STAGES.filter((s) => POLICY[s].qualifies === "after-recycle"),
  };
}

/** Does the lead still browse the site and attend webinars at this stage (the simulator draws it). */
export function isProspect(stage: Stage): boolean {
  return stagePolicy(stage).prospect;
}
