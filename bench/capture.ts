/**
 * bench:capture — sustained captures per second through the local stack (HTTP, validation,
 * per-client limits, dedupe, store, bus) against raw conditional PutItems per second on the same
 * DynamoDB Local, measured in one run and interleaved, so the ratio holds on a noisy shared
 * machine. The raw item is a copy of a stored lead (same size), under a new key.
 *
 * Each round then enrolls the captured leads through the registry's enroll handler (what the bus
 * delivers to the enroll function), with the bus still held, so the enrollment rate is the
 * enroll function's own and not the whole downstream (scoring, hand-off, reports) sharing the
 * engine; then the bus delivers everything else and the downstream rate is printed beside it.
 * Last line: the capture ratio; the line before it: the enrollment ratio.
 */
import { randomUUID } from "node:crypto";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { allRules, type BusEvent, type EventEnvelope, HANDLERS, matchesPattern, type RegistryPorts } from "@leadloop/core";
import { startLocalStack } from "@leadloop/local";
import { startDynamoDbLocal, startSesLocal } from "@leadloop/local/engines/index";
import { createDocumentClient } from "@leadloop/store";

const N = Number(process.env.BENCH_N ?? 1500);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) await task(i);
    }),
  );
  return n / ((performance.now() - start) / 1000);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const unlimited = { limit: 1e9, windowSeconds: 60 };
/** The `lead.captured` events of the round being measured, as the bus got them. */
let captured: BusEvent[] = [];
const ddb = await startDynamoDbLocal({});
const ses = await startSesLocal({});
const stack = await startLocalStack({
  port: 0,
  dynamoEndpoint: ddb.endpoint,
  sesEndpoint: ses.endpoint,
  tableName: "bench-capture",
  logLevel: "error",
  rateLimit: { burst: 1e9, perSecond: 1e9 },
  // Every window is still counted (the writes are part of a capture), none ever refuses.
  clientLimits: { capture: unlimited, captureEmail: unlimited, events: unlimited },
  wrapAdapters: (bare) => ({
    publisher: {
      async publish(events) {
        await bare.publisher.publish(events);
        for (const e of events) if (e.type === "lead.captured") captured.push(e);
      },
    },
  }),
});
const enrollEntry = HANDLERS.find((h) => h.target === "enroll")!;
const enrollRules = allRules(stack.config).filter((r) => r.target === "enroll");
const envelopeOf = (e: BusEvent): EventEnvelope => ({
  version: "0",
  id: randomUUID(),
  source: e.source ?? "leadloop",
  "detail-type": e.type,
  time: e.time ?? stack.clock.now().toISOString(),
  detail: e.detail,
});
try {
  const raw = new DynamoDBClient({ endpoint: ddb.endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  await raw.send(
    new CreateTableCommand({
      TableName: "bench-raw",
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: "pk", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "S" },
      ],
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
    }),
  );
  const doc = createDocumentClient({ endpoint: ddb.endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  const url = `${stack.url}/v1/forms/demo-request/submissions`;

  // Warm both paths (JIT, connections) before measuring.
  await pool(100, CONCURRENCY, async () => {
    await doc.send(new PutCommand({ TableName: "bench-raw", Item: { pk: randomUUID(), sk: "x" }, ConditionExpression: "attribute_not_exists(pk)" }));
  });
  await pool(100, CONCURRENCY, async (i) => {
    await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: `warm${i}@bench.example`, firstName: "W", lastName: "U", company: "C", title: "t", companySize: 5, country: "US", consent: true }) });
  });
  await stack.bus.drain();
  // The raw baseline writes an item the size of a real lead: a stored lead under a new key.
  const sample = captured[0]?.detail.leadId;
  const stored = (await doc.send(new GetCommand({ TableName: "bench-capture", Key: { pk: `LEAD#${sample}`, sk: "LEAD" } }))).Item;
  if (!stored) throw new Error("no stored lead to size the raw item on");
  const leadSized = (email: string) => ({ ...stored, pk: `LEAD#${randomUUID()}`, email });

  const rawRates: number[] = [];
  const captureRates: number[] = [];
  const downstreamRates: number[] = [];
  const enrollRates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    rawRates.push(
      await pool(N, CONCURRENCY, async (i) => {
        await doc.send(
          new PutCommand({
            TableName: "bench-raw",
            Item: leadSized(`r${round}-${i}@bench.example`),
            ConditionExpression: "attribute_not_exists(pk)",
          }),
        );
      }),
    );
    let failures = 0;
    // Capture alone, as in AWS where EventBridge decouples the enroll function from the API.
    stack.bus.pause();
    captured = [];
    captureRates.push(
      await pool(N, CONCURRENCY, async (i) => {
        const res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email: `c${round}-${i}@bench.example`, firstName: "Ada", lastName: "Lovelace", company: "Engines", title: "Director", companySize: 800, country: "GB", consent: true }),
        });
        if (res.status !== 202) failures++;
        await res.arrayBuffer();
      }),
    );
    // Enrollment alone: the enroll handler for each captured lead and each rule it matches.
    const deliveries = captured.flatMap((e) => {
      const envelope = envelopeOf(e);
      return enrollRules.filter((r) => matchesPattern(r.pattern, envelope)).map((rule) => ({ envelope, rule }));
    });
    const ports = { nurture: stack.deps } as RegistryPorts;
    enrollRates.push(
      await pool(deliveries.length, CONCURRENCY, async (i) => {
        const { envelope, rule } = deliveries[i]!;
        await enrollEntry.handle(ports, envelope, rule);
      }),
    );
    const downstreamStart = performance.now();
    stack.bus.resume();
    await stack.bus.drain();
    downstreamRates.push(N / ((performance.now() - downstreamStart) / 1000));
    if (failures > 0) throw new Error(`${failures} captures failed in round ${round}`);
    console.log(
      `round ${round + 1}: raw conditional PutItem ${rawRates.at(-1)!.toFixed(0)}/s, captures ${captureRates.at(-1)!.toFixed(0)}/s, enrollments ${enrollRates.at(-1)!.toFixed(0)}/s (${deliveries.length}), then every other handler ${downstreamRates.at(-1)!.toFixed(0)} leads/s`,
    );
  }
  const rawRate = median(rawRates);
  const captureRate = median(captureRates);
  console.log(
    `median over ${ROUNDS} rounds of ${N}, ${CONCURRENCY} concurrent: raw ${rawRate.toFixed(0)}/s, captures ${captureRate.toFixed(0)}/s, enrollments ${median(enrollRates).toFixed(0)}/s, downstream (every handler) ${median(downstreamRates).toFixed(0)} leads/s (${(median(downstreamRates) / rawRate).toFixed(2)} of raw)`,
  );
  console.log(`enrollment throughput: ${(median(enrollRates) / rawRate).toFixed(2)} of raw conditional PutItem rate (aim >= 0.3)`);
  console.log(`capture throughput: ${(captureRate / rawRate).toFixed(2)} of raw conditional PutItem rate (aim >= 0.6)`);
} finally {
  await stack.stop();
  await ses.stop();
  await ddb.stop();
}
