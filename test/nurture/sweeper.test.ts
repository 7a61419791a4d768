import { enrollLead, MailerUnavailableError, sweepDueSteps } from "@leadloop/core";
import { afterEach, describe, expect, it } from "vitest";
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
    // A sweeper claims the step and dies before it settles.
    const claimed = await h.nurture.claim(ref!, { token: "dead", stepId: ref!.stepId, until: new Date(h.clock.now().getTime() + 5 * 60_000).toISOString() }, h.clock.now().toISOString());
    expect(claimed?.nextStepId).toBe("welcome");
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
