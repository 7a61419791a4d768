import { describe, expect, it } from "vitest";
import { type CostedOperation, estimateCost, OPERATION_COSTS } from "./cost-model";

const none = () => Object.fromEntries(Object.keys(OPERATION_COSTS).map((k) => [k, 0])) as Record<CostedOperation, number>;

describe("estimateCost", () => {
  it("prices a million sends from the per-send assumptions", () => {
    const cost = estimateCost({ ...none(), send: 1_000_000 }, 100_000, 30);
    // 4 WRU × $1.25 + 3 RRU × $0.25 per million; 1 event × $1; SES $0.10 per 1,000.
    expect(cost.usd.dynamodb).toBeCloseTo(4 * 1.25 + 3 * 0.25, 6);
    expect(cost.usd.eventbridge).toBeCloseTo(1, 6);
    expect(cost.usd.ses).toBeCloseTo(100, 6);
    expect(cost.usd.lambda).toBe(0);
    expect(cost.usd.total).toBeCloseTo(106.75, 6);
    expect(cost.usdPerThousandLeads.total).toBeCloseTo(1.0675, 6);
  });
  it("counts Lambda requests and compute, and keeps the sweeper's fixed cost apart", () => {
    const cost = estimateCost({ ...none(), capture: 1_000_000 }, 1_000_000, 30);
    expect(cost.usd.lambda).toBeCloseTo(0.2 + 1_000_000 * 0.5 * 0.15 * 0.0000166667, 6);
    expect(cost.fixedUsd).toBeGreaterThan(0);
    expect(estimateCost(none(), 0, 30).usd.total).toBe(0);
  });
});
