/**
 * bench:dispatch — the nurture sweeper on the real local engines (DynamoDB Local, the SES v2
 * emulator), measured in one run against the engines' own raw rates so the ratios hold on a
 * noisy shared machine:
 *
 * 1. Dispatch: a backlog of due steps swept and sent, one sweep at a time, each sweep followed
 *    (or preceded, alternately) by as many raw SendEmail calls to the same emulator at the
 *    concurrency the sweeper showed. Ratio of the medians of the per-round rates.
 * 2. Cost follows due work: the time to sweep the same number of due steps from a table that
 *    also holds few versus many enrollments not yet due, interleaved over rounds. Ratio of medians.
 *
 * Seeding writes items in the store's own key layout (`keys`, `indexKeys`) with BatchWriteItem:
 * the point is to measure the sweep, not the seeding. Last line: the headline.
 */
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { BatchWriteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { SESv2Client } from "@aws-sdk/client-sesv2";
import {
  type Clock,
  type Lead,
  type LeadloopConfig,
  loadConfigOrThrow,
  type Mailer,
  type NurtureDeps,
  NurtureSettings,
  type OutgoingEmail,
  sweepDueSteps,
  TokenSigner,
} from "@leadloop/core";
import { LocalBus } from "@leadloop/events";
import { startDynamoDbLocal, startSesLocal } from "@leadloop/local/engines/index";
import { createSesClient, SesMailer } from "@leadloop/mailer";
import { createDocumentClient, DynamoLeadStore, DynamoNurtureStore, ensureTable, indexKeys, keys } from "@leadloop/store";

const DISPATCH_DUE = Number(process.env.BENCH_DUE ?? 10_000);
const COST_DUE = Number(process.env.BENCH_COST_DUE ?? 1_000);
const IDLE_SMALL = Number(process.env.BENCH_IDLE_SMALL ?? 1_000);
const IDLE_LARGE = Number(process.env.BENCH_IDLE_LARGE ?? 100_000);
const COST_ROUNDS = Number(process.env.BENCH_COST_ROUNDS ?? 3);
const SEED_CONCURRENCY = 4;
/** Bare request chains run each dispatch round (see bareSender). */
const BARE_SAMPLE = Number(process.env.BENCH_BARE ?? 300);

/** A Monday 10:00 in New York: inside the enterprise sequence's send window. */
const NOW = new Date("2026-03-02T15:00:00Z");
const SEQUENCE = "enterprise-nurture";
const FIRST_STEP = "welcome";
const SECOND_STEP = "case-study";
const credentials = { accessKeyId: "local", secretAccessKey: "local" };
const LEAD_ID_KEY = "bench-lead-id-key-0123456789abcdef";

class FixedClock implements Clock {
  now(): Date {
    return new Date(NOW);
  }
}

/** Wraps the real mailer to see how many sends the sweeper has in flight at once. */
class ObservedMailer implements Mailer {
  inFlight = 0;
  peak = 0;
  last: OutgoingEmail | undefined;
  constructor(private readonly real: Mailer) {}
  async send(email: OutgoingEmail): Promise<{ messageId: string }> {
    this.inFlight++;
    this.peak = Math.max(this.peak, this.inFlight);
    this.last = email;
    try {
      return await this.real.send(email);
    } finally {
      this.inFlight--;
    }
  }
}

/** CPU time (ms) the processes started with `flag port` have used, read from /proc (Linux). */
function engineCpuMs(flag: string, port: number): number {
  let ticks = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (!args.some((a, i) => a === flag && args[i + 1] === String(port))) continue;
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks * 10;
}
const ownCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
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

async function timed(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return (performance.now() - start) / 1000;
}

type Item = Record<string, unknown>;

/** BatchWriteItem, 25 a request, a few requests at once, resending anything left unprocessed. */
async function batchWrite(doc: DynamoDBDocumentClient, table: string, requests: Item[], label: string): Promise<void> {
  const chunks: Item[][] = [];
  for (let i = 0; i < requests.length; i += 25) chunks.push(requests.slice(i, i + 25));
  let done = 0;
  let reported = 0;
  await pool(chunks.length, SEED_CONCURRENCY, async (i) => {
    let pending = chunks[i]!;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
      const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
      pending = (out.UnprocessedItems?.[table] ?? []) as Item[];
    }
    done += chunks[i]!.length;
    if (done - reported >= 20_000) {
      reported = done;
      progress(`  ${label}: ${fmt(done)} of ${fmt(requests.length)} items written`);
    }
  });
}

function leadItem(leadId: string, email: string): Item {
  const at = new Date(NOW.getTime() - 3_600_000).toISOString();
  const source = { formId: "demo-request", at };
  const lead: Lead = {
    id: leadId,
    email,
    profile: { firstName: "Ada", lastName: "Lovelace", company: "Engines", title: "VP Engineering", companySize: 2000, country: "US", timezone: "America/New_York" },
    segment: "enterprise",
    stage: "lead",
    forms: ["demo-request"],
    firstTouch: source,
    lastTouch: source,
    consents: [],
    createdAt: at,
    updatedAt: at,
    published: true,
  };
  return { ...keys.lead(leadId), entity: "lead", ...lead, version: 1 };
}

/** An active enrollment as `startEnrollment` writes it, its next step due at `dueAt`. */
function enrollmentItem(leadId: string, stepId: string, enrolledAt: string, dueAt: string): Item {
  return {
    ...keys.enrollment(leadId, SEQUENCE),
    type: "enrollment",
    leadId,
    sequenceId: SEQUENCE,
    status: "active",
    enrolledAt,
    completedStepIds: [],
    nextStepId: stepId,
    dueAt,
    attempts: 0,
    runs: 1,
    ...indexKeys.due(leadId, SEQUENCE, dueAt),
  };
}

/** Leads whose first step fell due a moment ago. Returns their ids. */
async function seedDue(doc: DynamoDBDocumentClient, table: string, count: number): Promise<string[]> {
  // Ids derived from the address the way the lead store derives them, so the leads are the ones a capture would make.
  const idFor = new DynamoLeadStore({ client: doc, tableName: table, leadIdKey: LEAD_ID_KEY });
  const emails = Array.from({ length: count }, () => `bench-${randomUUID()}@bench.example`);
  const ids = emails.map((email) => idFor.leadIdFor(email));
  const enrolledAt = new Date(NOW.getTime() - 10 * 60_000 - 1000).toISOString();
  const dueAt = new Date(NOW.getTime() - 1000).toISOString();
  await batchWrite(
    doc,
    table,
    ids.flatMap((id, n) => [{ PutRequest: { Item: leadItem(id, emails[n]!) } }, { PutRequest: { Item: enrollmentItem(id, FIRST_STEP, enrolledAt, dueAt) } }]),
    `${table} due`,
  );
  return ids;
}

/** Enrollments waiting for a step months away, spread over the due shards by their ids. */
async function seedIdle(doc: DynamoDBDocumentClient, table: string, count: number): Promise<void> {
  const enrolledAt = new Date(NOW.getTime() - 86_400_000).toISOString();
  const requests = Array.from({ length: count }, (_, n) => {
    // Spread over months ahead, so the idle entries sort after "now" in every shard.
    const dueAt = new Date(NOW.getTime() + 30 * 86_400_000 + n * 60_000).toISOString();
    return { PutRequest: { Item: enrollmentItem(randomUUID(), SECOND_STEP, enrolledAt, dueAt) } };
  });
  await batchWrite(doc, table, requests, `${table} idle`);
}

async function deleteEnrollments(doc: DynamoDBDocumentClient, table: string, leadIds: string[]): Promise<void> {
  await batchWrite(doc, table, leadIds.map((id) => ({ DeleteRequest: { Key: keys.enrollment(id, SEQUENCE) } })), `${table} cleanup`);
}

/** Time spent in each port call the sweeper makes (summed over calls, which overlap), to see where a sweep's time goes. */
const spent = new Map<string, { calls: number; ms: number }>();
function observed<T extends object>(port: T, label: string): T {
  return new Proxy(port, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const start = performance.now();
        const out = value.apply(target, args);
        if (!(out instanceof Promise)) return out;
        return out.finally(() => {
          const key = `${label}.${String(prop)}`;
          const entry = spent.get(key) ?? { calls: 0, ms: 0 };
          entry.calls++;
          entry.ms += performance.now() - start;
          spent.set(key, entry);
        });
      };
    },
  });
}

function nurtureDeps(doc: DynamoDBDocumentClient, tableName: string, config: LeadloopConfig, mailer: Mailer): NurtureDeps {
  const clock = new FixedClock();
  return {
    config,
    leads: observed(new DynamoLeadStore({ client: doc, tableName, leadIdKey: LEAD_ID_KEY }), "leads"),
    nurture: observed(new DynamoNurtureStore({ client: doc, tableName }), "nurture"),
    mailer: observed(mailer, "mailer"),
    publisher: new LocalBus({ rules: [], handlers: {}, clock }),
    clock,
    // A rate far above what the engines allow: the bench measures the machinery, not the gate.
    settings: NurtureSettings.parse({ publicUrl: "http://127.0.0.1:3000", from: "Acme <hello@acme.example>", maxSendsPerSecond: 1_000_000 }),
    signer: new TokenSigner("bench-signing-key-0123456789abcdef"),
  };
}

/** One sweep; fails loudly if anything but a send happened, so a rate never hides skipped work. */
async function sweepOnce(deps: NurtureDeps): Promise<number> {
  const report = await sweepDueSteps(deps);
  const other = report.skipped + report.rescheduled + report.retried + report.ended + report.lost + report.recovered;
  if (other > 0 || report.sent !== report.due) throw new Error(`sweep did more than send: ${JSON.stringify(report)}`);
  return report.sent;
}

/** Sweeps until nothing is due; returns how many were sent. */
async function sweepAll(deps: NurtureDeps): Promise<number> {
  let sent = 0;
  for (let n = await sweepOnce(deps); n > 0; n = await sweepOnce(deps)) sent += n;
  return sent;
}

function rawSender(ses: SESv2Client, template: OutgoingEmail) {
  // The same payload the sweeper sent (parts, headers, tags) through the same mailer, to a new address each time.
  const mailer = new SesMailer({ client: ses });
  return async (i: number) => {
    await mailer.send({ ...template, to: `raw-${i}-${randomUUID().slice(0, 8)}@bench.example` });
  };
}

/**
 * The requests a send made when the sweeper handled one due step at a time, issued bare, with no
 * logic between them: a conditional claim, two reads, a query, SendEmail, two puts and the
 * settling update. The batched sweep now makes a fraction of a request per send (printed beside
 * it); this chain stays as the yardstick of what a send costs without batching.
 */
function bareSender(doc: DynamoDBDocumentClient, table: string, send: (i: number) => Promise<void>) {
  return async (i: number) => {
    const pk = `BARE#${randomUUID()}`;
    await doc.send(
      new UpdateCommand({
        TableName: table,
        Key: { pk, sk: "ENR" },
        UpdateExpression: "SET sending = :c",
        ConditionExpression: "attribute_not_exists(sending)",
        ExpressionAttributeValues: { ":c": { token: pk } },
      }),
    );
    await doc.send(new GetCommand({ TableName: table, Key: { pk, sk: "ENR" } }));
    await doc.send(new GetCommand({ TableName: table, Key: { pk: `${pk}-email`, sk: "SUPPRESSION" } }));
    await doc.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :msg)",
        ExpressionAttributeValues: { ":pk": pk, ":msg": "MSG#" },
        ConsistentRead: true,
      }),
    );
    await send(i);
    await doc.send(new PutCommand({ TableName: table, Item: { pk, sk: `MSG#${i}`, sentAt: NOW.toISOString() } }));
    await doc.send(
      new UpdateCommand({
        TableName: table,
        Key: { pk, sk: "ENR" },
        UpdateExpression: "SET lastStepId = :s REMOVE sending",
        ConditionExpression: "sending.#t = :t",
        ExpressionAttributeNames: { "#t": "token" },
        ExpressionAttributeValues: { ":s": FIRST_STEP, ":t": pk },
      }),
    );
    await doc.send(new PutCommand({ TableName: table, Item: { pk, sk: `ACT#${i}`, type: "email.sent" } }));
  };
}

const runStart = performance.now();
progress("starting DynamoDB Local and the SES v2 emulator");
const ddb = await startDynamoDbLocal({});
const sesEngine = await startSesLocal({});
try {
  const doc = createDocumentClient({ endpoint: ddb.endpoint, region: "us-east-1", credentials });
  let dynamoRequests = 0;
  let itemsWritten = 0;
  const byCommand = new Map<string, number>();
  doc.middlewareStack.add(
    (next, context) => async (args) => {
      dynamoRequests++;
      byCommand.set(context.commandName ?? "?", (byCommand.get(context.commandName ?? "?") ?? 0) + 1);
      const input = args.input as { TransactItems?: unknown[] };
      if (context.commandName === "TransactWriteItemsCommand") itemsWritten += input.TransactItems?.length ?? 0;
      else if (context.commandName === "UpdateItemCommand" || context.commandName === "PutItemCommand") itemsWritten++;
      return next(args);
    },
    { step: "initialize", name: "benchRequestCounter" },
  );
  const ses = createSesClient({ endpoint: sesEngine.endpoint });
  const mailer = new ObservedMailer(new SesMailer({ client: ses }));
  const config = loadConfigOrThrow("config");
  const tables = { warm: "bench-warm", dispatch: "bench-dispatch", small: "bench-idle-small", large: "bench-idle-large" };
  for (const name of Object.values(tables)) await ensureTable(doc, name);

  // Warm-up (JIT, connections, the sweeper's code paths) on a table of its own.
  const warm = nurtureDeps(doc, tables.warm, config, mailer);
  await seedDue(doc, tables.warm, 300);
  await sweepAll(warm);
  const concurrency = mailer.peak;
  const template = mailer.last;
  if (!template) throw new Error("the warm-up sweep sent nothing");
  const raw = rawSender(ses, template);
  const bare = bareSender(doc, tables.warm, raw);
  await pool(100, concurrency, bare);
  await pool(300, concurrency, raw);

  // --- 1. Dispatch: sweep a 10,000-step backlog, interleaved with raw SendEmail. -------------
  progress(`seeding ${fmt(DISPATCH_DUE)} due steps`);
  const seedSeconds = await timed(() => seedDue(doc, tables.dispatch, DISPATCH_DUE));
  progress(`  seeded in ${seedSeconds.toFixed(1)} s`);
  const dispatch = nurtureDeps(doc, tables.dispatch, config, mailer);
  const sweepRates: number[] = [];
  const rawRates: number[] = [];
  let swept = 0;
  let sweepSeconds = 0;
  let rawSeconds = 0;
  let rawSent = 0;
  const bareRates: number[] = [];
  let sweepRequests = 0;
  spent.clear();
  const cpu = { sweep: { own: 0, dynamo: 0, ses: 0 }, raw: { own: 0, dynamo: 0, ses: 0 } };
  const cpuNow = () => ({ own: ownCpuMs(), dynamo: engineCpuMs("-port", ddb.port), ses: engineCpuMs("--port", sesEngine.port) });
  const cpuAdd = (into: { own: number; dynamo: number; ses: number }, from: ReturnType<typeof cpuNow>) => {
    const to = cpuNow();
    into.own += to.own - from.own;
    into.dynamo += to.dynamo - from.dynamo;
    into.ses += to.ses - from.ses;
  };
  const sweepCommands = new Map<string, number>();
  let sweepItems = 0;
  for (let round = 1; swept < DISPATCH_DUE; round++) {
    let sent = 0;
    let sweepS = 0;
    let rawS = 0;
    let rawN = 0;
    const sweep = async () => {
      const before = dynamoRequests;
      const itemsBefore = itemsWritten;
      const commandsBefore = new Map(byCommand);
      const cpuFrom = cpuNow();
      sweepS = await timed(async () => {
        sent = await sweepOnce(dispatch);
      });
      cpuAdd(cpu.sweep, cpuFrom);
      sweepRequests += dynamoRequests - before;
      sweepItems += itemsWritten - itemsBefore;
      for (const [name, n] of byCommand) sweepCommands.set(name, (sweepCommands.get(name) ?? 0) + n - (commandsBefore.get(name) ?? 0));
    };
    const rawRun = async (n: number) => {
      rawN = n;
      const cpuFrom = cpuNow();
      rawS = await timed(() => pool(n, concurrency, raw));
      cpuAdd(cpu.raw, cpuFrom);
    };
    // Alternate which goes first, so drift on the shared machine falls on both sides.
    if (round % 2 === 1) {
      await sweep();
      await rawRun(sent);
    } else {
      await rawRun(Math.min(DISPATCH_DUE - swept, dispatch.settings.batchSize * dispatch.nurture.shards));
      await sweep();
    }
    // A sample of the bare request chain, each round, at the same concurrency.
    const bareN = Math.min(BARE_SAMPLE, Math.max(sent, 1));
    const bareS = await timed(() => pool(bareN, concurrency, bare));
    bareRates.push(bareN / bareS);
    if (sent === 0) throw new Error(`the backlog stalled with ${DISPATCH_DUE - swept} steps left`);
    swept += sent;
    sweepSeconds += sweepS;
    rawSent += rawN;
    rawSeconds += rawS;
    sweepRates.push(sent / sweepS);
    rawRates.push(rawN / rawS);
    console.log(
      `dispatch round ${round}: swept and sent ${fmt(sent)} at ${fmt(sent / sweepS)}/s; raw SendEmail ${fmt(rawN)} at ${fmt(rawN / rawS)}/s (${concurrency} concurrent); bare request chain ${fmt(bareRates.at(-1)!)}/s`,
    );
  }
  if ((await sweepDueSteps(dispatch)).due !== 0) throw new Error("steps still due after the backlog was swept");
  if (swept !== DISPATCH_DUE) throw new Error(`swept ${swept} of ${DISPATCH_DUE} due steps`);
  const dispatchRatio = median(sweepRates) / median(rawRates);
  console.log(
    `dispatch: ${fmt(swept)} due steps swept and sent; median sweep ${fmt(median(sweepRates))}/s (overall ${fmt(swept / sweepSeconds)}/s), median raw SendEmail ${fmt(median(rawRates))}/s (overall ${fmt(rawSent / rawSeconds)}/s); ratio ${dispatchRatio.toFixed(2)} (aim >= 0.5)`,
  );
  console.log(
    `dispatch: each send took ${(sweepRequests / swept).toFixed(1)} DynamoDB requests besides SendEmail; one step at a time, the bare chain of a send's requests (claim, two reads, a query, two puts, the settle) runs at ${fmt(median(bareRates))}/s (${(median(bareRates) / median(rawRates)).toFixed(2)} of raw SendEmail), and the batched sweep reaches ${(median(sweepRates) / median(bareRates)).toFixed(2)}× it`,
  );

  // Where a sweep's time goes: each port call's summed time per send (calls overlap: lanes, shards, pipelined waves).
  console.log(
    `dispatch: time per send in each call (ms, summed over overlapping calls) over ${((sweepSeconds * 1000) / swept).toFixed(2)} ms of sweep per send: ${[...spent.entries()]
      .sort((a, b) => b[1].ms - a[1].ms)
      .map(([k, v]) => `${k} ${(v.ms / swept).toFixed(2)} (${v.calls} calls, ${(v.ms / v.calls).toFixed(1)} ms each)`)
      .join("; ")}; requests per send by kind: ${[...sweepCommands.entries()].filter(([, n]) => n > 0).map(([k, n]) => `${k} ${(n / swept).toFixed(3)}`).join(", ")}; items written per send ${(sweepItems / swept).toFixed(2)}`,
  );

  // CPU a send costs each process (2 cores shared by all three, and by anything else running).
  const perSend = (c: { own: number; dynamo: number; ses: number }, n: number) =>
    `bench process ${(c.own / n).toFixed(2)}, DynamoDB Local ${(c.dynamo / n).toFixed(2)}, SES emulator ${(c.ses / n).toFixed(2)}`;
  console.log(`dispatch: CPU ms per send while sweeping: ${perSend(cpu.sweep, swept)}; per raw SendEmail: ${perSend(cpu.raw, rawSent)}`);

  // --- 2. Cost follows due work: 1,000 due beside few versus many idle enrollments. -----------
  progress(`seeding ${fmt(IDLE_SMALL)} and ${fmt(IDLE_LARGE)} idle enrollments`);
  const idleSeconds = await timed(async () => {
    await seedIdle(doc, tables.small, IDLE_SMALL);
    await seedIdle(doc, tables.large, IDLE_LARGE);
  });
  progress(`  seeded in ${idleSeconds.toFixed(1)} s`);
  const small = nurtureDeps(doc, tables.small, config, mailer);
  const large = nurtureDeps(doc, tables.large, config, mailer);
  const smallTimes: number[] = [];
  const largeTimes: number[] = [];
  for (let round = 1; round <= COST_ROUNDS; round++) {
    const smallIds = await seedDue(doc, tables.small, COST_DUE);
    const largeIds = await seedDue(doc, tables.large, COST_DUE);
    const measure = async (deps: NurtureDeps, into: number[]) => {
      let sent = 0;
      into.push(
        await timed(async () => {
          sent = await sweepAll(deps);
        }),
      );
      if (sent !== COST_DUE) throw new Error(`swept ${sent} of ${COST_DUE} due steps`);
    };
    if (round % 2 === 1) {
      await measure(small, smallTimes);
      await measure(large, largeTimes);
    } else {
      await measure(large, largeTimes);
      await measure(small, smallTimes);
    }
    console.log(
      `cost round ${round}: ${fmt(COST_DUE)} due with ${fmt(IDLE_SMALL)} idle ${smallTimes.at(-1)!.toFixed(2)} s, with ${fmt(IDLE_LARGE)} idle ${largeTimes.at(-1)!.toFixed(2)} s`,
    );
    // The swept enrollments now wait for their next step: remove them so the idle counts hold.
    await deleteEnrollments(doc, tables.small, smallIds);
    await deleteEnrollments(doc, tables.large, largeIds);
  }
  const costRatio = median(largeTimes) / median(smallTimes);
  console.log(
    `cost: median sweep of ${fmt(COST_DUE)} due with ${fmt(IDLE_SMALL)} idle ${median(smallTimes).toFixed(2)} s, with ${fmt(IDLE_LARGE)} idle ${median(largeTimes).toFixed(2)} s; ratio ${costRatio.toFixed(2)}x (aim <= 1.3)`,
  );
  progress(`total run time ${((performance.now() - runStart) / 1000).toFixed(0)} s`);
  console.log(
    `dispatch: ${dispatchRatio.toFixed(2)} of raw SendEmail rate; sweep ${fmt(COST_DUE)} due with ${fmt(IDLE_LARGE)} idle vs ${fmt(IDLE_SMALL)} idle: ${costRatio.toFixed(2)}x`,
  );
} finally {
  await sesEngine.stop();
  await ddb.stop();
}
