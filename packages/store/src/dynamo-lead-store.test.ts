import { createHash } from "node:crypto";
import { PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { CaptureRecord, Profile } from "@leadloop/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestTable, type TestTable } from "../../../test/engines";
import { DynamoLeadStore } from "./dynamo-lead-store";
import { LeadNotFoundError } from "./errors";

const LEAD_ID_KEY = "store-test-lead-id-key-0123456789";

let table: TestTable;
let store: DynamoLeadStore;

beforeAll(async () => {
  table = await createTestTable("store");
  store = new DynamoLeadStore({ client: table.client, tableName: table.tableName, leadIdKey: LEAD_ID_KEY });
});

/** Every item in a lead's partition, as stored. */
async function partition(leadId: string) {
  const out = await table.client.send(
    new QueryCommand({ TableName: table.tableName, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": `LEAD#${leadId}` }, ConsistentRead: true }),
  );
  return out.Items ?? [];
}

afterAll(async () => {
  await table?.drop();
});

let clock = Date.parse("2025-03-01T09:00:00.000Z");
function tick(): string {
  clock += 1_000;
  return new Date(clock).toISOString();
}

let counter = 0;
function uniqueEmail(): string {
  counter += 1;
  return `person-${counter}-${Math.random().toString(36).slice(2)}@example.com`;
}

function submission(email: string, profile: Profile, overrides: Partial<CaptureRecord> = {}): CaptureRecord {
  const at = overrides.at ?? tick();
  return {
    formId: "demo",
    email,
    profile,
    source: { formId: overrides.formId ?? "demo", at, utm_source: "newsletter" },
    segmentOf: (p) => (p.company ? "b2b" : "consumer"),
    initialStage: "lead",
    at,
    published: false,
    ...overrides,
  };
}

describe("DynamoLeadStore.captureSubmission", () => {
  it("creates a lead with the address's id, its form.submitted activity and no changes", async () => {
    const email = uniqueEmail();
    const result = await store.captureSubmission(submission(email, { firstName: "Ada" }));

    expect(result.created).toBe(true);
    expect(result.changed).toEqual({});
    expect(result.lead.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.lead.id).toBe(store.leadIdFor(` ${email.toUpperCase()}`));
    expect(result.lead).toMatchObject({ email, profile: { firstName: "Ada" }, segment: "consumer", stage: "lead", forms: ["demo"], published: false });

    expect(await store.getLead(result.lead.id)).toEqual(result.lead);
    expect(await store.getLeadByEmail(`  ${email.toUpperCase()} `)).toEqual(result.lead);
    const activities = await store.listActivities(result.lead.id);
    expect(activities).toHaveLength(1);
    expect(activities[0]).toMatchObject({ type: "form.submitted", data: { formId: "demo", created: true, submitted: { firstName: "Ada" } } });
  });

  it("writes a new lead as two items: the submission (consent record and all) first, then the small lead pointing at it", async () => {
    const email = uniqueEmail();
    const consent = { formId: "demo", text: "Yes, email me about ".padEnd(300, "x"), given: true, at: tick(), ip: "192.0.2.1", userAgent: "Mozilla/5.0 ".padEnd(400, "y") };
    const { lead } = await store.captureSubmission({ ...submission(email, { firstName: "Ada" }, { published: true }), consent });
    const items = await partition(lead.id);
    expect(items.map((i) => String(i.sk).slice(0, 4))).toEqual(["ACT#", "LEAD"]);
    const [first, leadItem] = items;
    expect(first).toMatchObject({ type: "form.submitted", data: { created: true, submitted: { firstName: "Ada" }, consent } });
    expect(String(first?.id).endsWith(`-${leadItem?.first}`)).toBe(true);
    // The lead holds the answer only: the proof stays with the submission, off the hot item.
    expect(leadItem?.consents).toEqual([{ formId: "demo", given: true, at: consent.at }]);
    expect(leadItem?.firstSubmission).toBeUndefined();
    expect(JSON.stringify(leadItem).length).toBeLessThan(1024);
    expect((await store.listActivities(lead.id))[0]?.data.consent).toEqual(consent);
    // Published before it was stored: not on the republisher's list.
    expect(leadItem?.gsi1pk).toBeUndefined();
    expect(lead.published).toBe(true);
  });

  it("skips a first submission no lead points at (a create that failed after writing it)", async () => {
    const email = uniqueEmail();
    const { lead } = await store.captureSubmission(submission(email, { firstName: "Ada" }));
    const [first] = await store.listActivities(lead.id);
    // What a create that died between its two writes, then retried, leaves behind.
    const strayId = `${new Date(Date.parse(first!.at) + 1).toISOString()}-0123456789ab`;
    await table.client.send(
      new PutCommand({
        TableName: table.tableName,
        Item: { pk: `LEAD#${lead.id}`, sk: `ACT#${strayId}`, entity: "activity", ...first!, id: strayId },
      }),
    );
    expect((await store.listActivities(lead.id)).map((a) => a.id)).toEqual([first!.id]);
    expect((await store.listActivities(lead.id, { limit: 1 })).map((a) => a.id)).toEqual([first!.id]);
    const read = await store.readForScoring(lead.id, { types: ["form.submitted"], limit: 10 });
    expect(read?.activities.map((a) => a.id)).toEqual([first!.id]);
  });

  it("gives two people two different leads", async () => {
    const a = await store.captureSubmission(submission(uniqueEmail(), { firstName: "A" }));
    const b = await store.captureSubmission(submission(uniqueEmail(), { firstName: "B" }));
    expect(a.lead.id).not.toBe(b.lead.id);
  });

  it("merges an unproven submission: it fills blanks only; what it offered instead stays in its activity", async () => {
    const email = uniqueEmail();
    const consent = { formId: "demo", text: "Yes, email me", given: true, at: tick(), ip: "192.0.2.1", userAgent: "test" };
    const first = await store.captureSubmission(submission(email, { firstName: "Ada", company: "Analytical Engines" }, { consent }));
    const at = tick();
    const second = await store.captureSubmission(
      submission(email, { firstName: "Mallory", title: "CEO" }, { at, source: { formId: "demo", at }, consent: { ...consent, given: false, at } }),
    );
    expect(second.lead.profile).toEqual({ firstName: "Ada", company: "Analytical Engines", title: "CEO" });
    expect(second.changed).toEqual({ title: { to: "CEO" } });
    expect(second.lead.consents).toEqual(first.lead.consents);
    const [latest] = await store.listActivities(first.lead.id);
    expect(latest?.data).toMatchObject({ kept: { firstName: { kept: "Ada", offered: "Mallory" } }, consent: { given: false } });
  });

  it("stores a keyed submission once: the same key again writes nothing, on a new lead or a known one", async () => {
    const email = uniqueEmail();
    const created = await store.captureSubmission(submission(email, { firstName: "Ada" }, { key: "row-a" }));
    const repeat = await store.captureSubmission(submission(email, { firstName: "Ada" }, { key: "row-a" }));
    expect(repeat).toMatchObject({ created: false, repeated: true, changed: {} });
    const merged = await store.captureSubmission(submission(email, { title: "CTO" }, { key: "row-b" }));
    expect(merged.repeated).toBeUndefined();
    const again = await Promise.all([1, 2, 3].map(() => store.captureSubmission(submission(email, { title: "CTO" }, { key: "row-b" }))));
    expect(again.map((r) => r.repeated)).toEqual([true, true, true]);
    const submitted = (await store.listActivities(created.lead.id)).filter((a) => a.type === "form.submitted");
    expect(submitted).toHaveLength(2);
  });

  it("merges a submission from the lead itself: new non-empty values win, blanks do not erase, old values stay in the history", async () => {
    const email = uniqueEmail();
    const consent = { formId: "demo", text: "Yes, email me", given: true, at: tick(), ip: "192.0.2.1", userAgent: "test" };
    const first = await store.captureSubmission(
      submission(email, { firstName: "Ada", company: "Analytical Engines", phone: "123" }, { consent }),
    );
    // The capture use case drops empty values before the store sees them (nonEmpty), but a blank
    // that slips through must still not erase what we knew.
    const secondAt = tick();
    const second = await store.captureSubmission(
      submission(email, { firstName: "Augusta", company: "", title: "Countess" }, {
        trust: "owner",
        formId: "webinar",
        at: secondAt,
        source: { formId: "webinar", at: secondAt, utm_source: "ads" },
        consent: { ...consent, formId: "webinar", at: secondAt },
      }),
    );

    expect(second.created).toBe(false);
    expect(second.lead.id).toBe(first.lead.id);
    expect(second.lead.profile).toEqual({ firstName: "Augusta", company: "Analytical Engines", phone: "123", title: "Countess" });
    expect(second.changed).toEqual({ firstName: { from: "Ada", to: "Augusta" }, title: { to: "Countess" } });
    expect(second.lead.segment).toBe("b2b");
    expect(second.lead.forms).toEqual(["demo", "webinar"]);
    expect(second.lead.firstTouch).toEqual(first.lead.firstTouch);
    expect(second.lead.lastTouch).toEqual({ formId: "webinar", at: secondAt, utm_source: "ads" });
    // Consent never changes on a merge; the webinar's consent is in its submission's activity.
    expect(second.lead.consents.map((c) => c.formId)).toEqual(["demo"]);
    expect(second.lead.createdAt).toBe(first.lead.createdAt);
    expect(second.lead.updatedAt).toBe(secondAt);

    expect(await store.getLead(first.lead.id)).toEqual(second.lead);
    const [latest, earliest] = await store.listActivities(first.lead.id);
    expect(latest?.data).toMatchObject({
      formId: "webinar",
      created: false,
      submitted: { firstName: "Augusta", company: "", title: "Countess" },
      changed: { firstName: { from: "Ada", to: "Augusta" } },
    });
    expect(earliest?.data).toMatchObject({ submitted: { firstName: "Ada", company: "Analytical Engines" } });
  });

  it("does not list a form twice when the same form is submitted again", async () => {
    const email = uniqueEmail();
    await store.captureSubmission(submission(email, { firstName: "Ada" }));
    const again = await store.captureSubmission(submission(email, { firstName: "Ada" }));
    expect(again.lead.forms).toEqual(["demo"]);
    expect(again.changed).toEqual({});
  });

  it("keeps one lead and every submission when 50 submissions of one address race", async () => {
    const email = uniqueEmail();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.captureSubmission(submission(email, { [`field${i}`]: i }))),
    );

    const ids = new Set(results.map((r) => r.lead.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const [leadId] = ids;
    const lead = await store.getLead(leadId!);
    // Every racer's field survived: no merge overwrote another's.
    expect(Object.keys(lead!.profile)).toHaveLength(50);
    const activities = await store.listActivities(leadId!);
    const submitted = activities.filter((a) => a.type === "form.submitted");
    expect(submitted).toHaveLength(50);
    // One created it; the 49 others merged, each under the id of its own tentative first
    // submission, so no stray is left beside them.
    expect(submitted.filter((a) => a.data.created === true)).toHaveLength(1);
    expect((await partition(leadId!)).filter((i) => String(i.sk).startsWith("ACT#"))).toHaveLength(50);
    expect(new Set(submitted.map((a) => Object.keys(a.data.submitted as object)[0])).size).toBe(50);
  });

  it("places the first submission in the history by its time, even when a merge carries an earlier one", async () => {
    const email = uniqueEmail();
    const { lead } = await store.captureSubmission(submission(email, { firstName: "Ada" }, { at: "2025-02-01T10:00:00.001Z" }));
    // A racer that read the clock first but lost the create merges afterwards with its earlier time.
    await store.captureSubmission(submission(email, { title: "CTO" }, { at: "2025-02-01T10:00:00.000Z" }));
    await store.appendActivity(lead.id, { type: "email.opened", at: "2025-02-02T00:00:00.000Z", data: {} });

    const history = await store.listActivities(lead.id);
    expect(history.map((a) => [a.type, a.at, a.data.created])).toEqual([
      ["email.opened", "2025-02-02T00:00:00.000Z", undefined],
      ["form.submitted", "2025-02-01T10:00:00.001Z", true],
      ["form.submitted", "2025-02-01T10:00:00.000Z", false],
    ]);
    expect(history.every((a) => a.leadId === lead.id)).toBe(true);
    expect((await store.listActivities(lead.id, { limit: 2 })).map((a) => a.type)).toEqual(["email.opened", "form.submitted"]);
    expect((await store.listActivities(lead.id, { limit: 1 })).map((a) => a.type)).toEqual(["email.opened"]);
  });
});

describe("DynamoLeadStore lead ids", () => {
  it("cannot be guessed from the address: another key gives another id, and the id is not a hash of the address", async () => {
    const email = uniqueEmail();
    const { lead } = await store.captureSubmission(submission(email, { firstName: "Ada" }));
    const otherKey = new DynamoLeadStore({ client: table.client, tableName: table.tableName, leadIdKey: "another-deployment-key-0123456789" });

    expect(otherKey.leadIdFor(email)).not.toBe(lead.id);
    expect(await otherKey.getLeadByEmail(email)).toBeUndefined();
    const bare = lead.id.replaceAll("-", "");
    for (const algorithm of ["sha256", "sha1", "md5"]) {
      const digest = createHash(algorithm).update(email).digest("hex");
      expect(bare.slice(0, 12)).not.toBe(digest.slice(0, 12));
    }
  });

  it("refuses a key too short to keep ids unguessable", () => {
    expect(() => new DynamoLeadStore({ client: table.client, tableName: table.tableName, leadIdKey: "short" })).toThrow(/at least 16/);
  });
});

describe("DynamoLeadStore publishing", () => {
  it("lists unpublished leads oldest first and forgets them once published", async () => {
    const before = (await store.listUnpublished(1000)).map((l) => l.id);
    const created = [];
    for (let i = 0; i < 12; i++) created.push((await store.captureSubmission(submission(uniqueEmail(), { n: i }))).lead);

    const listed = (await store.listUnpublished(1000)).filter((l) => !before.includes(l.id));
    expect(listed.map((l) => l.id)).toEqual(created.map((l) => l.id));
    const all = await store.listUnpublished(1000);
    expect(all.map((l) => l.createdAt)).toEqual([...all.map((l) => l.createdAt)].sort());
    expect(await store.listUnpublished(3)).toHaveLength(3);

    await store.markPublished(created.slice(0, 10).map((l) => l.id));
    const remaining = (await store.listUnpublished(1000)).map((l) => l.id);
    expect(remaining).not.toContain(created[0]!.id);
    expect(remaining).toContain(created[10]!.id);
    expect((await store.getLead(created[0]!.id))?.published).toBe(true);
  });

  it("keeps a lead stored as published off the unpublished list, and a merge changes neither", async () => {
    const email = uniqueEmail();
    const { lead } = await store.captureSubmission(submission(email, { firstName: "Ada" }, { published: true }));
    expect((await store.listUnpublished(1000)).map((l) => l.id)).not.toContain(lead.id);
    const again = await store.captureSubmission(submission(email, { lastName: "Lovelace" }, { published: false }));
    expect(again.lead.published).toBe(true);
    expect((await store.listUnpublished(1000)).map((l) => l.id)).not.toContain(lead.id);
  });

  it("keeps a lead published when it is submitted again", async () => {
    const email = uniqueEmail();
    const { lead } = await store.captureSubmission(submission(email, { firstName: "Ada" }));
    await store.markPublished([lead.id]);
    const again = await store.captureSubmission(submission(email, { lastName: "Lovelace" }));
    expect(again.lead.published).toBe(true);
    expect((await store.listUnpublished(1000)).map((l) => l.id)).not.toContain(lead.id);
  });

  it("lists a submission due at its announceBy, a merge too, and clears with dueBy only entries due by then", async () => {
    const email = uniqueEmail();
    const at = tick();
    const due = new Date(Date.parse(at) + 120_000).toISOString();
    const { lead } = await store.captureSubmission(submission(email, { firstName: "Ada" }, { at, announceBy: due }));
    expect(lead.published).toBe(false);
    const listedBy = async (dueBy: string) => (await store.listUnpublished(1000, dueBy)).map((l) => l.id);
    expect(await listedBy(at)).not.toContain(lead.id);
    expect(await listedBy(due)).toContain(lead.id);

    // A later submission merges and lists the lead again, due later.
    const later = new Date(Date.parse(at) + 60_000).toISOString();
    const laterDue = new Date(Date.parse(later) + 120_000).toISOString();
    const merged = await store.captureSubmission(submission(email, { lastName: "Lovelace" }, { at: later, announceBy: laterDue }));
    expect(merged.lead.published).toBe(false);
    expect(await listedBy(due)).not.toContain(lead.id);
    expect(await listedBy(laterDue)).toContain(lead.id);

    // The first submission's announcement arriving late clears nothing of the merge's.
    await store.markPublished([lead.id], { dueBy: due });
    expect(await listedBy(laterDue)).toContain(lead.id);
    expect((await store.getLead(lead.id))?.published).toBe(false);
    await store.markPublished([lead.id], { dueBy: laterDue });
    expect(await listedBy(laterDue)).not.toContain(lead.id);
    expect((await store.getLead(lead.id))?.published).toBe(true);
    // Nothing listed: a second clear is a no-op, not an error.
    await store.markPublished([lead.id], { dueBy: laterDue });
  });

  it("refuses to mark an unknown lead published", async () => {
    await expect(store.markPublished(["no-such-lead"])).rejects.toBeInstanceOf(LeadNotFoundError);
  });
});

describe("DynamoLeadStore activities and leads", () => {
  it("lists activities newest first, whatever order they were written in, with a limit", async () => {
    const { lead } = await store.captureSubmission(submission(uniqueEmail(), { firstName: "Ada" }, { at: "2025-01-01T00:00:00.000Z" }));
    const times = ["2025-01-05T00:00:00.000Z", "2025-01-02T00:00:00.000Z", "2025-01-09T00:00:00.000Z", "2025-01-03T00:00:00.000Z"];
    for (const at of times) await store.appendActivity(lead.id, { type: "email.opened", at, data: { at } });

    const all = await store.listActivities(lead.id);
    expect(all.map((a) => a.at)).toEqual([
      "2025-01-09T00:00:00.000Z",
      "2025-01-05T00:00:00.000Z",
      "2025-01-03T00:00:00.000Z",
      "2025-01-02T00:00:00.000Z",
      "2025-01-01T00:00:00.000Z",
    ]);
    expect(all.map((a) => a.id)).toEqual([...all.map((a) => a.id)].sort().reverse());
    expect((await store.listActivities(lead.id, { limit: 2 })).map((a) => a.at)).toEqual(all.slice(0, 2).map((a) => a.at));
  });

  it("keeps two activities written in the same millisecond apart", async () => {
    const { lead } = await store.captureSubmission(submission(uniqueEmail(), { firstName: "Ada" }));
    const at = tick();
    const [a, b] = await Promise.all([
      store.appendActivity(lead.id, { type: "web.page_view", at, data: { url: "/a" } }),
      store.appendActivity(lead.id, { type: "web.page_view", at, data: { url: "/b" } }),
    ]);
    expect(a.id).not.toBe(b.id);
    expect(await store.listActivities(lead.id)).toHaveLength(3);
  });

  it("moves a lead to another stage and segment, and answers undefined for an unknown lead", async () => {
    const { lead } = await store.captureSubmission(submission(uniqueEmail(), { firstName: "Ada" }));
    const at = tick();
    const updated = await store.updateLead(lead.id, { stage: "mql" }, at);
    expect(updated).toMatchObject({ id: lead.id, stage: "mql", segment: lead.segment, updatedAt: at });
    expect((await store.getLead(lead.id))?.stage).toBe("mql");
    expect(await store.updateLead("no-such-lead", { stage: "mql" }, at)).toBeUndefined();
    expect(await store.getLead("no-such-lead")).toBeUndefined();
  });

  it("answers undefined for an address it has never seen", async () => {
    expect(await store.getLeadByEmail(uniqueEmail())).toBeUndefined();
  });
});

describe("DynamoLeadStore suppression", () => {
  it("suppresses a normalised address and reports why", async () => {
    const email = uniqueEmail();
    expect(await store.getSuppression(email)).toBeUndefined();
    await store.suppress({ email: ` ${email.toUpperCase()}`, reason: "bounced", at: "2025-02-01T00:00:00.000Z" });
    expect(await store.getSuppression(email)).toEqual({ email, reason: "bounced", at: "2025-02-01T00:00:00.000Z" });
    // A suppression is keyed by the address but is not a lead.
    expect(await store.getLeadByEmail(email)).toBeUndefined();
  });
});
