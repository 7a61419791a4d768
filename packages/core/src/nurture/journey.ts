/**
 * The journey view: each sequence as a marketer drew it — the segment rule that routes leads in,
 * its steps with their delays, conditions and send window, what ends it, its frequency cap — and
 * how many leads wait at each step now. The counts come from the due index (each active
 * enrollment has exactly one entry there, naming the step it waits for), so the view costs one
 * read of the index per look and nothing on the send path: a per-step counter would put a write
 * on one hot item for every step every lead takes.
 */
import type { Condition, LeadloopConfig, SendWindow, Step } from "../config/schema";

/** Leads whose next step is `stepId` of `sequenceId`, counted from the due index. */
export interface StepCount {
  sequenceId: string;
  stepId: string;
  leads: number;
}

/** Read-only: counts the due index per sequence step. */
export interface JourneyCountStore {
  countWaitingByStep(): Promise<StepCount[]>;
}

export interface JourneyStepView {
  id: string;
  delay: string;
  template: string;
  subject: string;
  /** The step's condition in words; undefined when it always sends. */
  condition?: string;
  /** Leads waiting for this step now. */
  waiting: number;
}

export interface Journey {
  id: string;
  name: string;
  segment: string;
  /** How leads reach the segment: its rule in words, its position in segments.yaml, or why it has none. */
  entry: { rule: string; position?: number; isDefault: boolean; hintedBy: string[] };
  sendWindow: SendWindow;
  exitOn: string[];
  frequencyCap?: { max: number; per: string };
  reenrollAfter?: string;
  steps: JourneyStepView[];
  /** Waiting at a step no longer in the config (it was renamed or removed while leads waited). */
  waitingElsewhere: number;
  total: number;
}

export function describeCondition(condition: Condition): string {
  if ("all" in condition) return condition.all.map((c) => wrap(c)).join(" and ");
  if ("any" in condition) return condition.any.map((c) => wrap(c)).join(" or ");
  if ("not" in condition) return `not ${wrap(condition.not)}`;
  const parts: string[] = [];
  const f = condition.field;
  const show = (v: unknown) => (typeof v === "string" ? `"${v}"` : String(v));
  if (condition.equals !== undefined) parts.push(`${f} is ${show(condition.equals)}`);
  if (condition.in !== undefined) parts.push(`${f} is one of ${condition.in.map(show).join(", ")}`);
  if (condition.contains !== undefined) {
    const list = Array.isArray(condition.contains) ? condition.contains : [condition.contains];
    parts.push(`${f} contains ${list.map(show).join(" or ")}`);
  }
  if (condition.gt !== undefined) parts.push(`${f} > ${condition.gt}`);
  if (condition.gte !== undefined) parts.push(`${f} ≥ ${condition.gte}`);
  if (condition.lt !== undefined) parts.push(`${f} < ${condition.lt}`);
  if (condition.lte !== undefined) parts.push(`${f} ≤ ${condition.lte}`);
  if (condition.exists !== undefined) parts.push(condition.exists ? `${f} is filled in` : `${f} is empty`);
  if (condition.emailDomain !== undefined) parts.push(`${f} is a ${condition.emailDomain === "free" ? "free-mail" : "company"} address`);
  return parts.join(" and ");
}

function wrap(condition: Condition): string {
  const text = describeCondition(condition);
  return "all" in condition || "any" in condition ? `(${text})` : text;
}

function describeStepCondition(step: Step): string | undefined {
  const c = step.condition;
  if (!c) return undefined;
  const parts: string[] = [];
  if (c.previous) parts.push(`only if the previous email was ${c.previous.replace("-", " ")}`);
  if (c.when) parts.push(`only if ${describeCondition(c.when)}`);
  return parts.join(", and ");
}

/** Every sequence of the config drawn with the leads waiting at each step. */
export async function describeJourneys(deps: { config: LeadloopConfig; journeys: JourneyCountStore }): Promise<Journey[]> {
  const { config } = deps;
  const counts = new Map<string, number>();
  for (const c of await deps.journeys.countWaitingByStep()) counts.set(`${c.sequenceId}\u0000${c.stepId}`, (counts.get(`${c.sequenceId}\u0000${c.stepId}`) ?? 0) + c.leads);
  const perSequence = new Map<string, number>();
  for (const [key, n] of counts) {
    const sequenceId = key.split("\u0000")[0] ?? "";
    perSequence.set(sequenceId, (perSequence.get(sequenceId) ?? 0) + n);
  }
  return config.sequences.map((sequence) => {
    const position = config.segments.segments.findIndex((s) => s.id === sequence.segment);
    const segment = config.segments.segments[position];
    const isDefault = config.segments.default === sequence.segment;
    const hintedBy = Object.entries(config.forms)
      .filter(([, form]) => form.segmentHint === sequence.segment)
      .map(([id]) => id);
    const rule = segment
      ? describeCondition(segment.when)
      : isDefault
        ? "leads no segment rule matches (the default segment)"
        : hintedBy.length > 0
          ? `leads of ${hintedBy.join(", ")} that no segment rule matches`
          : "no segment rule names this segment";
    const steps = sequence.steps.map((step) => {
      const condition = describeStepCondition(step);
      return {
        id: step.id,
        delay: step.delay,
        template: step.template,
        subject: step.subject,
        ...(condition ? { condition } : {}),
        waiting: counts.get(`${sequence.id}\u0000${step.id}`) ?? 0,
      };
    });
    const total = perSequence.get(sequence.id) ?? 0;
    return {
      id: sequence.id,
      name: sequence.name,
      segment: sequence.segment,
      entry: { rule, ...(segment ? { position: position + 1 } : {}), isDefault, hintedBy },
      sendWindow: sequence.sendWindow,
      exitOn: sequence.exitOn,
      ...(sequence.frequencyCap ? { frequencyCap: sequence.frequencyCap } : {}),
      ...(sequence.reenrollAfter ? { reenrollAfter: sequence.reenrollAfter } : {}),
      steps,
      waitingElsewhere: total - steps.reduce((n, s) => n + s.waiting, 0),
      total,
    };
  });
}
