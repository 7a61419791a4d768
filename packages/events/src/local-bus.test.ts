import type { EventEnvelope, RoutingRule } from "@leadloop/core";
import { describe, expect, it } from "vitest";
import { LocalBus } from "./local-bus";

const rules: RoutingRule[] = [
  { name: "report", target: "report", pattern: { source: ["leadloop"] } },
  { name: "exit", target: "exit", pattern: { source: ["leadloop"], "detail-type": ["lead.closed"] } },
] as RoutingRule[];
const clock = { now: () => new Date("2026-01-05T10:00:00Z") };
const policyOf = () => ({ retryAttempts: 1, maxEventAgeSeconds: 3600, firstRetryDelayMs: 10, asyncRetryAttempts: 0, asyncMaxEventAgeSeconds: 3600 });

describe("LocalBus batch targets", () => {
  it("gathers a batch target's deliveries while other handlers run, and delivers them in batches of its size", async () => {
    const batches: string[][] = [];
    let exitRuns = 0;
    const bus = new LocalBus({
      rules,
      clock,
      policyOf,
      handlers: {
        report: async () => {},
        // A slow handler: the report's deliveries gather meanwhile, as a queue fills in its batching window.
        exit: async () => {
          exitRuns++;
          await new Promise((r) => setTimeout(r, 30));
        },
      },
      batchTargets: {
        report: {
          size: 4,
          concurrency: 1,
          handle: async (deliveries) => {
            batches.push(deliveries.map((d) => String(d.event.detail.n)));
            return { failed: [] };
          },
        },
      },
    });
    await bus.publish([{ type: "lead.closed", detail: { n: 0 } }]);
    await bus.publish(Array.from({ length: 9 }, (_, i) => ({ type: "lead.updated", detail: { n: i + 1 } })));
    await bus.drain();
    expect(exitRuns).toBe(1);
    expect(batches.flat().sort((a, b) => Number(a) - Number(b))).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    expect(batches.every((b) => b.length <= 4)).toBe(true);
    expect(batches.length).toBeLessThan(10);
  });

  it("delivers again only the events a batch returned as failed, then dead-letters them; a redrive replays one through the single handler", async () => {
    const seen: string[] = [];
    const single: string[] = [];
    const bus = new LocalBus({
      rules: rules.slice(0, 1),
      clock,
      policyOf,
      handlers: { report: async (event: EventEnvelope) => void single.push(String(event.detail.n)) },
      batchTargets: {
        report: {
          size: 10,
          concurrency: 1,
          handle: async (deliveries) => {
            seen.push(...deliveries.map((d) => String(d.event.detail.n)));
            return { failed: deliveries.filter((d) => d.event.detail.n === 2).map((d) => d.event.id) };
          },
        },
      },
    });
    await bus.publish([1, 2, 3].map((n) => ({ type: "lead.updated", detail: { n } })));
    await bus.drain();
    // One retry under the policy, then a dead letter.
    expect(seen.filter((n) => n === "2")).toHaveLength(2);
    expect(seen.filter((n) => n !== "2").sort()).toEqual(["1", "3"]);
    expect(bus.deadLetters.map((l) => l.event.detail.n)).toEqual([2]);
    expect(await bus.redrive()).toMatchObject({ redriven: 1 });
    expect(single).toEqual(["2"]);
  });
});
