/**
 * The WebhookStore port on the one table: one item per delivery in its endpoint's partition
 * (`WEBHOOK#<endpoint>` / `DELIVERY#<event time>#<delivery id>`), so the admin's view of an endpoint
 * is one query, newest first; while an attempt is owed the item sits in the due index's
 * `WEBHOOK#<shard>` partitions. Every change of a held delivery is conditional on the due entry the
 * holder wrote, so two runs never both attempt it. Deliveries expire by TTL after 30 days.
 */
import { type DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { DueDelivery, WebhookDelivery, WebhookStore } from "@leadloop/core";
import { queryShard } from "./due-query";
import { attempt, conditionally, isConditionFailure, translateError } from "./errors";
import { indexKeys, keys, WEBHOOK_SHARDS } from "./keys";
import { TTL_ATTRIBUTE } from "./table";

const KEEP_SECONDS = 30 * 86_400;

const FIELDS = ["endpointId", "deliveryId", "eventType", "eventId", "createdAt", "body", "state", "attemptCount", "attempts", "nextAttemptAt"] as const;

function deliveryOf(item: Record<string, unknown>): WebhookDelivery {
  const out: Record<string, unknown> = {};
  for (const field of FIELDS) if (item[field] !== undefined) out[field] = item[field];
  return out as unknown as WebhookDelivery;
}

export class DynamoWebhookStore implements WebhookStore {
  readonly shards = WEBHOOK_SHARDS;
  constructor(private readonly options: { client: DynamoDBDocumentClient; tableName: string }) {}

  #item(d: WebhookDelivery): Record<string, unknown> {
    return {
      ...keys.webhookDelivery(d.endpointId, d.createdAt, d.deliveryId),
      type: "webhook-delivery",
      ...d,
      ...(d.state === "pending" && d.nextAttemptAt ? indexKeys.webhookDue(d.endpointId, d.createdAt, d.deliveryId, d.nextAttemptAt) : {}),
      [TTL_ATTRIBUTE]: Math.floor(Date.parse(d.createdAt) / 1000) + KEEP_SECONDS,
    };
  }

  #held(d: Pick<WebhookDelivery, "endpointId" | "createdAt" | "deliveryId">, heldUntil: string): string {
    return indexKeys.webhookDue(d.endpointId, d.createdAt, d.deliveryId, heldUntil).dueSk;
  }

  createDelivery(delivery: WebhookDelivery, heldUntil: string): Promise<boolean> {
    return conditionally("storing a webhook delivery", () =>
      this.options.client.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: this.#item({ ...delivery, state: "pending", nextAttemptAt: heldUntil }),
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      ),
    );
  }

  async listDueDeliveries(shard: number, upTo: string, limit: number): Promise<DueDelivery[]> {
    const items = await queryShard(this.options.client, this.options.tableName, {
      index: "due",
      partition: indexKeys.webhookShard(shard),
      upTo: indexKeys.dueUpTo(upTo),
      limit,
      doing: "listing due webhook deliveries",
    });
    return items.map((item) => {
      const [dueAt = "", endpointId = "", createdAt = "", deliveryId = ""] = String(item.dueSk).split("#");
      return { dueAt, endpointId, createdAt, deliveryId };
    });
  }

  async claimDelivery(ref: DueDelivery, until: string): Promise<WebhookDelivery | undefined> {
    try {
      const out = await this.options.client.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: keys.webhookDelivery(ref.endpointId, ref.createdAt, ref.deliveryId),
          UpdateExpression: "SET dueSk = :held, nextAttemptAt = :until",
          ConditionExpression: "dueSk = :read AND #state = :pending",
          ExpressionAttributeNames: { "#state": "state" },
          ExpressionAttributeValues: { ":held": this.#held(ref, until), ":until": until, ":read": this.#held(ref, ref.dueAt), ":pending": "pending" },
          ReturnValues: "ALL_NEW",
        }),
      );
      return out.Attributes ? deliveryOf(out.Attributes) : undefined;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw translateError(error, "claiming a webhook delivery");
    }
  }

  async settleDelivery(delivery: WebhookDelivery, heldUntil: string): Promise<void> {
    const settled = await conditionally("recording a webhook attempt", () =>
      this.options.client.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: this.#item(delivery),
          ConditionExpression: "dueSk = :held",
          ExpressionAttributeValues: { ":held": this.#held(delivery, heldUntil) },
        }),
      ),
    );
    if (!settled) throw new Error(`webhook delivery ${delivery.deliveryId} was taken by another run while this one attempted it`);
  }

  async listRecentDeliveries(endpointId: string, limit: number): Promise<WebhookDelivery[]> {
    const out = await attempt("listing an endpoint's webhook deliveries", () =>
      this.options.client.send(
        new QueryCommand({
          TableName: this.options.tableName,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
          ExpressionAttributeValues: { ":pk": `WEBHOOK#${endpointId}`, ":prefix": keys.webhookDeliveryPrefix },
          ScanIndexForward: false,
          Limit: limit,
        }),
      ),
    );
    return (out.Items ?? []).map(deliveryOf);
  }
}
