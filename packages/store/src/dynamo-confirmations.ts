/**
 * Double-opt-in state on the one table: one item per pending lead, in the lead's partition (so an
 * erase or an expiry removes it with the lead), written only conditionally on the version read,
 * and in the sparse due index at its `dueAt` while something is owed (a retry, a lapsed claim,
 * the expiry). The rules (when to send, retry, expire) are core's; this stores four primitives.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { ConfirmationState } from "@leadloop/core";
import { attempt, conditionally } from "./errors";
import { queryShard } from "./due-query";
import { indexKeys, keys } from "./keys";

type Item = Record<string, unknown>;

export class DynamoConfirmations {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(leadId: string): Promise<ConfirmationState | undefined> {
    const out = await attempt("reading a confirmation state", () =>
      this.client.send(new GetCommand({ TableName: this.table, Key: keys.confirmation(leadId), ConsistentRead: true })),
    );
    return out.Item ? toState(out.Item) : undefined;
  }

  save(state: ConfirmationState, expectedVersion: number): Promise<boolean> {
    const { leadId, version: _version, ...rest } = state;
    const item: Item = {
      ...keys.confirmation(leadId),
      entity: "confirmation",
      leadId,
      ...withoutUndefined(rest),
      version: expectedVersion + 1,
      ...(state.dueAt ? indexKeys.confirmationDue(leadId, state.dueAt) : {}),
    };
    return conditionally("saving a confirmation state", () =>
      this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: item,
          ...(expectedVersion === 0
            ? { ConditionExpression: "attribute_not_exists(pk)" }
            : { ConditionExpression: "#version = :version", ExpressionAttributeNames: { "#version": "version" }, ExpressionAttributeValues: { ":version": expectedVersion } }),
        }),
      ),
    );
  }

  /** One shard's confirmation states due at or before `upTo`, oldest first. */
  async listDue(shard: number, upTo: string, limit: number): Promise<ConfirmationState[]> {
    const items = await queryShard(this.client, this.table, {
      index: "due",
      partition: indexKeys.confirmationShard(shard),
      upTo: indexKeys.dueUpTo(upTo),
      limit,
      doing: "listing due confirmations",
    });
    return items.map(toState);
  }
}

function withoutUndefined(record: Record<string, unknown>): Item {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
}

function toState(item: Item): ConfirmationState {
  const optional = (name: string) => (typeof item[name] === "string" ? { [name]: item[name] as string } : {});
  return {
    leadId: String(item.leadId),
    version: Number(item.version ?? 0),
    sends: Number(item.sends ?? 0),
    failures: Number(item.failures ?? 0),
    expiresAt: String(item.expiresAt),
    ...optional("lastSentAt"),
    ...optional("sendingUntil"),
    ...optional("dueAt"),
  };
}
