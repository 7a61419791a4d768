/**
 * Scripted journeys: what given people do on given days, played through the simulator's lead
 * model (lead-journey.ts: production's lifecycle, scoring and qualification) with production's
 * team choice. A test plays the same script through the local stack and expects the same stage
 * after every step, so the forecast and the deployed loop cannot drift apart unnoticed.
 */
import type { LeadloopConfig } from "../config/schema";
import type { Profile } from "../lead";
import type { LifecycleOutcome, Stage } from "../lifecycle";
import { chooseTeam } from "../sales/team-assignment";
import { LeadJourney } from "./lead-journey";

const DAY = 86_400_000;

export type JourneyStep =
  /** The first step of every journey: the form submission that captures the lead. */
  | { day: number; do: "submit"; formId: string }
  | { day: number; do: "page_view"; url: string }
  | { day: number; do: "claim" }
  | { day: number; do: "outcome"; outcome: LifecycleOutcome; reason?: string; amount?: number; recycleInDays?: number }
  /** Nothing happens but time: the scheduled jobs (the recycler) run. */
  | { day: number; do: "wait" };

export interface ScriptedJourney {
  name: string;
  email: string;
  profile: Profile;
  steps: JourneyStep[];
}

/** Where a lead stands after one step. */
export interface StepOutcome {
  journey: string;
  day: number;
  step: JourneyStep["do"];
  stage: Stage;
  segment: string;
}

/**
 * Every journey's steps in time order (one timeline for all, as on the stack), with the recycler
 * run before each step as the stack's scheduled jobs run after each clock advance.
 */
export function scheduleSteps(journeys: readonly ScriptedJourney[]): { journey: ScriptedJourney; step: JourneyStep; index: number }[] {
  return journeys
    .flatMap((journey) => journey.steps.map((step, index) => ({ journey, step, index })))
    .sort((a, b) => a.step.day - b.step.day || journeys.indexOf(a.journey) - journeys.indexOf(b.journey) || a.index - b.index);
}

/** The date a not-now step names: `recycleInDays` after the step, as a rep would type it. */
export function recycleDate(at: Date, step: { recycleInDays?: number }): string {
  return new Date(at.getTime() + (step.recycleInDays ?? 30) * DAY).toISOString().slice(0, 10);
}

export function playScriptedJourneys(config: LeadloopConfig, journeys: readonly ScriptedJourney[], start: Date): StepOutcome[] {
  const leads = new Map<string, LeadJourney>();
  const out: StepOutcome[] = [];
  const handOff = (lead: LeadJourney) => {
    const country = lead.person.profile.country;
    if (chooseTeam(config.teams.teams, lead.segment, typeof country === "string" ? country : undefined)) lead.assign();
  };
  for (const { journey, step } of scheduleSteps(journeys)) {
    const now = start.getTime() + step.day * DAY;
    for (const lead of leads.values()) {
      if (lead.recycleIfDue(now) && lead.rescore(now)) handOff(lead);
    }
    let lead = leads.get(journey.name);
    if (!lead) {
      if (step.do !== "submit") throw new Error(`Journey ${journey.name} must start with a form submission.`);
      lead = new LeadJourney(config, { email: journey.email, profile: journey.profile });
      leads.set(journey.name, lead);
      lead.capture(now, step.formId);
      if (lead.rescore(now)) handOff(lead);
    } else if (step.do === "submit") {
      lead.record({ type: "form.submitted", at: new Date(now).toISOString(), formId: step.formId });
      if (lead.rescore(now)) handOff(lead);
    } else if (step.do === "page_view") {
      lead.record({ type: "web.page_view", at: new Date(now).toISOString(), url: step.url });
      if (lead.rescore(now)) handOff(lead);
    } else if (step.do === "outcome") {
      lead.close(step.outcome, step.outcome === "not-now" ? recycleDate(new Date(now), step) : undefined);
    }
    out.push({ journey: journey.name, day: step.day, step: step.do, stage: lead.stage, segment: lead.segment });
  }
  return out;
}
