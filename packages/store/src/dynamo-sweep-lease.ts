/**
 * A due shard's sweep lease on the one table: `owner` and `until` say who sweeps the shard, and
 * `steps` (a map keyed `<leadId>#<sequenceId>`) holds the steps that owner marked before sending
 * them, each cleared once its outcome is written. Every write is conditional: taken only when no
 * other owner's lease is live, changed only by its owner.
 */
import { type DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { DueRef, SweepLease, SweepLeaseChange } from "@leadloop/core";
import { conditionally, isConditionFailure, translateError } from "./errors";
import { keys } from "./keys";

type Item = Record<string, unknown>;

const stepKey = (ref: DueRef) => `${ref.leadId}#${ref.sequenceId}`;

export async function takeSweepLease(client: DynamoDBDocumentClient, table: string, shard: number, owner: string, until: string, now: string): Promise<SweepLease | undefined> {
  try {
    const out = await client.send(
      new UpdateCommand({
        TableName: table,
        Key: keys.sweepLease(shard),
        UpdateExpression: "SET #owner = :owner, #until = :until, steps = if_not_exists(steps, :none)",
        ConditionExpression: "attribute_not_exists(#owner) OR #until <= :now",
        ExpressionAttributeNames: { "#owner": "owner", "#until": "until" },
        ExpressionAttributeValues: { ":owner": owner, ":until": until, ":now": now, ":none": {} },
        ReturnValues: "ALL_NEW",
      }),
    );
    const steps = (out.Attributes?.steps ?? {}) as Record<string, Item>;
    return {
      inFlight: Object.values(steps).map((s) => ({ leadId: String(s.leadId), sequenceId: String(s.sequenceId), stepId: String(s.stepId), dueAt: String(s.dueAt) })),
    };
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw translateError(error, "taking a due shard's sweep lease");
  }
}

export async function updateSweepLease(client: DynamoDBDocumentClient, table: string, shard: number, owner: string, change: SweepLeaseChange): Promise<boolean> {
  const names: Record<string, string> = { "#owner": "owner" };
  const values: Item = { ":owner": owner };
  const set: string[] = [];
  const remove: string[] = [];
  if (change.until !== undefined) {
    names["#until"] = "until";
    values[":until"] = change.until;
    set.push("#until = :until");
  }
  const begun = new Set<string>();
  for (const [i, ref] of (change.begin ?? []).entries()) {
    begun.add(stepKey(ref));
    names[`#b${i}`] = stepKey(ref);
    values[`:b${i}`] = { leadId: ref.leadId, sequenceId: ref.sequenceId, stepId: ref.stepId, dueAt: ref.dueAt };
    set.push(`steps.#b${i} = :b${i}`);
  }
  // A step begun again in the same write keeps its new mark (one path may not be both set and removed).
  for (const [i, ref] of (change.done ?? []).filter((r) => !begun.has(stepKey(r))).entries()) {
    names[`#d${i}`] = stepKey(ref);
    remove.push(`steps.#d${i}`);
  }
  if (change.release) remove.push("#owner");
  if (set.length === 0 && remove.length === 0) return true;
  return conditionally("writing a due shard's sweep lease", () =>
    client.send(
      new UpdateCommand({
        TableName: table,
        Key: keys.sweepLease(shard),
        UpdateExpression: `${set.length ? `SET ${set.join(", ")} ` : ""}${remove.length ? `REMOVE ${remove.join(", ")}` : ""}`.trim(),
        ConditionExpression: "#owner = :owner",
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    ),
  );
}
