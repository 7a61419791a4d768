/**
 * Booking a ledger entry and settling the account: every purchase, redemption, refund and
 * adjustment is decided on the ledger as read and booked only if no other booking of that
 * customer came in between (the account's version), so a redemption never spends points another
 * debit already took, and a retry of the same id books nothing and answers what the first did.
 * Settling brings balance, tier and next expiry in line with the ledger; whoever moves the tier
 * announces it (the outbox rides on the account write) and sends the tier-change email.
 */
import type { Rewards } from "../config/schema";
import { leadloopEvent } from "../events";
import { announcePending, pendingEvent } from "../events-outbox";
import type { Lead } from "../lead";
import type { EventPublisher } from "../ports";
import { type LedgerState, ledgerState, tierFor } from "./points";
import type { EntryResult, LedgerEntry, RetentionCounts, RetentionTally, RewardsStore } from "./rewards-store";
import { sendTierEmail, type TierEmailDeps, type TierEmailResult } from "./tier-email";

export interface RewardsDeps extends TierEmailDeps {
  rewards: RewardsStore;
  publisher: EventPublisher;
  log?: { info(m: string, e?: Record<string, unknown>): void; warn(m: string, e?: Record<string, unknown>): void };
}

/** Events this module publishes (the report handler counts them). */
export const TIER_CHANGED_EVENT = "customer.tier_changed" as const;
export const PURCHASE_EVENT = "customer.purchase" as const;

export interface TierChanged {
  from: string | null;
  to: string | null;
  email: TierEmailResult;
}

const SETTLE_ATTEMPTS = 30;
const BOOK_ATTEMPTS = 40;

/** A short, growing, jittered pause after losing a race for the account. */
const backOff = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 + attempt * 3)));

/** The tier a balance reaches; a customer owing points (a refund of points spent) keeps the lowest. */
export const tierOf = (rewards: Rewards, balance: number): string | null => tierFor(rewards, Math.max(0, balance))?.id ?? null;

/** The tier of an account never written: the one a balance of 0 reaches. */
export const initialTier = (rewards: Rewards): string | null => tierOf(rewards, 0);

export interface Settlement {
  balance: number;
  tier: string | null;
  tierChanged?: TierChanged;
}

/**
 * Brings the account in line with the ledger as of now: balance, tier, points lapsed (counted for
 * the retention report once, by the write that saw them lapse) and the next expiry, which puts
 * the account in the expiry job's index.
 */
export async function settleAccount(deps: RewardsDeps, rewards: Rewards, lead: Lead, earned?: number): Promise<Settlement> {
  for (let attempt = 0; attempt < SETTLE_ATTEMPTS; attempt++) {
    const now = deps.clock.now();
    const account = await deps.rewards.getAccount(lead.id);
    const state = ledgerState(await deps.rewards.listEntries(lead.id), now);
    const { balance } = state;
    const tier = tierOf(rewards, balance);
    const from = account ? account.tier : initialTier(rewards);
    if (account && account.balance === balance && account.tier === tier && account.expired === state.expired && account.nextExpiryAt === state.nextExpiryAt) {
      return { balance, tier };
    }
    const version = account?.version ?? 0;
    const lapsed = state.expired - (account?.expired ?? 0);
    const tally: RetentionTally | undefined = lapsed > 0 ? { day: now.toISOString().slice(0, 10), tier: from, counts: { pointsExpired: lapsed } } : undefined;
    // The announcement rides on the account write (the outbox), so a refused publish or a dying
    // process cannot lose it; the new version keys it, so each change is announced once.
    const announce =
      from === tier ? [] : [pendingEvent(lead.id, String(version + 1), leadloopEvent(TIER_CHANGED_EVENT, { leadId: lead.id, from, to: tier, balance }), now)];
    const saved = await deps.rewards.saveAccount(
      {
        leadId: lead.id,
        balance,
        tier,
        expired: state.expired,
        ...(state.nextExpiryAt ? { nextExpiryAt: state.nextExpiryAt } : {}),
        updatedAt: now.toISOString(),
      },
      version,
      announce,
      tally,
    );
    if (!saved) {
      await backOff(attempt);
      continue;
    }
    if (from === tier) return { balance, tier };
    await announcePending(deps, announce);
    let email: TierEmailResult;
    try {
      email = await sendTierEmail(deps, rewards, lead, { from, to: tier, balance, ...(earned !== undefined ? { earned } : {}) });
    } catch (error) {
      // The points are booked and the change announced; a failed email must not fail the booking.
      deps.log?.warn("tier-change email failed", { leadId: lead.id, error: String(error) });
      email = "suppressed";
    }
    deps.log?.info("tier changed", { leadId: lead.id, from, to: tier, balance, email });
    return { balance, tier, tierChanged: { from, to: tier, email } };
  }
  throw new Error(`The points account of ${lead.id} kept changing under ${SETTLE_ATTEMPTS} attempts to settle it; try again.`);
}

/** The ledger as a booking decides on it. */
export interface LedgerView {
  entries: LedgerEntry[];
  state: LedgerState;
  /** The tier the balance reaches now (the retention report counts the booking under it). */
  tier: string | null;
  now: Date;
}

export interface BookingRequest {
  entryId: string;
  /** What in a booked entry with this id differs from this request (a retry must match it). */
  differs(existing: LedgerEntry): string[];
  conflict(differs: string[]): Error;
  /** The entry to book, decided on the ledger as read; throws to refuse. */
  build(view: LedgerView): { entry: LedgerEntry; counts: Partial<RetentionCounts> };
}

export interface BookingOutcome {
  entry: LedgerEntry;
  /** False when this id was booked before: nothing was added. */
  created: boolean;
  result: EntryResult;
  tierChanged?: TierChanged;
}

export async function bookLedgerEntry(deps: RewardsDeps, rewards: Rewards, lead: Lead, request: BookingRequest): Promise<BookingOutcome> {
  for (let attempt = 0; attempt < BOOK_ATTEMPTS; attempt++) {
    // The account first, then the ledger: any debit booked before this read of the version is in
    // the ledger read after it, and any booked later moves the version and refuses this one.
    const account = await deps.rewards.getAccount(lead.id);
    const entries = await deps.rewards.listEntries(lead.id);
    const existing = entries.find((e) => e.entryId === request.entryId);
    let booked: LedgerEntry;
    let created = false;
    if (existing) {
      const differs = request.differs(existing);
      if (differs.length > 0) throw request.conflict(differs);
      // The first request finished: answer as it did. Otherwise it stopped half-way (or is still
      // running): settling again is safe and completes it.
      if (existing.result) return { entry: existing, created: false, result: existing.result };
      booked = existing;
    } else {
      const now = deps.clock.now();
      const state = ledgerState(entries, now);
      const tier = tierOf(rewards, state.balance);
      const { entry, counts } = request.build({ entries, state, tier, now });
      // A purchase is announced (webhooks: the shop, a CRM) by an outbox entry in the booking's own
      // transaction, keyed by the ledger entry, so it is announced once however the request ends.
      const announce =
        entry.kind === "purchase"
          ? [
              pendingEvent(
                lead.id,
                entry.entryId,
                leadloopEvent(PURCHASE_EVENT, { leadId: lead.id, purchaseId: entry.purchaseId, amount: entry.amount, currency: entry.currency, points: entry.points, purchasedAt: entry.at }),
                now,
              ),
            ]
          : [];
      const ok = await deps.rewards.bookEntry(lead.id, entry, account?.version ?? 0, {
        initialTier: initialTier(rewards),
        tally: { day: entry.at.slice(0, 10), tier, counts },
        announce,
      });
      if (!ok) {
        await backOff(attempt);
        continue;
      }
      await announcePending(deps, announce);
      booked = entry;
      created = true;
    }
    const settled = await settleAccount(deps, rewards, lead, booked.points > 0 ? booked.points : undefined);
    const result: EntryResult = { points: booked.points, balance: settled.balance, tier: settled.tier };
    await deps.rewards.setEntryResult(lead.id, booked.entryId, result);
    return { entry: booked, created, result, ...(settled.tierChanged ? { tierChanged: settled.tierChanged } : {}) };
  }
  throw new Error(`The points account of ${lead.id} kept changing under ${BOOK_ATTEMPTS} attempts to book ${request.entryId}; try again.`);
}
