/**
 * Faults: the stores, the bus publisher and the mailer fail a share of their calls (throttling,
 * timeouts, 5xx) while leads run through capture, nurture, engagement and hand-off on the virtual
 * clock. Afterwards no stored lead is missing from its journey, no step went out twice, nothing
 * went to a suppressed address, every qualified lead sits in a sales queue exactly once (in stage
 * sales, its assignment in its history) and gets no more nurture email once sales has it.
 * `npm test` runs it at full size, 1,000 leads (about 2 minutes on 2 cores, 3 on a busy machine,
 * within a whole suite well under 15 minutes); `npm run reliability:faults` runs it alone.
 * `FAULTS_LEADS=n` picks another size. Each run draws a fresh seed and prints it first;
 * `FAULT_SEED=<seed>` replays it (each lead's calls draw from their own stream, so a lead meets the
 * same faults whatever the interleaving). A violating lead's trace is printed beside the figures.
 */
import { randomUUID } from "node:crypto";
import type { EventEnvelope, Mailer, OutgoingEmail } from "@leadloop/core";
import type { BusHandler, DeadLetter } from "@leadloop/events";
import type { LocalStack, StackAdapters } from "@leadloop/local";
import { sesEngagementEvent } from "@leadloop/local/ses-event-injector";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoLead, post, startTestStack } from "../e2e/local-stack";
import { FAULT_KINDS, FaultLog, faultyAdapters } from "./faults-injection";
import { pool } from "./raw-http";
import { printFigures } from "./size";

const LEADS = Number(process.env.FAULTS_LEADS ?? 1_000);
const FAULT_RATE = 0.1;
/** A fresh seed each run unless FAULT_SEED replays one; printed first so a failed run names it. */
const SEED = process.env.FAULT_SEED ? Number(process.env.FAULT_SEED) : Math.floor(Math.random() * 2 ** 31);
console.log(`[reliability:faults] FAULT_SEED=${SEED} (replay with FAULT_SEED=${SEED})`);
const CONFIGURATION_SET = "leadloop-local";

type Group = "nurture" | "engaged" | "demo" | "unsubscribe" | "bounce";
/** Four in ten only get nurture; the rest engage, ask for a demo, opt out or bounce. */
const GROUPS: Group[] = ["nurture", "nurture", "nurture", "nurture", "engaged", "engaged", "demo", "demo", "unsubscribe", "bounce"];

interface Sent {
  seq: number;
  email: OutgoingEmail;
  providerId: string;
  at: string;
}

interface Planned {
  i: number;
  group: Group;
  email: string;
  leadId?: string;
  token?: string;
  /** Sends recorded after this sequence number must not reach this address. */
  suppressedAfterSeq?: number;
  acted: boolean;
}

/** Records every email the mailer accepted, in order, outside the fault layer. */
function recording(inner: Mailer, sent: Sent[], now: () => Date): Mailer {
  return {
    async send(email) {
      const result = await inner.send(email);
      sent.push({ seq: sent.length + 1, email, providerId: result.messageId, at: now().toISOString() });
      return result;
    },
  };
}

const faults = new FaultLog();
/** Lead ids and addresses to the lead's place in the plan: a lead's calls draw from its own fault stream. */
const whose = new Map<string, string>();
function keyOf(args: unknown[]): string | undefined {
  const find = (v: unknown, depth: number): string | undefined => {
    if (typeof v === "string") return whose.get(v);
    if (depth > 2 || !v || typeof v !== "object") return undefined;
    if (Array.isArray(v)) {
      for (const x of v) {
        const k = find(x, depth + 1);
        if (k) return k;
      }
      return undefined;
    }
    const o = v as Record<string, unknown>;
    for (const field of ["leadId", "email", "to", "lead", "detail", "tags"]) {
      const k = find(o[field], depth + 1);
      if (k) return k;
    }
    return undefined;
  };
  for (const a of args) {
    const k = find(a, 0);
    if (k) return k;
  }
  return undefined;
}
const sent: Sent[] = [];
/** `lead.qualified` events the bus accepted, per lead. */
const announced = new Map<string, number>();
/** Per lead, what happened to it on the bus (events accepted, each delivery attempt's outcome), in order. */
const busTrace = new Map<string, { ms: number; line: string }[]>();
const note = (leadId: string | undefined, line: string) => {
  if (!leadId) return;
  const lines = busTrace.get(leadId) ?? [];
  lines.push({ ms: performance.now() - faults.started, line: `${line} @${stack.clock.now().toISOString()}` });
  busTrace.set(leadId, lines);
};
/** The lead an event is about: leadloop's own name it, SES's carry the message tags. */
function leadOf(event: EventEnvelope): string | undefined {
  const detail = event.detail as { leadId?: unknown; mail?: { tags?: Record<string, unknown> } };
  if (typeof detail.leadId === "string") return detail.leadId;
  const tag = detail.mail?.tags?.lead;
  return Array.isArray(tag) && typeof tag[0] === "string" ? tag[0] : undefined;
}
let stack: LocalStack;
let seqNow = () => sent.length;

beforeAll(async () => {
  const wrap = faultyAdapters({ rate: FAULT_RATE, seed: SEED, timeoutMs: 10, keyOf }, faults);
  faults.enabled = false;
  stack = await startTestStack({
    // Only the test moves time and runs the jobs (through /dev/clock/advance).
    tickEveryMs: 3_600_000,
    // Redeliveries in real time: short pauses keep the run short without fewer attempts.
    busRetryDelayMs: 10,
    logLevel: process.env.FAULTS_LOG === "1" ? "error" : "silent",
    wrapAdapters: (bare: StackAdapters) => {
      const wrapped = wrap(bare);
      const publisher = wrapped.publisher ?? bare.publisher;
      return {
        ...wrapped,
        mailer: recording(wrapped.mailer ?? bare.mailer, sent, () => stack.clock.now()),
        publisher: {
          async publish(events) {
            await publisher.publish(events);
            for (const e of events) note(typeof e.detail.leadId === "string" ? e.detail.leadId : undefined, `published ${e.type}`);
            for (const e of events) if (e.type === "lead.qualified") announced.set(String(e.detail.leadId), (announced.get(String(e.detail.leadId)) ?? 0) + 1);
          },
        },
      };
    },
  });
  seqNow = () => sent.length;
  // Every delivery attempt's outcome goes into its lead's trace. The bus keeps its handlers in
  // its options; wrapping them here leaves the stack's wiring as it is.
  const handlers = (stack.bus as unknown as { options: { handlers: Record<string, BusHandler> } }).options.handlers;
  for (const [target, handler] of Object.entries(handlers)) {
    handlers[target] = async (event, rule) => {
      const what = `${rule.name} <- ${event["detail-type"]}`;
      try {
        await handler(event, rule);
        note(leadOf(event), `delivered ${what}`);
      } catch (error) {
        note(leadOf(event), `FAILED ${what}: ${error instanceof Error ? error.message.slice(0, 160) : String(error)}`);
        throw error;
      }
    };
  }
  faults.enabled = true;
});
afterAll(async () => {
  await stack?.stop();
});

/** POSTs like a browser-side script would: a 5xx is tried again after a pause. */
async function postRetrying(url: string, body: unknown, counters: { retries: number; fiveXx: number }, before5xxRetry?: () => Promise<void>) {
  for (let attempt = 1; ; attempt++) {
    const res = await post(url, body);
    if (res.status < 500) return res;
    const text = await res.text();
    counters.fiveXx++;
    if (attempt >= 12) throw new Error(`${url} still answered ${res.status} after ${attempt} attempts: ${text.slice(0, 300)}`);
    await before5xxRetry?.();
    counters.retries++;
    await new Promise((resolve) => setTimeout(resolve, 5 * attempt));
  }
}

/** Dead letters redriven so far, and what they were. */
let deadLettered = 0;
const redriven: DeadLetter[] = [];

/**
 * The operator's redrive (`npm run redrive`, the same `bus.redrive` the /dev route calls), once per
 * half day of virtual time: a delivery that outlived the whole delivery policy (EventBridge's
 * retries, then Lambda's) is replayed through the same handler. A letter that fails again stays
 * dead-lettered, in the figures.
 */
async function redriveDeadLetters(): Promise<void> {
  const letters = [...stack.bus.deadLetters];
  if (letters.length === 0) return;
  for (const letter of letters) note(leadOf(letter.event), `redrive ${letter.rule}`);
  // Each try is one operator redrive; a few in a row, as an operator retries a failed one.
  for (let pass = 0; pass < 8 && stack.bus.deadLetters.length > 0; pass++) await stack.bus.redrive();
  const left = new Set(stack.bus.deadLetters.map((l) => l.id));
  const replayed = letters.filter((l) => !left.has(l.id));
  deadLettered += replayed.length;
  redriven.push(...replayed);
  await stack.bus.drain();
}

/**
 * For each lead a violation names (at most ten): the faults injected on its calls, its activities,
 * its bus history and its dead letters, so the failing step can be read off and aimed at.
 */
async function printTraces(missing: string[], plan: Planned[]): Promise<void> {
  const leads = plan.filter((p) => p.leadId && missing.some((m) => m.startsWith(`${p.email}`) || m.startsWith(`${p.email}:`)));
  for (const p of leads.slice(0, 10)) {
    const leadId = p.leadId as string;
    const lines = [`--- trace of ${p.email} (${p.group}), lead ${leadId}`];
    const timed = [
      ...faults.about(leadId, p.email).map((f) => ({ ms: f.ms, line: `fault ${f.kind} in ${f.port}.${f.method} ${f.args.slice(0, 160)}` })),
      ...(busTrace.get(leadId) ?? []),
    ].sort((a, b) => a.ms - b.ms);
    for (const t of timed) lines.push(`${t.ms.toFixed(0).padStart(7)} ms  ${t.line}`);
    for (const a of (await stack.store.listActivities(leadId)).reverse()) lines.push(`  activity ${a.at} ${a.type} ${JSON.stringify(a.data).slice(0, 120)}`);
    for (const e of await stack.nurture.listEnrollments(leadId)) lines.push(`  enrollment ${e.sequenceId} ${e.status} next ${e.nextStepId ?? "-"} due ${e.dueAt ?? "-"}`);
    for (const d of redriven.filter((d) => leadOf(d.event) === leadId)) lines.push(`  dead letter (redriven) ${d.rule} after ${d.attempts} attempts: ${d.error.slice(0, 200)}`);
    for (const d of stack.bus.deadLetters.filter((d) => leadOf(d.event) === leadId)) lines.push(`  DEAD LETTER ${d.rule} after ${d.attempts} attempts: ${d.error.slice(0, 200)}`);
    console.log(lines.join("\n"));
  }
}

describe(`faults: ${LEADS} leads with ${FAULT_RATE * 100}% of store, bus and mailer calls failing`, () => {
  it("loses no lead, sends no step twice, mails no suppressed address and queues each qualified lead once", { timeout: 1_800_000 }, async () => {
    const run = randomUUID().slice(0, 8);
    const plan: Planned[] = Array.from({ length: LEADS }, (_, i) => ({
      i,
      group: GROUPS[i % GROUPS.length] as Group,
      email: `faults-${i}-${run}@firm${i % 41}.example`,
      acted: false,
    }));
    for (const p of plan) {
      whose.set(p.email, `lead-${p.i}`);
      whose.set(stack.store.leadIdFor(p.email), `lead-${p.i}`);
    }
    const capture = { retries: 0, fiveXx: 0 };
    const action = { retries: 0, fiveXx: 0 };
    const violations: string[] = [];
    const started = performance.now();
    // Start on a Monday 10:00 in New York, so half-day steps fall alternately inside and outside
    // the send window whatever the real time of day.
    const now = stack.clock.now();
    const monday = new Date(now);
    monday.setUTCHours(15, 0, 0, 0);
    monday.setUTCDate(monday.getUTCDate() + ((8 - monday.getUTCDay()) % 7 || 7));
    const moved = await post(`${stack.url}/dev/clock/advance`, { by: `PT${Math.ceil((monday.getTime() - now.getTime()) / 1000)}S` });
    await moved.body?.cancel();

    // Capture over HTTP. A 5xx is allowed only when nothing was stored: check before retrying.
    await pool(plan, 8, async (p) => {
      const formId = p.group === "demo" ? "demo-request" : "whitepaper";
      const body =
        p.group === "demo"
          ? demoLead(p.email, { lastName: `F${p.i}`, country: "US", company: `Firm ${p.i % 41}` })
          : { email: p.email, firstName: `F${p.i}`, company: `Firm ${p.i % 41}`, title: "VP Data", consent: true };
      const res = await postRetrying(`${stack.url}/v1/forms/${formId}/submissions`, body, capture, async () => {
        if (await stack.store.getLeadByEmail(p.email)) violations.push(`${p.email}: 5xx although the lead was stored`);
      });
      expect(res.status).toBe(202);
      const { leadId, token } = (await res.json()) as { leadId: string; token: string };
      p.leadId = leadId;
      p.token = token;
    });
    await stack.bus.drain();
    if (process.env.FAULTS_TRACE) console.error(`captured: ${((performance.now() - started) / 1000).toFixed(1)} s`);

    const firstNurtureEmail = (p: Planned) => sent.find((s) => s.email.to === p.email && s.email.tags.sequence);
    const ses = (s: Sent, act: "open" | "click" | "bounce") => {
      stack.bus.put(
        sesEngagementEvent({
          action: act,
          email: { messageId: s.providerId, from: s.email.from, to: [s.email.to], subject: s.email.subject, headers: [], sentAt: s.at },
          tags: s.email.tags,
          configurationSet: CONFIGURATION_SET,
          now: stack.clock.now(),
          ...(act === "click" ? { link: "https://www.acme-analytics.example/pricing" } : {}),
          ...(act === "bounce" ? { bounceType: "Permanent" as const } : {}),
        }),
      );
    };
    /** Engagement once a lead's first nurture email is out: clicks, a pricing visit, an opt-out, a bounce. */
    const act = async (p: Planned) => {
      const first = firstNurtureEmail(p);
      if (!first) return;
      p.acted = true;
      if (p.group === "engaged") {
        ses(first, "open");
        ses(first, "click");
        await stack.bus.drain();
        const res = await postRetrying(`${stack.url}/v1/events`, { token: p.token, type: "page_view", url: "https://www.acme-analytics.example/pricing" }, action);
        expect(res.status).toBe(202);
      } else if (p.group === "unsubscribe") {
        const link = /<([^>]+)>/.exec(first.email.headers["List-Unsubscribe"] ?? "")?.[1];
        if (!link) throw new Error("nurture email without a List-Unsubscribe link");
        const res = await postRetrying(link, "List-Unsubscribe=One-Click", action);
        expect(res.status).toBe(200);
        p.suppressedAfterSeq = seqNow();
      } else if (p.group === "bounce") {
        ses(first, "bounce");
        await stack.bus.drain();
        p.suppressedAfterSeq = seqNow();
      }
    };

    // Run the journeys on the virtual clock: half a day per step, a little over a month.
    let tickFailures = 0;
    const advances = 64;
    for (let n = 0; n < advances; n++) {
      const res = await post(`${stack.url}/dev/clock/advance`, { by: "PT12H" });
      await res.body?.cancel();
      if (res.status !== 200) {
        // The jobs of this tick failed part-way; like the next cron run, try them again.
        tickFailures++;
        await stack.tick().catch(() => tickFailures++);
      }
      await pool(
        plan.filter((p) => !p.acted && p.group !== "nurture" && p.group !== "demo"),
        8,
        act,
      );
      await stack.bus.drain();
      await redriveDeadLetters();
      if (process.env.FAULTS_TRACE) console.error(`advance ${n}: ${((performance.now() - started) / 1000).toFixed(1)} s, ${sent.length} sent, ${faults.total} faults`);
    }
    for (let extra = 0; extra < 5; extra++) {
      await stack.tick().catch(() => tickFailures++);
      await stack.bus.drain();
      await redriveDeadLetters();
    }
    const seconds = (performance.now() - started) / 1000;
    faults.enabled = false;

    // --- Invariants, read from the bare adapters (no faults) ---
    const missing: string[] = [];
    const queuedTimes = new Map<string, number>();
    for (const team of stack.config.teams.teams) {
      for (const item of await stack.sales.listTeamQueue(team.id, 10_000)) queuedTimes.set(item.leadId, (queuedTimes.get(item.leadId) ?? 0) + 1);
    }
    const exitsOnQualified = new Set(stack.config.sequences.filter((q) => (q.exitOn as string[]).includes("lead.qualified")).map((q) => q.id));
    let qualified = 0;
    let suppressed = 0;
    let enrolled = 0;
    await pool(plan, 8, async (p) => {
      const lead = p.leadId ? await stack.store.getLead(p.leadId) : undefined;
      if (!lead) return void missing.push(`${p.email} (${p.group}): accepted but not stored`);
      const enrollments = await stack.nurture.listEnrollments(lead.id);
      const suppression = await stack.store.getSuppression(lead.email);
      const handoff = await stack.sales.getHandoff(lead.id);
      if (enrollments.length > 0) enrolled++;
      if (suppression) suppressed++;
      if (lead.qualifiedAt) {
        qualified++;
        // Nurture stops once sales has the lead: allow a day, the window in which EventBridge would
        // still be retrying a failed exit delivery (here: the next half-day's redrive).
        const stopBy = new Date(Date.parse(lead.qualifiedAt) + 24 * 3_600_000).toISOString();
        const late = sent.filter((s) => s.email.tags.lead === lead.id && exitsOnQualified.has(String(s.email.tags.sequence)) && s.at > stopBy);
        if (late.length > 0) missing.push(`${p.email} (${p.group}): ${late.length} nurture email(s) more than a day after it qualified (${lead.qualifiedAt}): ${late.map((s) => `${s.email.tags.step} at ${s.at}`).join(", ")}`);
        const times = queuedTimes.get(lead.id) ?? 0;
        if (times === 1 && handoff?.item) {
          // Handed off: the lead moved to sales and its history says to whom.
          const history = await stack.store.listActivities(lead.id);
          if (lead.stage !== "sales" || !history.some((a) => a.type === "lead.assigned")) {
            missing.push(`${p.email} (${p.group}): queued but stage ${lead.stage}, ${history.some((a) => a.type === "lead.assigned") ? "" : "no "}lead.assigned activity`);
          }
        }
        if (times !== 1 || !handoff?.item) {
          const history = (await stack.store.listActivities(lead.id)).map((a) => a.type).reverse().join(" ");
          missing.push(`${p.email} (${p.group}): qualified, announced ${announced.get(lead.id) ?? 0}, queued ${times} times; stage ${lead.stage}: ${history}`);
        }
      }
      if (enrollments.length === 0 && !lead.qualifiedAt && !suppression) missing.push(`${p.email} (${p.group}): stored but in no journey (stage ${lead.stage})`);
      if (p.group === "nurture" && !enrollments.some((e) => e.sequenceId === "enterprise-nurture")) missing.push(`${p.email}: never enrolled`);
      if ((p.group === "engaged" || p.group === "demo") && !lead.qualifiedAt) missing.push(`${p.email} (${p.group}): engaged but never qualified`);
      if ((p.group === "unsubscribe" || p.group === "bounce") && p.acted && !suppression) missing.push(`${p.email} (${p.group}): not suppressed`);
      if (p.group !== "nurture" && p.group !== "demo" && !p.acted && !lead.qualifiedAt) missing.push(`${p.email} (${p.group}): no nurture email ever arrived`);
    });

    const nurtureSends = sent.filter((s) => s.email.tags.sequence);
    const perStep = new Map<string, number>();
    for (const s of nurtureSends) {
      const key = `${s.email.tags.lead}/${s.email.tags.sequence}/${s.email.tags.step}`;
      perStep.set(key, (perStep.get(key) ?? 0) + 1);
    }
    const twice = [...perStep]
      .filter(([, n]) => n > 1)
      .map(([k, n]) => `${k} sent ${n} times: ${nurtureSends.filter((s) => `${s.email.tags.lead}/${s.email.tags.sequence}/${s.email.tags.step}` === k).map((s) => `#${s.seq} at ${s.at} msg ${s.email.tags.message}`).join(", ")}`);
    const byAddress = new Map(plan.map((p) => [p.email, p]));
    const toSuppressed = sent
      .filter((s) => {
        const after = byAddress.get(s.email.to)?.suppressedAfterSeq;
        return after !== undefined && s.seq > after;
      })
      .map((s) => `${s.email.to}: "${s.email.subject}" after it was suppressed`);

    // Every submission's entry on the capture republisher's list was cleared by its event's consumer or announced.
    const stillListed = await stack.store.listUnpublished(LEADS * 2);

    const figures: Record<string, string | number> = {
      leads: LEADS,
      "fault rate": `${FAULT_RATE * 100}% of calls (seed ${SEED})`,
      "adapter calls": faults.calls,
    };
    for (const kind of FAULT_KINDS) figures[`faults: ${kind}`] = faults.byKind(kind);
    for (const port of ["leads", "nurture", "sales", "mailer", "publisher"]) figures[`faults in ${port}`] = faults.byPort(port);
    Object.assign(figures, {
      "capture 5xx (retried)": `${capture.fiveXx} (${capture.retries})`,
      "engagement 5xx (retried)": `${action.fiveXx} (${action.retries})`,
      "jobs runs that failed (retried)": tickFailures,
      "bus dead letters (redriven)": deadLettered,
      "dead letters left": stack.bus.deadLetters.length,
      "republisher runs (listUnannounced calls)": faults.callsTo.get("leads.listUnannounced") ?? 0,
      "sweeps (listDue calls)": faults.callsTo.get("nurture.listDue") ?? 0,
      enrolled,
      "emails sent": sent.length,
      "nurture emails": nurtureSends.length,
      qualified,
      queued: queuedTimes.size,
      suppressed,
      "missing from journey": missing.length,
      "leads left on the republisher's list": stillListed.length,
      "steps sent twice": twice.length,
      "emails to suppressed": toSuppressed.length,
      "duration (s)": seconds.toFixed(1),
    });
    printFigures("faults", figures);
    await printTraces(missing, plan);
    if (redriven.length > 0) console.log(redriven.slice(0, 10).map((d) => `dead-lettered, redriven: ${d.rule} <- ${d.event["detail-type"]} (lead ${leadOf(d.event)}): ${d.error}`));

    expect(faults.total).toBeGreaterThan(0);
    expect(violations.slice(0, 10)).toEqual([]);
    expect(missing.slice(0, 10)).toEqual([]);
    expect(twice.slice(0, 10)).toEqual([]);
    expect(toSuppressed.slice(0, 10)).toEqual([]);
    expect(stillListed.map((l) => l.id).slice(0, 10)).toEqual([]);
    // Every lead planned to qualify did, and each is queued once.
    expect(qualified).toBe(plan.filter((p) => p.group === "engaged" || p.group === "demo").length);
    expect(queuedTimes.size).toBe(qualified);
  });
});
