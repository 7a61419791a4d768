import type { LeadScore } from "@leadloop/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestTable, type TestTable } from "../../../test/engines";
import { keyedActivityId } from "./dynamo-lead-scores";
import { DynamoLeadStore } from "./dynamo-lead-store";

let table: TestTable;
let store: DynamoLeadStore;

beforeAll(async () => {
  table = await createTestTable("scores");
  store = new DynamoLeadStore({ client: table.client, tableName: table.tableName, leadIdKey: "scores-test-lead-id-key-0123456789" });
});

afterAll(async () => {
  await table?.drop();
});

let n = 0;
async function newLead(stage: "lead" | "recycled" | "pending-confirmation" | "not-now" = "lead") {
  n += 1;
  const at = `2025-04-01T09:00:${String(n % 60).padStart(2, "0")}.000Z`;
  const { lead } = await store.captureSubmission({
    formId: "whitepaper",
    email: `scores-${n}-${Math.random().toString(36).slice(2)}@example.com`,
    profile: { title: "VP" },
    source: { formId: "whitepaper", at },
    segmentOf: () => "enterprise",
    initialStage: stage,
    at,
    published: true,
  });
  return lead;
}

/** A lead stored at 09:00 on 2025-04-02 whose lead.captured is not known to be out: on the republisher's list (due at `announceBy`, else at once). */
async function unpublishedLead(name: string, announceBy?: string) {
  n += 1;
  const at = "2025-04-02T09:00:00.000Z";
  const { lead } = await store.captureSubmission({
    formId: "whitepaper",
    email: `scores-${name}-${n}-${Math.random().toString(36).slice(2)}@example.com`,
    profile: { title: "VP" },
    source: { formId: "whitepaper", at },
    segmentOf: () => "enterprise",
    initialStage: "lead",
    at,
    published: false,
    ...(announceBy !== undefined ? { announceBy } : {}),
  });
  return lead;
}

function score(total: number): LeadScore {
  return { fit: 30, engagement: total - 30, total, threshold: 50, reasons: [{ rule: "senior-title", category: "fit", points: 30 }], scoredAt: "2025-04-01T10:00:00.000Z" };
}

const TYPES = ["form.submitted", "email.clicked", "email.opened"];

describe("appendBehaviour", () => {
  it("stores a keyed activity once, however often its event is delivered, and counts it once", async () => {
    const lead = await newLead();
    const activity = { type: "email.clicked", at: "2025-04-01T10:00:00.000Z", data: { url: "https://x.example/pricing" } };
    const first = await store.appendBehaviour(lead.id, activity, { key: "ses:event-1" });
    const again = await store.appendBehaviour(lead.id, activity, { key: "ses:event-1" });
    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    expect(again.activity.id).toBe(first.activity.id);
    expect(first.activity.id).toBe(keyedActivityId(activity.at, "ses:event-1"));

    const read = await store.readForScoring(lead.id, { types: TYPES, limit: 100 });
    expect(read?.basis.behaviourSeq).toBe(1);
    expect(read?.activities.map((a) => a.type)).toEqual(["email.clicked", "form.submitted"]);
  });

  it("stores unkeyed activities every time", async () => {
    const lead = await newLead();
    const activity = { type: "email.opened", at: "2025-04-01T10:00:00.000Z", data: {} };
    await store.appendBehaviour(lead.id, activity);
    await store.appendBehaviour(lead.id, activity);
    const read = await store.readForScoring(lead.id, { types: ["email.opened"], limit: 100 });
    expect(read?.activities).toHaveLength(2);
    expect(read?.basis.behaviourSeq).toBe(2);
  });
});

describe("readForScoring", () => {
  it("returns only the scored types, newest first, at most the limit, and nothing for an unknown lead", async () => {
    const lead = await newLead();
    for (let i = 0; i < 5; i++) {
      await store.appendBehaviour(lead.id, { type: "email.opened", at: `2025-04-02T10:00:0${i}.000Z`, data: {} });
      await store.appendBehaviour(lead.id, { type: "email.sent", at: `2025-04-02T10:00:0${i}.500Z`, data: {} });
    }
    const read = await store.readForScoring(lead.id, { types: ["email.opened"], limit: 3 });
    expect(read?.activities.map((a) => a.at)).toEqual(["2025-04-02T10:00:04.000Z", "2025-04-02T10:00:03.000Z", "2025-04-02T10:00:02.000Z"]);
    expect(await store.readForScoring("no-such-lead", { types: TYPES, limit: 3 })).toBeUndefined();
  });
});

describe("saveScore", () => {
  it("saves a score computed from the current lead, and refuses one computed before another activity", async () => {
    const lead = await newLead();
    const before = (await store.readForScoring(lead.id, { types: TYPES, limit: 100 }))!;
    await store.appendBehaviour(lead.id, { type: "email.clicked", at: "2025-04-01T10:00:00.000Z", data: {} });
    expect(await store.saveScore(lead.id, score(35), before.basis)).toBe("stale");
    const after = (await store.readForScoring(lead.id, { types: TYPES, limit: 100 }))!;
    expect(await store.saveScore(lead.id, score(40), after.basis)).toBe("saved");
    const stored = await store.getLead(lead.id);
    expect(stored?.score?.total).toBe(40);
    expect(stored?.stage).toBe("lead");
    expect(stored?.qualifiedAt).toBeUndefined();
  });

  it("qualifies a lead once when many scorers race to qualify it", async () => {
    const lead = await newLead();
    const basis = (await store.readForScoring(lead.id, { types: TYPES, limit: 100 }))!.basis;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        store.saveScore(lead.id, score(60), basis, { at: `2025-04-01T11:00:0${i}.000Z`, announceUntil: "2025-04-01T11:01:00.000Z" }),
      ),
    );
    expect(results.filter((r) => r === "saved")).toHaveLength(1);
    const read = (await store.readForScoring(lead.id, { types: TYPES, limit: 100 }))!;
    expect(read.lead.stage).toBe("mql");
    expect(read.lead.qualifiedAt).toMatch(/^2025-04-01T11:00:0\d/);
    expect(read.unannounced).toEqual({ qualifiedAt: read.lead.qualifiedAt, heldUntil: "2025-04-01T11:01:00.000Z" });
    // Already qualified: a fresh read cannot qualify it again, only save its score.
    expect(await store.saveScore(lead.id, score(70), read.basis, { at: "2025-04-01T12:00:00.000Z", announceUntil: "2025-04-01T12:01:00.000Z" })).toBe("stale");
    expect(await store.saveScore(lead.id, score(70), read.basis)).toBe("saved");
  });

  it("qualifies a recycled lead again, but never a lead waiting for confirmation", async () => {
    const recycled = await newLead("recycled");
    const basis = (await store.readForScoring(recycled.id, { types: TYPES, limit: 100 }))!.basis;
    expect(await store.saveScore(recycled.id, score(60), basis, { at: "2025-04-01T11:00:00.000Z", announceUntil: "2025-04-01T11:01:00.000Z" })).toBe("saved");
    expect((await store.getLead(recycled.id))?.stage).toBe("mql");

    const pending = await newLead("pending-confirmation");
    const pendingBasis = (await store.readForScoring(pending.id, { types: TYPES, limit: 100 }))!.basis;
    expect(await store.saveScore(pending.id, score(60), pendingBasis, { at: "2025-04-01T11:00:00.000Z", announceUntil: "2025-04-01T11:01:00.000Z" })).toBe("stale");
    expect((await store.getLead(pending.id))?.stage).toBe("pending-confirmation");
  });

  it("never qualifies a parked not-now lead, even from a score computed before it was parked", async () => {
    const parked = await newLead("not-now");
    const basis = (await store.readForScoring(parked.id, { types: TYPES, limit: 100 }))!.basis;
    expect(await store.saveScore(parked.id, score(90), basis, { at: "2025-04-01T11:00:00.000Z", announceUntil: "2025-04-01T11:01:00.000Z" })).toBe("stale");
    expect((await store.getLead(parked.id))?.stage).toBe("not-now");
  });
});

describe("announcements", () => {
  it("lets one scorer hold the right to announce, takes it back when released, and ends it once announced", async () => {
    const lead = await newLead();
    const basis = (await store.readForScoring(lead.id, { types: TYPES, limit: 100 }))!.basis;
    const q = "2025-04-01T11:00:00.000Z";
    await store.saveScore(lead.id, score(60), basis, { at: q, announceUntil: "2025-04-01T11:01:00.000Z" });

    expect(await store.claimAnnouncement(lead.id, q, "2025-04-01T11:02:00.000Z", "2025-04-01T11:00:30.000Z")).toBe(false);
    expect(await store.claimAnnouncement(lead.id, q, "2025-04-01T11:03:00.000Z", "2025-04-01T11:01:30.000Z")).toBe(true);
    await store.settleAnnouncement(lead.id, q, "released");
    expect(await store.claimAnnouncement(lead.id, q, "2025-04-01T11:04:00.000Z", "2025-04-01T11:01:31.000Z")).toBe(true);
    await store.settleAnnouncement(lead.id, q, "announced");
    expect((await store.readForScoring(lead.id, { types: TYPES, limit: 1 }))?.unannounced).toBeUndefined();
    expect(await store.claimAnnouncement(lead.id, q, "2025-04-01T11:09:00.000Z", "2025-04-01T11:08:00.000Z")).toBe(false);
  });

  it("lists an unannounced qualification once it is old enough, through a release, until it is announced", async () => {
    const lead = await newLead();
    const basis = (await store.readForScoring(lead.id, { types: TYPES, limit: 100 }))!.basis;
    const q = "2025-04-02T11:00:00.000Z";
    await store.saveScore(lead.id, score(60), basis, { at: q, announceUntil: "2025-04-02T11:01:00.000Z" });
    const listed = async (upTo: string) => (await store.listUnannounced(upTo, 1000)).filter((p) => p.lead.id === lead.id);

    expect(await listed("2025-04-02T10:59:59.999Z")).toEqual([]);
    const [entry] = await listed(q);
    expect(entry?.qualifiedAt).toBe(q);
    expect(entry?.lead.stage).toBe("mql");
    expect(entry?.lead.score?.total).toBe(60);
    await store.settleAnnouncement(lead.id, q, "released");
    expect(await listed("2025-04-02T12:00:00.000Z")).toHaveLength(1);
    await store.settleAnnouncement(lead.id, q, "announced");
    expect(await listed("2025-04-02T12:00:00.000Z")).toEqual([]);
  });

  it("keeps a qualified lead that is still unpublished on the unpublished list", async () => {
    const lead = await unpublishedLead("unpublished");
    const basis = (await store.readForScoring(lead.id, { types: TYPES, limit: 100 }))!.basis;
    await store.saveScore(lead.id, score(60), basis, { at: "2025-04-02T11:00:00.000Z", announceUntil: "2025-04-02T11:01:00.000Z" });
    expect((await store.listUnpublished(1000)).map((l) => l.id)).toContain(lead.id);
    expect((await store.listUnannounced("2025-04-02T12:00:00.000Z", 1000)).map((p) => p.lead.id)).toContain(lead.id);
  });

  it("reads when a lead's unpublished entry falls due, and takes it off the list in the score's write when asked", async () => {
    const lead = await unpublishedLead("clear", "2025-04-02T09:02:00.000Z");
    const read = (await store.readForScoring(lead.id, { types: TYPES, limit: 100 }))!;
    expect(read.unpublishedDue).toBe("2025-04-02T09:02:00.000Z");
    expect(await store.saveScore(lead.id, score(10), read.basis, undefined, { published: true })).toBe("saved");
    const after = (await store.readForScoring(lead.id, { types: TYPES, limit: 100 }))!;
    expect(after.unpublishedDue).toBeUndefined();
    expect(after.lead.published).toBe(true);
    expect((await store.listUnpublished(1000)).map((l) => l.id)).not.toContain(lead.id);
  });
});
