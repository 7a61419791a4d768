import type { QueueItem } from "@leadloop/core";
import { repForTurn, Team } from "@leadloop/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestTable, type TestTable } from "../../../test/engines";
import { DynamoSalesStore } from "./dynamo-sales-store";

let table: TestTable;
let store: DynamoSalesStore;

beforeAll(async () => {
  table = await createTestTable("sales");
  store = new DynamoSalesStore({ client: table.client, tableName: table.tableName });
});
afterAll(async () => {
  await table?.drop();
});

let n = 0;
function queueItem(extra: Partial<QueueItem> = {}): QueueItem {
  n++;
  return {
    teamId: "team-a",
    qualifiedAt: new Date(Date.UTC(2025, 2, 1, 9, 0, n)).toISOString(),
    leadId: `lead-${n}-${Math.random().toString(36).slice(2, 8)}`,
    segment: "enterprise",
    score: 72,
    threshold: 60,
    reasons: [{ rule: "pricing-page", category: "engagement", points: 15 }],
    rep: "a@example.com",
    repName: "A",
    assignedAt: "2025-03-01T09:00:00.000Z",
    claimBy: "2025-03-01T13:00:00.000Z",
    misses: 0,
    notifyAttempts: 0,
    notifyAfter: "2025-03-01T09:02:00.000Z",
    ...extra,
  };
}

describe("round-robin turns", () => {
  it("gives 20 concurrent hand-offs to a 4-rep team 5 leads each", async () => {
    const team = Team.parse({
      id: "fair",
      name: "Fair",
      segments: ["smb"],
      claimSla: "PT1H",
      escalation: { email: "boss@example.com" },
      reps: ["a", "b", "c", "d"].map((r) => ({ email: `${r}@example.com`, name: r })),
    });
    const turns = await Promise.all(Array.from({ length: 20 }, () => store.nextTurn("fair")));
    expect(new Set(turns).size).toBe(20);
    const perRep = new Map<string, number>();
    for (const turn of turns) {
      const rep = repForTurn(team, turn).email;
      perRep.set(rep, (perRep.get(rep) ?? 0) + 1);
    }
    expect([...perRep.values()]).toEqual([5, 5, 5, 5]);
  });
});

describe("hand-offs", () => {
  it("writes a queue item once per qualification and points the lead at it", async () => {
    const item = queueItem();
    expect(await store.createHandoff(item)).toBe(true);
    expect(await store.createHandoff(item)).toBe(false);
    expect(await store.getQueueItem(item)).toEqual(item);
    const handoff = await store.getHandoff(item.leadId);
    expect(handoff).toMatchObject({ teamId: "team-a", qualifiedAt: item.qualifiedAt, score: 72, item });
    expect((await store.listTeamQueue("team-a")).map((i) => i.leadId)).toContain(item.leadId);
  });

  it("refuses an older qualification of a lead once a newer one is queued", async () => {
    const newer = queueItem();
    const older = { ...newer, qualifiedAt: "2025-01-01T00:00:00.000Z" };
    expect(await store.createHandoff(newer)).toBe(true);
    expect(await store.createHandoff(older)).toBe(false);
    expect(await store.getQueueItem(older)).toBeUndefined();
  });

  it("lists overdue claims and owed notifications only until they are settled", async () => {
    const item = queueItem({ teamId: "team-sla" });
    await store.createHandoff(item);
    const overdueAt = async (now: string) => {
      const all = await Promise.all(Array.from({ length: store.slaShards }, (_, s) => store.listOverdue(s, now, 100)));
      return all.flat().filter((r) => r.leadId === item.leadId);
    };
    const owedAt = async (now: string) => {
      const all = await Promise.all(Array.from({ length: store.notifyShards }, (_, s) => store.listUnnotified(s, now, 100)));
      return all.flat().filter((r) => r.leadId === item.leadId);
    };
    expect(await overdueAt("2025-03-01T12:59:59.000Z")).toEqual([]);
    expect(await overdueAt("2025-03-01T13:00:00.000Z")).toEqual([{ teamId: "team-sla", qualifiedAt: item.qualifiedAt, leadId: item.leadId }]);
    expect(await owedAt("2025-03-01T09:01:00.000Z")).toEqual([]);
    expect(await owedAt("2025-03-01T09:02:00.000Z")).toHaveLength(1);

    await store.recordNotification(item, "a@example.com", { emailedAt: "2025-03-01T09:00:01.000Z", notifiedAt: "2025-03-01T09:00:01.000Z" });
    expect(await owedAt("2025-03-02T00:00:00.000Z")).toEqual([]);

    // Moving to the next rep: a fresh deadline, owed a notification again; the old rep can no longer be recorded.
    const moved = await store.reassign(item, { rep: item.rep, claimBy: item.claimBy }, {
      rep: "b@example.com",
      repName: "B",
      claimBy: "2025-03-01T17:00:00.000Z",
      misses: 1,
      assignedAt: "2025-03-01T13:00:00.000Z",
      notifyAfter: "2025-03-01T13:02:00.000Z",
    });
    expect(moved).toBe(true);
    expect(await store.reassign(item, { rep: item.rep, claimBy: item.claimBy }, { rep: "c@example.com", repName: "C", claimBy: "x", misses: 1, assignedAt: "x", notifyAfter: "x" })).toBe(false);
    const after = await store.getQueueItem(item);
    expect(after).toMatchObject({ rep: "b@example.com", misses: 1, claimBy: "2025-03-01T17:00:00.000Z" });
    expect(after?.notifiedAt).toBeUndefined();
    expect(await overdueAt("2025-03-01T16:00:00.000Z")).toEqual([]);
    expect(await overdueAt("2025-03-01T17:00:00.000Z")).toHaveLength(1);
    expect(await owedAt("2025-03-01T13:05:00.000Z")).toHaveLength(1);

    expect(await store.escalate(item, { rep: "b@example.com", claimBy: "2025-03-01T17:00:00.000Z" }, 2, "2025-03-01T17:00:00.000Z")).toBe(true);
    expect(await overdueAt("2025-03-09T00:00:00.000Z")).toEqual([]);
  });
});

describe("claims", () => {
  it("lets exactly one of two racing reps win, and the holder claim again", async () => {
    const item = queueItem({ teamId: "team-race" });
    await store.createHandoff(item);
    const [a, b] = await Promise.all([
      store.claim(item, "a@example.com", "2025-03-01T10:00:00.000Z"),
      store.claim(item, "b@example.com", "2025-03-01T10:00:00.000Z"),
    ]);
    const results = [a, b];
    const winners = results.filter((r) => r.claimed);
    expect(winners).toHaveLength(1);
    const winner = winners[0]!.claimed ? winners[0]!.item.claimedBy : undefined;
    const loser = results.find((r) => !r.claimed);
    expect(loser).toEqual({ claimed: false, holder: winner });

    const again = await store.claim(item, winner!, "2025-03-01T11:00:00.000Z");
    expect(again).toMatchObject({ claimed: true, already: true, item: { claimedBy: winner, claimedAt: "2025-03-01T10:00:00.000Z" } });
    expect((await store.listRepClaims(winner!)).map((i) => i.leadId)).toContain(item.leadId);
    // A claimed lead has no deadline any more.
    const overdue = await Promise.all(Array.from({ length: store.slaShards }, (_, s) => store.listOverdue(s, "2030-01-01T00:00:00.000Z", 100)));
    expect(overdue.flat().map((r) => r.leadId)).not.toContain(item.leadId);
  });

  it("says so when the lead is not in the queue", async () => {
    expect(await store.claim({ teamId: "team-a", qualifiedAt: "2020-01-01T00:00:00.000Z", leadId: "nobody" }, "a@example.com", "x")).toEqual({
      claimed: false,
      missing: true,
    });
  });
});

describe("closing", () => {
  it("records the outcome once, only for the holder, and removes the item from the queue", async () => {
    const item = queueItem({ teamId: "team-close" });
    await store.createHandoff(item);
    await store.claim(item, "a@example.com", "2025-03-01T10:00:00.000Z");
    const closure = { outcome: "won" as const, amount: 12000, currency: "EUR", rep: "a@example.com", closedAt: "2025-03-02T10:00:00.000Z" };
    expect(await store.close(item, closure, "b@example.com")).toBe(false);
    expect(await store.close(item, closure, "a@example.com")).toBe(true);
    expect(await store.close(item, closure, "a@example.com")).toBe(false);
    expect(await store.getQueueItem(item)).toBeUndefined();
    expect(await store.listTeamQueue("team-close")).toEqual([]);
    const handoff = await store.getHandoff(item.leadId);
    expect(handoff?.closed).toEqual(closure);
    expect(handoff?.item).toBeUndefined();
    expect(await store.listRepClaims("a@example.com").then((items) => items.map((i) => i.leadId))).not.toContain(item.leadId);
  });
});
