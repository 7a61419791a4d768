import type { DueRef } from "@leadloop/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestTable, type TestTable } from "../../../test/engines";
import { DynamoNurtureStore } from "./dynamo-nurture-store";

let table: TestTable;
let store: DynamoNurtureStore;

beforeAll(async () => {
  table = await createTestTable("sweeplease");
  store = new DynamoNurtureStore({ client: table.client, tableName: table.tableName });
});

afterAll(async () => {
  await table?.drop();
});

const T0 = "2026-03-02T15:00:00.000Z";
const T5 = "2026-03-02T15:05:00.000Z";
const T10 = "2026-03-02T15:10:00.000Z";
const step = (leadId: string): DueRef => ({ leadId, sequenceId: "enterprise-nurture", stepId: "welcome", dueAt: "2026-03-02T14:00:00.000Z" });

describe("a due shard's sweep lease", () => {
  it("is held by one owner until it lapses; another takes it then and finds the marks left on it", async () => {
    expect(await store.takeSweepLease(1, "a", T5, T0)).toEqual({ inFlight: [] });
    // Live: nobody else takes it, and only its owner writes to it.
    expect(await store.takeSweepLease(1, "b", T10, T0)).toBeUndefined();
    expect(await store.updateSweepLease(1, "b", { begin: [step("x")] })).toBe(false);
    expect(await store.updateSweepLease(1, "a", { begin: [step("l1"), step("l2")], until: T5 })).toBe(true);
    expect(await store.updateSweepLease(1, "a", { done: [step("l1")], begin: [step("l3")] })).toBe(true);
    // Lapsed: the next owner gets the marks a never cleared, and the old owner can no longer write.
    const taken = await store.takeSweepLease(1, "b", T10, T5);
    expect(taken?.inFlight.map((s) => s.leadId).sort()).toEqual(["l2", "l3"]);
    expect(taken?.inFlight[0]).toMatchObject({ sequenceId: "enterprise-nurture", stepId: "welcome", dueAt: "2026-03-02T14:00:00.000Z" });
    expect(await store.updateSweepLease(1, "a", { done: [step("l2")], release: true })).toBe(false);
    // Released with marks still on it: the next owner takes it at once and finds them.
    expect(await store.updateSweepLease(1, "b", { done: [step("l2")], release: true })).toBe(true);
    expect((await store.takeSweepLease(1, "c", T10, T0))?.inFlight.map((s) => s.leadId)).toEqual(["l3"]);
  });

  it("leases each shard on its own", async () => {
    expect(await store.takeSweepLease(2, "a", T5, T0)).toEqual({ inFlight: [] });
    expect(await store.takeSweepLease(3, "b", T5, T0)).toEqual({ inFlight: [] });
  });
});
