import { describe, expect, it } from "vitest";
import { checkClientLimits, primeClientLimit, type RateWindowStore, type WindowLimit, WindowLeases } from "./client-limits";

/** The shared window as the store keeps it: hits counted per key, never past what a call may take. */
function sharedStore() {
  const hits = new Map<string, number>();
  let calls = 0;
  const windows: RateWindowStore = {
    async hit(key: string, windowStartMs: number, limit: WindowLimit, count: number) {
      calls++;
      const id = `${key}@${windowStartMs}`;
      const before = hits.get(id) ?? 0;
      if (before >= limit.limit) return 0;
      hits.set(id, before + count);
      return Math.min(count, limit.limit - before);
    },
  };
  return { windows, calls: () => calls };
}

const ip = { kind: "ip", value: "203.0.113.9" } as const;

describe("client windows leased per container", () => {
  it("lets through exactly the limit across containers, whichever container each request reaches", async () => {
    const store = sharedStore();
    const deps = { windows: store.windows, nowMs: () => 1_000 };
    const rule = { scope: "capture", limit: { limit: 30, windowSeconds: 60 } };
    const containers = [new WindowLeases(), new WindowLeases()];
    let accepted = 0;
    for (let i = 0; i < 100; i++) {
      const [wait] = await checkClientLimits(deps, [{ rule, key: ip }], containers[i % 2]!);
      if (wait === 0) accepted++;
      else expect(wait).toBe(59);
    }
    expect(accepted).toBe(30);
    // Fewer store writes than requests: leased blocks, and none once each container saw the window full.
    expect(store.calls()).toBeLessThan(30);
  });

  it("costs a person's single submission one store call and leases nothing past it", async () => {
    const store = sharedStore();
    const leases = new WindowLeases();
    const rule = { scope: "capture", limit: { limit: 30, windowSeconds: 60 } };
    await checkClientLimits({ windows: store.windows, nowMs: () => 0 }, [{ rule, key: ip }], leases);
    expect(store.calls()).toBe(1);
    expect(leases.take("capture#ip#203.0.113.9", 0)).toBeUndefined();
  });

  it("starts a new window afresh and lets the request through when the store fails", async () => {
    let now = 0;
    const store = sharedStore();
    const leases = new WindowLeases();
    const rule = { scope: "capture", limit: { limit: 2, windowSeconds: 60 } };
    const deps = { windows: store.windows, nowMs: () => now };
    const waits: number[] = [];
    for (let i = 0; i < 3; i++) waits.push(...(await checkClientLimits(deps, [{ rule, key: ip }], leases)));
    expect(waits).toEqual([0, 0, 60]);
    now = 60_000;
    expect(await checkClientLimits(deps, [{ rule, key: ip }], leases)).toEqual([0]);
    const failing = { windows: { hit: () => Promise.reject(new Error("down")) }, nowMs: () => 120_000 };
    expect(await checkClientLimits(failing, [{ rule, key: ip }], leases)).toEqual([0]);
  });
});

describe("a lease taken ahead of its request (a cold API function, while it reads its secrets)", () => {
  const rule = { scope: "capture", limit: { limit: 30, windowSeconds: 60 } };

  it("is spent by the request, which then makes no store call of its own", async () => {
    const store = sharedStore();
    const deps = { windows: store.windows, nowMs: () => 1_000 };
    const leases = new WindowLeases();
    await primeClientLimit(deps, { rule, key: ip }, leases);
    expect(store.calls()).toBe(1);
    expect(await checkClientLimits(deps, [{ rule, key: ip }], leases)).toEqual([0]);
    expect(store.calls()).toBe(1);
  });

  it("refuses the request when the window was full, and counts nothing", async () => {
    const store = sharedStore();
    const deps = { windows: store.windows, nowMs: () => 1_000 };
    const other = new WindowLeases();
    for (let i = 0; i < 30; i++) await checkClientLimits(deps, [{ rule, key: ip }], other);
    const leases = new WindowLeases();
    await primeClientLimit(deps, { rule, key: ip }, leases);
    const calls = store.calls();
    expect(await checkClientLimits(deps, [{ rule, key: ip }], leases)).toEqual([59]);
    expect(store.calls()).toBe(calls);
  });

  it("still lets through exactly the limit across containers, however many leases were taken ahead", async () => {
    const store = sharedStore();
    const deps = { windows: store.windows, nowMs: () => 1_000 };
    const containers = [new WindowLeases(), new WindowLeases(), new WindowLeases()];
    let accepted = 0;
    for (let i = 0; i < 100; i++) {
      const leases = containers[i % 3]!;
      if (i % 2 === 0) await primeClientLimit(deps, { rule, key: ip }, leases);
      const [wait] = await checkClientLimits(deps, [{ rule, key: ip }], leases);
      if (wait === 0) accepted++;
    }
    expect(accepted).toBe(30);
  });

  it("leaves the request to ask the store itself when the store fails", async () => {
    let calls = 0;
    const deps = {
      windows: {
        async hit() {
          calls++;
          if (calls === 1) throw new Error("unreachable");
          return 1;
        },
      },
      nowMs: () => 1_000,
    };
    const leases = new WindowLeases();
    await primeClientLimit(deps, { rule, key: ip }, leases);
    expect(await checkClientLimits(deps, [{ rule, key: ip }], leases)).toEqual([0]);
    expect(calls).toBe(2);
  });
});
