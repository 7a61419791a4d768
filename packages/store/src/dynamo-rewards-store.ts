/**
 * The RewardsStore port on the one table: a customer's ledger and account share the partition
 * `LEDGER#<leadId>`. An entry's key is its purchase id, so the conditional put is the idempotency:
 * two deliveries of one purchase at once book it once. The account is written with an optimistic
 * version; only that customer's purchases write it, so it is never a hot item.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { LedgerEntry, PendingEvent, PurchaseResult, RewardsAccount, RewardsStore } from "@leadloop/core";
import { isConditionFailure, translateError } from "./errors";
import { keys } from "./keys";
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

export class DynamoRewardsStore implements RewardsStore {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: DynamoRewardsStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async addEntry(leadId: string, entry: LedgerEntry): Promise<{ created: true } | { created: false; existing: LedgerEntry }> {
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: { ...keys.rewardEntry(leadId, entry.entryId), entity: "ledger-entry", leadId, ...entry },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      return { created: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw translateError(error, "booking a ledger entry");
      // Read back rather than trust ReturnValuesOnConditionCheckFailure: the document client does
      // not unmarshall the item an exception carries.
      const old = await this.#get(keys.rewardEntry(leadId, entry.entryId), "reading a ledger entry");
      if (!old) throw translateError(error, "booking a ledger entry");
      return { created: false, existing: toEntry(old) };
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

  async setEntryResult(leadId: string, entryId: string, result: PurchaseResult): Promise<void> {
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
      updatedAt: String(item.updatedAt),
      version: Number(item.version ?? 0),
    };
  }

  async saveAccount(account: Omit<RewardsAccount, "version">, expectedVersion: number, announce: PendingEvent[] = []): Promise<boolean> {
    const put = {
      TableName: this.#table,
      Item: { ...keys.rewardAccount(account.leadId), entity: "rewards-account", ...account, version: expectedVersion + 1 },
      ConditionExpression: expectedVersion === 0 ? "attribute_not_exists(pk)" : "#version = :version",
      ...(expectedVersion === 0 ? {} : { ExpressionAttributeNames: { "#version": "version" }, ExpressionAttributeValues: { ":version": expectedVersion } }),
    };
    try {
      // With events to announce, the account and their outbox entries are one transaction.
      if (announce.length === 0) await this.#client.send(new PutCommand(put));
      else await this.#client.send(new TransactWriteCommand({ TransactItems: [{ Put: put }, ...announce.map((p) => pendingEventPut(this.#table, p))] }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw translateError(error, "saving a points account");
    }
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
