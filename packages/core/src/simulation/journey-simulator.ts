/**
 * The journey simulator: runs a config over synthetic leads on a virtual clock, hour by hour,
 * through the same engines production uses (segmentation, the sequence planner with its send
 * windows and frequency cap, step conditions, scoring with decay, team selection), drawing what
 * people do from the given probabilities. Pure and deterministic: the same config, options and
 * seed always give the same forecast, and nothing touches a network, a table or the real clock.
 */
import { emailRateFor } from "./email-rates";
import { type AbDecision, judgeAbTest, type VariantFigures, variantContent, variantFor } from "../nurture/ab-test";
import type { LeadloopConfig, Rep, Sequence, Step, Team } from "../config/schema";
import { evaluateCondition } from "../conditions";
import { addDuration, durationMs } from "../duration";
import { type EnrollmentState, planNextStep, sendZone } from "../planner";
import { isProspect, mayNurture } from "../lifecycle";
import type { ScoredActivity } from "../scoring";
import { type CostedOperation, estimateCost, OPERATION_COSTS } from "./cost-model";
import { EventQueue } from "./event-queue";
import type { Forecast, RepLoad, SequenceForecast } from "./forecast";
import { Prng, streamSeed } from "./prng";
import { resolveSimulationOptions, type SimulationOptions, type SimulationOptionsInput } from "./simulation-options";
import { LeadJourney } from "./lead-journey";
import { generateLead, type SyntheticLead } from "./synthetic-leads";
import { chooseTeam, RepRotation } from "../sales/team-assignment";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export interface SimulationHooks {
  /** Called after each simulated hour, e.g. to draw a progress bar. */
  onProgress?: (hoursDone: number, hoursTotal: number) => void;
}

/** One nurture email as sent, for checks on timing (send windows, frequency caps). */
export interface SimulatedSend {
  leadIndex: number;
  sequenceId: string;
  stepId: string;
  at: Date;
  /** The zone the send window was read in for this lead. */
  zone: string;
}

export interface SimulationRun {
  forecast: Forecast;
  sends: SimulatedSend[];
}

interface SimMessage {
  sentAt: number;
  openedAt?: number;
  clickedAt?: number;
}

interface SimEnrollment {
  sequence: Sequence;
  state: EnrollmentState;
  active: boolean;
  endedAt?: number;
  /** Bumped on every (re)enrollment, so a due entry from an earlier run of the sequence is ignored. */
  version: number;
  lastMessage?: SimMessage;
}

interface SimHandoff {
  team: Team;
  rep: Rep;
  misses: number;
  escalated: boolean;
}

/** Which step (and A/B variant) an open or a click counts for. */
interface EmailCounts {
  sequenceId: string;
  stepId: string;
  variantId?: string;
}

interface SimLead {
  source: SyntheticLead;
  rng: Prng;
  /** Stage, segment, activities and score, moved by production's lifecycle and scoring. */
  journey: LeadJourney;
  sends: number[];
  enrollments: Map<string, SimEnrollment>;
  /** Counted among the MQLs (once per lead, however often it qualifies). */
  counted: boolean;
  handoff?: SimHandoff;
}

type SimEvent =
  | { kind: "capture" | "confirm" | "weekly" | "claim" | "claim-missed" | "outcome" | "recycle" | "unsubscribe" | "bounce"; lead: SimLead }
  | { kind: "due"; lead: SimLead; sequenceId: string; version: number }
  | { kind: "activity"; lead: SimLead; activity: ScoredActivity; counts?: EmailCounts };

const SITE_PAGES = ["/", "/product", "/features/dashboards", "/blog/modern-analytics-stack", "/customers", "/docs/getting-started"];

export function simulateJourneys(
  config: LeadloopConfig,
  input: SimulationOptionsInput = {},
  hooks: SimulationHooks = {},
): SimulationRun {
  return new JourneySimulation(config, resolveSimulationOptions(input)).run(hooks);
}

/** The forecast alone, for callers that do not need the individual sends. */
export function forecastJourneys(config: LeadloopConfig, input: SimulationOptionsInput = {}, hooks: SimulationHooks = {}): Forecast {
  return simulateJourneys(config, input, hooks).forecast;
}

class JourneySimulation {
  readonly #queue = new EventQueue<SimEvent>();
  readonly #rotation = new RepRotation();
  readonly #start: number;
  readonly #end: number;
  readonly #sends: SimulatedSend[] = [];
  /** Each A/B tested step's figures per variant, and the tests its winner rule ended, keyed sequence#step. */
  readonly #abFigures = new Map<string, Map<string, VariantFigures>>();
  readonly #abDecisions = new Map<string, AbDecision>();
  readonly #operations = Object.fromEntries(Object.keys(OPERATION_COSTS).map((k) => [k, 0])) as Record<CostedOperation, number>;
  readonly #stats = {
    captured: 0,
    confirmed: 0,
    unconfirmed: 0,
    leadsBySegment: new Map<string, number>(),
    byPersona: new Map<string, number>(),
    byForm: new Map<string, number>(),
    nurture: 0,
    confirmations: 0,
    repNotifications: 0,
    perDay: [] as number[],
    opened: 0,
    clicked: 0,
    bounced: 0,
    sequences: new Map<string, { enrolled: number; steps: Map<string, { sent: number; skipped: number; opened: number; clicked: number }> }>(),
    mqlsBySegment: new Map<string, number>(),
    handoffsBySegment: new Map<string, number>(),
    handoffsByTeam: new Map<string, number>(),
    unassigned: 0,
    reassigned: 0,
    escalated: 0,
    claimed: 0,
    won: 0,
    lost: 0,
    disqualified: 0,
    notNow: 0,
    recycled: 0,
    purchases: 0,
    repLeads: new Map<string, number>(),
    unsubscribesBySegment: new Map<string, number>(),
  };

  constructor(
    private readonly config: LeadloopConfig,
    private readonly options: SimulationOptions,
  ) {
    this.#start = Date.parse(options.start);
    this.#end = this.#start + options.days * DAY;
    this.#stats.perDay = Array.from({ length: options.days }, () => 0);
    for (const seq of config.sequences) {
      this.#stats.sequences.set(seq.id, {
        enrolled: 0,
        steps: new Map(seq.steps.map((s) => [s.id, { sent: 0, skipped: 0, opened: 0, clicked: 0 }])),
      });
    }
  }

  run(hooks: SimulationHooks): SimulationRun {
    const { leads, seed, segmentMix, days } = this.options;
    const period = { start: new Date(this.#start), days };
    for (let i = 0; i < leads; i++) {
      const rng = new Prng(streamSeed(seed, i));
      const source = generateLead(i, rng, segmentMix, this.config.forms, period);
      const lead: SimLead = {
        source,
        rng,
        journey: new LeadJourney(this.config, { email: source.email, profile: source.profile }),
        sends: [],
        enrollments: new Map(),
        counted: false,
      };
      this.#queue.push(source.arrivesAt.getTime(), { kind: "capture", lead });
    }

    const hours = days * 24;
    for (let h = 0; h < hours; h++) {
      const tickEnd = this.#start + (h + 1) * HOUR;
      for (let at = this.#queue.peekAt(); at !== undefined && at < tickEnd; at = this.#queue.peekAt()) {
        const next = this.#queue.pop();
        if (next) this.#handle(next.item, next.at);
      }
      hooks.onProgress?.(h + 1, hours);
    }
    return { forecast: this.#forecast(), sends: this.#sends };
  }

  #schedule(at: number, event: SimEvent): void {
    // What would happen after the period is outside the forecast.
    if (at < this.#end) this.#queue.push(at, event);
  }

  #handle(event: SimEvent, now: number): void {
    const lead = event.lead;
    switch (event.kind) {
      case "capture":
        this.#capture(lead, now);
        break;
      case "confirm":
        this.#confirm(lead, now);
        break;
      case "due":
        this.#due(lead, event.sequenceId, event.version, now);
        break;
      case "activity":
        this.#activity(lead, event.activity, now, event.counts);
        break;
      case "unsubscribe":
        this.#unsubscribe(lead, now);
        break;
      case "bounce":
        this.#bounce(lead, now);
        break;
      case "weekly":
        this.#weekly(lead, now);
        break;
      case "claim":
        this.#claim(lead, now);
        break;
      case "claim-missed":
        this.#claimMissed(lead, now);
        break;
      case "outcome":
        this.#outcome(lead, now);
        break;
      case "recycle":
        this.#recycle(lead, now);
        break;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Capture and nurture

  #capture(lead: SimLead, now: number): void {
    const { source } = lead;
    const form = this.config.forms[source.formId];
    this.#operations.capture++;
    this.#stats.captured++;
    bump(this.#stats.byPersona, source.persona.kind);
    bump(this.#stats.byForm, source.formId);
    lead.journey.capture(now, source.formId);
    bump(this.#stats.leadsBySegment, lead.journey.segment);
    this.#schedule(now + lead.rng.between(0, 7 * DAY), { kind: "weekly", lead });

    if (form?.doubleOptIn) {
      this.#operations.confirmation++;
      this.#stats.confirmations++;
      this.#countEmailDay(now);
      if (lead.rng.chance(this.options.confirmRate)) {
        this.#schedule(now + MINUTE + Math.min(lead.rng.exponential(2 * HOUR), 3 * DAY), { kind: "confirm", lead });
      } else {
        this.#stats.unconfirmed++;
      }
      return;
    }
    this.#startNurture(lead, now);
    this.#checkScore(lead, now);
  }

  #confirm(lead: SimLead, now: number): void {
    if (!lead.journey.confirm()) return;
    this.#stats.confirmed++;
    this.#startNurture(lead, now);
    this.#checkScore(lead, now);
  }

  /** Every sequence of the lead's segment, as the generated routing rules do. */
  #startNurture(lead: SimLead, now: number): void {
    for (const sequence of this.config.sequences) {
      if (sequence.segment === lead.journey.segment) this.#enroll(lead, sequence, now);
    }
  }

  #enroll(lead: SimLead, sequence: Sequence, now: number): void {
    if (!mayNurture(lead.journey.stage) || lead.journey.suppressed) return;
    const previous = lead.enrollments.get(sequence.id);
    if (previous?.active) return;
    if (previous) {
      const endedAt = new Date(previous.endedAt ?? now);
      if (!sequence.reenrollAfter || addDuration(endedAt, sequence.reenrollAfter).getTime() > now) return;
    }
    this.#operations.enroll++;
    const stats = this.#stats.sequences.get(sequence.id);
    if (stats) stats.enrolled++;
    const enrollment: SimEnrollment = {
      sequence,
      state: { enrolledAt: iso(now), completedStepIds: [] },
      active: true,
      version: (previous?.version ?? 0) + 1,
    };
    lead.enrollments.set(sequence.id, enrollment);
    this.#planNext(lead, enrollment, now);
  }

  #planNext(lead: SimLead, enrollment: SimEnrollment, now: number): void {
    const plan = planNextStep({
      sequence: enrollment.sequence,
      state: enrollment.state,
      leadTimeZone: this.#zoneOf(lead),
      now: new Date(now),
      recentSends: this.#recentSends(lead, enrollment.sequence, now),
    });
    if (plan.done) {
      this.#endEnrollment(enrollment, now);
      return;
    }
    this.#schedule(plan.dueAt.getTime(), {
      kind: "due",
      lead,
      sequenceId: enrollment.sequence.id,
      version: enrollment.version,
    });
  }

  #endEnrollment(enrollment: SimEnrollment, now: number): void {
    enrollment.active = false;
    enrollment.endedAt = now;
  }

  #exit(lead: SimLead, event: Sequence["exitOn"][number], now: number): void {
    for (const enrollment of lead.enrollments.values()) {
      if (enrollment.active && enrollment.sequence.exitOn.includes(event)) this.#endEnrollment(enrollment, now);
    }
  }

  #zoneOf(lead: SimLead): string | undefined {
    const tz = lead.source.profile.timezone;
    return typeof tz === "string" && tz ? tz : undefined;
  }

  #recentSends(lead: SimLead, sequence: Sequence, now: number): string[] {
    if (!sequence.frequencyCap) return [];
    const since = now - durationMs(sequence.frequencyCap.per);
    return lead.sends.filter((s) => s >= since).map(iso);
  }

  /** A due step, handled as the sweeper does: re-planned against what happened meanwhile. */
  #due(lead: SimLead, sequenceId: string, version: number, now: number): void {
    const enrollment = lead.enrollments.get(sequenceId);
    if (!enrollment?.active || enrollment.version !== version) return;
    if (!mayNurture(lead.journey.stage) || lead.journey.suppressed) {
      this.#endEnrollment(enrollment, now);
      return;
    }
    const { sequence } = enrollment;
    const plan = planNextStep({
      sequence,
      state: enrollment.state,
      leadTimeZone: this.#zoneOf(lead),
      now: new Date(now),
      recentSends: this.#recentSends(lead, sequence, now),
    });
    if (plan.done) {
      this.#endEnrollment(enrollment, now);
      return;
    }
    if (plan.dueAt.getTime() > now + 1000) {
      // Another sequence used up the frequency cap meanwhile: wait for the planned time.
      this.#schedule(plan.dueAt.getTime(), { kind: "due", lead, sequenceId, version });
      return;
    }
    const stepStats = this.#stats.sequences.get(sequence.id)?.steps.get(plan.step.id);
    if (!this.#conditionHolds(lead, enrollment, plan.step, now)) {
      this.#operations.skip++;
      if (stepStats) stepStats.skipped++;
      enrollment.state = handled(enrollment.state, plan.step.id, undefined);
      this.#planNext(lead, enrollment, now);
      return;
    }
    this.#send(lead, enrollment, plan.step, now);
    enrollment.state = handled(enrollment.state, plan.step.id, iso(now));
    this.#planNext(lead, enrollment, now);
  }

  #conditionHolds(lead: SimLead, enrollment: SimEnrollment, step: Step, now: number): boolean {
    const condition = step.condition;
    if (!condition) return true;
    if (condition.previous) {
      // Only what the lead did by now counts: an open still to come is not an open yet.
      const message = enrollment.lastMessage;
      const clicked = message?.clickedAt !== undefined && message.clickedAt <= now;
      const opened = clicked || (message?.openedAt !== undefined && message.openedAt <= now);
      const ok = { opened, clicked, "not-opened": !opened, "not-clicked": !clicked }[condition.previous];
      if (!ok) return false;
    }
    if (condition.when) {
      return evaluateCondition(
        condition.when,
        { ...lead.source.profile, email: lead.source.email, segment: lead.journey.segment, stage: lead.journey.stage },
        { freeMailDomains: this.config.segments.freeMailDomains },
      );
    }
    return true;
  }

  /** Sends a step and draws what the person does with it: bounce, open, click, visit, unsubscribe. */
  #send(lead: SimLead, enrollment: SimEnrollment, step: Step, now: number): void {
    const { sequence } = enrollment;
    const { rng } = lead;
    const o = this.options;
    this.#operations.send++;
    this.#stats.nurture++;
    this.#countEmailDay(now);
    const stepStats = this.#stats.sequences.get(sequence.id)?.steps.get(step.id);
    if (stepStats) stepStats.sent++;
    // An A/B tested step goes out in the lead's variant, or the winner once the rule has ended the test.
    const abKey = `${sequence.id}#${step.id}`;
    const variant = variantFor(`sim-lead-${lead.source.index}`, step, this.#abDecisions.get(abKey));
    const content = variantContent(step, variant);
    if (variant) {
      const figures = this.#abFigures.get(abKey) ?? new Map<string, VariantFigures>();
      const f = figures.get(variant.id) ?? { variantId: variant.id, sent: 0, opened: 0, clicked: 0, mqls: 0, wins: 0 };
      f.sent++;
      figures.set(variant.id, f);
      this.#abFigures.set(abKey, figures);
      if (step.winner && !this.#abDecisions.has(abKey)) {
        const decision = judgeAbTest(step, step.winner, [...figures.values()], { sequenceId: sequence.id, now: new Date(now) });
        if (decision) this.#abDecisions.set(abKey, decision);
      }
    }
    lead.sends.push(now);
    this.#sends.push({
      leadIndex: lead.source.index,
      sequenceId: sequence.id,
      stepId: step.id,
      at: new Date(now),
      zone: sendZone(sequence.sendWindow, this.#zoneOf(lead)),
    });
    const message: SimMessage = { sentAt: now };
    enrollment.lastMessage = message;
    lead.journey.record({ type: "email.sent", at: iso(now) });

    if (rng.chance(o.bounceRate)) {
      this.#schedule(now + MINUTE, { kind: "bounce", lead });
      return;
    }
    this.#operations.sesEvent++; // delivery
    const engagement = lead.source.persona.engagement;
    const counts: EmailCounts = { sequenceId: sequence.id, stepId: step.id, ...(variant ? { variantId: variant.id } : {}) };
    const { openRate, clickRate } = emailRateFor(o.emailRates, { sequenceId: sequence.id, stepId: step.id, template: content.template }, o);
    if (rng.chance(Math.min(1, openRate * engagement))) {
      // Most opens come within hours; some days later.
      message.openedAt = now + MINUTE + Math.min(rng.exponential(6 * HOUR), 3 * DAY);
      this.#schedule(message.openedAt, { kind: "activity", lead, activity: { type: "email.opened", at: iso(message.openedAt) }, counts });
      if (openRate > 0 && rng.chance(clickRate / openRate)) {
        message.clickedAt = message.openedAt + rng.between(MINUTE, 20 * MINUTE);
        this.#schedule(message.clickedAt, { kind: "activity", lead, activity: { type: "email.clicked", at: iso(message.clickedAt) }, counts });
        // A click lands on a page of the site, which the site script reports.
        const landing = message.clickedAt + MINUTE;
        const url = rng.chance(0.25) ? "/pricing" : rng.pick(SITE_PAGES);
        this.#schedule(landing, { kind: "activity", lead, activity: { type: "web.page_view", at: iso(landing), url } });
      }
    }
    if (rng.chance(o.unsubscribeRate)) {
      const at = (message.openedAt ?? now + Math.min(rng.exponential(12 * HOUR), 3 * DAY)) + 2 * MINUTE;
      this.#schedule(at, { kind: "unsubscribe", lead });
    }
  }

  #countEmailDay(now: number): void {
    const day = Math.floor((now - this.#start) / DAY);
    if (day >= 0 && day < this.#stats.perDay.length) this.#stats.perDay[day] = (this.#stats.perDay[day] ?? 0) + 1;
  }

  // -------------------------------------------------------------------------------------------
  // Engagement and scoring

  #activity(lead: SimLead, activity: ScoredActivity, now: number, counts?: EmailCounts): void {
    const fromEmail = activity.type.startsWith("email.");
    if (fromEmail) this.#operations.sesEvent++;
    else this.#operations.webEvent++;
    if (activity.type === "email.opened") this.#stats.opened++;
    if (activity.type === "email.clicked") this.#stats.clicked++;
    if (counts) {
      const s = this.#stats.sequences.get(counts.sequenceId)?.steps.get(counts.stepId);
      if (s && activity.type === "email.opened") s.opened++;
      if (s && activity.type === "email.clicked") s.clicked++;
      const v = counts.variantId ? this.#abFigures.get(`${counts.sequenceId}#${counts.stepId}`)?.get(counts.variantId) : undefined;
      if (v && activity.type === "email.opened") v.opened++;
      if (v && activity.type === "email.clicked") v.clicked++;
    }
    lead.journey.record(activity);
    this.#checkScore(lead, now);
  }

  /** Production rescores on every activity, and qualifies where the lifecycle allows. */
  #checkScore(lead: SimLead, now: number): void {
    if (lead.journey.rescore(now)) this.#qualify(lead, now);
  }

  #unsubscribe(lead: SimLead, now: number): void {
    if (lead.journey.suppressed) return;
    this.#operations.unsubscribe++;
    bump(this.#stats.unsubscribesBySegment, lead.journey.segment);
    lead.journey.unsubscribe(now);
    this.#exit(lead, "lead.unsubscribed", now);
  }

  #bounce(lead: SimLead, now: number): void {
    this.#operations.sesEvent++;
    this.#stats.bounced++;
    lead.journey.bounce(now);
    for (const enrollment of lead.enrollments.values()) if (enrollment.active) this.#endEnrollment(enrollment, now);
  }

  /** Once a week: does the lead browse the site, attend a webinar, or (customers) buy? */
  #weekly(lead: SimLead, now: number): void {
    const { rng } = lead;
    const o = this.options;
    const engagement = lead.source.persona.engagement;
    if (isProspect(lead.journey.stage)) {
      if (rng.chance(Math.min(1, o.pageViewRate * engagement))) {
        const pages = rng.int(1, 4);
        for (let p = 0; p < pages; p++) {
          const at = now + p * 2 * MINUTE;
          const url = rng.chance(0.2) ? "/pricing" : rng.pick(SITE_PAGES);
          this.#schedule(at, { kind: "activity", lead, activity: { type: "web.page_view", at: iso(at), url } });
        }
      }
      if (rng.chance(Math.min(1, o.webinarRate * engagement))) {
        const at = now + rng.between(HOUR, 3 * DAY);
        this.#schedule(at, { kind: "activity", lead, activity: { type: "web.webinar_attended", at: iso(at) } });
      }
    } else if (lead.journey.stage === "customer" && rng.chance(o.purchaseRate)) {
      this.#operations.purchase++;
      this.#stats.purchases++;
    }
    this.#schedule(now + 7 * DAY, { kind: "weekly", lead });
  }

  // -------------------------------------------------------------------------------------------
  // Hand-off and sales

  #qualify(lead: SimLead, now: number): void {
    // The journey marks every qualification; the forecast counts a lead's first one.
    if (!lead.counted) {
      lead.counted = true;
      bump(this.#stats.mqlsBySegment, lead.journey.segment);
    }
    this.#exit(lead, "lead.qualified", now);
    const country = lead.source.profile.country;
    const team = chooseTeam(this.config.teams.teams, lead.journey.segment, typeof country === "string" ? country : undefined);
    if (!team) {
      this.#stats.unassigned++;
      return;
    }
    this.#operations.handoff++;
    this.#stats.repNotifications++;
    bump(this.#stats.handoffsBySegment, lead.journey.segment);
    bump(this.#stats.handoffsByTeam, team.id);
    lead.journey.assign();
    lead.handoff = { team, rep: this.#rotation.next(team), misses: 0, escalated: false };
    this.#offerClaim(lead, now);
  }

  #offerClaim(lead: SimLead, now: number): void {
    const handoff = lead.handoff;
    if (!handoff) return;
    const sla = durationMs(handoff.team.claimSla);
    if (!handoff.escalated && lead.rng.chance(this.options.claimMissRate)) {
      this.#schedule(now + sla, { kind: "claim-missed", lead });
    } else {
      this.#schedule(now + lead.rng.between(0.05, 0.9) * sla, { kind: "claim", lead });
    }
  }

  #claimMissed(lead: SimLead, now: number): void {
    const handoff = lead.handoff;
    if (!handoff) return;
    this.#operations.reassign++;
    this.#stats.reassigned++;
    this.#stats.repNotifications++;
    handoff.misses++;
    if (handoff.misses >= handoff.team.maxMisses) {
      // The escalation contact now sees to it that the next rep claims it.
      handoff.escalated = true;
      this.#stats.escalated++;
    }
    handoff.rep = this.#rotation.next(handoff.team);
    this.#offerClaim(lead, now);
  }

  #claim(lead: SimLead, now: number): void {
    const handoff = lead.handoff;
    if (!handoff) return;
    this.#operations.claim++;
    this.#stats.claimed++;
    bump(this.#stats.repLeads, repKey(handoff.team, handoff.rep));
    const cycle = this.options.salesCycleDays * lead.rng.between(0.25, 1.75) * DAY;
    this.#schedule(now + cycle, { kind: "outcome", lead });
  }

  #outcome(lead: SimLead, now: number): void {
    const { rng } = lead;
    this.#operations.outcome++;
    lead.handoff = undefined;
    const win = Math.min(1, this.options.winRate * lead.source.persona.buying);
    const notNow = Math.min(this.options.notNowRate, 1 - win);
    const r = rng.next();
    this.#exit(lead, "lead.closed", now);
    if (r < win) {
      this.#stats.won++;
      lead.journey.close("won");
      this.#startNurture(lead, now);
    } else if (r < win + notNow) {
      this.#stats.notNow++;
      // The rep names a date to try again; usually weeks to a couple of months out. Until then
      // the lead is parked with marketing, whatever it does.
      const recycleOn = iso(now + rng.between(14, 60) * DAY).slice(0, 10);
      lead.journey.close("not-now", recycleOn);
      this.#schedule(lead.journey.recycleAt ?? now, { kind: "recycle", lead });
    } else if (rng.chance(0.75)) {
      this.#stats.lost++;
      lead.journey.close("lost");
    } else {
      this.#stats.disqualified++;
      lead.journey.close("disqualified");
    }
  }

  #recycle(lead: SimLead, now: number): void {
    // The recycler checks the stage: a lead that left marketing's hold meanwhile stays put.
    if (!lead.journey.recycleIfDue(now)) return;
    this.#operations.recycle++;
    this.#stats.recycled++;
    this.#startNurture(lead, now);
    // `lead.recycled` is scored in production too (it may not qualify on fit alone).
    this.#checkScore(lead, now);
  }

  // -------------------------------------------------------------------------------------------

  #forecast(): Forecast {
    const s = this.#stats;
    const segmentIds = [...new Set([...this.config.segments.segments.map((x) => x.id), this.config.segments.default])];
    const bySegment = (m: Map<string, number>) => record([...segmentIds, ...m.keys()], m);
    const perDay = s.perDay.map((emails, i) => ({ date: iso(this.#start + i * DAY).slice(0, 10), emails }));
    const peak = perDay.reduce((best, d) => (d.emails > best.emails ? d : best), perDay[0] ?? { date: "", emails: 0 });
    const total = s.nurture + s.confirmations;
    const bySequence: SequenceForecast[] = this.config.sequences.map((seq) => {
      const st = s.sequences.get(seq.id);
      const steps = seq.steps.map((step) => {
        const key = `${seq.id}#${step.id}`;
        const figures = this.#abFigures.get(key);
        const winner = this.#abDecisions.get(key)?.winner;
        return {
          stepId: step.id,
          ...(st?.steps.get(step.id) ?? { sent: 0, skipped: 0, opened: 0, clicked: 0 }),
          ...(step.variants
            ? {
                variants: step.variants.map((v) => {
                  const f = figures?.get(v.id);
                  return { variantId: v.id, sent: f?.sent ?? 0, opened: f?.opened ?? 0, clicked: f?.clicked ?? 0 };
                }),
                ...(winner ? { abWinner: winner } : {}),
              }
            : {}),
        };
      });
      return {
        sequenceId: seq.id,
        name: seq.name,
        segment: seq.segment,
        enrolled: st?.enrolled ?? 0,
        sent: steps.reduce((n, x) => n + x.sent, 0),
        skipped: steps.reduce((n, x) => n + x.skipped, 0),
        steps,
      };
    });
    const reps: RepLoad[] = this.config.teams.teams.flatMap((team) =>
      team.reps.map((rep) => ({ teamId: team.id, email: rep.email, name: rep.name, leads: s.repLeads.get(repKey(team, rep)) ?? 0 })),
    );
    const repTotal = reps.reduce((n, r) => n + r.leads, 0);
    const mqls = [...s.mqlsBySegment.values()].reduce((a, b) => a + b, 0);
    const handoffs = [...s.handoffsByTeam.values()].reduce((a, b) => a + b, 0);
    const unsubscribes = [...s.unsubscribesBySegment.values()].reduce((a, b) => a + b, 0);
    return {
      period: { start: iso(this.#start), end: iso(this.#end), days: this.options.days },
      options: this.options,
      leads: {
        captured: s.captured,
        confirmed: s.confirmed,
        unconfirmed: s.unconfirmed,
        bySegment: bySegment(s.leadsBySegment),
        byPersona: Object.fromEntries(s.byPersona),
        byForm: record(Object.keys(this.config.forms), s.byForm),
      },
      emails: {
        total,
        nurture: s.nurture,
        confirmations: s.confirmations,
        repNotifications: s.repNotifications,
        perDay,
        averagePerDay: perDay.length > 0 ? total / perDay.length : 0,
        peakPerDay: peak.emails,
        peakDate: peak.date,
        opened: s.opened,
        clicked: s.clicked,
        bounced: s.bounced,
        bySequence,
      },
      mqls: { total: mqls, bySegment: bySegment(s.mqlsBySegment) },
      handoffs: {
        total: handoffs,
        bySegment: bySegment(s.handoffsBySegment),
        byTeam: record(this.config.teams.teams.map((t) => t.id), s.handoffsByTeam),
        unassigned: s.unassigned,
        reassigned: s.reassigned,
        escalated: s.escalated,
      },
      sales: {
        claimed: s.claimed,
        won: s.won,
        lost: s.lost,
        disqualified: s.disqualified,
        notNow: s.notNow,
        recycled: s.recycled,
        purchases: s.purchases,
      },
      repLoad: {
        reps,
        max: reps.reduce((m, r) => Math.max(m, r.leads), 0),
        average: reps.length > 0 ? repTotal / reps.length : 0,
      },
      unsubscribes: { total: unsubscribes, bySegment: bySegment(s.unsubscribesBySegment) },
      cost: estimateCost(this.#operations, s.captured, this.options.days),
    };
  }
}

function handled(state: EnrollmentState, stepId: string, sentAt: string | undefined): EnrollmentState {
  return {
    ...state,
    lastStepId: stepId,
    ...(sentAt ? { lastSentAt: sentAt } : {}),
    completedStepIds: state.completedStepIds.includes(stepId) ? state.completedStepIds : [...state.completedStepIds, stepId],
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** Every key present (zero when nothing happened), so two forecasts line up row by row. */
function record(keys: Iterable<string>, counts: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of keys) out[key] = counts.get(key) ?? 0;
  return out;
}

function repKey(team: Team, rep: Rep): string {
  return `${team.id}/${rep.email}`;
}
