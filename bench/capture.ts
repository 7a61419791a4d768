/**
 * bench:capture — sustained captures per second through the local stack (HTTP, validation,
 * dedupe, store, bus) against raw conditional PutItems per second on the same DynamoDB Local,
 * measured in one run and interleaved, so the ratio holds on a noisy shared machine.
 * Last line: the ratio.
 */
import { randomUUID } from "node:crypto";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
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

const ddb = await startDynamoDbLocal({});
const ses = await startSesLocal({});
const stack = await startLocalStack({
  port: 0,
  dynamoEndpoint: ddb.endpoint,
  sesEndpoint: ses.endpoint,
  tableName: "bench-capture",
  logLevel: "error",
  rateLimit: { burst: 1e9, perSecond: 1e9 },
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

  const rawRates: number[] = [];
  const captureRates: number[] = [];
  const downstreamRates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    rawRates.push(
      await pool(N, CONCURRENCY, async (i) => {
        await doc.send(
          new PutCommand({
            TableName: "bench-raw",
            Item: { pk: `LEAD#${randomUUID()}`, sk: "PROFILE", email: `r${round}-${i}@bench.example`, firstName: "Ada" },
            ConditionExpression: "attribute_not_exists(pk)",
          }),
        );
      }),
    );
    let failures = 0;
    // Capture alone, as in AWS where EventBridge decouples the enroll function from the API.
    stack.bus.pause();
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
    const downstreamStart = performance.now();
    stack.bus.resume();
    await stack.bus.drain();
    downstreamRates.push(N / ((performance.now() - downstreamStart) / 1000));
    if (failures > 0) throw new Error(`${failures} captures failed in round ${round}`);
    console.log(
      `round ${round + 1}: raw conditional PutItem ${rawRates.at(-1)!.toFixed(0)}/s, captures ${captureRates.at(-1)!.toFixed(0)}/s, then enrollments ${downstreamRates.at(-1)!.toFixed(0)}/s`,
    );
  }
  const rawRate = median(rawRates);
  const captureRate = median(captureRates);
  console.log(
    `median over ${ROUNDS} rounds of ${N}, ${CONCURRENCY} concurrent: raw ${rawRate.toFixed(0)}/s, captures ${captureRate.toFixed(0)}/s, enrollments ${median(downstreamRates).toFixed(0)}/s (${(median(downstreamRates) / rawRate).toFixed(2)} of raw)`,
  );
  console.log(`capture throughput: ${(captureRate / rawRate).toFixed(2)} of raw conditional PutItem rate (aim >= 0.6)`);
} finally {
  await stack.stop();
  await ses.stop();
  await ddb.stop();
}
