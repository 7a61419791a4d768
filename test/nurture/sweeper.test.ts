import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { DynamoNurtureStore, indexKeys, keys } from "@leadloop/store";
import { enrollLead, MailerUnavailableError, type NurtureDeps, SendRateGate, sweepDueSteps } from "@leadloop/core";
import { createSesClient, SesMailer } from "@leadloop/mailer";
import { afterEach, describe, expect, it } from "vitest";
import { sesEndpoint } from "../engines";
import { type Harness, nurtureHarness, uniqueEmail } from "./harness";

const HOUR = 3_600_000;
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function enrolledLead(harness: Harness, tag: string): Promise<string> {
  const leadId = await harness.capture(uniqueEmail(tag));
  expect(await enrollLead(harness.deps, { leadId, sequenceId: "enterprise-nurture" })).toBe("enrolled");
  return leadId;
}

async function sentSteps(harness: Harness, leadId: string): Promise<string[]> {
  const activities = await harness.leads.listActivities(leadId, { limit: 100 });
  return activities
    .filter((a) => a.type === "email.sent")
    .map((a) => String(a.data.stepId))
    .reverse();
}

describe("sweepDueSteps on DynamoDB Local and the SES emulator", () => {
  it("enrolls once: a second lead.captured does not restart the sequence", async () => {
    h = await nurtureHarness();
    const leadId = await enrolledLead(h, "once");
    expect(await enrollLead(h.deps, { leadId, sequenceId: "enterprise-nurture" })).toBe("already-enrolled");
    expect(await h.nurture.listEnrollments(leadId)).toHaveLength(1);
  });

  it("sends each due step once when two sweepers run at the same time", async () => {
    h = await nurtureHarness();
    const leadIds = await Promise.all(Array.from({ length: 30 }, (_, i) => enrolledLead(h!, `race${i}`)));
    h.clock.advance(HOUR);
    const [a, b] = await Promise.all([sweepDueSteps(h.deps), sweepDueSteps(h.deps)]);
    expect(a.sent + b.sent).toBe(30);
    expect(a.lost + b.lost).toBe(a.due + b.due - 30);
    for (const leadId of leadIds) expect(await sentSteps(h, leadId)).toEqual(["welcome"]);
    // And a third sweep finds nothing left to send.
    expect((await sweepDueSteps(h.deps)).sent).toBe(0);
  });

  it("never sends a step again after a sweeper died holding it", async () => {
    h = await nurtureHarness();
    const leadId = await enrolledLead(h, "crash");
    h.clock.advance(HOUR);
    const now = h.clock.now().toISOString();
    const shards = await Promise.all(Array.from({ length: h.nurture.shards }, (_, s) => h!.nurture.listDue(s, now, 10)));
    const ref = shards.flat().find((r) => r.leadId === leadId);
    // A sweeper of the per-step claim days claims the step and dies before it settles: its claim
    // as such a sweeper wrote it, the entry moved in the due index to the claim's expiry.
    const until = new Date(h.clock.now().getTime() + 5 * 60_000).toISOString();
    const claimed = await h.table.client.send(
      new UpdateCommand({
        TableName: h.table.tableName,
        Key: keys.enrollment(ref!.leadId, ref!.sequenceId),
        UpdateExpression: "SET sending = :claim, dueAt = :until, dueSk = :dueSk",
        ConditionExpression: "dueAt = :due AND attribute_not_exists(sending)",
        ExpressionAttributeValues: { ":claim": { token: "dead", stepId: ref!.stepId, until }, ":until": until, ":dueSk": indexKeys.due(ref!.leadId, ref!.sequenceId, until).dueSk, ":due": ref!.dueAt },
        ReturnValues: "ALL_OLD",
      }),
    );
    expect(claimed.Attributes?.nextStepId).toBe("welcome");
    // While the claim is live nobody else touches it.
    expect((await sweepDueSteps(h.deps)).sent).toBe(0);
    h.clock.advance(10 * 60_000);
    const report = await sweepDueSteps(h.deps);
    expect(report.recovered).toBe(1);
    expect(await sentSteps(h, leadId)).toEqual([]);
    const [enrollment] = await h.nurture.listEnrollments(leadId);
    expect(enrollment?.completedStepIds).toEqual(["welcome"]);
    expect(enrollment?.nextStepId).toBe("case-study");
  });

  it("a sweeper that died after marking its sends on the shard's lease, before recording them: the steps are settled uncertain, never sent again", async () => {
    h = await nurtureHarness();
    const email = uniqueEmail("marked");
    const leadId = await h.capture(email);
    expect(await enrollLead(h.deps, { leadId, sequenceId: "enterprise-nurture" })).toBe("enrolled");
    const real = h.nurture;
    // The email goes out, then the process dies: the wave's record and settle, and the lease's
    // release, never reach the table.
    const dying = new Proxy(real, {
      get: (target, name) => {
        if (name === "writeSteps") return () => new Promise(() => {});
        if (name === "updateSweepLease") return (shard: number, owner: string, change: Parameters<typeof real.updateSweepLease>[2]) => (change.release ? new Promise(() => {}) : real.updateSweepLease(shard, owner, change));
        const value = Reflect.get(target, name, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    h.clock.advance(HOUR);
    void sweepDueSteps({ ...h.deps, nurture: dying });
    for (let i = 0; i < 200 && (await emailsTo(email)).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await emailsTo(email)).toHaveLength(1);
    // While the dead sweeper's lease is live nobody touches its shard.
    const during = await sweepDueSteps(h.deps);
    expect(during.sent).toBe(0);
    expect(during.lost).toBe(1);
    h.clock.advance(10 * 60_000);
    const report = await sweepDueSteps(h.deps);
    expect(report.recovered).toBe(1);
    expect(report.sent).toBe(0);
    expect(await emailsTo(email)).toHaveLength(1);
    const activities = await h.leads.listActivities(leadId, { limit: 100 });
    expect(activities.filter((a) => a.type === "email.send_uncertain").map((a) => a.data.stepId)).toEqual(["welcome"]);
    const [enrollment] = await real.listEnrollments(leadId);
    expect(enrollment?.completedStepIds).toEqual(["welcome"]);
    expect(enrollment?.nextStepId).toBe("case-study");
    // The mark is cleared: a later sweep recovers nothing more.
    h.clock.advance(10 * 60_000);
    expect((await sweepDueSteps(h.deps)).recovered).toBe(0);
  });

  it("a sweeper that died after recording its sends but before clearing their marks: nothing is sent again, and the history says sent", async () => {
    h = await nurtureHarness();
    const leadId = await enrolledLead(h, "recorded");
    const real = h.nurture;
    // Every lease write after the first mark is lost with the process: the marks stay, the lease too.
    let marks = 0;
    const dying = new Proxy(real, {
      get: (target, name) => {
        if (name === "updateSweepLease")
          return (shard: number, owner: string, change: Parameters<typeof real.updateSweepLease>[2]) => (change.begin?.length && marks++ === 0 ? real.updateSweepLease(shard, owner, change) : new Promise(() => {}));
        const value = Reflect.get(target, name, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    h.clock.advance(HOUR);
    void sweepDueSteps({ ...h.deps, nurture: dying });
    for (let i = 0; i < 200 && (await sentSteps(h, leadId)).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    h.clock.advance(10 * 60_000);
    const report = await sweepDueSteps(h.deps);
    expect(report.recovered).toBe(0);
    expect(report.sent).toBe(0);
    expect(await sentSteps(h, leadId)).toEqual(["welcome"]);
    const activities = await h.leads.listActivities(leadId, { limit: 100 });
    expect(activities.filter((a) => a.type === "email.send_uncertain")).toEqual([]);
    const [enrollment] = await real.listEnrollments(leadId);
    expect(enrollment?.completedStepIds).toEqual(["welcome"]);
    expect(enrollment?.nextStepId).toBe("case-study");
  });

  it("a sweeper paused past its lease sends its marked step once, and the one that took over never sends it", async () => {
    let resume: () => void = () => {};
    let paused = false;
    h = await nurtureHarness({
      // The first send stalls (a paused process) until the test lets it go; it then goes out.
      mailer: (real) => ({
        send: async (email) => {
          if (!paused) {
            paused = true;
            await new Promise<void>((r) => {
              resume = r;
            });
          }
          return real.send(email);
        },
      }),
    });
    const email = uniqueEmail("paused");
    const leadId = await h.capture(email);
    expect(await enrollLead(h.deps, { leadId, sequenceId: "enterprise-nurture" })).toBe("enrolled");
    h.clock.advance(HOUR);
    const first = sweepDueSteps(h.deps);
    for (let i = 0; i < 200 && !paused; i++) await new Promise((r) => setTimeout(r, 20));
    expect(paused).toBe(true);
    // Its lease lapses; another sweeper takes the shard and settles the marked step as handled.
    h.clock.advance(10 * 60_000);
    const second = await sweepDueSteps(h.deps);
    expect(second.recovered).toBe(1);
    expect(second.sent).toBe(0);
    resume();
    const late = await first;
    // The paused sweeper's email went out once, and its record is kept; its settle found the step moved on.
    expect(late.sent).toBe(1);
    expect(await emailsTo(email)).toHaveLength(1);
    expect(await sentSteps(h, leadId)).toEqual(["welcome"]);
    const [enrollment] = await h.nurture.listEnrollments(leadId);
    expect(enrollment?.completedStepIds).toEqual(["welcome"]);
    expect(enrollment?.nextStepId).toBe("case-study");
    // Nothing more goes out for that step, however many sweeps follow.
    h.clock.advance(HOUR);
    await sweepDueSteps(h.deps);
    expect(await emailsTo(email)).toHaveLength(1);
  });

  it("a sweeper whose lease was taken over between waves sends nothing more, and each lead of the shard gets its email once", { timeout: 120_000 }, async () => {
    let resume: () => void = () => {};
    let pausing = false;
    let paused = false;
    h = await nurtureHarness({
      mailer: (real) => ({
        send: async (email) => {
          if (pausing && !paused) {
            paused = true;
            await new Promise<void>((r) => {
              resume = r;
            });
          }
          return real.send(email);
        },
      }),
    });
    const emails = Array.from({ length: 100 }, (_, i) => uniqueEmail(`wave${i}`));
    await Promise.all(
      emails.map(async (email) => {
        const leadId = await h!.capture(email);
        expect(await enrollLead(h!.deps, { leadId, sequenceId: "enterprise-nurture" })).toBe("enrolled");
      }),
    );
    h.clock.advance(HOUR);
    const now = h.clock.now().toISOString();
    const shards = await Promise.all(Array.from({ length: h.nurture.shards }, (_, s) => h!.nurture.listDue(s, now, 100)));
    const shard = shards.reduce((best, refs, s) => (refs.length > shards[best]!.length ? s : best), 0);
    const due = shards[shard]!;
    // More than one wave of sends in the shard.
    expect(due.length).toBeGreaterThan(8);
    pausing = true;
    // Waves of 8 (a sweep's default wave is its batch of 25), so this shard's sends take several.
    const first = sweepDueSteps(h.deps, { shards: [shard], waveSteps: 8 });
    for (let i = 0; i < 200 && !paused; i++) await new Promise((r) => setTimeout(r, 20));
    expect(paused).toBe(true);
    // The first sweeper stalls inside its first wave; its lease lapses and another takes the shard.
    h.clock.advance(10 * 60_000);
    const second = await sweepDueSteps(h.deps, { shards: [shard], waveSteps: 8 });
    resume();
    const late = await first;
    // The first wave was marked: the second sweeper settled it as handled and sent the rest; the
    // first sweeper's later waves were never marked, so it sent none of them.
    expect(second.recovered).toBe(8);
    expect(late.sent).toBe(8);
    expect(late.sent + second.sent).toBe(due.length);
    const addresses = new Set(emails);
    const res = await fetch(`${sesEndpoint()}/store`);
    const { emails: stored } = (await res.json()) as { emails: { destination: { to: string[] } }[] };
    const counts = new Map<string, number>();
    for (const e of stored) for (const to of e.destination.to) if (addresses.has(to)) counts.set(to, (counts.get(to) ?? 0) + 1);
    expect([...counts.values()].filter((n) => n > 1)).toEqual([]);
    expect(counts.size).toBe(due.length);
  });

  it("a skipped step keeps its history line when the store fails while it settles", async () => {
    h = await nurtureHarness();
    const leadId = await enrolledLead(h, "skipline");
    h.clock.advance(HOUR);
    await sweepDueSteps(h.deps);
    // The store refuses every write that carries a skip's history line for one sweep's while.
    let failing = true;
    const carriesSkip = (input: { Item?: Record<string, unknown>; TransactItems?: { Put?: { Item?: Record<string, unknown> } }[] }) =>
      input.Item?.type === "email.skipped" || (input.TransactItems ?? []).some((t) => t.Put?.Item?.type === "email.skipped");
    const client = new Proxy(h.table.client, {
      get: (target, name) =>
        name === "send"
          ? (command: { input: Parameters<typeof carriesSkip>[0] }) => {
              if (failing && carriesSkip(command.input)) return Promise.reject(Object.assign(new Error("We currently do not have sufficient capacity"), { name: "InternalServerError", $metadata: { httpStatusCode: 500 } }));
              return target.send(command as never);
            }
          : Reflect.get(target, name, target),
    });
    const flaky = new DynamoNurtureStore({ client, tableName: h.table.tableName });
    h.clock.advance(8 * 24 * HOUR);
    await sweepDueSteps(h.deps);
    expect(await sentSteps(h, leadId)).toEqual(["welcome", "case-study"]);
    // roi-guide waits for an open of case-study, which never comes: it is skipped as it settles.
    h.clock.advance(7 * 24 * HOUR);
    for (let i = 0; i < 3; i++) await sweepDueSteps({ ...h.deps, nurture: flaky });
    failing = false;
    h.clock.advance(HOUR);
    for (let i = 0; i < 3; i++) await sweepDueSteps(h.deps);
    const activities = await h.leads.listActivities(leadId, { limit: 100 });
    const skips = activities.filter((a) => a.type === "email.skipped").map((a) => String(a.data.stepId));
    expect(skips).toContain("roi-guide");
    expect(new Set(skips).size).toBe(skips.length);
    const [enrollment] = await h.nurture.listEnrollments(leadId);
    for (const step of skips) expect(enrollment?.completedStepIds).toContain(step);
    const handledWithoutLine = (enrollment?.completedStepIds ?? []).filter((step) => !skips.includes(step) && !activities.some((a) => a.type === "email.sent" && a.data.stepId === step));
    expect(handledWithoutLine).toEqual([]);
  });

  it("retries a step whose send failed for a passing reason, and sends it once", async () => {
    let failures = 2;
    h = await nurtureHarness({
      mailer: (real) => ({
        send: async (email) => {
          if (failures-- > 0) throw new MailerUnavailableError("throttled");
          return real.send(email);
        },
      }),
    });
    const leadId = await enrolledLead(h, "retry");
    h.clock.advance(HOUR);
    expect((await sweepDueSteps(h.deps)).retried).toBe(1);
    h.clock.advance(HOUR);
    expect((await sweepDueSteps(h.deps)).retried).toBe(1);
    h.clock.advance(HOUR);
    expect((await sweepDueSteps(h.deps)).sent).toBe(1);
    expect(await sentSteps(h, leadId)).toEqual(["welcome"]);
    const [enrollment] = await h.nurture.listEnrollments(leadId);
    expect(enrollment?.attempts).toBe(0);
  });

  it("sends nothing to a suppressed address and ends its enrollment", async () => {
    h = await nurtureHarness();
    const email = uniqueEmail("suppressed");
    const leadId = await h.capture(email);
    await enrollLead(h.deps, { leadId, sequenceId: "enterprise-nurture" });
    await h.leads.suppress({ email, reason: "bounced", at: h.clock.now().toISOString() });
    h.clock.advance(HOUR);
    const report = await sweepDueSteps(h.deps);
    expect(report.sent).toBe(0);
    expect(report.ended).toBe(1);
    expect((await h.nurture.listEnrollments(leadId))[0]?.endReason).toBe("suppressed");
  });

  it("sends nothing to an address suppressed while its batch was already sending", async () => {
    const emails = [uniqueEmail("late-a"), uniqueEmail("late-b")];
    let harness!: Harness;
    let suppressedOther: string | undefined;
    let unsubscribed!: () => void;
    const afterUnsubscribe = new Promise<void>((resolve) => {
      unsubscribed = resolve;
    });
    h = harness = await nurtureHarness({
      mailer: (real) => ({
        async send(email) {
          // The first send's recipient unsubscribes the other address, after the batch read both.
          if (suppressedOther === undefined) {
            suppressedOther = emails.find((e) => e !== email.to)!;
            await harness.leads.suppress({ email: suppressedOther, reason: "unsubscribed", at: harness.clock.now().toISOString() });
            unsubscribed();
          }
          return real.send(email);
        },
      }),
    });
    const leadIds = await Promise.all(emails.map((email) => h!.capture(email)));
    for (const leadId of leadIds) await enrollLead(h.deps, { leadId, sequenceId: "enterprise-nurture" });
    h.clock.advance(HOUR);
    // The first send goes at once; the second waits until the unsubscribe is stored and the batch's
    // suppression read has aged past its freshness (200 ms), whatever the machine's speed.
    let sends = 0;
    const gate = new (class extends SendRateGate {
      override async waitFor(): Promise<void> {
        if (sends++ === 0) return;
        await afterUnsubscribe;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    })(2);
    const report = await sweepDueSteps(h.deps, { gate });
    expect(report.sent).toBe(1);
    expect(report.ended).toBe(1);
    const suppressedLead = leadIds[emails.indexOf(suppressedOther!)]!;
    expect(await sentSteps(h, suppressedLead)).toEqual([]);
    expect((await h.nurture.listEnrollments(suppressedLead))[0]?.endReason).toBe("suppressed");
  });

  it("follows steps by id when marketers edit a sequence, and ends enrollments of a removed sequence", async () => {
    h = await nurtureHarness();
    const leadId = await enrolledLead(h, "edit");
    const other = await enrolledLead(h, "removed");
    h.clock.advance(HOUR);
    await sweepDueSteps(h.deps);
    expect(await sentSteps(h, leadId)).toEqual(["welcome"]);

    // Marketing removes the next step (case-study) while the lead waits for it.
    const sequence = h.config.sequences.find((s) => s.id === "enterprise-nurture")!;
    const edited = { ...sequence, steps: sequence.steps.filter((s) => s.id !== "case-study") };
    h.deps.config = { ...h.config, sequences: [edited, ...h.config.sequences.filter((s) => s !== sequence)] };
    h.clock.advance(8 * 24 * HOUR);
    for (let i = 0; i < 3; i++) await sweepDueSteps(h.deps);
    // roi-guide waits for an open of the previous email, which never came: it is skipped.
    expect(await sentSteps(h, leadId)).toEqual(["welcome", "security-brief"]);

    // Then the whole sequence goes.
    h.deps.config = { ...h.config, sequences: h.config.sequences.filter((s) => s.id !== "enterprise-nurture") };
    h.clock.advance(30 * 24 * HOUR);
    await sweepDueSteps(h.deps);
    const [ended] = await h.nurture.listEnrollments(other);
    expect(ended?.status).toBe("ended");
    expect(ended?.endReason).toBe("sequence-removed");
  });
});

/**
 * Ports that stop answering once `at` (real time) has passed, the way a Lambda invocation is
 * frozen at its timeout: a call made after it never returns, so whatever the sweep had claimed
 * and not yet settled stays claimed.
 */
function frozenAt<T extends object>(port: T, at: number): T {
  return new Proxy(port, {
    get(obj, prop, receiver) {
      const value: unknown = Reflect.get(obj, prop, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => (Date.now() >= at ? new Promise(() => {}) : (value as (...a: unknown[]) => unknown).apply(obj, args));
    },
  });
}

async function emailsTo(address: string): Promise<{ subject: string }[]> {
  const res = await fetch(`${sesEndpoint()}/store`);
  const { emails } = (await res.json()) as { emails: { subject: string; destination: { to: string[] } }[] };
  return emails.filter((e) => e.destination.to.includes(address));
}

describe("the sweeper's deadline and ambiguous sends", () => {
  it("marks only what it can send before its deadline, and the next sweep sends the rest exactly once", async () => {
    h = await nurtureHarness();
    const leadIds = await Promise.all(Array.from({ length: 20 }, (_, i) => enrolledLead(h!, `deadline${i}`)));
    h.clock.advance(HOUR);
    // 5 sends a second against a 4 s deadline: a backlog of 20 takes 4 s, more than the run has once
    // each send keeps 2 s for its batch's writes. The margins are wide on purpose: a batch writes its
    // messages and settles after its last send, and a loaded machine stretches those writes.
    const deadline = Date.now() + 4_000;
    const frozen: NurtureDeps = {
      ...h.deps,
      leads: frozenAt(h.deps.leads, deadline),
      nurture: frozenAt(h.deps.nurture, deadline),
      mailer: frozenAt(h.deps.mailer, deadline),
    };
    const sweep = sweepDueSteps(frozen, { gate: new SendRateGate(5), deadline, itemBudgetMs: 2_000 });
    const finished = await Promise.race([sweep.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 4_500))]);
    expect(finished).toBe(true);

    const sentFirst = (await Promise.all(leadIds.map((id) => sentSteps(h!, id)))).filter((steps) => steps.length > 0).length;
    expect(sentFirst).toBeGreaterThan(0);
    expect(sentFirst).toBeLessThan(20);

    // The next run (unhurried) sends the rest, each lead's welcome exactly once.
    const next = await sweepDueSteps(h.deps);
    expect(next.sent).toBe(20 - sentFirst);
    // Nothing was left marked or leased: every step the run marked was sent and settled, and every
    // shard's lease given back, before the deadline (the clock has not moved past any lease).
    expect(next.recovered).toBe(0);
    expect(next.lost).toBe(0);
    for (const leadId of leadIds) expect(await sentSteps(h, leadId)).toEqual(["welcome"]);
  });

  it("settles a send whose answer was lost (a timeout after the request left) as uncertain, and never sends it again", async () => {
    const client = createSesClient({ endpoint: sesEndpoint() });
    let lose = 1;
    // SES got the request and sent the email; the answer never came back.
    client.middlewareStack.add(
      (next) => async (args) => {
        const out = await next(args);
        if (lose-- > 0) throw Object.assign(new Error("socket timed out waiting for the answer"), { name: "TimeoutError" });
        return out;
      },
      { step: "deserialize", name: "loseTheAnswer" },
    );
    h = await nurtureHarness({ mailer: () => new SesMailer({ client }) });
    const email = uniqueEmail("uncertain");
    const leadId = await h.capture(email);
    await enrollLead(h.deps, { leadId, sequenceId: "enterprise-nurture" });
    h.clock.advance(HOUR);
    const report = await sweepDueSteps(h.deps);
    expect(report.uncertain).toBe(1);
    expect(report.retried).toBe(0);

    h.clock.advance(2 * HOUR);
    await sweepDueSteps(h.deps);
    h.clock.advance(2 * HOUR);
    await sweepDueSteps(h.deps);
    // One welcome email reached SES: the lost answer was not taken as "try again".
    expect(await emailsTo(email)).toHaveLength(1);
    const activities = await h.leads.listActivities(leadId, { limit: 100 });
    expect(activities.filter((a) => a.type === "email.send_uncertain").map((a) => a.data.stepId)).toEqual(["welcome"]);
    const [enrollment] = await h.nurture.listEnrollments(leadId);
    expect(enrollment?.completedStepIds).toContain("welcome");
    expect(enrollment?.nextStepId).not.toBe("welcome");
  });
});
