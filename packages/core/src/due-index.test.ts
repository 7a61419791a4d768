import { describe, expect, it } from "vitest";
import { type DueIndex, dueLag, oneAtATimePer, STOP_SWEEP, sweepDueIndex } from "./due-index";

/** An index of `perShard` entries in each of `shards` shards, named `<shard>:<i>`. */
function index(shards: number, perShard: number, listed: number[] = []): DueIndex<string> {
  return {
    shards,
    listDue: async (shard, _upTo, limit) => {
      listed.push(shard);
      return Array.from({ length: Math.min(limit, perShard) }, (_, i) => `${shard}:${i}`);
    },
  };
}

describe("sweepDueIndex", () => {
  it("offers every due entry of every shard once, reading at most a batch per shard", async () => {
    const seen: string[] = [];
    const report = await sweepDueIndex(index(4, 5), async (ref) => void seen.push(ref), { upTo: "now", batch: 3, shardWorkers: 2, itemsPerShard: 2 });
    expect(seen.sort()).toEqual(["0:0", "0:1", "0:2", "1:0", "1:1", "1:2", "2:0", "2:1", "2:2", "3:0", "3:1", "3:2"]);
    expect(report).toEqual({ due: 12, handled: 12, failed: 0, deferred: 0, stopped: false });
  });

  it("keeps at most shardWorkers × itemsPerShard entries in hand", async () => {
    let inHand = 0;
    let most = 0;
    await sweepDueIndex(
      index(8, 10),
      async () => {
        most = Math.max(most, ++inHand);
        await new Promise((r) => setTimeout(r, 1));
        inHand--;
      },
      { upTo: "now", batch: 10, shardWorkers: 3, itemsPerShard: 2 },
    );
    expect(most).toBe(6);
  });

  it("takes no entry once the deadline leaves less than an entry's budget, and says how many it left", async () => {
    let now = 0;
    const seen: string[] = [];
    const listed: number[] = [];
    const report = await sweepDueIndex(
      index(3, 4, listed),
      async (ref) => {
        seen.push(ref);
        now += 100;
      },
      { upTo: "now", batch: 10, deadline: 1_000, itemBudgetMs: 500, nowMs: () => now },
    );
    // Entries start at 0, 100 … 500; at 600 an entry would end after the deadline.
    expect(seen).toEqual(["0:0", "0:1", "0:2", "0:3", "1:0", "1:1"]);
    expect(report).toMatchObject({ due: 8, handled: 6, deferred: 2, stopped: true });
    expect(listed).toEqual([0, 1]);
  });

  it("learns what an entry costs from those finished, so none it takes ends after the deadline", async () => {
    let now = 0;
    const ended: number[] = [];
    const report = await sweepDueIndex(
      index(1, 10),
      async () => {
        // Each entry needs 300 ms, three times the budget it was given.
        now += 300;
        ended.push(now);
      },
      { upTo: "now", batch: 10, deadline: 1_000, itemBudgetMs: 100, nowMs: () => now },
    );
    // With the budget left at 100 ms, a fourth entry would start at 900 and end at 1,200.
    expect(ended).toEqual([300, 600, 900]);
    expect(report).toMatchObject({ handled: 3, stopped: true });
  });

  it("with a deadline, lets the first entry run alone, so a late sweep does not take a full set on the guess", async () => {
    let now = 800;
    const report = await sweepDueIndex(
      index(2, 8),
      async () => {
        await new Promise((r) => setTimeout(r, 1));
        now += 300;
      },
      { upTo: "now", batch: 10, shardWorkers: 2, itemsPerShard: 4, deadline: 1_000, itemBudgetMs: 100, nowMs: () => now },
    );
    // Eight entries would have been in hand at 800, all ending after the deadline.
    expect(report).toMatchObject({ handled: 1, stopped: true });
  });

  it("stops when a job declines an entry, leaving it due", async () => {
    const report = await sweepDueIndex(index(2, 3), async (ref) => (ref === "0:1" ? STOP_SWEEP : undefined), { upTo: "now", batch: 10 });
    expect(report).toMatchObject({ handled: 1, deferred: 2, stopped: true, due: 3 });
  });

  it("tries every entry when one fails, then reports the first failure", async () => {
    const seen: string[] = [];
    const failing = sweepDueIndex(
      index(2, 2),
      async (ref) => {
        seen.push(ref);
        if (ref === "0:0") throw new Error("bus refused");
      },
      { upTo: "now", batch: 10 },
    );
    await expect(failing).rejects.toThrow("bus refused");
    expect(seen).toEqual(["0:0", "0:1", "1:0", "1:1"]);

    const failures: string[] = [];
    const report = await sweepDueIndex(
      index(2, 2),
      async (ref) => {
        if (ref.endsWith(":1")) throw new Error("store down");
      },
      { upTo: "now", batch: 10, onError: (ref) => failures.push(ref) },
    );
    expect(failures).toEqual(["0:1", "1:1"]);
    expect(report).toMatchObject({ handled: 2, failed: 2 });
  });
});

describe("sweepDueIndex with a shard that cannot be read", () => {
  it("sweeps the other shards, then reports the failure", async () => {
    const seen: string[] = [];
    const flaky: DueIndex<string> = {
      shards: 3,
      listDue: async (shard) => {
        if (shard === 1) throw new Error("throttled");
        return [`${shard}:0`];
      },
    };
    await expect(sweepDueIndex(flaky, async (ref) => void seen.push(ref), { upTo: "now", batch: 10 })).rejects.toThrow("throttled");
    expect(seen).toEqual(["0:0", "2:0"]);
    const shardsFailed: number[] = [];
    const report = await sweepDueIndex(flaky, async () => {}, { upTo: "now", batch: 10, onShardError: (shard) => shardsFailed.push(shard) });
    expect(shardsFailed).toEqual([1]);
    expect(report).toMatchObject({ due: 2, handled: 2, failed: 1 });
  });
});

describe("oneAtATimePer", () => {
  it("runs one key's items in order and other keys' alongside", async () => {
    const log: string[] = [];
    const run = oneAtATimePer(
      (ref: { lead: string; n: number }) => ref.lead,
      async (ref) => {
        log.push(`start ${ref.lead}${ref.n}`);
        await new Promise((r) => setTimeout(r, 5));
        log.push(`end ${ref.lead}${ref.n}`);
      },
    );
    await Promise.all([run({ lead: "a", n: 1 }), run({ lead: "a", n: 2 }), run({ lead: "b", n: 1 })]);
    expect(log.indexOf("end a1")).toBeLessThan(log.indexOf("start a2"));
    expect(log.indexOf("start b1")).toBeLessThan(log.indexOf("end a1"));
  });
});

describe("dueLag", () => {
  const at = (shards: Record<number, string[]>): DueIndex<string> => ({
    shards: 3,
    listDue: async (shard, upTo, limit) => (shards[shard] ?? []).filter((due) => due <= upTo).slice(0, limit),
  });

  it("is the age in seconds of the oldest due entry across the shards", async () => {
    const index = at({ 0: ["2026-12-01T10:04:00.000Z"], 2: ["2026-12-01T10:01:30.000Z", "2026-12-01T10:03:00.000Z"] });
    expect(await dueLag(index, (due) => due, "2026-12-01T10:05:00.000Z")).toBe(210);
  });

  it("is zero when nothing is due yet", async () => {
    const index = at({ 1: ["2026-12-01T11:00:00.000Z"] });
    expect(await dueLag(index, (due) => due, "2026-12-01T10:05:00.000Z")).toBe(0);
  });
});
