/**
 * The RewardsStore port on the one table: a customer's ledger and account share the partition
 * `LEDGER#<leadId>`. An entry's key is its kind and id, and it is booked in one transaction with a
 * conditional move of the account's version, so a retry books nothing and two bookings of one
 * customer never both judge the same balance. Only that customer's bookings write the account,
 * so it is never a hot item; the retention figures are sharded day rows (`RETAIN#<day>#<shard>`),
 * added to in the same transaction as what they count. The account carries its next expiry in
 * the due index (`EXPIRY#<shard>`), where the expiry job finds it.
 */
import { type DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import {
  type ExpiryRef,
  type LedgerEntry,
  type PendingEvent,
  type EntryResult,
  RETENTION_COUNTS,
  type RetentionRow,
  type RetentionTally,
  type RewardsAccount,
  type RewardsStore,
} from "@leadloop/core";
import { queryShard } from "./due-query";
import { isConditionFailure, translateError } from "./errors";
import { indexKeys, keys, REWARD_EXPIRY_SHARDS, RETENTION_SHARDS, shardOf } from "./keys";
import { pendingEventPut } from "./pending-events";

export interface DynamoRewardsStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
}

type Item = Record<string, unknown>;

function toEntry(item: Item): LedgerEntry {
  const { pk: _pk, sk: _sk, entity: _e, leadId: _l, ...rest } = item;
  return rest as unknown as LedgerEntry;
}

/** The version condition of an account write: absent for 0, else equal. */
function versionCondition(expectedVersion: number) {
  return expectedVersion === 0
    ? { ConditionExpression: "attribute_not_exists(pk)" }
    : { ConditionExpression: "#version = :expected", values: { ":expected": expectedVersion } };
}

export class DynamoRewardsStore implements RewardsStore {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;
  readonly expiryShards = REWARD_EXPIRY_SHARDS;

  constructor(options: DynamoRewardsStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
  }

  #tallyUpdate(leadId: string, tally: RetentionTally | undefined) {
    const counts = RETENTION_COUNTS.filter((k) => (tally?.counts[k] ?? 0) !== 0);
    if (!tally || counts.length === 0) return [];
    return [
      {
        Update: {
          TableName: this.#table,
          Key: keys.retentionAggregate(tally.day, shardOf(leadId, RETENTION_SHARDS), tally.tier),
          UpdateExpression: `SET entity = :entity, #day = :day, tier = :tier ADD ${counts.map((_k, i) => `#c${i} :c${i}`).join(", ")}`,
          ExpressionAttributeNames: { "#day": "day", ...Object.fromEntries(counts.map((k, i) => [`#c${i}`, k])) },
          ExpressionAttributeValues: {
            ":entity": "retention-day",
            ":day": tally.day,
            ":tier": tally.tier,
            ...Object.fromEntries(counts.map((k, i) => [`:c${i}`, tally.counts[k]])),
          },
        },
      },
    ];
  }

  async bookEntry(
    leadId: string,
    entry: LedgerEntry,
    expectedVersion: number,
    options: { initialTier: string | null; tally?: RetentionTally; announce?: PendingEvent[] },
  ): Promise<boolean> {
    const condition = versionCondition(expectedVersion);
    try {
      await this.#client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.#table,
                Item: { ...keys.rewardEntry(leadId, entry.entryId), entity: "ledger-entry", leadId, ...entry },
                ConditionExpression: "attribute_not_exists(pk)",
              },
            },
            {
              Update: {
                TableName: this.#table,
                Key: keys.rewardAccount(leadId),
                UpdateExpression:
                  "SET #version = :next, entity = :entity, leadId = :lead, tier = if_not_exists(tier, :tier), balance = if_not_exists(balance, :zero), expired = if_not_exists(expired, :zero)",
                ConditionExpression: condition.ConditionExpression,
                ExpressionAttributeNames: { "#version": "version" },
                ExpressionAttributeValues: {
                  ":next": expectedVersion + 1,
                  ":entity": "rewards-account",
                  ":lead": leadId,
                  ":tier": options.initialTier,
                  ":zero": 0,
                  ...condition.values,
                },
              },
            },
            ...this.#tallyUpdate(leadId, options.tally),
            ...(options.announce ?? []).map((p) => pendingEventPut(this.#table, p)),
          ],
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw translateError(error, "booking a ledger entry");
    }
  }

  async listEntries(leadId: string): Promise<LedgerEntry[]> {
    const entries: LedgerEntry[] = [];
    let start: Record<string, unknown> | undefined;
    try {
      do {
        const out = await this.#client.send(
          new QueryCommand({
            TableName: this.#table,
            KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues: { ":pk": keys.rewardAccount(leadId).pk, ":prefix": keys.rewardEntryPrefix },
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const item of out.Items ?? []) entries.push(toEntry(item));
        start = out.LastEvaluatedKey;
      } while (start);
    } catch (error) {
      throw translateError(error, "reading a points ledger");
    }
    return entries.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.entryId < b.entryId ? -1 : 1));
  }

  async setEntryResult(leadId: string, entryId: string, result: EntryResult): Promise<void> {
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: keys.rewardEntry(leadId, entryId),
          // The first answer stays the answer.
          UpdateExpression: "SET #result = :result",
          ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(#result)",
          ExpressionAttributeNames: { "#result": "result" },
          ExpressionAttributeValues: { ":result": result },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) return;
      throw translateError(error, "recording a purchase's result");
    }
  }

  async getAccount(leadId: string): Promise<RewardsAccount | undefined> {
    const item = await this.#get(keys.rewardAccount(leadId), "reading a points account");
    if (!item) return undefined;
    return {
      leadId,
      balance: Number(item.balance ?? 0),
      tier: typeof item.tier === "string" ? item.tier : null,
      updatedAt: String(item.updatedAt ?? ""),
      expired: Number(item.expired ?? 0),
      ...(typeof item.nextExpiryAt === "string" ? { nextExpiryAt: item.nextExpiryAt } : {}),
      version: Number(item.version ?? 0),
    };
  }

  async saveAccount(account: Omit<RewardsAccount, "version">, expectedVersion: number, announce: PendingEvent[] = [], tally?: RetentionTally): Promise<boolean> {
    const condition = versionCondition(expectedVersion);
    const expiry = account.nextExpiryAt ? indexKeys.rewardExpiry(account.leadId, account.nextExpiryAt) : undefined;
    const update = {
      TableName: this.#table,
      Key: keys.rewardAccount(account.leadId),
      // The purchase count and other attributes bookings keep stay as they are.
      UpdateExpression: `SET #version = :next, entity = :entity, leadId = :lead, balance = :balance, tier = :tier, expired = :expired, updatedAt = :updatedAt${
        expiry ? ", nextExpiryAt = :nextExpiryAt, duePk = :duePk, dueSk = :dueSk" : " REMOVE nextExpiryAt, duePk, dueSk"
      }`,
      ConditionExpression: condition.ConditionExpression,
      ExpressionAttributeNames: { "#version": "version" },
      ExpressionAttributeValues: {
        ":next": expectedVersion + 1,
        ":entity": "rewards-account",
        ":lead": account.leadId,
        ":balance": account.balance,
        ":tier": account.tier,
        ":expired": account.expired,
        ":updatedAt": account.updatedAt,
        ...(expiry ? { ":nextExpiryAt": account.nextExpiryAt, ":duePk": expiry.duePk, ":dueSk": expiry.dueSk } : {}),
        ...condition.values,
      },
    };
    const extra = [...announce.map((p) => pendingEventPut(this.#table, p)), ...this.#tallyUpdate(account.leadId, tally)];
    try {
      // With events to announce or figures to count, the account and they are one transaction.
      if (extra.length === 0) await this.#client.send(new UpdateCommand(update));
      else await this.#client.send(new TransactWriteCommand({ TransactItems: [{ Update: update }, ...extra] }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw translateError(error, "saving a points account");
    }
  }

  async listExpiryDue(shard: number, upTo: string, limit: number): Promise<ExpiryRef[]> {
    const items = await queryShard(this.#client, this.#table, {
      index: "due",
      partition: indexKeys.rewardExpiryShard(shard),
      upTo: indexKeys.dueUpTo(upTo),
      limit,
      doing: "listing points accounts due to expire",
    });
    return items.map((item) => ({ leadId: String(item.leadId), dueAt: String(item.nextExpiryAt) }));
  }

  async readRetentionDay(day: string): Promise<RetentionRow[]> {
    const byTier = new Map<string, RetentionRow>();
    try {
      const pages = await Promise.all(
        Array.from({ length: RETENTION_SHARDS }, (_, shard) =>
          this.#client.send(new QueryCommand({ TableName: this.#table, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": keys.retentionAggregate(day, shard, null).pk } })),
        ),
      );
      for (const item of pages.flatMap((p) => p.Items ?? [])) {
        const tier = typeof item.tier === "string" ? item.tier : null;
        const row = byTier.get(String(tier)) ?? { tier, ...(Object.fromEntries(RETENTION_COUNTS.map((k) => [k, 0])) as Omit<RetentionRow, "tier">) };
        for (const k of RETENTION_COUNTS) row[k] += Number(item[k] ?? 0);
        byTier.set(String(tier), row);
      }
    } catch (error) {
      throw translateError(error, "reading the retention figures");
    }
    return [...byTier.values()];
  }

  async #get(key: { pk: string; sk: string }, doing: string): Promise<Item | undefined> {
    try {
      const out = await this.#client.send(new GetCommand({ TableName: this.#table, Key: key, ConsistentRead: true }));
      return out.Item;
    } catch (error) {
      throw translateError(error, doing);
    }
  }
}
