/**
 * Crash: the local stack is killed with SIGKILL in the middle of a sweep and started again on the
 * same data folder. Afterwards no step went out twice, nothing went to a suppressed address, every
 * lead is in its journey, and every due step was sent or settled as "send uncertain".
 * Short in `npm test`; `npm run reliability:crash` runs more leads.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import { expiresIn, TokenSigner } from "@leadloop/core";
import { createDocumentClient } from "@leadloop/store";
import { afterAll, describe, expect, it } from "vitest";
import { pool, rawRequest } from "./raw-http";
import { printFigures, sized } from "./size";
import { freePort, groupMembers, type StackProcess, startStackProcess, waitGroupsGone } from "./stack-process";

const LEADS = sized(40, 1_000);
/** Leads unsubscribed before any email, and between the crash and the rest of the journey. */
const SUPPRESS_EARLY = 0.1;
const SUPPRESS_LATE = 0.1;
/** Rounds of "advance to the latest due step" after the restart; the full run goes to the end of every journey. */
const ROUNDS_AFTER = sized(1, 30);

const dataDir = mkdtempSync(join(tmpdir(), "leadloop-crash-"));
const running: StackProcess[] = [];
afterAll(async () => {
  for (const s of running) await s.stop().catch(() => {});
  rmSync(dataDir, { recursive: true, force: true });
});

interface EmulatorEmail {
  messageId: string;
  destination: { to: string[] };
  subject: string;
}
async function emulatorEmails(ses: string): Promise<EmulatorEmail[]> {
  const res = await fetch(`${ses}/store`);
  return ((await res.json()) as { emails: EmulatorEmail[] }).emails;
}

/**
 * The whitepaper form, half senior titles (enterprise) and half not (smb): neither scores enough
 * to be handed to sales at once, so every lead is nurtured. Each capture comes from its own
 * loopback address, as from many visitors: the rate limit is per address.
 */
async function capture(url: string, email: string, i: number): Promise<string> {
  const res = await rawRequest({
    url: `${url}/v1/forms/whitepaper/submissions`,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, firstName: `Crash${i}`, company: `Firm ${i}`, title: i % 2 === 0 ? "Director of Data" : "Analyst", consent: true }),
    localAddress: `127.0.${1 + Math.floor(i / 4000)}.${2 + (Math.floor(i / 15) % 250)}`,
  });
  if (res.status !== 202) throw new Error(`capture ${email} answered ${res.status}: ${res.text()}`);
  return (res.json() as { leadId: string }).leadId;
}

async function unsubscribe(url: string, signer: TokenSigner, leadId: string): Promise<void> {
  const token = signer.sign({ sub: leadId, purpose: "unsubscribe", exp: expiresIn(new Date(), 400) });
  const res = await rawRequest({ url: `${url}/v1/unsubscribe?token=${encodeURIComponent(token)}`, method: "POST", body: "List-Unsubscribe=One-Click", headers: { "content-type": "application/x-www-form-urlencoded" } });
  if (res.status !== 200) throw new Error(`unsubscribe ${leadId} answered ${res.status}: ${res.text()}`);
}

async function advance(url: string, by: string): Promise<void> {
  const res = await fetch(`${url}/dev/clock/advance`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ by }) });
  if (res.status !== 200) throw new Error(`advancing the clock answered ${res.status}: ${await res.text()}`);
}

type Item = Record<string, unknown> & { pk: string; sk: string };

/** Due times of the enrollments still running. */
async function activeDues(stack: StackProcess): Promise<number[]> {
  const items = await scanTable(stack.dynamoEndpoint);
  return items.filter((i) => i.sk.startsWith("ENR#") && i.status === "active" && typeof i.dueAt === "string").map((i) => Date.parse(String(i.dueAt)));
}

/** Moves the virtual clock just past the latest due step, so one sweep finds all of them due. */
async function advanceToLatestDue(stack: StackProcess): Promise<void> {
  const now = Date.parse(((await (await fetch(`${stack.url}/dev/clock`)).json()) as { now: string }).now);
  const latest = Math.max(now, ...(await activeDues(stack)));
  await advance(stack.url, `PT${Math.ceil((latest - now) / 1000) + 60}S`);
}
async function scanTable(endpoint: string): Promise<Item[]> {
  const client = createDocumentClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  const items: Item[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await client.send(new ScanCommand({ TableName: "leadloop", ExclusiveStartKey: start }));
    items.push(...((out.Items ?? []) as Item[]));
    start = out.LastEvaluatedKey;
  } while (start);
  client.destroy();
  return items;
}

describe(`crash: SIGKILL mid-sweep with ${LEADS} leads, then restart on the same data`, () => {
  it("sends no step twice, nothing to suppressed addresses, and accounts for every due step", { timeout: sized(300_000, 1_800_000) }, async () => {
    const port = await freePort();
    const first = await startStackProcess({ dataDir, port });
    running.push(first);
    const signer = new TokenSigner(readFileSync(join(dataDir, "signing-key"), "utf8").trim());

    // Capture, then unsubscribe some before any email.
    const stamp = Date.now().toString(36);
    const emails = Array.from({ length: LEADS }, (_, i) => `crash-${stamp}-${i}@firm${i % 13}.example`);
    const leadIds = await pool(emails, 8, (email, i) => capture(first.url, email, i));
    const early = leadIds.filter((_, i) => i % Math.round(1 / SUPPRESS_EARLY) === 3);
    await pool(early, 8, (id) => unsubscribe(first.url, signer, id));
    const expectedWelcomes = LEADS - early.length;
    const ourIds = new Set(leadIds);
    const ours = (item: Item) => ourIds.has(item.pk.slice("LEAD#".length));

    // Make every welcome email due, and kill the stack while the sweep sends them.
    const pgids = first.enginePgids();
    expect(pgids.length).toBe(2);
    // Wait until every lead is enrolled, then move the clock to the latest welcome's due time
    // (send windows and weekends spread them), so the one sweep that follows sends them all.
    for (const deadline = Date.now() + 120_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 500))) {
      if ((await activeDues(first)).length >= expectedWelcomes) break;
    }
    expect((await activeDues(first)).length, "every lead not unsubscribed is enrolled before the sweep").toBe(expectedWelcomes);
    const sweep = advanceToLatestDue(first).then(
      () => "finished",
      () => "interrupted",
    );
    let seen: EmulatorEmail[] = [];
    let swept = "running";
    void sweep.then((s) => {
      swept = s;
    });
    const killAt = Math.max(1, Math.floor(expectedWelcomes * 0.3));
    while (swept === "running") {
      seen = (await emulatorEmails(first.sesEndpoint)).filter((e) => e.destination.to.some((t) => t.startsWith(`crash-${stamp}`)));
      if (seen.length >= killAt) {
        first.child.kill("SIGKILL");
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(swept, "the sweep finished before the kill: raise LEADS so it lasts longer").toBe("running");
    expect(await first.exited).toBe("SIGKILL");
    const sentBeforeKill = seen.length;
    const firstLog = first.output().split("\n").filter((l) => /^\[(warn|error)\]/.test(l));
    expect(sentBeforeKill).toBeLessThan(expectedWelcomes);
    // The engine guards end DynamoDB Local and the SES emulator with their parent.
    const leftOver = await waitGroupsGone(pgids, 20_000);
    expect(leftOver.map((g) => groupMembers(g)), "engine processes outlived the killed stack").toEqual([]);

    // Restart on the same data, unsubscribe more leads, and run the journeys to their end.
    const second = await startStackProcess({ dataDir, port });
    running.push(second);
    // The SES emulator keeps what it accepted across the restart (the data folder): the emails the
    // killed stack sent are listed again, with the ids they had, before the restarted stack sends any.
    const persisted = new Set((await emulatorEmails(second.sesEndpoint)).map((e) => e.messageId));
    expect(seen.filter((e) => !persisted.has(e.messageId)).map((e) => e.messageId), "emails sent before the kill are kept across the restart").toEqual([]);
    // Sends the killed sweeper had in hand: marked on its due shards' leases, waiting for them to lapse.
    const atRestart = await scanTable(second.dynamoEndpoint);
    const marksOf = (items: Item[]) =>
      items
        .filter((i) => i.pk.startsWith("SWEEP#") && i.sk === "LEASE")
        .flatMap((i) => Object.values((i.steps ?? {}) as Record<string, { leadId: string; sequenceId: string; stepId: string }>));
    const held = marksOf(atRestart).filter((m) => ourIds.has(m.leadId));
    const heldAtKill = held.length;
    const recordedAtRestart = new Set(atRestart.filter((i) => i.sk.startsWith("MSG#")).map((i) => String(i.providerMessageId)));
    const seenRecorded = seen.filter((e) => recordedAtRestart.has(e.messageId)).length;
    const late = leadIds.filter((id, i) => i % Math.round(1 / SUPPRESS_LATE) === 7 && !early.includes(id));
    await pool(late, 8, (id) => unsubscribe(second.url, signer, id));
    // The first advance also lets the dead sweeper's leases lapse (they last minutes).
    const journeyStarted = performance.now();
    // First past the dead sweeper's leases, then from due time to due time until the
    // journeys end (the short run stops after one round).
    await advance(second.url, "PT10M");
    for (let round = 0; round < ROUNDS_AFTER && (await activeDues(second)).length > 0; round++) await advanceToLatestDue(second);
    const journeySeconds = (performance.now() - journeyStarted) / 1000;
    const now = ((await (await fetch(`${second.url}/dev/clock`)).json()) as { now: string }).now;
    const afterRestart = await emulatorEmails(second.sesEndpoint);
    const items = await scanTable(second.dynamoEndpoint);
    await second.stop();

    // What the table says happened.
    const leadOf = (item: Item) => item.pk.slice("LEAD#".length);
    const leads = items.filter((i) => i.sk === "LEAD" && ours(i));
    const suppressions = new Map(items.filter((i) => i.sk === "SUPPRESSION").map((i) => [String(i.email), String(i.at)]));
    const enrollments = items.filter((i) => i.sk.startsWith("ENR#") && ours(i));
    const messages = items.filter((i) => i.sk.startsWith("MSG#") && ours(i) && i.kind === "nurture");
    // A sent email's history line is stored on its message item (`line`); older ones are ACT# items.
    const activities: Item[] = [
      ...items.filter((i) => i.sk.startsWith("ACT#") && ours(i)),
      ...items.filter((i) => i.sk.startsWith("MSG#") && ours(i) && typeof i.line === "object" && i.line !== null).map((i) => ({ pk: i.pk, sk: i.sk, ...(i.line as Record<string, unknown>) })),
    ];
    const stepKey = (leadId: string, data: Record<string, unknown>) => `${leadId}/${String(data.sequenceId)}/${String(data.stepId)}`;
    const count = <T>(keys: T[]) => keys.reduce((m, k) => m.set(k, (m.get(k) ?? 0) + 1), new Map<T, number>());

    const problems: string[] = [];
    // 1. No step sent twice: one message item and at most one email.sent per lead × sequence × step.
    for (const [key, n] of count(messages.map((m) => stepKey(String(m.leadId), m)))) if (n > 1) problems.push(`${key}: ${n} message items`);
    const sentActs = activities.filter((a) => a.type === "email.sent");
    for (const [key, n] of count(sentActs.map((a) => stepKey(leadOf(a), a.data as Record<string, unknown>)))) if (n > 1) problems.push(`${key}: ${n} email.sent`);
    // As the recipients saw it: no address got the same email (same subject) twice, across both runs
    // (one email, listed before the kill and again from the kept store, counts once).
    const received = [...new Map([...seen, ...afterRestart].map((e) => [e.messageId, e])).values()].filter((e) => e.destination.to.some((t) => t.startsWith(`crash-${stamp}`)));
    for (const [key, n] of count(received.map((e) => `${e.destination.to.join(",")} ${JSON.stringify(e.subject)}`))) if (n > 1) problems.push(`${key}: received ${n} times`);
    // Every email the restarted stack sent is one of those message items.
    const byProvider = new Map(messages.map((m) => [String(m.providerMessageId), m]));
    const sentAfterRestart = afterRestart.filter((e) => !persisted.has(e.messageId));
    for (const e of sentAfterRestart) if (e.destination.to.some((t) => t.startsWith(`crash-${stamp}`)) && !byProvider.has(e.messageId)) problems.push(`email ${e.messageId} after the restart has no message item`);
    // 2. Nothing to a suppressed address after it was suppressed.
    const emailOf = new Map(leads.map((l) => [leadOf(l), String(l.email)]));
    for (const m of messages) {
      const suppressedAt = suppressions.get(emailOf.get(String(m.leadId)) ?? "");
      if (suppressedAt && String(m.sentAt) >= suppressedAt) problems.push(`${String(m.leadId)}: sent ${String(m.stepId)} at ${String(m.sentAt)} after suppression at ${suppressedAt}`);
    }
    // 3. Every stored lead is in its journey (an address suppressed before enrolment may never start one).
    if (leads.length !== LEADS) problems.push(`${LEADS} leads captured but ${leads.length} stored`);
    const enrolled = new Set(enrollments.map(leadOf));
    for (const l of leads) if (!enrolled.has(leadOf(l)) && !early.includes(leadOf(l))) problems.push(`${leadOf(l)} (${String(l.segment)}) has no enrollment`);
    // 4. Every due step is done: sent, skipped by its condition, or settled as "send uncertain".
    const uncertain = activities.filter((a) => a.type === "email.send_uncertain");
    const skipped = activities.filter((a) => a.type === "email.skipped");
    const accounted = new Set([...messages.map((m) => stepKey(String(m.leadId), m)), ...[...uncertain, ...skipped].map((a) => stepKey(leadOf(a), a.data as Record<string, unknown>))]);
    for (const e of enrollments) {
      if (e.status === "active" && typeof e.dueAt === "string" && e.dueAt <= now) problems.push(`${leadOf(e)}/${String(e.sequenceId)}: step ${String(e.nextStepId)} still due since ${e.dueAt}`);
      for (const stepId of (e.completedStepIds as string[] | undefined) ?? []) {
        const key = `${leadOf(e)}/${String(e.sequenceId)}/${stepId}`;
        if (!accounted.has(key)) problems.push(`${key}: handled but neither sent, skipped nor uncertain`);
      }
    }
    // Every send the killed sweeper had marked is settled: as sent (its message was recorded with
    // its settle before the kill), as uncertain, or ended with its enrollment. (A mark left on a
    // lease is then stale: its step has moved on, and the shard's next holder clears it.)
    const recorded = new Set(messages.map((m) => stepKey(String(m.leadId), m)));
    for (const h of held) {
      const key = stepKey(h.leadId, h);
      const enrollment = enrollments.find((e) => leadOf(e) === h.leadId && e.sequenceId === h.sequenceId);
      const settled = recorded.has(key) || uncertain.some((a) => stepKey(leadOf(a), a.data as Record<string, unknown>) === key) || enrollment?.status === "ended";
      if (!settled) problems.push(`${key}: the killed sweeper's marked send was never settled`);
    }
    // An uncertain step is never sent again after the restart.
    for (const a of uncertain) {
      const data = a.data as Record<string, unknown>;
      const resent = messages.find((m) => stepKey(String(m.leadId), m) === stepKey(leadOf(a), data) && String(m.sentAt) > String(a.at));
      if (resent) problems.push(`${stepKey(leadOf(a), data)}: settled as uncertain, then sent again`);
    }

    const ended = count(enrollments.filter((e) => e.status !== "active").map((e) => String(e.endReason).replace(/:.*/, "")));
    printFigures("crash", {
      leads: LEADS,
      "unsubscribed before email / after restart": `${early.length} / ${late.length}`,
      "emails seen before SIGKILL": `${sentBeforeKill} of ${expectedWelcomes} due`,
      "engine processes left after SIGKILL": leftOver.length,
      "warnings logged before the kill": firstLog.length,
      "emails after restart (leads and reps)": sentAfterRestart.length,
      "journey after restart (s)": journeySeconds.toFixed(1),
      "message items (nurture)": messages.length,
      "email.sent activities": sentActs.length,
      "sends marked at the kill": heldAtKill,
      "message items at restart / seen emails among them": `${recordedAtRestart.size} / ${seenRecorded}`,
      "sends uncertain (marked at the kill, not recorded)": uncertain.length,
      "skipped by condition": skipped.length,
      enrollments: enrollments.length,
      "enrollments ended": [...ended].map(([k, v]) => `${k}×${v}`).join(" "),
      "still active (future steps)": enrollments.filter((e) => e.status === "active").length,
      "invariant violations": problems.length,
    });
    expect(problems.slice(0, 20)).toEqual([]);
    // The kill really caught sends in flight, and the restarted stack went on sending.
    expect(heldAtKill).toBeGreaterThan(0);
    expect(messages.length).toBeGreaterThan(sentBeforeKill);
  });
});
