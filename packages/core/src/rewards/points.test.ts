import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Rewards } from "../config/schema";
import { balanceAt, describeDuration, ledgerState, nextTier, pointsFor, tierFor } from "./points";

const rewards: Rewards = {
  pointsPerUnit: { USD: 1, EUR: 1.1 },
  tiers: [
    { id: "silver", threshold: 500 },
    { id: "gold", threshold: 2000 },
    { id: "platinum", threshold: 5000 },
  ],
  expiry: "P365D",
  tierChangeSubject: "x",
  catalogue: [],
};

describe("pointsFor", () => {
  it("earns whole points per unit at the currency's rate, rounding down", () => {
    expect(pointsFor(rewards, 100, "USD")).toBe(100);
    expect(pointsFor(rewards, 19.99, "USD")).toBe(19);
    expect(pointsFor(rewards, 19.99, "EUR")).toBe(21);
    // 10 × 1.1 is 11.000000000000002 in floating point; still 11, never 10 or 12.
    expect(pointsFor(rewards, 10, "EUR")).toBe(11);
  });

  it("refuses a currency rewards.yaml does not list", () => {
    expect(pointsFor(rewards, 10, "JPY")).toBeUndefined();
  });

  it("never earns more than amount × rate, nor a whole point less", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), (cents) => {
        const amount = cents / 100;
        const points = pointsFor(rewards, amount, "EUR") ?? -1;
        return points <= amount * 1.1 + 1e-6 && points > amount * 1.1 - 1 - 1e-6;
      }),
    );
  });
});

describe("balanceAt", () => {
  const entries = [
    { points: 300, at: "2025-01-10T00:00:00.000Z", expiresAt: "2026-01-10T00:00:00.000Z" },
    { points: 250, at: "2025-06-01T00:00:00.000Z", expiresAt: "2026-06-01T00:00:00.000Z" },
  ];
  it("sums the entries still valid", () => {
    expect(balanceAt(entries, new Date("2025-07-01T00:00:00Z"))).toBe(550);
  });
  it("drops an entry from the instant it expires", () => {
    expect(balanceAt(entries, new Date("2026-01-09T23:59:59Z"))).toBe(550);
    expect(balanceAt(entries, new Date("2026-01-10T00:00:00Z"))).toBe(250);
    expect(balanceAt(entries, new Date("2026-06-01T00:00:00Z"))).toBe(0);
  });
});

describe("ledgerState", () => {
  const day = (d: number) => new Date(Date.UTC(2026, 0, 1) + d * 86_400_000).toISOString();
  const earn = (id: string, points: number, at: number, expires: number) => ({ entryId: id, lot: id, points, at: day(at), expiresAt: day(expires) });
  const spend = (id: string, points: number, at: number, lot?: string) => ({ entryId: id, points: -points, at: day(at), ...(lot ? { lot } : {}) });

  it("spends the points that lapse soonest first, so the customer keeps the longest-lived", () => {
    const entries = [earn("a", 300, 0, 100), earn("b", 200, 10, 200), spend("r", 250, 20)];
    // a: 300 − 250 = 50 left, lapsing on day 100; b untouched.
    expect(ledgerState(entries, new Date(day(50)))).toEqual({ balance: 250, expired: 0, nextExpiryAt: day(100) });
    expect(ledgerState(entries, new Date(day(100)))).toEqual({ balance: 200, expired: 50, nextExpiryAt: day(200) });
    expect(ledgerState(entries, new Date(day(200)))).toEqual({ balance: 0, expired: 250 });
  });

  it("takes a refund from its own purchase first, and owes what was already spent", () => {
    const entries = [earn("a", 300, 0, 100), earn("b", 200, 10, 200), spend("r", 250, 20), spend("refund-b", 200, 30, "b")];
    expect(ledgerState(entries, new Date(day(40))).balance).toBe(50);
    // Refunding a after its points were mostly spent: 50 from a, 0 left elsewhere, 250 owed.
    const owing = [earn("a", 300, 0, 100), spend("r", 300, 5), spend("refund-a", 300, 6, "a"), earn("c", 400, 7, 300)];
    expect(ledgerState(owing, new Date(day(6)))).toEqual({ balance: -300, expired: 0 });
    // The next purchase pays the debt first: 400 − 300 = 100 left.
    expect(ledgerState(owing, new Date(day(8)))).toEqual({ balance: 100, expired: 0, nextExpiryAt: day(300) });
  });

  it("never lets spent points lapse again, nor counts an entry before its time", () => {
    const entries = [earn("a", 100, 0, 10), spend("r", 100, 5), earn("later", 50, 20, 400)];
    expect(ledgerState(entries, new Date(day(15)))).toEqual({ balance: 0, expired: 0 });
    expect(ledgerState(entries, new Date(day(20)))).toEqual({ balance: 50, expired: 0, nextExpiryAt: day(400) });
  });

  it("keeps balance, spending and lapsing in step: earned = balance + spent + expired when nothing is owed", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ points: fc.integer({ min: 1, max: 500 }), at: fc.nat(300), life: fc.integer({ min: 1, max: 400 }), spend: fc.nat(400) }), { maxLength: 12 }),
        fc.nat(800),
        (moves, nowDay) => {
          const entries: ReturnType<typeof earn | typeof spend>[] = [];
          let spent = 0;
          [...moves].sort((a, b) => a.at - b.at).forEach((m, i) => {
            entries.push(earn(`e${i}`, m.points, m.at, m.at + m.life));
            // Spend only what the balance holds at that moment, as a redemption would.
            const at = m.at + 1;
            const available = ledgerState(entries, new Date(day(at))).balance;
            const take = Math.min(available, m.spend);
            if (take > 0 && at <= nowDay) {
              entries.push(spend(`s${i}`, take, at));
              spent += take;
            }
          });
          const earned = entries.filter((e) => e.points > 0 && Date.parse(e.at) <= Date.parse(day(nowDay))).reduce((n, e) => n + e.points, 0);
          const state = ledgerState(entries, new Date(day(nowDay)));
          return state.balance >= 0 && state.balance + spent + state.expired === earned;
        },
      ),
    );
  });
});

describe("tiers", () => {
  it("is the highest tier whose threshold the balance reaches", () => {
    expect(tierFor(rewards, 0)).toBeUndefined();
    expect(tierFor(rewards, 499)).toBeUndefined();
    expect(tierFor(rewards, 500)?.id).toBe("silver");
    expect(tierFor(rewards, 1999)?.id).toBe("silver");
    expect(tierFor(rewards, 2000)?.id).toBe("gold");
    expect(tierFor(rewards, 1_000_000)?.id).toBe("platinum");
  });
  it("says how far the next tier is, and nothing at the top", () => {
    expect(nextTier(rewards, 1200)).toEqual({ tier: rewards.tiers[1], pointsToGo: 800 });
    expect(nextTier(rewards, 5000)).toBeUndefined();
  });
  it("never goes down as the balance grows", () => {
    const rank = (b: number) => rewards.tiers.findIndex((t) => t.id === tierFor(rewards, b)?.id);
    fc.assert(fc.property(fc.nat(10_000), fc.nat(10_000), (a, extra) => rank(a) <= rank(a + extra)));
  });
});

describe("describeDuration", () => {
  it("reads as a customer would", () => {
    expect(describeDuration("P365D")).toBe("365 days");
    expect(describeDuration("P1Y")).toBe("1 year");
    expect(describeDuration("P1Y6M")).toBe("1 year 6 months");
  });
});
