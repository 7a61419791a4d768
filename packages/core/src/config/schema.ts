/**
 * The shapes of the marketer-owned files under `config/`. Each schema is the single source for
 * validation (config:check), for the JSON Schemas editors use, and for the TypeScript types the
 * engines consume. Descriptions become editor hover text, so they are written for marketers.
 */
import * as z from "zod";
import { ACTIVITY_TYPES } from "../activity-types";
import { EXIT_EVENTS, WEBHOOK_EVENTS } from "../event-names";
import { validatePattern } from "../routing/pattern-matcher";

/** ISO 8601 duration such as `P3D`, `PT4H`, `P1W` or `P1DT12H`. */
export const IsoDuration = z
  .string()
  .regex(
    /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/,
    "must be an ISO 8601 duration such as P3D (3 days), PT4H (4 hours) or P1W (1 week)",
  )
  .describe("ISO 8601 duration, e.g. P3D for three days, PT4H for four hours, P1W for one week");
export type IsoDuration = z.infer<typeof IsoDuration>;

/** Identifiers marketers choose: lower-case words joined by hyphens, stable across edits. */
export const Slug = z
  .string()
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, "must be lower-case letters, digits and hyphens, e.g. demo-request");

/** A lead attribute name as collected by forms: `firstName`, `companySize`, `utm_source`. */
export const FieldName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]*$/, "must start with a letter and use only letters, digits and _");

const Email = z.email("must be an email address such as rep@example.com");
const TimeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be a time such as 09:00 or 17:30");
const Weekday = z.enum(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]);
export type Weekday = z.infer<typeof Weekday>;
export const TimeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: "must be an IANA time zone such as Europe/Berlin or America/New_York" },
);

// ---------------------------------------------------------------------------------------------
// Conditions: one small language shared by segments, scoring fit rules and step conditions.

const Scalar = z.union([z.string(), z.number(), z.boolean()]);

export const FieldCondition = z
  .strictObject({
    field: FieldName.describe("lead attribute to test, e.g. title, companySize, country, email"),
    equals: Scalar.optional().describe("exact value (text compared case-insensitively)"),
    in: z.array(Scalar).min(1).optional().describe("one of these values (text compared case-insensitively)"),
    contains: z
      .union([z.string(), z.array(z.string()).min(1)])
      .optional()
      .describe("text contains this (or any of these), ignoring case"),
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
    exists: z.boolean().optional().describe("true: the lead has a non-empty value; false: it has none"),
    emailDomain: z
      .enum(["free", "company"])
      .optional()
      .describe("free: a free-mail address such as gmail.com; company: any other domain"),
  })
  .refine(
    (c) =>
      ["equals", "in", "contains", "gt", "gte", "lt", "lte", "exists", "emailDomain"].some(
        (k) => (c as Record<string, unknown>)[k] !== undefined,
      ),
    { message: "needs an operator: equals, in, contains, gt, gte, lt, lte, exists or emailDomain" },
  );
export type FieldCondition = z.infer<typeof FieldCondition>;

export type Condition = FieldCondition | { all: Condition[] } | { any: Condition[] } | { not: Condition };
// The getter must return one stable schema: JSON Schema generation calls it repeatedly and would
// recurse forever if every call built a fresh union.
export const Condition: z.ZodType<Condition> = z.lazy(() => ConditionUnion);
const ConditionUnion: z.ZodType<Condition> = z.union([
  z.strictObject({ all: z.array(Condition).min(1).describe("every condition must hold") }),
  z.strictObject({ any: z.array(Condition).min(1).describe("at least one condition must hold") }),
  z.strictObject({ not: Condition.describe("the condition must not hold") }),
  FieldCondition,
]);

// ---------------------------------------------------------------------------------------------
// forms.yaml

export const FieldType = z.enum([
  "email",
  "text",
  "textarea",
  "number",
  "tel",
  "url",
  "select",
  "checkbox",
  "country",
  "timezone",
  "hidden",
]);
export type FieldType = z.infer<typeof FieldType>;

export const FormField = z.strictObject({
  type: FieldType.describe("input kind; decides how the value is validated"),
  label: z.string().optional().describe("label shown on the form"),
  required: z.boolean().default(false),
  maxLength: z.number().int().positive().max(2000).optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  options: z.array(z.string()).min(1).optional().describe("allowed values for a select field"),
});
export type FormField = z.infer<typeof FormField>;

export const Form = z.strictObject({
  name: z.string().min(1).describe("name shown to marketers and in reports"),
  fields: z
    .record(FieldName, FormField)
    .refine((f) => f.email?.type === "email", {
      message: "every form needs an `email` field of type email: leads are identified by it",
    })
    .describe("fields by name; every form collects `email`"),
  consent: z
    .strictObject({
      text: z.string().min(1).describe("the exact consent wording shown next to the checkbox"),
      required: z.boolean().describe("true: the submission is refused unless consent is given"),
    })
    .optional(),
  honeypot: FieldName.optional().describe("a hidden field that people leave empty and bots fill in"),
  allowedOrigins: z
    .array(z.url({ message: "must be an origin such as https://www.example.com" }))
    .default([])
    .describe("web origins allowed to post this form from the browser (CORS)"),
  thankYouUrl: z.url().describe("where a browser is sent after a successful submission"),
  doubleOptIn: z.boolean().default(false).describe("send a confirmation email before any nurture email"),
  segmentHint: Slug.optional().describe("segment to use when no segment rule matches first"),
  followUp: z
    .strictObject({
      template: Slug.describe("template in templates/ sent at once on every submission of this form"),
      subject: z.string().min(1).max(200).describe("Liquid subject, e.g. \"{{ lead.firstName | default: 'Hello' }}, your demo\""),
    })
    .optional()
    .describe("an email sent at once on submission, whatever the segment or score (after confirmation with double opt-in); consent and suppression still apply"),
});
export type Form = z.infer<typeof Form>;
export type FollowUp = NonNullable<Form["followUp"]>;

export const FormsFile = z.strictObject({
  $schema: z.string().optional(),
  forms: z.record(Slug, Form),
});
export type FormsFile = z.infer<typeof FormsFile>;

// ---------------------------------------------------------------------------------------------
// segments.yaml

export const Segment = z.strictObject({
  id: Slug,
  description: z.string().optional(),
  when: Condition.describe("the lead is in this segment when this holds (first matching segment wins)"),
});
export type Segment = z.infer<typeof Segment>;

export const SegmentsFile = z.strictObject({
  $schema: z.string().optional(),
  segments: z.array(Segment).min(1).describe("checked in order; the first segment whose rule matches wins"),
  default: Slug.describe("segment for leads that match no rule"),
  freeMailDomains: z
    .array(z.string())
    .default([])
    .describe("extra free-mail domains, added to the built-in list (gmail.com, outlook.com, …)"),
});
export type SegmentsFile = z.infer<typeof SegmentsFile>;

// ---------------------------------------------------------------------------------------------
// scoring.yaml

export const ActivityType = z.enum(ACTIVITY_TYPES);
export type ActivityType = z.infer<typeof ActivityType>;

export const FitRule = z.strictObject({
  id: Slug,
  when: Condition,
  points: z.number().int().describe("points added (negative to subtract) when the rule holds"),
});
export type FitRule = z.infer<typeof FitRule>;

export const BehaviourRule = z.strictObject({
  id: Slug,
  on: ActivityType.describe("the activity that earns the points"),
  url: z.string().optional().describe("only for web activities whose URL matches this pattern; * matches anything"),
  form: Slug.optional().describe("only for submissions of this form"),
  points: z.number().int(),
  cap: z.number().int().positive().optional().describe("the most points this rule can give one lead in total"),
});
export type BehaviourRule = z.infer<typeof BehaviourRule>;

export const ScoringFile = z.strictObject({
  $schema: z.string().optional(),
  threshold: z.number().int().positive().describe("score at which a lead becomes marketing-qualified (MQL)"),
  segmentThresholds: z
    .record(Slug, z.number().int().positive())
    .default({})
    .describe("per-segment MQL thresholds that override the global one"),
  fit: z.array(FitRule).describe("points for who the lead is (category: fit)"),
  behaviour: z.array(BehaviourRule).describe("points for what the lead does (category: engagement)"),
  decay: z
    .strictObject({
      after: IsoDuration.describe("idle time before engagement points start to fade"),
      every: IsoDuration.describe("how often they fade after that"),
      percent: z.number().min(1).max(100).describe("share of engagement points lost each period"),
    })
    .optional(),
  recycle: z
    .strictObject({
      engagement: z
        .enum(["reset", "halve", "keep"])
        .default("reset")
        .describe("what happens to engagement points when a not-now lead comes back to nurture"),
    })
    .default({ engagement: "reset" }),
});
export type ScoringFile = z.infer<typeof ScoringFile>;

// ---------------------------------------------------------------------------------------------
// sequences/*.yaml

export const StepCondition = z
  .strictObject({
    previous: z
      .enum(["opened", "clicked", "not-opened", "not-clicked"])
      .optional()
      .describe("send only if the previous email of this sequence was (not) opened or clicked"),
    when: Condition.optional().describe("send only if the lead matches this"),
  })
  .refine((c) => c.previous !== undefined || c.when !== undefined, {
    message: "a condition needs `previous` or `when`",
  });
export type StepCondition = z.infer<typeof StepCondition>;

export const StepVariant = z.strictObject({
  id: Slug.describe("stable id of the variant: the report and the winner are named by it"),
  weight: z.number().int().positive().max(1000).default(1).describe("share of leads relative to the other variants' weights"),
  subject: z.string().min(1).max(200).optional().describe("this variant's subject line; the step's when omitted"),
  template: Slug.optional().describe("this variant's template; the step's when omitted"),
});
export type StepVariant = z.infer<typeof StepVariant>;

export const AB_METRICS = ["opens", "clicks", "mqls", "wins"] as const;
export type AbMetric = (typeof AB_METRICS)[number];

export const WinnerRule = z.strictObject({
  metric: z.enum(AB_METRICS).describe("what the winner is best at, per email sent"),
  minSends: z.number().int().min(1).describe("every variant needs this many sends before the test may end"),
  confidence: z.number().min(0.8).max(0.999).default(0.95).describe("the test ends when the leader beats the runner-up at this confidence (two-proportion z-test)"),
});
export type WinnerRule = z.infer<typeof WinnerRule>;

export const Step = z
  .strictObject({
    id: Slug.describe("stable id: keep it when you edit the step, so leads already in the sequence follow it"),
    delay: IsoDuration.describe("wait after the previous step (or after enrollment for the first step)"),
    template: Slug.describe("template name under config/templates (without .html.liquid / .txt.liquid)"),
    subject: z.string().min(1).max(200).describe("subject line; merge fields such as {{ lead.firstName }} work"),
    condition: StepCondition.optional(),
    variants: z
      .array(StepVariant)
      .min(2, { message: "an A/B test needs at least two variants" })
      .max(10)
      .optional()
      .describe("A/B test: each lead gets one variant, picked by weight from its lead id and this step's id"),
    winner: WinnerRule.optional().describe("when the A/B test ends: from then on every lead gets the winner"),
  })
  // Duplicate variant ids are found with the other cross-file names (cross-references.ts), so they
  // are reported even beside a schema mistake in the same step.
  .refine((step) => !step.winner || step.variants !== undefined, { message: "a winner rule needs `variants` to choose from", path: ["winner"] });
export type Step = z.infer<typeof Step>;

export const SendWindow = z
  .strictObject({
    days: z.array(Weekday).min(1).default(["mon", "tue", "wed", "thu", "fri"]),
    start: TimeOfDay.default("09:00"),
    end: TimeOfDay.default("17:00"),
    timezone: TimeZone.default("UTC").describe("used when the lead's own time zone is unknown"),
  })
  .refine((w) => w.start < w.end, { message: "start must be before end", path: ["end"] });
export type SendWindow = z.infer<typeof SendWindow>;

export const ExitEvent = z.enum(EXIT_EVENTS);
export type ExitEvent = z.infer<typeof ExitEvent>;

export const FrequencyCap = z.strictObject({
  max: z.number().int().positive().describe("most marketing emails per lead in the period, across all sequences"),
  per: IsoDuration,
});
export type FrequencyCap = z.infer<typeof FrequencyCap>;

export const SequenceFile = z.strictObject({
  $schema: z.string().optional(),
  id: Slug,
  name: z.string().min(1),
  segment: Slug.describe("the segment whose leads enter this sequence"),
  sendWindow: SendWindow.default({
    days: ["mon", "tue", "wed", "thu", "fri"],
    start: "09:00",
    end: "17:00",
    timezone: "UTC",
  }),
  exitOn: z
    .array(ExitEvent)
    .default(["lead.qualified", "lead.unsubscribed", "lead.closed"])
    .describe("events that end the sequence for a lead"),
  frequencyCap: FrequencyCap.optional(),
  reenrollAfter: IsoDuration.optional().describe(
    "allow a lead to start this sequence again this long after it last ended; omit to never restart",
  ),
  steps: z.array(Step).min(1).max(20),
});
export type SequenceFile = z.infer<typeof SequenceFile>;
export type Sequence = Omit<SequenceFile, "$schema">;

// ---------------------------------------------------------------------------------------------
// broadcasts/*.yaml

export const BroadcastAudience = z
  .strictObject({
    segments: z.array(Slug).min(1).optional().describe("leads in any of these segments (see segments.yaml)"),
    when: Condition.optional().describe("leads matching this condition (same language as segment rules)"),
    consentForms: z
      .array(Slug)
      .min(1)
      .optional()
      .describe("only leads whose latest consent on one of these forms was given, e.g. [newsletter]; omit for their latest consent on any form"),
  })
  .refine((a) => a.segments !== undefined || a.when !== undefined, {
    message: "an audience needs `segments` or `when` (or both)",
  });
export type BroadcastAudience = z.infer<typeof BroadcastAudience>;

/** A broadcast goes out at one instant, or at a local time of day in each lead's own time zone. */
export const BroadcastSendAt = z.union([
  z.iso
    .datetime({ offset: true, message: "must be an instant such as 2027-01-05T09:00:00Z, or { date, localTime, timezone }" })
    .describe("one instant for everyone, e.g. 2027-01-05T09:00:00Z"),
  z
    .strictObject({
      date: z.iso.date({ message: "must be a date such as 2027-01-05" }),
      localTime: TimeOfDay.describe("time of day in each lead's own time zone"),
      timezone: TimeZone.default("UTC").describe("used for leads whose time zone is unknown"),
    })
    .describe("a local time of day in each lead's time zone"),
]);
export type BroadcastSendAt = z.infer<typeof BroadcastSendAt>;

export const BroadcastFile = z.strictObject({
  $schema: z.string().optional(),
  id: Slug.describe("stable id: it names the broadcast in reports; never reuse one"),
  name: z.string().min(1),
  template: Slug.describe("template name under config/templates (without .html.liquid / .txt.liquid)"),
  subject: z.string().min(1).max(200).describe("subject line; merge fields such as {{ lead.firstName }} work"),
  audience: BroadcastAudience,
  sendAt: BroadcastSendAt,
  frequencyCap: FrequencyCap.optional().describe(
    "skip leads who already got this many marketing emails in the period; omit to use the cap of the lead's own sequence",
  ),
  lateBy: IsoDuration.default("P1D").describe(
    "a broadcast not started this long after its send time (the stack was down, or the file was added late) is not sent at all",
  ),
});
export type BroadcastFile = z.infer<typeof BroadcastFile>;
export type Broadcast = Omit<BroadcastFile, "$schema">;

// ---------------------------------------------------------------------------------------------
// teams.yaml

export const Rep = z.strictObject({
  email: Email,
  name: z.string().min(1),
  weight: z.number().int().positive().default(1).describe("share of leads under weighted assignment"),
});
export type Rep = z.infer<typeof Rep>;

export const Team = z.strictObject({
  id: Slug,
  name: z.string().min(1),
  segments: z.array(Slug).min(1).describe("segments this team works"),
  territories: z
    .array(z.string().regex(/^[A-Z]{2}$/, "must be a two-letter country code such as US or DE"))
    .optional()
    .describe("countries (ISO 3166 codes) this team covers; omit for anywhere"),
  assignment: z.enum(["round-robin", "weighted"]).default("round-robin"),
  reps: z.array(Rep).min(1),
  claimSla: IsoDuration.describe("time a rep has to claim a lead before it moves to the next rep"),
  maxMisses: z.number().int().positive().default(2).describe("missed claims before the lead escalates"),
  escalation: z.strictObject({ email: Email, name: z.string().optional() }),
  slackWebhookEnv: z
    .string()
    .regex(/^[A-Z][A-Z0-9_]*$/, "must be an environment variable name such as SLACK_WEBHOOK_SALES")
    .optional()
    .describe("name of the environment variable (secret) holding the team's Slack incoming webhook URL"),
});
export type Team = z.infer<typeof Team>;

export const Reason = z.strictObject({ code: Slug, label: z.string().min(1) });
export type Reason = z.infer<typeof Reason>;

export const TeamsFile = z.strictObject({
  $schema: z.string().optional(),
  teams: z.array(Team).min(1),
  wonReasons: z.array(Reason).optional().describe("reasons a rep gives for a won deal; when listed, every won deal names one"),
  lostReasons: z.array(Reason).min(1).describe("reasons a rep can give for a lost deal"),
  disqualifiedReasons: z.array(Reason).min(1).describe("reasons a rep can give for a disqualified lead"),
  qualityReasons: z.array(Reason).optional().describe("reasons a rep gives when marking a lead a bad fit or a wrong contact"),
});
export type TeamsFile = z.infer<typeof TeamsFile>;

// ---------------------------------------------------------------------------------------------
// The loaded configuration, as every engine sees it.

export interface Template {
  name: string;
  html: string;
  text: string;
}

export interface LeadloopConfig {
  forms: FormsFile["forms"];
  segments: Omit<SegmentsFile, "$schema">;
  scoring: Omit<ScoringFile, "$schema">;
  sequences: Sequence[];
  teams: Omit<TeamsFile, "$schema">;
  templates: Record<string, Template>;
  /** One-off sends (config/broadcasts/*.yaml); empty when there are none. */
  broadcasts: Broadcast[];
  /** Reward points for customers; absent when config/rewards.yaml is not there. */
  rewards?: Rewards;
  /** Outgoing webhooks (config/webhooks.yaml); absent when there is no such file. */
  webhooks?: Webhooks;
}

// ---------------------------------------------------------------------------------------------
// webhooks.yaml

/** The bus events an endpoint may receive, as the `type` of each delivery. */
export const WebhookEvent = z.enum(WEBHOOK_EVENTS);
export type WebhookEvent = z.infer<typeof WebhookEvent>;

const SecretName = z
  .string()
  .regex(/^[A-Z][A-Z0-9_]*$/, "must be an environment variable (secret) name such as WEBHOOK_CRM_URL");

export const WebhookEndpoint = z.strictObject({
  id: Slug.describe("names the endpoint in delivery logs and the admin's list, e.g. crm"),
  urlEnv: SecretName.describe(
    "name of the environment variable (in AWS: the SST secret) holding the endpoint's https URL; the URL itself is never committed",
  ),
  secretEnv: SecretName.describe("name of the environment variable (secret) holding the key deliveries are signed with (at least 32 characters)"),
  events: z.array(WebhookEvent).min(1).describe("events this endpoint receives"),
  filter: z
    .record(z.string(), z.unknown())
    .superRefine((pattern, ctx) => {
      try {
        validatePattern(pattern);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: `not an EventBridge content filter: ${(error as Error).message}` });
      }
    })
    .optional()
    .describe(
      'EventBridge-style content filter on the delivery\'s data, e.g. { segment: [enterprise] } or { outcome: [won] }; deliveries that do not match are not sent',
    ),
});
export type WebhookEndpoint = z.infer<typeof WebhookEndpoint>;

export const WebhooksFile = z.strictObject({
  $schema: z.string().optional(),
  endpoints: z
    .array(WebhookEndpoint)
    .refine((list) => new Set(list.map((e) => e.id)).size === list.length, { message: "each endpoint id must be unique" })
    .describe("where leadloop posts signed events"),
});
export type WebhooksFile = z.infer<typeof WebhooksFile>;
export type Webhooks = Omit<WebhooksFile, "$schema">;

// ---------------------------------------------------------------------------------------------
// rewards.yaml

export const CurrencyCode = z.string().regex(/^[A-Z]{3}$/, "must be a three-letter currency code such as USD or EUR");

export const RewardTier = z.strictObject({
  id: Slug.describe("tier name shown to customers and in events, e.g. gold"),
  name: z.string().min(1).optional().describe("display name; defaults to the id"),
  threshold: z.number().int().nonnegative().describe("points balance at which a customer reaches this tier"),
});
export type RewardTier = z.infer<typeof RewardTier>;

export const RewardLimits = z
  .strictObject({
    perCustomer: z.number().int().positive().optional().describe("how often one customer may redeem this reward, ever"),
    perPeriod: z.number().int().positive().optional().describe("how often one customer may redeem this reward within `period`"),
    period: IsoDuration.optional().describe("the rolling window `perPeriod` counts in, e.g. P30D"),
  })
  .refine((l) => (l.perPeriod === undefined) === (l.period === undefined), {
    message: "perPeriod and period go together: write both (e.g. perPeriod: 1, period: P30D) or neither",
  });
export type RewardLimits = z.infer<typeof RewardLimits>;

export const CatalogueReward = z.strictObject({
  id: Slug.describe("what a shop sends as rewardId, e.g. free-shipping"),
  name: z.string().min(1).max(200).describe("what the customer is told they get"),
  points: z.number().int().positive().describe("points the reward costs"),
  limits: RewardLimits.optional().describe("how often one customer may redeem it; no limits when absent"),
});
export type CatalogueReward = z.infer<typeof CatalogueReward>;

export const RewardsFile = z.strictObject({
  $schema: z.string().optional(),
  pointsPerUnit: z
    .record(CurrencyCode, z.number().positive())
    .refine((rates) => Object.keys(rates).length > 0, { message: "needs at least one currency, e.g. USD: 1" })
    .describe("points earned per whole currency unit spent, per currency (e.g. USD: 1, EUR: 1.1); other currencies are refused"),
  tiers: z
    .array(RewardTier)
    .min(1)
    .refine((tiers) => tiers.every((t, i) => i === 0 || t.threshold > (tiers[i - 1]?.threshold ?? -1)), {
      message: "list tiers from the lowest threshold to the highest, each higher than the one before",
    })
    .describe("tiers from lowest to highest; a customer is in the highest tier whose threshold the balance reaches"),
  expiry: IsoDuration.describe("how long points stay valid after the purchase that earned them, e.g. P365D"),
  tierChangeTemplate: Slug.optional().describe(
    "template emailed when a customer changes tier (under config/templates, without .html.liquid / .txt.liquid)",
  ),
  tierChangeSubject: z
    .string()
    .min(1)
    .max(200)
    .default("Your points statement: you are now {{ tier.name }}")
    .describe("subject of the tier-change email; {{ tier.name }}, {{ points.balance }} and lead fields work"),
  catalogue: z
    .array(CatalogueReward)
    .default([])
    .superRefine((rewards, ctx) => {
      const seen = new Set<string>();
      rewards.forEach((reward, i) => {
        if (seen.has(reward.id)) ctx.addIssue({ code: "custom", path: [i, "id"], message: `reward id ${reward.id} is listed twice; give each reward its own id` });
        seen.add(reward.id);
      });
    })
    .describe("rewards customers spend points on (POST /v1/customers/{id}/redemptions with a rewardId from here)"),
});
export type RewardsFile = z.infer<typeof RewardsFile>;
export type Rewards = Omit<RewardsFile, "$schema">;
