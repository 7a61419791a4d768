/**
 * The hand-off and the rep workflow on the local stack: a qualified lead lands in the right team's
 * queue, its rep is emailed (and the team's Slack webhook called), reps claim over the API (a
 * second rep gets 409), the holder records the outcome, and a lead nobody claims moves to the next
 * rep when the virtual clock passes the claim SLA.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { signHs256Token } from "@leadloop/api";
import type { LocalStack } from "@leadloop/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoLead, post, startTestStack } from "./local-stack";

interface DevEmail {
  messageId: string;
  to: string[];
  subject: string;
  html: string;
  text: string;
}

const DANA = "dana.whitfield@acme-analytics.example";
const MARCUS = "marcus.lee@acme-analytics.example";
const SOPHIE = "sophie.martin@acme-analytics.example";
const run = Math.random().toString(36).slice(2, 8);

let stack: LocalStack;
let slack: Server;
const slackPosts: { text: string }[] = [];

beforeAll(async () => {
  slack = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      slackPosts.push(JSON.parse(body) as { text: string });
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => slack.listen(0, "127.0.0.1", resolve));
  const webhook = `http://127.0.0.1:${(slack.address() as AddressInfo).port}/hooks/enterprise-na`;
  stack = await startTestStack({ env: { SLACK_WEBHOOK_ENTERPRISE_NA: webhook } });
});
afterAll(async () => {
  await stack?.stop();
  await new Promise((resolve) => slack?.close(resolve));
});

const token = (email: string, roles: ("rep" | "marketing" | "admin")[] = ["rep"]) => signHs256Token({ email, roles }, stack.authSecret);

async function call(method: string, path: string, as: string, body?: unknown, roles?: ("rep" | "marketing" | "admin")[]) {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${await token(as, roles)}`, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, type: res.headers.get("content-type") ?? "", body: (await res.json()) as Record<string, unknown> };
}

/** A captured US enterprise lead, qualified the way scoring announces it. */
async function qualifiedLead(lastName: string) {
  const email = `${lastName.toLowerCase()}.${run}@bigco.example`;
  const res = await post(`${stack.url}/v1/forms/demo-request/submissions`, demoLead(email, { lastName, country: "US", company: `BigCo ${run}` }));
  expect(res.status).toBe(202);
  const { leadId } = (await res.json()) as { leadId: string };
  await stack.bus.drain();
  // Scoring may already have qualified this high-fit lead from its form; if not, announce it the
  // way scoring does.
  if (!qualifiedEvent(leadId)) {
    await stack.bus.publish([
      {
        type: "lead.qualified",
        detail: {
          leadId,
          segment: "enterprise",
          score: 74,
          threshold: 60,
          qualifiedAt: stack.clock.now().toISOString(),
          country: "US",
          reasons: [
            { rule: "senior-title", category: "fit", points: 20 },
            { rule: "pricing-page-visit", category: "engagement", points: 15 },
          ],
        },
      },
    ]);
    await stack.bus.drain();
  }
  return { leadId, email };
}

function qualifiedEvent(leadId: string) {
  return stack.bus.history.find((e) => e["detail-type"] === "lead.qualified" && e.detail.leadId === leadId)?.detail as
    | { reasons: { rule: string; category: string; points: number }[] }
    | undefined;
}

async function emailsTo(address: string, about: string): Promise<DevEmail[]> {
  const res = await fetch(`${stack.url}/dev/emails?to=${encodeURIComponent(address)}`);
  return ((await res.json()) as DevEmail[]).filter((e) => e.text.includes(about) || e.subject.includes(about));
}

const assignedEvents = (leadId: string) =>
  stack.bus.history.filter((e) => e["detail-type"] === "lead.assigned" && e.detail.leadId === leadId).map((e) => e.detail);

describe("hand-off to sales on the local stack", () => {
  it("queues a qualified lead for the right team, tells its rep, and lets exactly one rep claim and close it", async () => {
    const { leadId } = await qualifiedLead(`Hopper${run}`);
    expect((await stack.store.getLead(leadId))?.stage).toBe("sales");
    const [assigned] = assignedEvents(leadId);
    expect(assigned).toMatchObject({ leadId, teamId: "enterprise-na" });
    const rep = String(assigned?.rep);
    const other = rep === DANA ? MARCUS : DANA;
    expect([DANA, MARCUS]).toContain(rep);

    // The assigned rep's email says who, why, and links to the lead on /sales.
    const [email] = await emailsTo(rep, `Hopper${run}`);
    expect(email?.subject).toBe(`New qualified lead: Ada Hopper${run} (BigCo ${run})`);
    const strongest = [...(qualifiedEvent(leadId)?.reasons ?? [])].sort((a, b) => b.points - a.points)[0];
    expect(email?.text).toContain(`${strongest?.rule} (+${strongest?.points}, ${strongest?.category})`);
    expect(email?.text).toContain("Submitted the demo-request form");
    expect(email?.text).toContain(`${stack.url}/sales?lead=${leadId}`);
    expect(slackPosts.some((p) => p.text.includes(`Hopper${run}`) && p.text.includes(`/sales?lead=${leadId}`))).toBe(true);

    // Both reps of the team see it waiting; a rep of another team does not.
    for (const r of [DANA, MARCUS]) {
      const queue = await call("GET", "/v1/sales/queue", r);
      expect(queue.status).toBe(200);
      expect((queue.body.unclaimed as { leadId: string }[]).map((e) => e.leadId)).toContain(leadId);
    }
    const emea = await call("GET", "/v1/sales/queue", SOPHIE);
    expect((emea.body.unclaimed as { leadId: string }[]).map((e) => e.leadId)).not.toContain(leadId);
    // Another team's lead answers as an unknown one would: its id tells an outsider nothing.
    expect((await call("GET", `/v1/leads/${leadId}`, SOPHIE)).status).toBe(404);

    // Rep A claims; rep B is refused with 409 problem JSON naming the holder; A may claim again.
    expect((await call("POST", `/v1/sales/leads/${leadId}/claim`, rep)).status).toBe(200);
    const conflict = await call("POST", `/v1/sales/leads/${leadId}/claim`, other);
    expect(conflict.status).toBe(409);
    expect(conflict.type).toContain("application/problem+json");
    expect(conflict.body.detail).toContain(rep);
    expect((await call("POST", `/v1/sales/leads/${leadId}/claim`, rep)).status).toBe(200);
    expect(stack.bus.history.filter((e) => e["detail-type"] === "lead.claimed" && e.detail.leadId === leadId)).toHaveLength(1);
    const mine = await call("GET", "/v1/sales/queue", rep);
    expect((mine.body.claimed as { leadId: string }[]).map((e) => e.leadId)).toContain(leadId);

    // The lead page: profile, score with reasons, and the timeline of what happened.
    const view = await call("GET", `/v1/leads/${leadId}`, "marketer@acme-analytics.example", undefined, ["marketing"]);
    expect(view.status).toBe(200);
    expect(view.body.handoff).toMatchObject({ teamId: "enterprise-na", claimedBy: rep });
    expect((view.body.timeline as { type: string }[]).map((a) => a.type)).toEqual(expect.arrayContaining(["form.submitted", "lead.assigned", "lead.claimed"]));

    // Only the holder records; a bad outcome names the field and the valid codes.
    expect((await call("POST", `/v1/sales/leads/${leadId}/outcome`, other, { outcome: "won", amount: 1 })).status).toBe(403);
    const badReason = await call("POST", `/v1/sales/leads/${leadId}/outcome`, rep, { outcome: "lost", reason: "too-pricey" });
    expect(badReason.status).toBe(422);
    expect(badReason.body.errors).toEqual([{ field: "reason", message: expect.stringContaining("price, competitor, no-budget, missing-feature, no-decision") }]);
    const noAmount = await call("POST", `/v1/sales/leads/${leadId}/outcome`, rep, { outcome: "won" });
    expect(noAmount.status).toBe(422);
    expect((noAmount.body.errors as { field: string }[]).map((e) => e.field)).toEqual(["amount"]);
    // The rules /openapi.json shows are the ones the route applies: a currency its pattern refuses,
    // an amount that is no number and a date that is no date are each named.
    const doc = (await (await fetch(`${stack.url}/openapi.json`)).json()) as {
      paths: Record<string, { post: { requestBody: { content: { "application/json": { schema: { oneOf: { properties: Record<string, { pattern?: string }> }[] } } } } } }>;
    };
    const branches = doc.paths["/v1/sales/leads/{id}/outcome"]?.post.requestBody.content["application/json"].schema.oneOf ?? [];
    const currencyPattern = branches.map((b) => b.properties.currency?.pattern).find(Boolean);
    expect(new RegExp(currencyPattern ?? "").test("EURO")).toBe(false);
    const badShape = await call("POST", `/v1/sales/leads/${leadId}/outcome`, rep, { outcome: "won", amount: "25k", currency: "EURO" });
    expect(badShape.status).toBe(422);
    expect(badShape.type).toContain("application/problem+json");
    expect(badShape.body.errors).toEqual([
      { field: "amount", message: "a won deal needs its amount, a number greater than 0 (e.g. 12000)" },
      { field: "currency", message: "must be a three-letter ISO 4217 code such as USD or EUR" },
    ]);
    const badDate = await call("POST", `/v1/sales/leads/${leadId}/outcome`, rep, { outcome: "not-now", recycleOn: "next spring" });
    expect(badDate.status).toBe(422);
    expect(badDate.body.errors).toEqual([{ field: "recycleOn", message: expect.stringContaining("e.g. 2026-01-15") }]);
    const badVerdict = await call("POST", `/v1/sales/leads/${leadId}/quality`, rep, { verdict: "bad-fit", reason: ["too-small"] });
    expect(badVerdict.status).toBe(422);
    expect(badVerdict.body.errors).toEqual([{ field: "reason", message: "must be a reason code (text)" }]);

    const won = await call("POST", `/v1/sales/leads/${leadId}/outcome`, rep, { outcome: "won", amount: 25_000, currency: "usd" });
    expect(won.status).toBe(200);
    await stack.bus.drain();
    const closed = stack.bus.history.filter((e) => e["detail-type"] === "lead.closed" && e.detail.leadId === leadId);
    expect(closed.map((e) => e.detail)).toEqual([
      expect.objectContaining({ leadId, teamId: "enterprise-na", rep, outcome: "won", amount: 25_000, currency: "USD" }),
    ]);
    expect((await stack.store.getLead(leadId))?.stage).toBe("customer");
    expect((await call("POST", `/v1/sales/leads/${leadId}/outcome`, rep, { outcome: "won", amount: 1 })).status).toBe(409);
    const after = await call("GET", "/v1/sales/queue", rep);
    expect((after.body.claimed as { leadId: string }[]).map((e) => e.leadId)).not.toContain(leadId);
  });

  it("moves a lead nobody claims to the next rep once the claim SLA passes, telling both", async () => {
    const { leadId } = await qualifiedLead(`Lamarr${run}`);
    const first = String(assignedEvents(leadId)[0]?.rep);
    const next = first === DANA ? MARCUS : DANA;
    expect(await emailsTo(first, `Lamarr${run}`)).toHaveLength(1);

    // enterprise-na's claimSla is PT4H.
    const early = await post(`${stack.url}/dev/clock/advance`, { by: "PT3H" });
    expect(early.status).toBe(200);
    expect(assignedEvents(leadId)).toHaveLength(1);

    expect((await post(`${stack.url}/dev/clock/advance`, { by: "PT2H" })).status).toBe(200);
    const events = assignedEvents(leadId);
    expect(events.map((e) => e.rep)).toEqual([first, next]);
    const moved = await emailsTo(first, `Lamarr${run}`);
    expect(moved.map((e) => e.subject)).toContain(`Lead moved on: Ada Lamarr${run}`);
    const handed = await emailsTo(next, `Lamarr${run}`);
    expect(handed.map((e) => e.subject)).toEqual([`Reassigned to you: Ada Lamarr${run} (BigCo ${run})`]);

    const view = await call("GET", `/v1/leads/${leadId}`, next);
    expect(view.body.handoff).toMatchObject({ rep: next, misses: 1, escalated: false });

    // The second miss (maxMisses 2) escalates to the team's director instead of moving again.
    expect((await post(`${stack.url}/dev/clock/advance`, { by: "PT5H" })).status).toBe(200);
    expect(assignedEvents(leadId)).toHaveLength(2);
    expect((await emailsTo("sales-director-na@acme-analytics.example", `Lamarr${run}`)).map((e) => e.subject)).toEqual([
      `Escalation: Ada Lamarr${run} has not been claimed`,
    ]);
  });

  it("refuses the sales API without a valid token, as problem JSON", async () => {
    const res = await fetch(`${stack.url}/v1/sales/queue`);
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
  });
});
