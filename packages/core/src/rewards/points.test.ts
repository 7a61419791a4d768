import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Rewards } from "../config/schema";
import { balanceAt, describeDuration, nextTier, pointsFor, tierFor } from "./points";

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
