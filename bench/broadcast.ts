/**
 * bench:broadcast — a broadcast to 100,000 recipients (`--recipients N`, default 2,000) on
 * DynamoDB Local and the SES v2 emulator, run the way AWS runs it: the registry's `broadcasts` job
 * invoked again and again, each invocation with a Lambda-like deadline (the job's own timeout
 * scaled down, `--timeout-ms`, default 12 s for its 120 s, less the 3 s margin `lambdaFor` keeps).
 * The audience is queued page by page into the sharded due index and swept from it across
 * invocations; none may run past its timeout, and nobody may get two emails (every SendEmail is
 * counted per address, and the broadcast's tallies must agree).
 *
 * Leads are seeded in the lead store's own item layout with BatchWriteItem (100,000 captures over
 * HTTP would take DynamoDB Local most of an hour); everything after that is the job's own code.
 * The job publishes `email.sent` to a bus with no rules, as bench:dispatch does: in AWS the
 * consumers of the event run in other functions. Raw SendEmail to the same emulator, with the
 * broadcast's own payload and the sweep's concurrency, is measured before and after the run.
 *
 * Last line: recipients, invocations, the longest invocation as a fraction of its timeout, and the
 * broadcast's send rate as a fraction of raw SendEmail.
 */
import { parseArgs } from "node:util";
import { randomUUID } from "node:crypto";
import type { SESv2Client } from "@aws-sdk/client-sesv2";
import { BatchWriteCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import {
  type BroadcastDeps,
  broadcastProgress,
  type ComposedEmail,
  composeBroadcastEmail,
  type Lead,
  loadConfigOrThrow,
  type Mailer,
  NurtureSettings,
  type RegistryPorts,
  TokenSigner,
} from "@leadloop/core";
import { registryEntry } from "@leadloop/core/registry";
import { LocalBus } from "@leadloop/events";
import { startDynamoDbLocal, startSesLocal } from "@leadloop/local/engines/index";
import { VirtualClock } from "@leadloop/local/virtual-clock";
import { createSesClient, SesMailer } from "@leadloop/mailer";
import { createDocumentClient, DynamoBroadcastStore, DynamoLeadStore, DynamoNurtureStore, ensureTable, keys } from "@leadloop/store";

const { values: flags } = parseArgs({
  options: {
    recipients: { type: "string", default: process.env.BENCH_RECIPIENTS ?? "2000" },
    "timeout-ms": { type: "string", default: process.env.BENCH_TIMEOUT_MS ?? "12000" },
  },
});
const RECIPIENTS = Number(flags.recipients);
const TIMEOUT_MS = Number(flags["timeout-ms"]);
if (!Number.isInteger(RECIPIENTS) || RECIPIENTS < 1) throw new Error(`--recipients must be a whole number of at least 1, not "${flags.recipients}"`);
if (!Number.isInteger(TIMEOUT_MS) || TIMEOUT_MS < 8_000) {
  // A page of leads is given 5 s and the margin is 3 s: a shorter timeout leaves a run no time to work.
  throw new Error(`--timeout-ms must be at least 8000 (the 3 s margin plus a 5 s page budget), not "${flags["timeout-ms"]}"`);
}
/** What `lambdaFor` keeps back from Lambda's remaining time (functions/lib/lambda-for.ts). */
const DEADLINE_MARGIN_MS = 3_000;
/** The sweep's concurrency: 4 shard workers × 4 items each (send-broadcasts.ts). */
const CONCURRENCY = 16;
const RAW_SENDS = Math.min(1_000, RECIPIENTS);
/** The broadcast of config/broadcasts/: the January newsletter, 10:00 London time on 2027-01-12. */
const SEND_AT = "2027-01-12T10:00:00Z";
const credentials = { accessKeyId: "local", secretAccessKey: "local" };

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const progress = (message: string) => process.stderr.write(`${message}\n`);

async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      for (let i = next++; i < n; i = next++) await task(i);
    }),
  );
}

/** A confirmed newsletter subscriber, as the capture and confirmation routes leave one. */
function subscriber(n: number, at: string): Lead {
  const touch = { formId: "newsletter", at };
  return {
    id: `bench-${n.toString().padStart(6, "0")}-${randomUUID().slice(0, 8)}`,
    email: `subscriber-${n}@bench.example`,
    profile: { firstName: `Reader${n}` },
    segment: "self-serve",
    stage: "lead",
    forms: ["newsletter"],
    firstTouch: touch,
    lastTouch: touch,
    consents: [{ formId: "newsletter", given: true, at }],
    createdAt: at,
    updatedAt: at,
    published: true,
  };
}

async function seedLeads(doc: DynamoDBDocumentClient, table: string, leads: Lead[]): Promise<void> {
  const chunks: Lead[][] = [];
  for (let i = 0; i < leads.length; i += 25) chunks.push(leads.slice(i, i + 25));
  await pool(chunks.length, 4, async (i) => {
    let pending: unknown[] = chunks[i]!.map((lead) => ({ PutRequest: { Item: { ...keys.lead(lead.id), entity: "lead", ...lead } } }));
    while (pending.length > 0) {
      const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending as never } }));
      pending = out.UnprocessedItems?.[table] ?? [];
    }
  });
}

/** Raw SendEmail of the broadcast's own payload through the same mailer, at the sweep's concurrency; sends per second. */
async function rawRate(ses: SESv2Client, email: ComposedEmail, n: number): Promise<number> {
  const mailer = new SesMailer({ client: ses });
  const { unsubscribeUrl: _, ...payload } = email;
  const start = performance.now();
  await pool(n, CONCURRENCY, async (i) => {
    await mailer.send({ ...payload, to: `raw-${i}-${randomUUID().slice(0, 8)}@bench.example`, tags: {} });
  });
  return n / ((performance.now() - start) / 1000);
}

progress(`starting DynamoDB Local and the SES emulator (${fmt(RECIPIENTS)} recipients, invocations of ${TIMEOUT_MS} ms)`);
const [ddb, sesEngine] = await Promise.all([startDynamoDbLocal({}), startSesLocal({})]);
try {
  const table = "bench-broadcast";
  const doc = createDocumentClient({ endpoint: ddb.endpoint, region: "us-east-1", credentials });
  await ensureTable(doc, table);
  const ses = createSesClient({ endpoint: sesEngine.endpoint });
  const config = loadConfigOrThrow("config");
  const broadcast = config.broadcasts[0];
  if (!broadcast) throw new Error("config/broadcasts/ holds no broadcast to send");

  // Every SendEmail the job makes, counted per address: nobody may get two.
  const perAddress = new Map<string, number>();
  const sesMailer = new SesMailer({ client: ses, configurationSet: "bench" });
  const mailer: Mailer = {
    send: async (email) => {
      perAddress.set(email.to, (perAddress.get(email.to) ?? 0) + 1);
      return sesMailer.send(email);
    },
  };
  const clock = new VirtualClock(undefined, { startAt: SEND_AT });
  const broadcasts = new DynamoBroadcastStore({ client: doc, tableName: table });
  const deps: BroadcastDeps = {
    config,
    leads: new DynamoLeadStore({ client: doc, tableName: table, leadIdKey: "bench-lead-id-key-0123456789abcdef0123" }),
    nurture: new DynamoNurtureStore({ client: doc, tableName: table }),
    mailer,
    publisher: new LocalBus({ rules: [], handlers: {}, clock }),
    clock,
    // The local stack's rate: far above what DynamoDB Local lets a sweep reach, so the gate never binds.
    settings: NurtureSettings.parse({ publicUrl: "http://127.0.0.1:3000", from: "Acme Analytics <hello@acme-analytics.example>", maxSendsPerSecond: 200 }),
    signer: new TokenSigner("bench-signing-key-0123456789abcdef"),
    broadcasts,
  };

  const seededAt = new Date(Date.parse(SEND_AT) - 30 * 86_400_000).toISOString();
  const leads = Array.from({ length: RECIPIENTS }, (_, n) => subscriber(n, seededAt));
  progress(`seeding ${fmt(RECIPIENTS)} confirmed subscribers`);
  const start = performance.now();
  await seedLeads(doc, table, leads);
  progress(`seeded in ${((performance.now() - start) / 1000).toFixed(1)} s`);

  const payload = composeBroadcastEmail(deps, leads[0]!, broadcast, clock.now());
  if (!payload) throw new Error(`the broadcast's template ${broadcast.template} is missing`);
  await rawRate(ses, payload, Math.min(100, RAW_SENDS)); // warm-up: JIT and connections
  const rawBefore = await rawRate(ses, payload, RAW_SENDS);
  progress(`raw SendEmail: ${fmt(rawBefore)}/s (${CONCURRENCY} concurrent)`);

  // Each invocation as lambdaFor runs it: the job's run with Lambda's remaining time less the margin.
  const job = registryEntry("broadcasts");
  if (job.kind !== "job") throw new Error("the registry's broadcasts entry is not a job");
  const ports = { nurture: deps, broadcasts } as unknown as RegistryPorts;
  const durations: number[] = [];
  let pastDeadline = 0;
  let pastTimeout = 0;
  let queueSeconds = 0;
  let sendSeconds = 0;
  let idleRuns = 0;
  const runStart = performance.now();
  for (let invocation = 1; ; invocation++) {
    const startedAt = Date.now();
    const deadline = startedAt + TIMEOUT_MS - DEADLINE_MARGIN_MS;
    const t0 = performance.now();
    const { report } = await job.run(ports, { deadline });
    const ms = performance.now() - t0;
    const endedAt = Date.now();
    durations.push(ms);
    if (endedAt > deadline) {
      pastDeadline++;
      progress(`invocation ${invocation} ended ${endedAt - deadline} ms past its deadline (${TIMEOUT_MS - DEADLINE_MARGIN_MS} ms): ${JSON.stringify(report)}`);
    }
    if (endedAt > startedAt + TIMEOUT_MS) pastTimeout++;
    const r = report as { queued: number; sent: number; due: number; queueing: boolean; failed: number };
    if (r.queued > 0 && r.sent === 0) queueSeconds += ms / 1000;
    else sendSeconds += ms / 1000;
    if (invocation % 5 === 0 || (!r.queueing && r.due === 0)) {
      const p = await broadcastProgress(deps, broadcast.id);
      progress(`invocation ${invocation}: ${(ms / 1000).toFixed(1)} s; queued ${fmt(p.queued)}, sent ${fmt(p.sent)}, remaining ${fmt(p.remaining)}`);
    }
    if (!r.queueing && r.due === 0) {
      // One empty run could be a shard read that failed; two in a row mean the work is done.
      if (++idleRuns >= 2) break;
    } else idleRuns = 0;
    if (invocation > 100_000) throw new Error("the broadcast did not finish");
  }
  const wallSeconds = (performance.now() - runStart) / 1000;

  const rawAfter = await rawRate(ses, payload, RAW_SENDS);
  progress(`raw SendEmail after the run: ${fmt(rawAfter)}/s`);
  const raw = (rawBefore + rawAfter) / 2;

  const final = await broadcastProgress(deps, broadcast.id);
  const twice = [...perAddress.values()].filter((n) => n > 1).length;
  const reached = [...perAddress.keys()].filter((a) => a.startsWith("subscriber-")).length;
  const invocations = durations.length;
  const maxFraction = Math.max(...durations) / TIMEOUT_MS;
  const sendRate = final.sent / wallSeconds;
  console.log(
    `broadcast: ${fmt(final.queued)} queued, ${fmt(final.sent)} sent, ${final.skipped} skipped, ${final.uncertain} uncertain, ${fmt(reached)} addresses reached, ${twice} got two`,
  );
  console.log(
    `broadcast: ${invocations} invocations of ${TIMEOUT_MS} ms (deadline ${TIMEOUT_MS - DEADLINE_MARGIN_MS} ms): longest ${(Math.max(...durations) / 1000).toFixed(2)} s, ${pastDeadline} past the deadline, ${pastTimeout} past the timeout; ${queueSeconds.toFixed(0)} s queueing, ${sendSeconds.toFixed(0)} s sending, ${wallSeconds.toFixed(0)} s in all`,
  );
  console.log(`broadcast: ${fmt(sendRate)} sends/s overall vs raw SendEmail ${fmt(raw)}/s (${fmt(rawBefore)} before, ${fmt(rawAfter)} after)`);
  const failures = [
    // An uncertain send is one SES may have taken (its answer was lost): settled, never sent again.
    ...(final.sent + final.uncertain !== RECIPIENTS ? [`${fmt(final.sent + final.uncertain)} of ${fmt(RECIPIENTS)} settled as sent or uncertain`] : []),
    ...(twice > 0 ? [`${twice} addresses got two`] : []),
    ...(pastTimeout > 0 ? [`${pastTimeout} invocations ran past their timeout`] : []),
  ];
  if (failures.length > 0) {
    console.error(`broadcast: FAILED: ${failures.join("; ")}`);
    process.exitCode = 1;
  }
  console.log(
    `broadcast: ${fmt(RECIPIENTS)} recipients, ${invocations} invocations, max invocation ${maxFraction.toFixed(2)} of its Lambda timeout, sends ${(sendRate / raw).toFixed(2)} of raw SendEmail`,
  );
} finally {
  await Promise.all([ddb.stop(), sesEngine.stop()]);
}
