/**
 * recordPurchase: a purchase earns its points exactly once. The ledger entry is keyed by the
 * purchase id and written conditionally, so a retry (or two deliveries at once) books nothing
 * more and answers what the first did; the balance is always the sum of unexpired entries, and
 * the account's version lets exactly one writer announce each tier change.
 */
import * as z from "zod";
import type { LeadloopConfig, Rewards } from "../config/schema";
import { addDuration } from "../duration";
import { type FieldIssue, ValidationError } from "../errors";
import type { Lead } from "../lead";
import { leadloopEvent } from "../events";
import { announcePending, pendingEvent } from "../events-outbox";
import type { EventPublisher } from "../ports";
import { balanceAt, pointsFor, tierFor } from "./points";
import { NotACustomerError, PurchaseConflictError, RewardsNotConfiguredError, UnknownCustomerError } from "./rewards-errors";
import type { LedgerEntry, PurchaseResult, RewardsStore } from "./rewards-store";
import { sendTierEmail, type TierEmailDeps, type TierEmailResult } from "./tier-email";

export interface RewardsDeps extends TierEmailDeps {
  rewards: RewardsStore;
  publisher: EventPublisher;
  log?: { info(m: string, e?: Record<string, unknown>): void; warn(m: string, e?: Record<string, unknown>): void };
}

export const PurchaseInput = z.strictObject({
  purchaseId: z
    .string()
    .min(1, "is required")
    .max(200, "must be at most 200 characters")
    .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces, e.g. order-1042"),
  amount: z.number("must be a number").positive("must be more than 0").max(1e9, "is too large"),
  currency: z.string("must be a currency code").regex(/^[A-Z]{3}$/, "must be a three-letter currency code such as USD"),
  at: z.iso.datetime({ offset: true, message: "must be an ISO 8601 time such as 2026-03-01T10:00:00Z" }).optional(),
});
export type PurchaseInput = z.infer<typeof PurchaseInput>;

export interface PurchaseOutcome extends PurchaseResult {
  /** False when this purchase id was recorded before: nothing was added. */
  created: boolean;
  tierChanged?: { from: string | null; to: string | null; email: TierEmailResult };
}

/** Events this use case publishes (the report handler counts them). */
export const TIER_CHANGED_EVENT = "customer.tier_changed" as const;

const SETTLE_ATTEMPTS = 20;

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
  const now = deps.clock.now();
  const at = input.at ? new Date(input.at).toISOString() : now.toISOString();
  const entry: LedgerEntry = {
    entryId: `purchase:${input.purchaseId}`,
    kind: "purchase",
    purchaseId: input.purchaseId,
    amount: input.amount,
    currency: input.currency,
    points: pointsFor(rewards, input.amount, input.currency) ?? 0,
    at,
    expiresAt: addDuration(new Date(at), rewards.expiry).toISOString(),
    ...(input.at ? { requestedAt: at } : {}),
    recordedAt: now.toISOString(),
  };

  const added = await deps.rewards.addEntry(lead.id, entry);
  let booked = entry;
  if (!added.created) {
    booked = added.existing;
    const differs = [
      ...(booked.amount !== entry.amount ? ["amount"] : []),
      ...(booked.currency !== entry.currency ? ["currency"] : []),
      ...(input.at !== undefined && booked.requestedAt !== entry.requestedAt ? ["at"] : []),
    ];
    if (differs.length > 0) throw new PurchaseConflictError(input.purchaseId, differs);
    // The first request finished: answer as it did. Otherwise it stopped half-way (or is still
    // running): settling again is safe and completes it.
    if (booked.result) return { ...booked.result, created: false };
  }

  const settled = await settleAccount(deps, rewards, lead, booked.points);
  const result: PurchaseResult = { points: booked.points, balance: settled.balance, tier: settled.tier };
  await deps.rewards.setEntryResult(lead.id, booked.entryId, result);
  return { ...result, created: added.created, ...(settled.tierChanged ? { tierChanged: settled.tierChanged } : {}) };
}

/**
 * Brings the account in line with the ledger as of now; whoever moves the tier announces it.
 * Exported for a periodic job that settles expired points.
 */
export async function settleAccount(
  deps: RewardsDeps,
  rewards: Rewards,
  lead: Lead,
  earned?: number,
): Promise<{ balance: number; tier: string | null; tierChanged?: NonNullable<PurchaseOutcome["tierChanged"]> }> {
  for (let attempt = 0; attempt < SETTLE_ATTEMPTS; attempt++) {
    const now = deps.clock.now();
    const account = await deps.rewards.getAccount(lead.id);
    const balance = balanceAt(await deps.rewards.listEntries(lead.id), now);
    const tier = tierFor(rewards, balance)?.id ?? null;
    const from = account ? account.tier : (tierFor(rewards, 0)?.id ?? null);
    if (account && account.balance === balance && account.tier === tier) return { balance, tier };
    const version = account?.version ?? 0;
    // The announcement rides on the account write (the outbox), so a refused publish or a dying
    // process cannot lose it; the new version keys it, so each change is announced once.
    const announce =
      from === tier ? [] : [pendingEvent(lead.id, String(version + 1), leadloopEvent(TIER_CHANGED_EVENT, { leadId: lead.id, from, to: tier, balance }), now)];
    const saved = await deps.rewards.saveAccount({ leadId: lead.id, balance, tier, updatedAt: now.toISOString() }, version, announce);
    if (!saved) continue;
    if (from === tier) return { balance, tier };
    await announcePending(deps, announce);
    let email: TierEmailResult;
    try {
      email = await sendTierEmail(deps, rewards, lead, { from, to: tier, balance, ...(earned !== undefined ? { earned } : {}) });
    } catch (error) {
      // The points are booked and the change announced; a failed email must not fail the purchase.
      deps.log?.warn("tier-change email failed", { leadId: lead.id, error: String(error) });
      email = "suppressed";
    }
    deps.log?.info("tier changed", { leadId: lead.id, from, to: tier, balance, email });
    return { balance, tier, tierChanged: { from, to: tier, email } };
  }
  throw new Error(`The points account of ${lead.id} kept changing under ${SETTLE_ATTEMPTS} attempts to settle it; try again.`);
}

export interface PointsStatement {
  leadId: string;
  balance: number;
  tier: string | null;
  nextTier: { id: string; pointsToGo: number } | null;
  ledger: (LedgerEntry & { expired: boolean })[];
}

/** Balance, tier and ledger as of now; expired entries stay listed, marked, but count nothing. */
export async function pointsStatement(deps: Pick<RewardsDeps, "config" | "leads" | "rewards" | "clock">, leadId: string): Promise<PointsStatement> {
  const rewards = rewardsOf(deps.config);
  const lead = await customerFor(deps, leadId);
  const now = deps.clock.now();
  const entries = await deps.rewards.listEntries(lead.id);
  const balance = balanceAt(entries, now);
  const next = rewards.tiers.find((t) => t.threshold > balance);
  return {
    leadId: lead.id,
    balance,
    tier: tierFor(rewards, balance)?.id ?? null,
    nextTier: next ? { id: next.id, pointsToGo: next.threshold - balance } : null,
    ledger: entries.map((e) => ({ ...e, expired: Date.parse(e.expiresAt) <= now.getTime() })),
  };
}
