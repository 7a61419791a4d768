/**
 * The local stand-in for Lambda's DynamoDB Streams trigger: reads DynamoDB Local's stream of the
 * table shard by shard and hands each batch, in stream order, to the same handler Lambda calls.
 * As Lambda does, a batch whose handler names failed records is read again from the first failed
 * one (the records before it are done); a restart reads from the stream's oldest record again,
 * which a consumer that counts each change once (the report) takes as duplicates.
 */
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record,
} from "@aws-sdk/client-dynamodb-streams";
import { DescribeTableCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { TableChange } from "@leadloop/core";
import { translateError } from "./errors";
import { tableChangeOf } from "./table-changes";

/** What a batch's handler answers: the ids (sequence numbers) of the changes to deliver again. */
export type StreamBatchHandler = (changes: TableChange[]) => Promise<{ failed: readonly string[] }>;

export interface StreamPollerOptions {
  client: DynamoDBClient | DynamoDBDocumentClient;
  /** Endpoint and credentials of DynamoDB Local, for the streams client. */
  endpoint: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  tableName: string;
  batchSize: number;
  /** Item sort-key prefixes the handler reads (the filter Lambda's event source mapping applies). */
  itemPrefixes: readonly string[];
  handle: StreamBatchHandler;
  /** Told when a batch's handler throws (the batch is read again). */
  onError?: (error: unknown) => void;
}

interface ShardCursor {
  /** The next record to read (undefined: from the shard's oldest record). */
  after?: string;
  /** A record handed back as failed: read again from it. */
  at?: string;
  closed?: boolean;
}

export class DynamoStreamPoller {
  readonly #options: StreamPollerOptions;
  readonly #streams: DynamoDBStreamsClient;
  readonly #cursors = new Map<string, ShardCursor>();
  #streamArn: string | undefined;
  #running: Promise<number> | undefined;

  constructor(options: StreamPollerOptions) {
    this.#options = options;
    this.#streams = new DynamoDBStreamsClient({
      endpoint: options.endpoint,
      region: options.region ?? "us-east-1",
      credentials: options.credentials ?? { accessKeyId: "local", secretAccessKey: "local" },
    });
  }

  /**
   * Reads every shard to its end now and hands over what it finds; resolves with the changes
   * still failing (they are read again next time). Calls never overlap: a second waits for the first.
   */
  drain(): Promise<number> {
    const run = (this.#running ?? Promise.resolve(0)).catch(() => 0).then(() => this.#drainOnce());
    this.#running = run;
    return run;
  }

  stop(): void {
    this.#streams.destroy();
  }

  async #drainOnce(): Promise<number> {
    const arn = await this.#arn();
    const shards: string[] = [];
    let start: string | undefined;
    do {
      const out = await this.#streams.send(new DescribeStreamCommand({ StreamArn: arn, ...(start ? { ExclusiveStartShardId: start } : {}) }));
      for (const shard of out.StreamDescription?.Shards ?? []) if (shard.ShardId) shards.push(shard.ShardId);
      start = out.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    let failing = 0;
    // Shards in the order DescribeStream lists them: a parent before its children.
    for (const shardId of shards) failing += await this.#drainShard(arn, shardId);
    return failing;
  }

  async #drainShard(arn: string, shardId: string): Promise<number> {
    const cursor = this.#cursors.get(shardId) ?? {};
    this.#cursors.set(shardId, cursor);
    if (cursor.closed) return 0;
    let iterator = await this.#iterator(arn, shardId, cursor);
    while (iterator) {
      let out: { Records?: _Record[]; NextShardIterator?: string };
      try {
        out = await this.#streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      } catch (error) {
        if (error instanceof ExpiredIteratorException) {
          iterator = await this.#iterator(arn, shardId, cursor);
          continue;
        }
        throw translateError(error, "reading the table's stream");
      }
      const records = out.Records ?? [];
      if (records.length === 0) {
        if (!out.NextShardIterator) cursor.closed = true;
        return 0;
      }
      for (let i = 0; i < records.length; i += this.#options.batchSize) {
        const batch = records.slice(i, i + this.#options.batchSize);
        const failedAt = await this.#deliver(batch);
        if (failedAt !== undefined) {
          delete cursor.after;
          cursor.at = failedAt;
          // Lambda retries the failed record and everything after it; so does the next drain.
          return batch.length - batch.findIndex((r) => r.dynamodb?.SequenceNumber === failedAt) + (records.length - i - batch.length);
        }
        const last = batch.at(-1)?.dynamodb?.SequenceNumber;
        if (last) {
          cursor.after = last;
          delete cursor.at;
        }
      }
      iterator = out.NextShardIterator;
    }
    return 0;
  }

  /** Hands the batch (filtered as the event source mapping filters) to the handler; the first failed record, if any. */
  async #deliver(batch: _Record[]): Promise<string | undefined> {
    const wanted = batch.filter((record) => {
      const sk = (record.dynamodb?.Keys?.sk as { S?: string } | undefined)?.S ?? "";
      return this.#options.itemPrefixes.some((prefix) => (prefix.endsWith("#") ? sk.startsWith(prefix) : sk === prefix));
    });
    if (wanted.length === 0) return undefined;
    let failed: readonly string[];
    try {
      ({ failed } = await this.#options.handle(wanted.map((record) => tableChangeOf(record))));
    } catch (error) {
      this.#options.onError?.(error);
      // The whole batch failed (as a Lambda invocation that throws): retried from its first record.
      failed = [wanted[0]?.dynamodb?.SequenceNumber ?? ""];
    }
    if (failed.length === 0) return undefined;
    const failedSet = new Set(failed);
    return batch.find((record) => failedSet.has(record.dynamodb?.SequenceNumber ?? ""))?.dynamodb?.SequenceNumber ?? batch[0]?.dynamodb?.SequenceNumber;
  }

  async #iterator(arn: string, shardId: string, cursor: ShardCursor): Promise<string | undefined> {
    const position = cursor.at
      ? { ShardIteratorType: "AT_SEQUENCE_NUMBER" as const, SequenceNumber: cursor.at }
      : cursor.after
        ? { ShardIteratorType: "AFTER_SEQUENCE_NUMBER" as const, SequenceNumber: cursor.after }
        : { ShardIteratorType: "TRIM_HORIZON" as const };
    try {
      const out = await this.#streams.send(new GetShardIteratorCommand({ StreamArn: arn, ShardId: shardId, ...position }));
      return out.ShardIterator;
    } catch (error) {
      throw translateError(error, "opening the table's stream");
    }
  }

  async #arn(): Promise<string> {
    if (this.#streamArn) return this.#streamArn;
    const client = this.#options.client as DynamoDBClient;
    const out = await client.send(new DescribeTableCommand({ TableName: this.#options.tableName }));
    const arn = out.Table?.LatestStreamArn;
    if (!arn) throw new Error(`table ${this.#options.tableName} has no stream; ensureTable turns it on`);
    this.#streamArn = arn;
    return arn;
  }
}
