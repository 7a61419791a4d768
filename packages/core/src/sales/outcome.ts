/**
 * recordOutcome: the rep who holds a lead (or an admin) says how it ended: won with an amount,
 * lost or disqualified with a reason code from config/teams.yaml, or not now with a date to come
 * back. The outcome is recorded once (conditional on the claim), moves the lead's stage as the
 * lifecycle says (a not-now lead is parked with marketing until its date, never re-qualified
 * before it) and announces `lead.closed` for marketing's feedback loop: its outbox entry is
 * written with the closure, so the feedback loop hears of it even when the bus refuses it or the
 * process dies.
 */
import type { Principal } from "../auth-claims";
import { DealNotes } from "../feedback/deal-review";
import { ValidationError, type FieldIssue } from "../errors";
import { stageAfterOutcome } from "../lifecycle";
import { actorOf, assertOnTeam, isAdmin, openHandoff } from "./claim";
import { leadloopEvent } from "../events";
import { announcePending, pendingEvent } from "../events-outbox";
import type { SalesDeps } from "./sales-deps";
import { NotYourLeadError, SalesStateError } from "./sales-errors";
import { Outcome } from "./sales-events";
import type { Closure } from "./sales-store";

/** What a rep sends; validateOutcome checks it against the config. */
export type OutcomeInput = {
  outcome: string;
  reason?: string;
  amount?: number;
  currency?: string;
  recycleOn?: string;
  /** What went well and what to improve: `{wentWell, toImprove}`, or one text for both. */
  notes?: unknown;
};

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Checks an outcome against the config; every problem names its field and what would be valid. */
export function validateOutcome(
  deps: Pick<SalesDeps, "config">,
  input: unknown,
  now: Date,
): Omit<Closure, "rep" | "closedAt"> {
  const raw = (typeof input === "object" && input !== null ? input : {}) as Record<string, unknown>;
  const issues: FieldIssue[] = [];
  const parsed = Outcome.safeParse(raw.outcome);
  if (!parsed.success) {
    issues.push({ field: "outcome", message: `must be one of ${Outcome.options.join(", ")}` });
    throw new ValidationError(issues);
  }
  const outcome = parsed.data;
  const closure: Omit<Closure, "rep" | "closedAt"> = { outcome };
  const { lostReasons, disqualifiedReasons } = deps.config.teams;
  const wonReasons = deps.config.teams.wonReasons ?? [];

  if (raw.notes !== undefined && raw.notes !== null && raw.notes !== "") {
    const notes = DealNotes.safeParse(typeof raw.notes === "string" ? { wentWell: raw.notes } : raw.notes);
    if (!notes.success) {
      issues.push({
        field: "notes",
        message: 'must be {"wentWell": "…", "toImprove": "…"} (each plain text of at most 2000 characters) or one such text',
      });
    } else {
      const clean: DealNotes = {};
      if (notes.data.wentWell) clean.wentWell = notes.data.wentWell;
      if (notes.data.toImprove) clean.toImprove = notes.data.toImprove;
      if (Object.keys(clean).length > 0) closure.notes = clean;
    }
  }

  if (outcome === "won") {
    // Why it was won is what marketing repeats: a reason given must be one of wonReasons, so the
    // reviews aggregate codes, not free text.
    if (raw.reason !== undefined && raw.reason !== "") {
      const codes = wonReasons.map((r) => r.code);
      if (typeof raw.reason !== "string" || !codes.includes(raw.reason)) {
        const given = typeof raw.reason === "string" && raw.reason ? `"${raw.reason}" is not a reason code; ` : "";
        issues.push({ field: "reason", message: `${given}a won deal's reason must be one of ${codes.join(", ") || "(none listed)"} (config/teams.yaml wonReasons)` });
      } else closure.reason = raw.reason;
    }
    const amount = typeof raw.amount === "string" && raw.amount.trim() !== "" ? Number(raw.amount) : raw.amount;
    if (typeof amount !== "number" || !Number.isFinite(amount) || amount <= 0) {
      issues.push({ field: "amount", message: "a won deal needs its amount, a number greater than 0 (e.g. 12000)" });
    } else if (amount > MAX_DEAL_AMOUNT) {
      issues.push({ field: "amount", message: `at most ${MAX_DEAL_AMOUNT.toLocaleString("en")}; write the deal's amount in its currency's units (e.g. 12000)` });
    } else closure.amount = amount;
    if (raw.currency !== undefined && raw.currency !== "") {
      if (typeof raw.currency !== "string" || !/^[A-Za-z]{3}$/.test(raw.currency)) {
        issues.push({ field: "currency", message: "must be a three-letter ISO 4217 code such as USD or EUR" });
      } else closure.currency = raw.currency.toUpperCase();
    }
  }
  if (outcome === "lost" || outcome === "disqualified") {
    const reasons = outcome === "lost" ? lostReasons : disqualifiedReasons;
    const codes = reasons.map((r) => r.code);
    if (typeof raw.reason !== "string" || !codes.includes(raw.reason)) {
      const given = typeof raw.reason === "string" && raw.reason ? `"${raw.reason}" is not a reason code; ` : "";
      issues.push({
        field: "reason",
        message: `${given}a ${outcome} lead needs a reason, one of ${codes.join(", ")} (config/teams.yaml ${outcome === "lost" ? "lostReasons" : "disqualifiedReasons"})`,
      });
    } else closure.reason = raw.reason;
  }
  if (outcome === "not-now") {
    const recycleOn = raw.recycleOn;
    const when = typeof recycleOn === "string" && (DATE.test(recycleOn) || !Number.isNaN(Date.parse(recycleOn))) ? new Date(recycleOn) : undefined;
    if (!when || Number.isNaN(when.getTime())) {
      issues.push({ field: "recycleOn", message: "not now needs the date to come back to the lead, e.g. 2026-01-15" });
    } else if (when.getTime() <= now.getTime()) {
      issues.push({ field: "recycleOn", message: `must lie in the future (after ${now.toISOString().slice(0, 10)})` });
    } else closure.recycleOn = recycleOn as string;
    if (typeof raw.reason === "string" && raw.reason) closure.reason = raw.reason;
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return closure;
}

/**
 * No deal is worth more than this; a bigger figure is a typo or a probe, and past about 1e125 the
 * store cannot even hold it.
 */
export const MAX_DEAL_AMOUNT = 1_000_000_000_000;

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
  if (!(await deps.sales.close(item, closure, admin ? undefined : me, [closed]))) {
    // Lost a race: closed or re-claimed meanwhile. Re-read so the answer says which.
    await openHandoff(deps, leadId);
    throw new NotYourLeadError(`Lead ${leadId} changed hands while the outcome was being recorded; reload it.`);
  }
  await deps.leads.updateLead(leadId, { stage: stageAfterOutcome(closure.outcome) }, at);
  await deps.leads.appendActivity(leadId, { type: "lead.closed", at, data: { teamId: item.teamId, ...closure } });
  await announcePending(deps, [closed]);
  return closure;
}
