/**
 * bench:report — the funnel report's time for 10,000 leads against 100,000 leads over the same
 * period. Each synthetic lead's event stream goes through the handler's own planning code
 * (planReportEvent), its increments land on random shards and are summed in memory, and the
 * resulting aggregate items are written with the store's key layout (BatchWrite: seeding 100,000
 * leads one UpdateItem at a time would take DynamoDB Local half an hour). Then buildFunnelReport
 * runs several times on each table. The report reads day × shard partitions, never leads, so the
 * ratio should stay near 1. The cohort funnel (buildCohortReport, cohort rows by capture day ×
 * every dimension, reps included, and the period before) is timed the same way: it reads every
 * combination row of each capture day, filter or not, so its reads grow with the combinations
 * filled. The two sizes take turns run by run, so the machine's load falls on both alike. Each
 * run's read units (ConsumedCapacity of its queries, as DynamoDB Local reports them) are printed
 * beside its time: what one report costs to read. Last line: the time ratios.
 */
import { BatchWriteCommand } from "@aws-sdk/lib-dynamodb";
import { type AggregateIncrement, buildCohortReport, buildFunnelReport, type EventEnvelope, type LeadReportState, planReportEvent, reportEventOf, type SentMessage } from "@leadloop/core";
import { startDynamoDbLocal } from "@leadloop/local/engines/index";
import { aggregateKey, COHORT_SHARDS, createDocumentClient, DynamoReportStore, ensureTable, REPORT_SHARDS } from "@leadloop/store";

const DAYS = Number(process.env.BENCH_DAYS ?? 14);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const FROM = Date.parse("2026-03-02T00:00:00Z");
const SEGMENTS = ["enterprise", "smb", "self-serve"];
const SOURCES = ["google", "linkedin", "newsletter", "direct"];
const FORMS = ["demo-request", "whitepaper"];
const STEPS = ["welcome", "case-study", "webinar"];
const CAMPAIGNS = ["q1-launch", "webinar-series", "retargeting", "partner"];
const REPS = ["dana", "marcus", "sophie", "jonas", "lucia", "tom", "emily"];

/** A small deterministic generator, so both sizes draw from the same distribution. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every increment but the A/B variants', which have no day. */
type DayIncrement = Exclude<AggregateIncrement, { kind: "variant" }>;

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
const at = (t: number) => new Date(t).toISOString();

/** One lead's events, as the bus would deliver them. */
function leadEvents(r: () => number, i: number): { events: EventEnvelope[]; messages: SentMessage[] } {
  const leadId = `lead-${i}`;
  const segment = pick(r, SEGMENTS);
  const t0 = FROM + r() * (DAYS - 4) * 86_400_000;
  let n = 0;
  const ev = (type: string, detail: Record<string, unknown>, t: number, source = "leadloop"): EventEnvelope => ({ id: `${leadId}-${n++}`, source, "detail-type": type, time: at(t), detail: { leadId, ...detail } });
  const events = [ev("lead.captured", { segment, formId: pick(r, FORMS), source: { utm_source: pick(r, SOURCES) === "direct" ? undefined : pick(r, SOURCES), utm_medium: pick(r, ["cpc", "email", "social"]), utm_campaign: pick(r, CAMPAIGNS) } }, t0)];
  const messages: SentMessage[] = [];
  STEPS.forEach((stepId, s) => {
    const sent = t0 + (s * 24 + 1) * 3_600_000;
    const messageId = `${leadId}-m${s}`;
    const sequenceId = `${segment}-nurture`;
    messages.push({ messageId, kind: "nurture", sequenceId, stepId, sentAt: at(sent) });
    events.push(ev("email.sent", { sequenceId, stepId, messageId }, sent));
    const tags = { lead: [leadId], sequence: [sequenceId], step: [stepId], message: [messageId] };
    if (r() < 0.4) events.push(ev("Email Opened", { mail: { tags }, open: { timestamp: at(sent + 7_200_000) } }, sent + 7_200_000, "aws.ses"));
    if (r() < 0.1) events.push(ev("Email Clicked", { mail: { tags }, click: { timestamp: at(sent + 7_300_000) } }, sent + 7_300_000, "aws.ses"));
  });
  if (r() < 0.2) {
    const q = t0 + r() * 72 * 3_600_000;
    events.push(ev("lead.qualified", { qualifiedAt: at(q) }, q));
    if (r() < 0.7) {
      const c = q + r() * 24 * 3_600_000;
      const owner = { teamId: segment, rep: pick(r, REPS) };
      events.push(ev("lead.claimed", { ...owner, claimedAt: at(c) }, c));
      const x = c + r() * 48 * 3_600_000;
      const roll = r();
      const outcome = roll < 0.3 ? { outcome: "won", amount: 1000 + Math.round(r() * 20000), currency: "EUR" } : roll < 0.7 ? { outcome: "lost", reason: pick(r, ["price", "timing", "competitor"]) } : { outcome: "not-now" };
      events.push(ev("lead.closed", { ...owner, ...outcome, closedAt: at(x) }, x));
    }
  }
  return { events, messages };
}

/** What the handler would have added, summed per aggregate item (each increment on a random shard). */
function aggregate(leads: number, seed: number): Map<string, { key: { pk: string; sk: string }; increment: DayIncrement; add: Map<string, number> }> {
  const r = random(seed);
  const items = new Map<string, { key: { pk: string; sk: string }; increment: DayIncrement; add: Map<string, number> }>();
  for (let i = 0; i < leads; i++) {
    const { events, messages } = leadEvents(r, i);
    let state: LeadReportState | undefined;
    for (const envelope of events) {
      const event = reportEventOf(envelope);
      if (!event) continue;
      const plan = planReportEvent(event, { ...(state ? { state } : {}), messages });
      if (!plan) continue;
      state = plan.state;
      for (const increment of plan.increments) {
        // The synthetic leads take part in no A/B test.
        if (increment.kind === "variant") continue;
        const key = aggregateKey(increment, Math.floor(r() * (increment.kind === "cohort" ? COHORT_SHARDS : REPORT_SHARDS)));
        const id = `${key.pk}|${key.sk}`;
        const item = items.get(id) ?? { key, increment, add: new Map<string, number>() };
        for (const [name, value] of Object.entries(increment.add)) item.add.set(name, (item.add.get(name) ?? 0) + value);
        items.set(id, item);
      }
    }
  }
  return items;
}

const ddb = await startDynamoDbLocal({});
try {
  const client = createDocumentClient({ endpoint: ddb.endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  // Read units of every query the reports make: what a report read is billed.
  let readUnits = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const reads = context.commandName === "QueryCommand" || context.commandName === "GetCommand";
      if (reads) (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = "TOTAL";
      const result = await next(args);
      if (reads) readUnits += (result.output as { ConsumedCapacity?: { CapacityUnits?: number } }).ConsumedCapacity?.CapacityUnits ?? 0;
      return result;
    },
    { step: "initialize", name: "readUnits" },
  );
  const query = { from: at(FROM).slice(0, 10), to: at(FROM + (DAYS - 1) * 86_400_000).slice(0, 10) };
  const tables: { leads: number; reports: DynamoReportStore }[] = [];
  for (const leads of [10_000, 100_000]) {
    const tableName = `bench-report-${leads}`;
    await ensureTable(client, tableName);
    const started = performance.now();
    const items = [...aggregate(leads, 42).values()];
    const puts = items.map(({ key, increment, add }) => ({
      PutRequest: {
        // As the store writes them: a cohort row's day and dimensions are its key alone.
        Item: {
          ...key,
          ...(increment.kind === "cohort" ? {} : { kind: increment.kind, day: increment.day, ...increment.dims }),
          ...(increment.kind === "email" ? { sequenceId: increment.sequenceId, stepId: increment.stepId } : {}),
          ...Object.fromEntries(add),
        },
      },
    }));
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < puts.length) {
          const batch = puts.slice(next, next + 25);
          next += 25;
          let pending: typeof batch | undefined = batch;
          while (pending && pending.length > 0) {
            const out = await client.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
            pending = out.UnprocessedItems?.[tableName] as typeof batch | undefined;
          }
        }
      }),
    );
    const count = (kind: string) => items.filter((i) => i.increment.kind === kind).length.toLocaleString("en");
    console.log(
      `seeded ${leads.toLocaleString("en")} leads as ${items.length.toLocaleString("en")} aggregate items (cohort rows: ${count("cohort")} combinations) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    tables.push({ leads, reports: new DynamoReportStore({ client, tableName }) });
  }

  // The two sizes take turns, run by run, so a change in the machine's load falls on both alike.
  const times = new Map<string, number[]>();
  const units = new Map<string, number>();
  const time = async (name: string, leads: number, run: () => Promise<number>) => {
    const t = performance.now();
    const unitsBefore = readUnits;
    const captured = await run();
    const key = `${name}:${leads}`;
    times.set(key, [...(times.get(key) ?? []), performance.now() - t]);
    units.set(key, readUnits - unitsBefore);
    if (captured !== leads) throw new Error(`the ${name} report counted ${captured} captures for ${leads} leads`);
  };
  const funnel = (reports: DynamoReportStore) => async () => (await buildFunnelReport({ reports }, query)).totals.stages[0]?.count ?? 0;
  const cohorts = (reports: DynamoReportStore) => async () => (await buildCohortReport({ reports }, { ...query, grain: "week" })).totals.stages[0]?.count ?? 0;
  for (const { reports } of tables) {
    await funnel(reports)(); // warm-up
    await cohorts(reports)();
  }
  for (let run = 0; run < RUNS; run++) {
    for (const { leads, reports } of tables) await time("funnel", leads, funnel(reports));
    for (const { leads, reports } of tables) await time("cohort", leads, cohorts(reports));
  }
  const rru = (key: string) => (units.get(key) ?? 0).toFixed(1);
  const median = (key: string) => {
    const sorted = [...(times.get(key) ?? [])].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? 0;
  };
  for (const { leads } of tables) {
    console.log(`${leads.toLocaleString("en")} leads:`);
    console.log(`  report over ${DAYS} days × ${REPORT_SHARDS} shards: median ${median(`funnel:${leads}`).toFixed(0)} ms of ${RUNS} runs, ${rru(`funnel:${leads}`)} RRU a read`);
    console.log(
      `  cohort funnel over ${DAYS} capture days (and the ${DAYS} before) × ${COHORT_SHARDS} shards: median ${median(`cohort:${leads}`).toFixed(0)} ms of ${RUNS} runs, ${rru(`cohort:${leads}`)} RRU a read`,
    );
  }
  console.log(`report reads 100k/10k leads: funnel ${rru("funnel:100000")}/${rru("funnel:10000")} RRU, cohorts ${rru("cohort:100000")}/${rru("cohort:10000")} RRU`);
  const ratio = (name: string) => (median(`${name}:100000`) / median(`${name}:10000`)).toFixed(2);
  console.log(`report time 100k/10k leads: funnel ${ratio("funnel")}, cohorts ${ratio("cohort")}`);
} finally {
  await ddb.stop();
}
