/**
 * The sweeper's batched reads and writes: a batch of due steps is read in strongly consistent
 * BatchGetItem requests, settled in transactions of up to a hundred conditional
 * updates (the only batch of conditional writes DynamoDB has); a sent email's record, which holds
 * its history line, rides in the same transaction as its settle.
 */
import { randomUUID } from "node:crypto";
import { BatchGetCommand, type DynamoDBDocumentClient, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { type LeadNurtureState, type StepSettlement, type StepWrite, StoreUnavailableError } from "@leadloop/core";
import { activityItem, toLead } from "./dynamo-lead-store";
import { attempt, translateError } from "./errors";
import { indexKeys, keys } from "./keys";
import { messageLine } from "./message-lines";
import { messageActivityId, messageItem, toEnrollment } from "./nurture-items";

type Item = Record<string, unknown>;

/**
 * The conditional update one step write makes. Guarded by a live claim's token, or by the
 * state a batch read: still due at that time, unclaimed or holding the lapsed claim read (a
 * per-step claim older sweepers wrote; none is written now).
 */
export function stepUpdate(table: string, write: { leadId: string; sequenceId: string; guard: StepWrite["guard"]; outcome: Omit<StepSettlement, "activity"> }) {
  const { leadId, sequenceId, guard, outcome } = write;
  const set: string[] = [];
  const remove: string[] = [];
  const values: Item = {};
  const names: Record<string, string> = {};
  let condition: string;
  if ("token" in guard) {
    condition = "sending.#token = :token";
    names["#token"] = "token";
    values[":token"] = guard.token;
  } else {
    names["#status"] = "status";
    values[":active"] = "active";
    values[":due"] = guard.dueAt;
    if (guard.lapsed !== undefined) {
      names["#token"] = "token";
      values[":lapsed"] = guard.lapsed;
    }
    if (guard.stepId !== undefined) values[":guardStep"] = guard.stepId;
    condition = `#status = :active AND dueAt = :due${guard.stepId !== undefined ? " AND nextStepId = :guardStep" : ""} AND ${guard.lapsed !== undefined ? "sending.#token = :lapsed" : "attribute_not_exists(sending)"}`;
  }
  remove.push("sending");
  if (outcome.handledStepId) {
    set.push("lastStepId = :handled", "completedStepIds = list_append(if_not_exists(completedStepIds, :empty), :handledList)");
    values[":handled"] = outcome.handledStepId;
    values[":handledList"] = [outcome.handledStepId];
    values[":empty"] = [];
  }
  if (outcome.sentAt) {
    set.push("lastSentAt = :sentAt");
    values[":sentAt"] = outcome.sentAt;
  }
  if (outcome.messageId) {
    set.push("lastMessageId = :messageId");
    values[":messageId"] = outcome.messageId;
  }
  if (outcome.attempts !== undefined) {
    set.push("attempts = :attempts");
    values[":attempts"] = outcome.attempts;
  }
  if (outcome.recentSends) {
    set.push("recentSends = :recentSends");
    values[":recentSends"] = outcome.recentSends;
  }
  if (outcome.end) {
    set.push("#status = :ended", "endedAt = :endedAt", "endReason = :endReason");
    remove.push("nextStepId", "dueAt", "duePk", "dueSk");
    names["#status"] = "status";
    values[":ended"] = "ended";
    values[":endedAt"] = outcome.end.at;
    values[":endReason"] = outcome.end.reason;
  } else if (outcome.next) {
    const due = indexKeys.due(leadId, sequenceId, outcome.next.dueAt);
    set.push("nextStepId = :nextStep", "dueAt = :dueAt", "duePk = :duePk", "dueSk = :dueSk");
    values[":nextStep"] = outcome.next.stepId;
    values[":dueAt"] = outcome.next.dueAt;
    values[":duePk"] = due.duePk;
    values[":dueSk"] = due.dueSk;
  }
  return {
    TableName: table,
    Key: keys.enrollment(leadId, sequenceId),
    UpdateExpression: `${set.length ? `SET ${set.join(", ")} ` : ""}${remove.length ? `REMOVE ${remove.join(", ")}` : ""}`.trim(),
    ConditionExpression: condition,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

export async function readSweepBatch(client: DynamoDBDocumentClient, table: string, leadIds: readonly string[], sequenceIds: readonly string[]): Promise<Map<string, LeadNurtureState>> {
  const states = new Map<string, LeadNurtureState>();
  const wanted: Item[] = [];
  for (const leadId of leadIds) {
    if (states.has(leadId)) continue;
    states.set(leadId, { lead: undefined, enrollments: [], messages: [] });
    wanted.push({ ...keys.lead(leadId) }, ...sequenceIds.map((sequenceId) => ({ ...keys.enrollment(leadId, sequenceId) })));
  }
  const requests: Item[][] = [];
  for (let i = 0; i < wanted.length; i += 100) requests.push(wanted.slice(i, i + 100));
  // A batch's leads with every sequence's enrollment make more than the hundred keys of one
  // request: the requests go out together.
  await attempt("reading a batch of leads", async () => {
    await Promise.all(requests.map(async (first) => {
      let pending = first;
      for (let round = 0; pending.length > 0; round++) {
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * round));
        if (round > 8) throw new StoreUnavailableError("DynamoDB left keys unprocessed while reading a batch of leads");
        const out = await client.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }));
        for (const item of out.Responses?.[table] ?? []) {
          const leadId = String(item.pk).slice("LEAD#".length);
          const state = states.get(leadId);
          if (!state) continue;
          if (item.sk === "LEAD") state.lead = toLead(item);
          else state.enrollments.push(toEnrollment(item));
        }
        pending = (out.UnprocessedKeys?.[table]?.Keys ?? []) as Item[];
      }
    }));
  });
  return states;
}

export async function writeStepBatch(client: DynamoDBDocumentClient, table: string, writes: readonly StepWrite[]): Promise<boolean[]> {
  const applied: (boolean | undefined)[] = writes.map(() => undefined);
  // Each write's actions (its update, and a skip's history line) stay in one transaction.
  // A sent email's record with its history line (ids fixed by the message, so a retry overwrites it).
  const recordOf = (write: StepWrite): Item[] => {
    const { message, activity } = write.outcome;
    if (!message) return [];
    // The history line rides on the message item: one item written per send besides the settle.
    return [messageItem(message, activity ? messageLine(messageActivityId(activity.at, message.messageId), activity) : undefined)];
  };
  const actionsOf = (write: StepWrite) => {
    const update = stepUpdate(table, write);
    if (write.outcome.message) return [{ Update: update }, ...recordOf(write).map((Item) => ({ Put: { TableName: table, Item } }))];
    const activity = write.outcome.activity;
    const lineId = "token" in write.guard ? write.guard.token : randomUUID();
    return [
      { Update: update },
      ...(activity ? [{ Put: { TableName: table, Item: activityItem({ leadId: write.leadId, id: messageActivityId(activity.at, lineId), ...activity }) } }] : []),
    ];
  };
  const actionSets = writes.map(actionsOf);
  let pending = writes.map((_, i) => i);
  for (let round = 0; pending.length > 0; round++) {
    if (round > 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * 25 * round));
    if (round > 10) throw new StoreUnavailableError("DynamoDB kept cancelling a batch of step writes (conflicting transactions)");
    const retry: number[] = [];
    // Up to a hundred actions a transaction.
    const groups: number[][] = [];
    let group: number[] = [];
    let size = 0;
    for (const i of pending) {
      const n = actionSets[i]!.length;
      if (size + n > 100) {
        groups.push(group);
        group = [];
        size = 0;
      }
      group.push(i);
      size += n;
    }
    if (group.length > 0) groups.push(group);
    for (const members of groups) {
      const actions = members.map((i) => actionSets[i]!);
      try {
        if (members.length === 1) {
          // One write alone needs no transaction (half the units).
          const [only] = actions;
          const first = only![0]!;
          const update = "Update" in first ? first.Update : undefined;
          if (only!.length === 1 && update) await client.send(new UpdateCommand(update));
          else await client.send(new TransactWriteCommand({ TransactItems: only! }));
        } else {
          await client.send(new TransactWriteCommand({ TransactItems: actions.flat() }));
        }
        for (const i of members) applied[i] = true;
      } catch (error) {
        const name = (error as { name?: string }).name;
        if (name === "ConditionalCheckFailedException" && members.length === 1) {
          applied[members[0]!] = false;
          continue;
        }
        if (name !== "TransactionCanceledException") throw translateError(error, "writing a batch of due steps");
        const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
        let at = 0;
        for (const [k, i] of members.entries()) {
          const codes = actions[k]!.map((_, j) => reasons[at + j]?.Code ?? "None");
          at += actions[k]!.length;
          if (codes.includes("ConditionalCheckFailed")) applied[i] = false;
          else retry.push(i);
        }
      }
    }
    pending = retry;
  }
  // An email whose settle's guard failed (its step was taken over) went out all the same: its
  // record is written on its own.
  const orphans = writes.filter((_, i) => applied[i] === false).flatMap(recordOf);
  if (orphans.length > 0) await putRecords(client, table, orphans);
  return applied.map((a) => a === true);
}

async function putRecords(client: DynamoDBDocumentClient, table: string, items: readonly Item[]): Promise<void> {
  // Unconditional puts, a hundred to a transaction: BatchWriteItem would take only 25, and the
  // action may delete (kept out of every function that does not erase).
  await attempt("recording sent messages", async () => {
    for (let i = 0; i < items.length; i += 100) {
      const TransactItems = items.slice(i, i + 100).map((Item) => ({ Put: { TableName: table, Item } }));
      for (let round = 0; ; round++) {
        try {
          await client.send(new TransactWriteCommand({ TransactItems }));
          break;
        } catch (error) {
          // Only a conflicting transaction cancels puts without conditions: try again.
          if ((error as { name?: string }).name !== "TransactionCanceledException" || round >= 8) throw error;
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 25 * (round + 1)));
        }
      }
    }
  });
}
