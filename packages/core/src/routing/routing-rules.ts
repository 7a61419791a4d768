/**
 * The single source of EventBridge routing. The SST stacks turn each rule into an
 * AWS::Events::Rule and the local bus applies the same patterns with the project's matcher, so
 * local and cloud routing cannot drift. Rule names are stable across deploys: renaming one makes
 * CloudFormation replace the rule.
 */
import * as z from "../zod-mini";
import type { LeadloopConfig } from "../config/schema";
import { EXIT_EVENTS, WEBHOOK_EVENTS } from "../event-names";
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

/**
 * The events the report counts (reports/report-event.ts, `reportEventOf`): every leadloop event
 * but `lead.updated` (a profile change moves no figure). Its rule matches only these, and SES's
 * engagement events below, so the rest never invoke it; of `lead.scored` only those that carry the
 * site `activity` that moved the score (web engagement), as `reportEventOf` counts no other.
 */
export const REPORT_EVENTS = LeadloopEventType.options.filter((type) => type !== "lead.updated");
/** SES's engagement events (configuration-set detail-types) the report counts. */
export const SES_REPORT_EVENTS = ["Email Opened", "Email Clicked", "Email Bounced"] as const;

/** An event as EventBridge delivers it to a target. */
export const EventEnvelope = z.object({
  version: z.optional(z.string().check(z.describe('"0" on every EventBridge event'))),
  id: z.string().check(z.minLength(1)),
  source: z.string().check(z.minLength(1)),
  "detail-type": z.string().check(z.minLength(1)),
  time: z.string().check(z.minLength(1), z.describe("ISO 8601 time the event was put on the bus")),
  account: z.optional(z.string()),
  region: z.optional(z.string()),
  resources: z.optional(z.array(z.string())),
  detail: z.record(z.string(), z.unknown()),
});
export type EventEnvelope<Detail = Record<string, unknown>> = Omit<z.infer<typeof EventEnvelope>, "detail"> & {
  detail: Detail;
};

export type HandlerTarget = "engagement" | "handoff" | "feedback" | "exit" | "report" | "follow-up" | "webhooks";

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
    // A form's follow-up email: on each submission, or on confirmation for a double opt-in form.
    { name: "follow-up", target: "follow-up", pattern: leadloop("lead.captured") },
    {
      name: "follow-up-confirmed",
      target: "follow-up",
      pattern: { source: [BUS_SOURCE], "detail-type": ["lead.updated"], detail: { reason: ["confirmed"] } },
    },
    { name: "feedback", target: "feedback", pattern: leadloop("lead.closed") },
    // Every event a sequence may exit on; each enrollment then checks its own sequence's exitOn.
    { name: "exit", target: "exit", pattern: leadloop(...EXIT_EVENTS) },
    // The funnel report: the leadloop events and SES's engagement events it counts.
    {
      name: "report",
      target: "report",
      pattern: {
        $or: [
          leadloop(...REPORT_EVENTS.filter((type) => type !== "lead.scored")),
          // `exists` matches leaves only: the activity as an object (its type) or as a plain value.
          { source: [BUS_SOURCE], "detail-type": ["lead.scored"], detail: { activity: { type: [{ exists: true }] } } },
          { source: [BUS_SOURCE], "detail-type": ["lead.scored"], detail: { activity: [{ exists: true }] } },
          { source: [SES_SOURCE], "detail-type": [...SES_REPORT_EVENTS] },
        ],
      },
    },
    // Outgoing webhooks (config/webhooks.yaml): every event an endpoint may subscribe to; the
    // handler picks the endpoints. Its own target, so a slow receiver never holds up the hand-off.
    { name: "webhooks", target: "webhooks", pattern: { source: [BUS_SOURCE], "detail-type": [...WEBHOOK_EVENTS] } },
  ];
  return rules.map(checked);
}

/**
 * How hard a rule's deliveries are retried before they become dead letters. The stacks deploy it
 * (the EventBridge target's RetryPolicy and the function's async invoke config) and the local bus
 * replays it on the virtual clock, so a handler that fails for a while behaves the same in both.
 * In AWS EventBridge retries a delivery Lambda refused (throttled) and Lambda retries an
 * invocation that threw; the local bus cannot tell the two apart and grants a failing delivery
 * both, in that order.
 */
export interface DeliveryPolicy {
  /** EventBridge target RetryPolicy.MaximumRetryAttempts (0–185). */
  retryAttempts: number;
  /** EventBridge target RetryPolicy.MaximumEventAgeInSeconds (60–86,400); also the local bus's give-up age. */
  maxEventAgeSeconds: number;
  /**
   * The local bus's pause before EventBridge's first retry, doubling each time (EventBridge's own
   * exponential back-off is not published; this keeps a lead that is not stored yet seconds away).
   */
  firstRetryDelayMs: number;
  /** Lambda's async invoke config: retries of an invocation that threw (0–2), a minute then two apart. */
  asyncRetryAttempts: number;
  /** Lambda's async invoke config MaximumEventAgeInSeconds (60–21,600). */
  asyncMaxEventAgeSeconds: number;
}

/** What every rule target gets unless it names its own below. */
export const DEFAULT_DELIVERY: DeliveryPolicy = {
  retryAttempts: 8,
  maxEventAgeSeconds: 24 * 3600,
  firstRetryDelayMs: 200,
  asyncRetryAttempts: 2,
  asyncMaxEventAgeSeconds: 6 * 3600,
};

/** The pauses of Lambda's own async retries, as AWS documents them (about one, then two minutes). */
export const ASYNC_RETRY_DELAYS_MS = [60_000, 120_000] as const;

/** Per-target exceptions to DEFAULT_DELIVERY (none today: every handler is idempotent and cheap to retry). */
const DELIVERY_BY_TARGET: Partial<Record<RoutingRule["target"], Partial<DeliveryPolicy>>> = {};

export function deliveryPolicy(rule: Pick<RoutingRule, "target">): DeliveryPolicy {
  return { ...DEFAULT_DELIVERY, ...DELIVERY_BY_TARGET[rule.target] };
}

/**
 * The pause before each retry of a delivery under `policy`, in order: EventBridge's retries, then
 * Lambda's. Retries that would start after the event's maximum age are dropped.
 */
export function retrySchedule(policy: DeliveryPolicy): number[] {
  const delays: number[] = [];
  for (let i = 0; i < policy.retryAttempts; i++) delays.push(policy.firstRetryDelayMs * 2 ** i);
  for (let i = 0; i < policy.asyncRetryAttempts; i++) delays.push(ASYNC_RETRY_DELAYS_MS[Math.min(i, ASYNC_RETRY_DELAYS_MS.length - 1)]!);
  const maxAgeMs = policy.maxEventAgeSeconds * 1000;
  let elapsed = 0;
  return delays.filter((delay) => {
    elapsed += delay;
    return elapsed <= maxAgeMs;
  });
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
