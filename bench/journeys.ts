/**
 * bench:journeys — what one look at /journeys costs: the leads-per-step count read from the due
 * index (DynamoJourneyCounts), on DynamoDB Local, for a table with few versus many active
 * enrollments, interleaved over rounds, beside a bare `Select: COUNT` Query of the same shards
 * (the least any count of the index can read). Capacity is asked of DynamoDB Local
 * (ReturnConsumedCapacity TOTAL) so the read units per look are counted, not guessed.
 *
 * Seeding writes enrollments in the store's own key layout with BatchWriteItem. Last line: the headline.
 */
import { randomUUID } from "node:crypto";
import { BatchWriteCommand, type DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { startDynamoDbLocal } from "@leadloop/local/engines/index";
import { createDocumentClient, DUE_SHARDS, DynamoJourneyCounts, ensureTable, indexKeys, keys } from "@leadloop/store";

const SMALL = Number(process.env.BENCH_SMALL ?? 1_000);
const LARGE = Number(process.env.BENCH_LARGE ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SEQUENCE = "smb-nurture";
const STEPS = ["welcome", "quick-start", "customer-story", "pricing"];
const credentials = { accessKeyId: "local", secretAccessKey: "local" };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const progress = (message: string) => process.stderr.write(`${message}\n`);

async function timed<T>(run: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const start = performance.now();
  const value = await run();
  return { seconds: (performance.now() - start) / 1000, value };
}

async function seed(doc: DynamoDBDocumentClient, table: string, count: number): Promise<void> {
  const now = Date.now();
  const items = Array.from({ length: count }, (_, n) => {
    const leadId = randomUUID();
    const dueAt = new Date(now + (n % 1440) * 60_000).toISOString();
    return {
      PutRequest: {
        Item: {
          ...keys.enrollment(leadId, SEQUENCE),
          type: "enrollment",
          leadId,
          sequenceId: SEQUENCE,
          status: "active",
          enrolledAt: new Date(now).toISOString(),
          completedStepIds: [],
          nextStepId: STEPS[n % STEPS.length],
          dueAt,
          attempts: 0,
          runs: 1,
          ...indexKeys.due(leadId, SEQUENCE, dueAt),
        },
      },
    };
  });
  const chunks: (typeof items)[] = [];
  for (let i = 0; i < items.length; i += 25) chunks.push(items.slice(i, i + 25));
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let i = next++; i < chunks.length; i = next++) {
        let pending: unknown[] = chunks[i]!;
        while (pending.length > 0) {
          const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending as never } }));
          pending = out.UnprocessedItems?.[table] ?? [];
        }
      }
    }),
  );
}

/** The floor: count every shard's entries with Select COUNT, no attribute returned. */
async function bareCount(doc: DynamoDBDocumentClient, table: string): Promise<number> {
  const perShard = await Promise.all(
    Array.from({ length: DUE_SHARDS }, async (_, shard) => {
      let n = 0;
      let start: Record<string, unknown> | undefined;
      do {
        const out = await doc.send(
          new QueryCommand({
            TableName: table,
            IndexName: "due",
            KeyConditionExpression: "duePk = :pk",
            ExpressionAttributeValues: { ":pk": indexKeys.dueShard(shard) },
            Select: "COUNT",
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        n += out.Count ?? 0;
        start = out.LastEvaluatedKey;
      } while (start);
      return n;
    }),
  );
  return perShard.reduce((a, b) => a + b, 0);
}

progress("starting DynamoDB Local");
const ddb = await startDynamoDbLocal({});
try {
  const doc = createDocumentClient({ endpoint: ddb.endpoint, region: "us-east-1", credentials });
  let readUnits = 0;
  doc.middlewareStack.add(
    (next) => async (args) => {
      (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = "TOTAL";
      const result = await next(args);
      readUnits += (result.output as { ConsumedCapacity?: { CapacityUnits?: number } }).ConsumedCapacity?.CapacityUnits ?? 0;
      return result;
    },
    { step: "initialize", name: "benchCapacity" },
  );
  const tables = { small: "bench-journeys-small", large: "bench-journeys-large" };
  for (const name of Object.values(tables)) await ensureTable(doc, name);
  progress(`seeding ${fmt(SMALL)} and ${fmt(LARGE)} active enrollments`);
  await seed(doc, tables.small, SMALL);
  await seed(doc, tables.large, LARGE);

  const counter = { small: new DynamoJourneyCounts({ client: doc, tableName: tables.small }), large: new DynamoJourneyCounts({ client: doc, tableName: tables.large }) };
  // Warm-up: JIT and connections.
  await counter.small.countWaitingByStep();
  await bareCount(doc, tables.small);

  const times = { small: [] as number[], large: [] as number[], bareLarge: [] as number[] };
  const units = { small: 0, large: 0, bareLarge: 0 };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const size of round % 2 ? (["small", "large"] as const) : (["large", "small"] as const)) {
      readUnits = 0;
      const { seconds, value } = await timed(() => counter[size].countWaitingByStep());
      const total = value.reduce((n, c) => n + c.leads, 0);
      if (total !== (size === "small" ? SMALL : LARGE)) throw new Error(`counted ${total} leads in the ${size} table`);
      times[size].push(seconds);
      units[size] = readUnits;
    }
    readUnits = 0;
    const bare = await timed(() => bareCount(doc, tables.large));
    if (bare.value !== LARGE) throw new Error(`the bare count found ${bare.value}`);
    times.bareLarge.push(bare.seconds);
    units.bareLarge = readUnits;
    progress(`round ${round}: ${fmt(SMALL)} ${times.small.at(-1)!.toFixed(3)} s, ${fmt(LARGE)} ${times.large.at(-1)!.toFixed(3)} s, bare COUNT ${times.bareLarge.at(-1)!.toFixed(3)} s`);
  }
  const scale = median(times.large) / median(times.small);
  const overBare = median(times.large) / median(times.bareLarge);
  console.log(`read units per look: ${units.small.toFixed(1)} RRU for ${fmt(SMALL)} active enrollments, ${units.large.toFixed(1)} RRU for ${fmt(LARGE)} (bare COUNT: ${units.bareLarge.toFixed(1)})`);
  console.log(`median look: ${fmt(SMALL)} ${median(times.small).toFixed(3)} s, ${fmt(LARGE)} ${median(times.large).toFixed(3)} s, bare COUNT of ${fmt(LARGE)} ${median(times.bareLarge).toFixed(3)} s`);
  console.log(
    `journeys: a look at ${fmt(LARGE)} vs ${fmt(SMALL)} active enrollments takes ${scale.toFixed(2)}x the time (${(LARGE / SMALL).toFixed(0)}x the entries), ${overBare.toFixed(2)}x a bare COUNT of the same index; 0 writes on the send path`,
  );
} finally {
  await ddb.stop();
}
