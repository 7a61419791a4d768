/**
 * recordOutcome: the rep who holds a lead (or an admin) says how it ended: won with an amount,
 * lost or disqualified with a reason code from config/teams.yaml, or not now with a date to come
 * back. The outcome is recorded once (conditional on the claim), moves the lead's stage as the
 * lifecycle says (a not-now lead is parked with marketing until its date, never re-qualified
 * before it) and announces `lead.closed` for marketing's feedback loop: its outbox entry is
 * written with the closure, so the feedback loop hears of it even when the bus refuses it or the
 * process dies.
 */
import * as z from "../zod-mini";
import type { Principal } from "../auth-claims";
import { type DealNotes, DealNotesInput } from "../feedback/deal-review";
import { type FieldIssue, ValidationError } from "../errors";
import { fieldIssues, givenFields } from "../request-body";
import { stageAfterOutcome } from "../lifecycle";
import { actorOf, assertOnTeam, claimedEvent, isAdmin, openHandoff } from "./claim";
import { leadloopEvent } from "../events";
import { announcePending, pendingEvent } from "../events-outbox";
import type { SalesDeps } from "./sales-deps";
import { NotYourLeadError, SalesStateError } from "./sales-errors";
import { Outcome } from "./sales-events";
import type { Closure } from "./sales-store";

/**
 * No deal is worth more than this; a bigger figure is a typo or a probe, and past about 1e125 the
 * store cannot even hold it.
 */
export const MAX_DEAL_AMOUNT = 1_000_000_000_000;

const AMOUNT_RULE = "a won deal needs its amount, a number greater than 0 (e.g. 12000)";
const DealAmount = z
  .number(AMOUNT_RULE)
  .check(
    z.positive(AMOUNT_RULE),
    z.lte(MAX_DEAL_AMOUNT, `at most ${MAX_DEAL_AMOUNT.toLocaleString("en")}; write the deal's amount in its currency's units (e.g. 12000)`),
  );
/** A number, or the text of one as a form's input gives it. */
const NUMERIC = /^\s*(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;
const CURRENCY_RULE = "must be a three-letter ISO 4217 code such as USD or EUR";
const RECYCLE_RULE = "not now needs the date to come back to the lead, e.g. 2026-01-15";
/** Its messages are reworded with the configured codes by validateOutcome. */
const ReasonCode = z.string("must be a reason code (text)");
const notes = z.optional(DealNotesInput).check(z.describe('the deal review\'s notes: {"wentWell", "toImprove"}, or one text for what went well'));

/**
 * What a rep sends to record an outcome: the shape of each outcome's body. The reason codes
 * depend on config/teams.yaml and the recycle date on the clock, so validateOutcome checks those.
 * An empty field ("" or null, as a form leaves it) counts as not given.
 */
export const OutcomeRequest = z
  .discriminatedUnion(
    "outcome",
    [
      z.object({
        outcome: z.literal("won"),
        amount: z
          .union([DealAmount, z.pipe(z.pipe(z.string(AMOUNT_RULE).check(z.regex(NUMERIC, AMOUNT_RULE)), z.coerce.number()), DealAmount)], AMOUNT_RULE)
          .check(z.describe("the deal's amount in its currency's units: a number, or its text as a form sends it")),
        currency: z
          .optional(z.string(CURRENCY_RULE).check(z.regex(/^[A-Za-z]{3}$/, CURRENCY_RULE), z.toUpperCase()))
          .check(z.describe("ISO 4217, e.g. EUR (any case)")),
        reason: z.optional(ReasonCode).check(z.describe("why it was won: a code of config/teams.yaml wonReasons")),
        notes,
      }),
      z.object({
        outcome: z.literal("lost"),
        reason: ReasonCode.check(z.describe("a code of config/teams.yaml lostReasons")),
        notes,
      }),
      z.object({
        outcome: z.literal("disqualified"),
        reason: ReasonCode.check(z.describe("a code of config/teams.yaml disqualifiedReasons")),
        notes,
      }),
      z.object({
        outcome: z.literal("not-now"),
        recycleOn: z
          .union([z.iso.date(RECYCLE_RULE), z.iso.datetime({ offset: true, error: RECYCLE_RULE })], RECYCLE_RULE)
          .check(z.describe("when the lead comes back to nurture, after today: a date (start of day UTC) or an instant")),
        reason: z.optional(z.string("must be text")).check(z.describe("why not now, in a word (free text)")),
        notes,
      }),
    ],
    `must be one of ${Outcome.options.join(", ")}`,
  )
  .check(
    z.meta({
      title: "Outcome",
      description: 'How the deal ended. A field sent empty ("" or null) counts as not given. A 422 names each wrong field and what would be valid.',
    }),
  );
export type OutcomeRequest = z.input<typeof OutcomeRequest>;

/** The outcomes whose reason is a code of config/teams.yaml, and the list it comes from. */
const REASON_LISTS = { won: "wonReasons", lost: "lostReasons", disqualified: "disqualifiedReasons" } as const;
type CodedOutcome = keyof typeof REASON_LISTS;

function reasonCodes(teams: SalesDeps["config"]["teams"], outcome: CodedOutcome): string[] {
  return (teams[REASON_LISTS[outcome]] ?? []).map((r) => r.code);
}

function reasonRule(teams: SalesDeps["config"]["teams"], outcome: CodedOutcome): string {
  const codes = reasonCodes(teams, outcome);
  return outcome === "won"
    ? `a won deal's reason must be one of ${codes.join(", ") || "(none listed)"} (config/teams.yaml wonReasons)`
    : `a ${outcome} lead needs a reason, one of ${codes.join(", ")} (config/teams.yaml ${REASON_LISTS[outcome]})`;
}

/**
 * Checks an outcome: its shape by OutcomeRequest, then what the config and the clock decide.
 * Every problem names its field and what would be valid, all fields at once.
 */
export function validateOutcome(
  deps: Pick<SalesDeps, "config">,
  input: unknown,
  now: Date,
): Omit<Closure, "rep" | "closedAt"> {
  const { teams } = deps.config;
  const body = givenFields(input);
  const parsed = OutcomeRequest.safeParse(body);
  const outcome = Outcome.safeParse(body.outcome).data;
  const coded = outcome === undefined || outcome === "not-now" ? undefined : outcome;
  // Why a reason is wrong is best told with the codes the rep may choose from.
  const issues: FieldIssue[] = (parsed.success ? [] : fieldIssues(parsed.error)).map((issue) =>
    issue.field === "reason" && coded ? { field: "reason", message: reasonRule(teams, coded) } : issue,
  );
  const flagged = new Set(issues.map((i) => i.field));
  // Why it was won is what marketing repeats: a reason given must be a code, so the reviews
  // aggregate codes, not free text.
  if (coded && typeof body.reason === "string" && !flagged.has("reason") && !reasonCodes(teams, coded).includes(body.reason)) {
    issues.push({ field: "reason", message: `"${body.reason.slice(0, 64)}" is not a reason code; ${reasonRule(teams, coded)}` });
  }
  if (outcome === "not-now" && typeof body.recycleOn === "string" && !flagged.has("recycleOn") && new Date(body.recycleOn).getTime() <= now.getTime()) {
    issues.push({ field: "recycleOn", message: `must lie in the future (after ${now.toISOString().slice(0, 10)})` });
  }
  if (!parsed.success || issues.length > 0) throw new ValidationError(issues);

  const request = parsed.data;
  const closure: Omit<Closure, "rep" | "closedAt"> = { outcome: request.outcome };
  if (request.reason) closure.reason = request.reason;
  if (request.outcome === "won") {
    closure.amount = request.amount;
    if (request.currency) closure.currency = request.currency;
  }
  if (request.outcome === "not-now") closure.recycleOn = request.recycleOn;
  const given = typeof request.notes === "string" ? { wentWell: request.notes } : request.notes;
  const kept: DealNotes = {};
  if (given?.wentWell) kept.wentWell = given.wentWell;
  if (given?.toImprove) kept.toImprove = given.toImprove;
  if (Object.keys(kept).length > 0) closure.notes = kept;
  return closure;
}

export async function recordOutcome(deps: SalesDeps, principal: Principal, leadId: string, input: unknown): Promise<Closure> {
  const now = deps.clock.now();
  const checked = validateOutcome(deps, input, now);
  const { item } = await openHandoff(deps, leadId);
  assertOnTeam(deps, principal, item);
  const me = actorOf(principal);
  const admin = isAdmin(principal);
  if (!admin) {
    if (!item.claimedBy) throw new SalesStateError(`Claim lead ${leadId} before recording its outcome.`);
    if (item.claimedBy !== me) throw new NotYourLeadError(`Lead ${leadId} is claimed by ${item.claimedBy}; only they (or an admin) can record its outcome.`);
  }
  const at = now.toISOString();
  const closure: Closure = { ...checked, rep: item.claimedBy ?? me, closedAt: at };
  const closed = pendingEvent(leadId, at, leadloopEvent("lead.closed", { leadId, teamId: item.teamId, ...closure }), now);
  // A claim whose `lead.claimed` is still owed (its reminder goes with the item) is announced
  // with the closure, ahead of it.
  const announce =
    item.announceClaimAt !== undefined && item.claimedAt ? [pendingEvent(leadId, item.claimedAt, claimedEvent(item), now), closed] : [closed];
  if (!(await deps.sales.close(item, closure, admin ? undefined : me, announce))) {
    // Lost a race: closed or re-claimed meanwhile. Re-read so the answer says which.
    await openHandoff(deps, leadId);
    throw new NotYourLeadError(`Lead ${leadId} changed hands while the outcome was being recorded; reload it.`);
  }
  await deps.leads.updateLead(leadId, { stage: stageAfterOutcome(closure.outcome) }, at);
  await deps.leads.appendActivity(leadId, { type: "lead.closed", at, data: { teamId: item.teamId, ...closure } });
  await announcePending(deps, announce);
  return closure;
}
