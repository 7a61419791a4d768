/**
 * recordPurchase: a purchase earns its points exactly once. The ledger entry is keyed by the
 * purchase id and booked conditionally (ledger-booking.ts), so a retry (or two deliveries at once)
 * books nothing more and answers what the first did; the balance is always the ledger replayed
 * (unexpired points less what was spent), and the account's version lets exactly one writer
 * announce each tier change.
 */
import * as z from "../zod-mini";
import type { LeadloopConfig, Rewards } from "../config/schema";
import { addDuration } from "../duration";
import { type FieldIssue, ValidationError } from "../errors";
import type { Lead } from "../lead";
import { bookLedgerEntry, type RewardsDeps, type TierChanged, tierOf } from "./ledger-booking";
import { ledgerState, pointsFor } from "./points";
import { NotACustomerError, PurchaseConflictError, RewardsNotConfiguredError, UnknownCustomerError } from "./rewards-errors";
import type { EntryResult, LedgerEntry, PurchaseEntry } from "./rewards-store";

export const PurchaseInput = z.strictObject({
  purchaseId: z
    .string()
    .check(
      z.minLength(1, "is required"),
      z.maxLength(200, "must be at most 200 characters"),
      z.regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces, e.g. order-1042"),
    ),
  amount: z.number("must be a number").check(z.positive("must be more than 0"), z.lte(1e9, "is too large")),
  currency: z.string("must be a currency code").check(z.regex(/^[A-Z]{3}$/, "must be a three-letter currency code such as USD")),
  at: z.optional(z.iso.datetime({ offset: true, message: "must be an ISO 8601 time such as 2026-03-01T10:00:00Z" })),
});
export type PurchaseInput = z.infer<typeof PurchaseInput>;

export interface PurchaseOutcome extends EntryResult {
  /** False when this purchase id was recorded before: nothing was added. */
  created: boolean;
  tierChanged?: TierChanged;
}

export function rewardsOf(config: Pick<LeadloopConfig, "rewards">): Rewards {
  if (!config.rewards) throw new RewardsNotConfiguredError();
  return config.rewards;
}

/** The body, checked; every bad field is named at once. */
export function parsePurchase(rewards: Rewards, body: unknown): PurchaseInput {
  const parsed = PurchaseInput.safeParse(body);
  const issues: FieldIssue[] = parsed.success
    ? []
    : parsed.error.issues.map((i) => ({
        field: i.path.length > 0 ? i.path.join(".") : "body",
        message: i.code === "unrecognized_keys" ? `has unknown field(s) ${i.keys.join(", ")}` : i.message,
      }));
  if (parsed.success && rewards.pointsPerUnit[parsed.data.currency] === undefined) {
    issues.push({ field: "currency", message: `is not a currency rewards.yaml lists (${Object.keys(rewards.pointsPerUnit).join(", ")})` });
  }
  if (!parsed.success || issues.length > 0) throw new ValidationError(issues);
  return parsed.data;
}

/** The customer a purchase or a points request is for; 404 for an unknown lead, 409 for one not won. */
export async function customerFor(deps: Pick<RewardsDeps, "leads">, leadId: string): Promise<Lead> {
  const lead = await deps.leads.getLead(leadId);
  if (!lead) throw new UnknownCustomerError(leadId);
  if (lead.stage !== "customer") throw new NotACustomerError(leadId, lead.stage);
  return lead;
}

export async function recordPurchase(deps: RewardsDeps, leadId: string, body: unknown): Promise<PurchaseOutcome> {
  const rewards = rewardsOf(deps.config);
  const input = parsePurchase(rewards, body);
  const lead = await customerFor(deps, leadId);
  const requestedAt = input.at ? new Date(input.at).toISOString() : undefined;
  const outcome = await bookLedgerEntry(deps, rewards, lead, {
    entryId: `purchase:${input.purchaseId}`,
    differs: (booked) =>
      booked.kind !== "purchase"
        ? ["kind"]
        : [
            ...(booked.amount !== input.amount ? ["amount"] : []),
            ...(booked.currency !== input.currency ? ["currency"] : []),
            ...(requestedAt !== undefined && booked.requestedAt !== requestedAt ? ["at"] : []),
          ],
    conflict: (differs) => new PurchaseConflictError(input.purchaseId, differs),
    build: ({ entries, now }) => {
      const at = requestedAt ?? now.toISOString();
      const entry: PurchaseEntry = {
        entryId: `purchase:${input.purchaseId}`,
        kind: "purchase",
        purchaseId: input.purchaseId,
        amount: input.amount,
        currency: input.currency,
        points: pointsFor(rewards, input.amount, input.currency) ?? 0,
        at,
        expiresAt: addDuration(new Date(at), rewards.expiry).toISOString(),
        ...(requestedAt ? { requestedAt } : {}),
        recordedAt: now.toISOString(),
      };
      const repeat = entries.some((e) => e.kind === "purchase");
      return { entry, counts: { purchases: 1, repeatPurchases: repeat ? 1 : 0, pointsEarned: entry.points } };
    },
  });
  return { ...outcome.result, created: outcome.created, ...(outcome.tierChanged ? { tierChanged: outcome.tierChanged } : {}) };
}

export interface PointsStatement {
  leadId: string;
  balance: number;
  tier: string | null;
  nextTier: { id: string; pointsToGo: number } | null;
  /** When the next unspent points lapse. */
  nextExpiryAt: string | null;
  ledger: (LedgerEntry & { expired: boolean })[];
}

/** Balance, tier and ledger as of now; expired entries stay listed, marked, but count nothing. */
export async function pointsStatement(deps: Pick<RewardsDeps, "config" | "leads" | "rewards" | "clock">, leadId: string): Promise<PointsStatement> {
  const rewards = rewardsOf(deps.config);
  const lead = await customerFor(deps, leadId);
  const now = deps.clock.now();
  const entries = await deps.rewards.listEntries(lead.id);
  const { balance, nextExpiryAt } = ledgerState(entries, now);
  const next = rewards.tiers.find((t) => t.threshold > balance);
  return {
    leadId: lead.id,
    balance,
    tier: tierOf(rewards, balance),
    nextTier: next ? { id: next.id, pointsToGo: next.threshold - balance } : null,
    nextExpiryAt: nextExpiryAt ?? null,
    ledger: entries.map((e) => ({ ...e, expired: e.expiresAt !== undefined && Date.parse(e.expiresAt) <= now.getTime() })),
  };
}
