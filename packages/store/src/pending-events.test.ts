import { announcePending, type Clock, type BusEvent, leadloopEvent, pendingEvent, PublishError, republishEvents } from "@leadloop/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestTable, type TestTable } from "../../../test/engines";
import { DynamoLeadStore } from "./dynamo-lead-store";
import { DynamoSalesStore } from "./dynamo-sales-store";

let table: TestTable;
let leads: DynamoLeadStore;
let sales: DynamoSalesStore;

beforeAll(async () => {
  table = await createTestTable("outbox");
  leads = new DynamoLeadStore({ client: table.client, tableName: table.tableName, leadIdKey: "outbox-test-lead-id-key-0123456789" });
  sales = new DynamoSalesStore({ client: table.client, tableName: table.tableName });
});
afterAll(async () => {
  await table?.drop();
});

const T0 = new Date("2026-03-02T15:00:00.000Z");
const clockAt = (at: Date): Clock => ({ now: () => new Date(at) });

function recordingBus(refuse = false) {
  const published: BusEvent[] = [];
  return {
    published,
    publisher: {
      async publish(events: BusEvent[]) {
        if (refuse) throw new PublishError("refused (test)");
        await new Promise((r) => setTimeout(r, 5));
        published.push(...events);
      },
    },
  };
}

async function closedWithRefusedBus(leadId: string) {
  const ref = { teamId: "team-a", qualifiedAt: T0.toISOString(), leadId };
  await sales.createHandoff({ ...ref, segment: "enterprise", score: 70, threshold: 60, reasons: [], rep: "a@x.example", repName: "A", assignedAt: ref.qualifiedAt, claimBy: ref.qualifiedAt, misses: 0, notifyAttempts: 0 });
  const closedAt = T0.toISOString();
  const pending = pendingEvent(leadId, closedAt, leadloopEvent("lead.closed", { leadId, teamId: "team-a", rep: "a@x.example", outcome: "lost", reason: "price", closedAt }), T0);
  expect(await sales.close(ref, { outcome: "lost", reason: "price", rep: "a@x.example", closedAt }, undefined, [pending])).toBe(true);
  expect(await announcePending({ leads, ...recordingBus(true) }, [pending])).toBe(false);
  return pending;
}

describe("the outbox on DynamoDB Local", () => {
  it("keeps an entry written with a closure until the republisher publishes it, after its grace period", async () => {
    const leadId = `lead-${Math.random().toString(36).slice(2, 8)}`;
    await closedWithRefusedBus(leadId);
    const early = recordingBus();
    expect((await republishEvents({ leads, publisher: early.publisher, clock: clockAt(new Date(T0.getTime() + 60_000)) })).announced).toBe(0);

    const later = recordingBus();
    const report = await republishEvents({ leads, publisher: later.publisher, clock: clockAt(new Date(T0.getTime() + 5 * 60_000)) });
    expect(later.published.filter((e) => e.detail.leadId === leadId).map((e) => e.type)).toEqual(["lead.closed"]);
    expect(report.announced).toBeGreaterThanOrEqual(1);
    const again = recordingBus();
    await republishEvents({ leads, publisher: again.publisher, clock: clockAt(new Date(T0.getTime() + 10 * 60_000)) });
    expect(again.published.filter((e) => e.detail.leadId === leadId)).toEqual([]);
  });

  it("publishes an entry once when two republishers run at the same time", async () => {
    const leadId = `lead-${Math.random().toString(36).slice(2, 8)}`;
    await closedWithRefusedBus(leadId);
    const bus = recordingBus();
    const clock = clockAt(new Date(T0.getTime() + 5 * 60_000));
    await Promise.all([republishEvents({ leads, publisher: bus.publisher, clock }), republishEvents({ leads, publisher: bus.publisher, clock })]);
    expect(bus.published.filter((e) => e.detail.leadId === leadId)).toHaveLength(1);
  });

  it("writes nothing when the state change's condition fails", async () => {
    const leadId = `lead-${Math.random().toString(36).slice(2, 8)}`;
    const ref = { teamId: "team-a", qualifiedAt: T0.toISOString(), leadId };
    const pending = pendingEvent(leadId, "x", leadloopEvent("lead.closed", { leadId, teamId: "team-a", rep: "r", outcome: "lost", closedAt: T0.toISOString() }), T0);
    // No such queue item: the close is refused, and so is its announcement.
    expect(await sales.close(ref, { outcome: "lost", rep: "r", closedAt: T0.toISOString() }, undefined, [pending])).toBe(false);
    const everything = await Promise.all(Array.from({ length: leads.outboxShards }, (_, shard) => leads.listPendingEvents(shard, "9999", 1000)));
    expect(everything.flat().filter((p) => p.leadId === leadId)).toEqual([]);
  });
});
