import { PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { MessageRecord, StepWrite } from "@leadloop/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestTable, type TestTable } from "../../../test/engines";
import { DynamoLeadRecords } from "./dynamo-lead-records";
import { DynamoLeadStore } from "./dynamo-lead-store";
import { DynamoNurtureStore } from "./dynamo-nurture-store";
import { indexKeys, keys } from "./keys";
import { messageActivityId } from "./nurture-items";

let table: TestTable;
let leads: DynamoLeadStore;
let nurture: DynamoNurtureStore;

beforeAll(async () => {
  table = await createTestTable("msglines");
  leads = new DynamoLeadStore({ client: table.client, tableName: table.tableName, leadIdKey: "message-lines-test-key-0123456789" });
  nurture = new DynamoNurtureStore({ client: table.client, tableName: table.tableName });
});

afterAll(async () => {
  await table?.drop();
});

const SEQ = "enterprise-nurture";
const DUE = "2026-03-02T14:00:00.000Z";

async function enrolled(leadId: string): Promise<void> {
  await table.client.send(
    new PutCommand({
      TableName: table.tableName,
      Item: { ...keys.enrollment(leadId, SEQ), leadId, sequenceId: SEQ, status: "active", enrolledAt: "2026-03-02T13:00:00.000Z", completedStepIds: [], nextStepId: "welcome", dueAt: DUE, attempts: 0, runs: 1, ...indexKeys.due(leadId, SEQ, DUE) },
    }),
  );
}

function sent(leadId: string, messageId: string, at: string, dueAt = DUE): StepWrite {
  const message: MessageRecord = { messageId, providerMessageId: `ses-${messageId}`, leadId, kind: "nurture", sequenceId: SEQ, stepId: "welcome", sentAt: at };
  return {
    leadId,
    sequenceId: SEQ,
    guard: { dueAt, stepId: "welcome" },
    outcome: { handledStepId: "welcome", sentAt: at, messageId, attempts: 0, next: { stepId: "case-study", dueAt: "2026-03-05T14:00:00.000Z" }, message, activity: { type: "email.sent", at, data: { sequenceId: SEQ, stepId: "welcome", messageId } } },
  };
}

async function partition(leadId: string) {
  const out = await table.client.send(new QueryCommand({ TableName: table.tableName, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": keys.lead(leadId).pk }, ConsistentRead: true }));
  return out.Items ?? [];
}

describe("a sent email's history line on its message item", () => {
  it("is written with the message (two items per send, no activity item) and read in the history once, in time order", async () => {
    const leadId = "lead-lines-1";
    await enrolled(leadId);
    await leads.appendActivity(leadId, { type: "sequence.enrolled", at: "2026-03-02T13:00:00.000Z", data: { sequenceId: SEQ } });
    const messageId = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";
    expect(await nurture.writeSteps([sent(leadId, messageId, "2026-03-02T15:00:00.000Z")])).toEqual([true]);
    await leads.appendActivity(leadId, { type: "email.opened", at: "2026-03-02T16:00:00.000Z", data: { messageId } });

    const items = await partition(leadId);
    expect(items.filter((i) => String(i.sk).startsWith("ACT#")).map((i) => i.type)).toEqual(["sequence.enrolled", "email.opened"]);
    expect(items.find((i) => String(i.sk).startsWith("MSG#"))?.line).toMatchObject({ type: "email.sent", id: messageActivityId("2026-03-02T15:00:00.000Z", messageId) });

    const history = await leads.listActivities(leadId);
    expect(history.map((a) => a.type)).toEqual(["email.opened", "email.sent", "sequence.enrolled"]);
    expect(history[1]).toEqual({ leadId, id: messageActivityId("2026-03-02T15:00:00.000Z", messageId), type: "email.sent", at: "2026-03-02T15:00:00.000Z", data: { sequenceId: SEQ, stepId: "welcome", messageId } });
    // A page is the newest entries over both kinds of item.
    expect((await leads.listActivities(leadId, { limit: 2 })).map((a) => a.type)).toEqual(["email.opened", "email.sent"]);
    expect((await leads.listActivities(leadId, { limit: 1 })).map((a) => a.type)).toEqual(["email.opened"]);
    // The message reads as the record it always was.
    const record = await nurture.getMessage(leadId, messageId);
    expect(record).toEqual({ messageId, providerMessageId: `ses-${messageId}`, leadId, kind: "nurture", sequenceId: SEQ, stepId: "welcome", sentAt: "2026-03-02T15:00:00.000Z" });
    // A GDPR export holds the line among the activities, not on the message.
    const held = await new DynamoLeadRecords({ client: table.client, tableName: table.tableName }).collect({ id: leadId, email: "lines@example.com" } as never, { teamIds: [] });
    expect(held.messages).toHaveLength(1);
    expect(held.messages[0]).not.toHaveProperty("line");
  });

  it("is written with the message when the settle's guard failed (the email went out)", async () => {
    const leadId = "lead-lines-2";
    await enrolled(leadId);
    const messageId = "1a2b3c4d-0000-4000-8000-00000000abcd";
    expect(await nurture.writeSteps([sent(leadId, messageId, "2026-03-02T15:00:00.000Z", "2026-03-02T14:59:00.000Z")])).toEqual([false]);
    expect((await leads.listActivities(leadId)).map((a) => a.type)).toEqual(["email.sent"]);
  });

  it("reads a line stored before it moved (its own activity item, a message without one) once", async () => {
    const leadId = "lead-lines-3";
    const messageId = "2b3c4d5e-0000-4000-8000-00000000beef";
    const at = "2026-03-01T15:00:00.000Z";
    const id = messageActivityId(at, messageId);
    await table.client.send(new PutCommand({ TableName: table.tableName, Item: { ...keys.message(leadId, messageId), type: "message", messageId, providerMessageId: `ses-${messageId}`, leadId, kind: "nurture", sequenceId: SEQ, stepId: "welcome", sentAt: at } }));
    await table.client.send(new PutCommand({ TableName: table.tableName, Item: { ...keys.activity(leadId, id), entity: "activity", leadId, id, type: "email.sent", at, data: { sequenceId: SEQ, stepId: "welcome", messageId } } }));
    const history = await leads.listActivities(leadId);
    expect(history).toEqual([{ leadId, id, type: "email.sent", at, data: { sequenceId: SEQ, stepId: "welcome", messageId } }]);
  });
});
