/**
 * The single source of EventBridge routing. The SST stacks turn each rule into an
 * AWS::Events::Rule and the local bus applies the same patterns with the project's matcher, so
 * local and cloud routing cannot drift. Rule names are stable across deploys: renaming one makes
 * CloudFormation replace the rule.
 */
import { z } from "zod";
import { ExitEvent, type LeadloopConfig } from "../config/schema";
import { type EventPattern, validatePattern } from "./pattern-matcher";

/** The `source` of every event leadloop puts on the bus. */
export const BUS_SOURCE = "leadloop";

/** SES publishes its configuration-set events (delivery, open, click, bounce…) with this source. */
export const SES_SOURCE = "aws.ses";

/** The events of the public contract (DESIGN.md §5), as their `detail-type`. */
export const LeadloopEventType = z.enum([
  "lead.captured",
  "lead.updated",
  "lead.scored",
  "lead.qualified",
  "lead.assigned",
  "lead.claimed",
  "lead.closed",
  "lead.recycled",
  "lead.unsubscribed",
  "email.sent",
]);
export type LeadloopEventType = z.infer<typeof LeadloopEventType>;

/** Events that (re-)enroll a lead in its segment's sequences. */
export const ENROLL_EVENTS = [
  "lead.captured",
  "lead.recycled",
  "lead.updated",
] as const satisfies readonly LeadloopEventType[];

/** An event as EventBridge delivers it to a target. */
export const EventEnvelope = z.object({
  version: z.string().optional().describe('"0" on every EventBridge event'),
  id: z.string().min(1),
  source: z.string().min(1),
  "detail-type": z.string().min(1),
  time: z.string().min(1).describe("ISO 8601 time the event was put on the bus"),
  account: z.string().optional(),
  region: z.string().optional(),
  resources: z.array(z.string()).optional(),
  detail: z.record(z.string(), z.unknown()),
});
export type EventEnvelope<Detail = Record<string, unknown>> = Omit<z.infer<typeof EventEnvelope>, "detail"> & {
  detail: Detail;
};

export type HandlerTarget = "engagement" | "handoff" | "feedback" | "exit" | "report";

/** Routes a segment's leads into one of its sequences. */
export interface EnrollRule {
  name: string;
  target: "enroll";
  sequenceId: string;
  segment: string;
  pattern: EventPattern;
}

/** Routes events to a handler whose wiring does not depend on config. */
export interface HandlerRule {
  name: string;
  target: HandlerTarget;
  pattern: EventPattern;
}

export type RoutingRule = EnrollRule | HandlerRule;

export class DuplicateRuleNameError extends Error {
  override readonly name = "DuplicateRuleNameError";
  constructor(readonly ruleName: string) {
    super(
      `Two routing rules are both named "${ruleName}": each sequence id in config/sequences must be unique.`,
    );
  }
}

// CloudFormation's limit for AWS::Events::Rule names.
const MAX_NAME_LENGTH = 64;

/** One rule per (segment → sequence) pairing in config. */
export function routingRules(config: Pick<LeadloopConfig, "sequences">): EnrollRule[] {
  return unique(
    config.sequences.map((sequence) =>
      checked({
        name: ruleName(`enroll-${sequence.id}`),
        target: "enroll",
        sequenceId: sequence.id,
        segment: sequence.segment,
        pattern: {
          source: [BUS_SOURCE],
          "detail-type": [...ENROLL_EVENTS],
          detail: { segment: [sequence.segment] },
        },
      }),
    ),
  );
}

/** Rules for handlers that every deployment has, whatever the config says. */
export function handlerRules(): HandlerRule[] {
  const leadloop = (...types: LeadloopEventType[]): EventPattern => ({ source: [BUS_SOURCE], "detail-type": types });
  const rules: HandlerRule[] = [
    { name: "engagement", target: "engagement", pattern: { source: [SES_SOURCE] } },
    // A lead is scored when it arrives or changes, so fit alone can qualify it (same function).
    { name: "score", target: "engagement", pattern: leadloop("lead.captured", "lead.updated", "lead.recycled") },
    { name: "handoff", target: "handoff", pattern: leadloop("lead.qualified") },
    { name: "feedback", target: "feedback", pattern: leadloop("lead.closed") },
    // Every event a sequence may exit on; each enrollment then checks its own sequence's exitOn.
    { name: "exit", target: "exit", pattern: leadloop(...ExitEvent.options) },
    // The funnel report counts every leadloop event and SES's engagement events (it ignores the rest).
    { name: "report", target: "report", pattern: { source: [BUS_SOURCE, SES_SOURCE] } },
  ];
  return rules.map(checked);
}

/** Everything the bus routes: the config's enroll rules, then the fixed handler rules. */
export function allRules(config: Pick<LeadloopConfig, "sequences">): RoutingRule[] {
  return unique<RoutingRule>([...routingRules(config), ...handlerRules()]);
}

/** Keeps a name within CloudFormation's limits; a long one is cut and given a hash to stay unique. */
function ruleName(wanted: string): string {
  const safe = wanted.replace(/[^A-Za-z0-9._-]/g, "-");
  if (safe.length <= MAX_NAME_LENGTH) return safe;
  const hash = fnv1a(safe);
  return `${safe.slice(0, MAX_NAME_LENGTH - hash.length - 1)}-${hash}`;
}

function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, "0");
}

function checked<R extends RoutingRule>(rule: R): R {
  validatePattern(rule.pattern);
  return rule;
}

function unique<R extends RoutingRule>(rules: R[]): R[] {
  const seen = new Set<string>();
  for (const rule of rules) {
    if (seen.has(rule.name)) throw new DuplicateRuleNameError(rule.name);
    seen.add(rule.name);
  }
  return rules;
}
