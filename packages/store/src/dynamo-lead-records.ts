/**
 * The LeadRecordStore port on the one table: a person's data is found by the keys it lives under,
 * never by a scan. The lead's partition (`LEAD#<id>`: lead, activities, enrollments, messages and
 * whatever later issues put there), the address partition (`EMAIL#<email>`), the team queues from
 * config (`QUEUE#<team>`, items ending `#<leadId>`) and the lead's ledger (`LEDGER#<id>`).
 * The hashed suppression (`SUPPRESSED#…`) is outside all of them, so erasure keeps it.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient, DeleteCommand, QueryCommand, type QueryCommandInput } from "@aws-sdk/lib-dynamodb";
import { type HeldItem, type HeldRecords, type Lead, type LeadRecordStore, normaliseEmail, StoreUnavailableError } from "@leadloop/core";
import { translateError } from "./errors";
import { keys } from "./keys";
import { MESSAGE_LINE } from "./message-lines";

export interface DynamoLeadRecordsOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
}

type Item = Record<string, unknown>;

/** Key and index attributes: how an item is stored, not what is held on the person. */
const STORAGE_ATTRIBUTES = ["pk", "sk", "gsi1pk", "gsi1sk", "duePk", "dueSk", "version"];

const BATCH_WRITE_ATTEMPTS = 8;

export class DynamoLeadRecords implements LeadRecordStore {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: DynamoLeadRecordsOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async collect(lead: Lead, scope: { teamIds: readonly string[] }): Promise<HeldRecords> {
    const found = await this.#find(lead, scope.teamIds);
    const held: HeldRecords = { enrollments: [], messages: [], addressItems: [], salesQueue: [], ledger: [], other: [] };
    for (const item of found.partition) {
      const sk = String(item.sk);
      // The lead item and activities are read through the LeadStore, which knows their shape.
      if (sk === keys.lead(lead.id).sk || sk.startsWith(keys.activityPrefix)) continue;
      if (sk.startsWith("ENR#")) held.enrollments.push(content(item));
      // A message's history line is the lead's activity, exported with the activities (message-lines.ts).
      else if (sk.startsWith("MSG#")) {
        const { [MESSAGE_LINE]: _line, ...message } = content(item);
        held.messages.push(message);
      }
      else held.other.push({ ...content(item), kind: sk });
    }
    held.addressItems = found.address.map(content);
    held.salesQueue = found.queue.map((item) => ({ ...content(item), queue: String(item.pk) }));
    held.ledger = found.ledger.map(content);
    return held;
  }

  async erase(lead: Lead, scope: { teamIds: readonly string[] }): Promise<number> {
    const found = await this.#find(lead, scope.teamIds);
    const leadKey = keys.lead(lead.id);
    const isLeadItem = (item: Item) => item.pk === leadKey.pk && item.sk === leadKey.sk;
    const doomed = [...found.partition.filter((item) => !isLeadItem(item)), ...found.address, ...found.queue, ...found.ledger];
    await this.#deleteAll(doomed.map((item) => ({ pk: String(item.pk), sk: String(item.sk) })));
    try {
      await this.#client.send(new DeleteCommand({ TableName: this.#table, Key: leadKey }));
    } catch (error) {
      throw translateError(error, "erasing a lead");
    }
    return doomed.length + 1;
  }

  async #find(lead: Lead, teamIds: readonly string[]) {
    const suffix = `#${lead.id}`;
    const [partition, address, queues, ledger] = await Promise.all([
      this.#queryAll({ KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": keys.lead(lead.id).pk } }),
      this.#queryAll({ KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": `EMAIL#${normaliseEmail(lead.email)}` } }),
      // A queue item's sort key is `<qualifiedAt>#<leadId>`; a queue holds only open items, so
      // reading a team's queue costs what that team has open, not what the table holds.
      Promise.all(
        teamIds.map((teamId) =>
          this.#queryAll({ KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": `QUEUE#${teamId}` } }),
        ),
      ),
      this.#queryAll({ KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": `LEDGER#${lead.id}` } }),
    ]);
    const queue = queues.flat().filter((item) => String(item.sk).endsWith(suffix));
    return { partition, address, queue, ledger };
  }

  async #queryAll(input: Omit<QueryCommandInput, "TableName">): Promise<Item[]> {
    const items: Item[] = [];
    let start: Record<string, unknown> | undefined;
    try {
      do {
        const out = await this.#client.send(
          new QueryCommand({ TableName: this.#table, ConsistentRead: true, ...input, ...(start ? { ExclusiveStartKey: start } : {}) }),
        );
        items.push(...(out.Items ?? []));
        start = out.LastEvaluatedKey;
      } while (start);
    } catch (error) {
      throw translateError(error, "reading what is held on a lead");
    }
    return items;
  }

  async #deleteAll(keysToDelete: { pk: string; sk: string }[]): Promise<void> {
    for (let i = 0; i < keysToDelete.length; i += 25) {
      let requests = keysToDelete.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
      for (let attempt = 1; requests.length > 0; attempt++) {
        if (attempt > BATCH_WRITE_ATTEMPTS) {
          throw new StoreUnavailableError(`DynamoDB left ${requests.length} deletes unprocessed while erasing a lead; repeat the erase.`);
        }
        try {
          const out = await this.#client.send(new BatchWriteCommand({ RequestItems: { [this.#table]: requests } }));
          requests = (out.UnprocessedItems?.[this.#table] ?? []) as typeof requests;
        } catch (error) {
          throw translateError(error, "erasing a lead");
        }
        if (requests.length > 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * 2 ** attempt));
      }
    }
  }
}

function content(item: Item): HeldItem {
  const out: HeldItem = {};
  for (const [name, value] of Object.entries(item)) if (!STORAGE_ATTRIBUTES.includes(name)) out[name] = value;
  return out;
}
